package transforms

import (
	"fmt"
	"strings"
	"text/template"

	"marrow/endpoints"
	"marrow/queries"
)

// sqlFuncs are the helpers the *.sql.tmpl templates use. Values rendered
// into SQL are event codes, grades and codes of closed SPEC §1 lists,
// integers, or text quoted by lit (doubling quotes): config values never
// reach SQL unquoted.
var sqlFuncs = template.FuncMap{
	"lit":  sqlLiteral,
	"lits": func(ss []string) string { return sqlLiterals(ss) },
	"inc":  func(i int) int { return i + 1 },
	// least is LEAST over the terms' day columns, or the one column.
	"least": func(ts []endpoints.Term) string { return sqlCall("LEAST", ts) },
	// coalesce is COALESCE over the terms' day columns, or the one column.
	"coalesce": func(ts []endpoints.Term) string { return sqlCall("COALESCE", ts) },
	"terms": func(ts []endpoints.Term) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.String()
		}
		return strings.Join(s, ", ")
	},
	// when and endwhen wrap an expression defined for one transplant type
	// only: NULL for the other type's transplants.
	"when": func(e endpoints.Endpoint) string {
		switch e.Population {
		case endpoints.PopulationAllo:
			return "CASE WHEN is_allo THEN "
		case endpoints.PopulationAuto:
			return "CASE WHEN NOT is_allo THEN "
		}
		return ""
	},
	"endwhen": func(e endpoints.Endpoint) string {
		if e.Population == endpoints.PopulationAll {
			return ""
		}
		return " END"
	},
}

func sqlCall(fn string, ts []endpoints.Term) string {
	cols := make([]string, len(ts))
	for i, t := range ts {
		cols[i] = t.Column()
	}
	if len(cols) == 1 {
		return cols[0]
	}
	return fn + "(" + strings.Join(cols, ", ") + ")"
}

// sqlLiteral quotes s as an SQL string literal.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlLiterals(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = sqlLiteral(s)
	}
	return strings.Join(q, ", ")
}

var templates = map[string]*template.Template{}

func init() {
	for _, name := range []string{"cohort", "event_dates", "risk_counts", "analysis_results_schema"} {
		templates[name] = template.Must(template.New(name).Funcs(sqlFuncs).Parse(queries.Template(name)))
	}
}

func render(name string, data any) string {
	var b strings.Builder
	if err := templates[name].Execute(&b, data); err != nil {
		// The templates and their data are fixed by the code: a failure is a
		// programming error, caught by the golden tests.
		panic(fmt.Sprintf("render %s.sql: %v", name, err))
	}
	return b.String()
}

// CohortSQL renders cohort.sql for the endpoint set eps, reading the
// event_summary of event_dates.sql: the cohort table gets one time and
// status column per endpoint, in name order.
func CohortSQL(eps endpoints.Set) string {
	return cohortSQL(eps, false)
}

// cohortSQL renders cohort.sql; marked: event_summary is ingest's, a row
// per transplant with first_of_type (eventTally.store), which takes the
// place of the window choosing each patient's first transplant of a type.
func cohortSQL(eps endpoints.Set, marked bool) string {
	return render("cohort", struct {
		Endpoints endpoints.Set
		Terms     []endpoints.Term
		Carried   []string
		Marked    bool
	}{eps.Sorted(), eventDateTerms(eps), CohortCarried, marked})
}

// CohortCarried are the transplants columns cohort_wide carries after the
// cohort's own (cohort.sql.tmpl): what analyses, the report and the centre
// benchmark group and filter by, which then need no join of transplants.
var CohortCarried = []string{"center_id", "graft_source", "disease_status", "conditioning", "sex",
	"age_years", "karnofsky", "hct_ci", "transplant_date"}

// CohortViewSQL makes the warehouse table cohort the view of cohort_wide's
// own columns (SPEC §4: cohort.parquet holds these), the endpoints' times
// and statuses of eps as BIGINT, in their places (cohort_wide holds them
// narrower: cohort.sql.tmpl).
func CohortViewSQL(eps endpoints.Set) string {
	var wide []string
	for _, e := range eps.Sorted() {
		wide = append(wide, "CAST("+e.Name+"_time AS BIGINT) AS "+e.Name+"_time", "CAST("+e.Name+"_status AS BIGINT) AS "+e.Name+"_status")
	}
	return "CREATE OR REPLACE VIEW cohort AS SELECT * EXCLUDE (" + strings.Join(CohortCarried, ", ") + ") REPLACE (" +
		strings.Join(wide, ", ") + ") FROM cohort_wide"
}

// WidenCohortSQL makes cohort_wide from a cohort table loaded from
// cohort.parquet (marrow report on an existing output).
func WidenCohortSQL() string {
	cols := make([]string, len(CohortCarried))
	for i, c := range CohortCarried {
		cols[i] = "t." + c
	}
	return "CREATE OR REPLACE TABLE cohort_wide AS SELECT c.*, " + strings.Join(cols, ", ") +
		" FROM cohort AS c JOIN transplants AS t ON t.transplant_id = c.transplant_id"
}

// EventDatesSQL renders event_dates.sql: the table event_summary the
// cohort SQL of eps reads, made from the events table.
func EventDatesSQL(eps endpoints.Set) string {
	return render("event_dates", struct{ Terms []endpoints.Term }{eventDateTerms(eps)})
}

// AnalysisResultsSchemaSQL renders analysis_results_schema.sql: the
// results tables of an analysis with dimensions dims, named prefix+table.
// Dimension names are [a-z][a-z0-9_]* (checked by the config).
func AnalysisResultsSchemaSQL(prefix string, dims []string) string {
	return render("analysis_results_schema", struct {
		Prefix string
		Dims   []string
	}{prefix, dims})
}
