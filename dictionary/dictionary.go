// Package dictionary writes the data dictionaries warehouse/DICTIONARY.md
// and results/DICTIONARY.md: every table, column, type, unit and coding,
// and every endpoint's definition. Types come from the tables as DuckDB
// holds them when they are written; meanings from the column docs below;
// endpoints from the registry (package endpoints). Render fails on a column
// without a doc, so a new column cannot reach an output undocumented.
package dictionary

import (
	"fmt"
	"strings"

	"marrow/endpoints"
)

// Column is one column as written: its name and DuckDB type.
type Column struct{ Name, Type string }

// Table is one output table.
type Table struct {
	Name    string // the table: landmarks, cohort, ...
	Files   string // its files, e.g. "landmarks.parquet, landmarks.csv"
	Columns []Column
	// Dims are the stratum columns of an analysis table (one per `by`
	// dimension); their doc is generic.
	Dims []string
}

// Doc is the meaning of a column: unit and coding.
type Doc struct{ Unit, Meaning string }

// docs are the column meanings, by "table.column" or, shared by every
// table, by column name. Times are whole days since transplant.
var docs = map[string]Doc{
	// warehouse
	"transplant_id":               {"", "the extract's transplant id (text, case-sensitive)"},
	"patient_id":                  {"", "the extract's patient id (text, case-sensitive)"},
	"center_id":                   {"", "reporting centre (text); NULL when not given"},
	"transplant_date":             {"date", "day 0 of every endpoint"},
	"transplants.transplant_type": {"", "ALLO | AUTO"},
	"transplants.donor_type":      {"", "MSD MUD MMUD HAPLO CORD OTHER; UNKNOWN for ALLO without one; NULL for AUTO"},
	"graft_source":                {"", "BM PB CB; NULL when not given"},
	"transplants.indication":      {"", "AML ALL CML CLL MDS MPN NHL HL MM SAA IMD IEM HGB SOLID OTHER"},
	"disease_status":              {"", "EARLY INTERMEDIATE ADVANCED; NULL when not given"},
	"conditioning":                {"", "MAC RIC NMA; NULL when not given"},
	"age_years":                   {"years", "age at transplant; NULL when not given"},
	"sex":                         {"", "M F; NULL when not given"},
	"karnofsky":                   {"", "Karnofsky score 10-100; NULL when not given"},
	"hct_ci":                      {"", "HCT-CI comorbidity index, 0 or more; NULL when not given"},
	"source_line":                 {"", "1-based line of the source CSV where the record starts"},
	"row_hash":                    {"", "64-bit hash of the transplant's own fields and accepted events (DuckDB hash(), fixed within one duckdb_version): results/changes tells changed transplants by it"},
	"event":                       {"", "death relapse agvhd cgvhd neutrophil_engraftment platelet_engraftment graft_failure infection organ_toxicity second_transplant last_contact"},
	"event_date":                  {"date", "on or after the transplant date"},
	"grade":                       {"", "agvhd 1-4 (roman numerals converted); cgvhd MILD MODERATE SEVERE; other text kept upper-case and flagged unknown_grade"},
	"detail":                      {"", "free text from the extract; never printed in reports"},
	"rejects.file":                {"", "transplants.csv | events.csv"},
	"rejects.line":                {"", "1-based line where the rejected record starts"},
	"column_name":                 {"", "the first faulty column; empty when the row as a whole is bad"},
	"value":                       {"", "the faulty value, cut to 200 characters"},
	"reason":                      {"", "fixed reason text (missing required value, invalid date, ...)"},
	"flag":                        {"", "quality flag (two_deaths, relapse_after_death, ...); the row is kept"},
	"quality.file":                {"", "the file of the flagged record"},
	"quality.line":                {"", "its 1-based line"},
	"note":                        {"", "short machine text, never free text from the extract"},
	"ingest_summary.file":         {"", "transplants.csv | events.csv"},
	"sha256":                      {"", "SHA-256 of the input file, hex"},
	"rows_read":                   {"rows", "data rows read (after the header)"},
	"rows_accepted":               {"rows", "rows accepted"},
	"rows_rejected":               {"rows", "rows rejected (accepted + rejected = read)"},
	"unknown_columns":             {"", "header names ignored, comma-separated"},
	"cohort.transplant_type":      {"", "ALLO | AUTO"},
	"cohort.donor_type":           {"", "as transplants.donor_type; NULL for AUTO"},
	"cohort.indication":           {"", "as transplants.indication"},
	"event_summary.last_date":     {"", "the transplant's latest event date of any kind (all dates, not cut at a cutoff); NULL without events"},
	"event_summary.first_of_type": {"", "true for the patient's first transplant of its type (earliest date, then transplant_id): the cohort's transplant"},
	"followup_days":               {"days", "end of follow-up: the latest event date of any kind, capped at the cutoff; 0 without events"},
	// results
	"endpoint":                {"", "endpoint name (see Endpoints)"},
	"transplant_type":         {"", "ALLO | AUTO; * = pooled"},
	"donor_type":              {"", "donor type (ALLO strata only); * = pooled"},
	"indication":              {"", "indication; * = pooled"},
	"day":                     {"days", "landmark day"},
	"time":                    {"days", "a distinct endpoint time of the stratum"},
	"n":                       {"transplants", "transplants in the stratum (the endpoint's population)"},
	"n_risk":                  {"transplants", "endpoint time >= day (survfit's n.risk); 0 past the last time"},
	"n_events":                {"events", "events of interest up to the day"},
	"n_event":                 {"events", "events of interest at the time"},
	"n_compete":               {"events", "competing events at the time (0 for Kaplan–Meier endpoints)"},
	"n_censor":                {"transplants", "censored at the time"},
	"estimate":                {"probability 0-1", "survival (Kaplan–Meier) or cumulative incidence; empty past the stratum's last time"},
	"std_err":                 {"probability", "standard error of the estimate (Greenwood; cmprsk's variance for incidence)"},
	"lower":                   {"", "lower 95% confidence limit (probability; days for medians); empty where not estimable"},
	"upper":                   {"", "upper 95% confidence limit (probability; days for medians); empty where not estimable"},
	"median":                  {"days", "median time (Kaplan–Meier endpoints); empty when not reached"},
	"comparison":              {"", "the dimension whose groups are compared"},
	"within":                  {"", "the stratum the groups are compared within: a code, dim=code;dim=code, or *"},
	"statistic":               {"", "chi-square statistic; empty when not computable"},
	"df":                      {"", "degrees of freedom, as the R function reports them"},
	"p_value":                 {"", "upper chi-square tail; empty when not computable"},
	"method":                  {"", "logrank (survdiff) | gray (cmprsk::cuminc)"},
	"changes.kind":            {"", "what the row compares: previous, setting, rows_*, transplants*, quality_flags*, landmark(s_screened), endpoint_*, stratum_*"},
	"changes.item":            {"", "file (rows_*), flag (quality_*), setting name, manifest.json (previous)"},
	"changes.endpoint":        {"", "endpoint (landmark, endpoint_*, stratum_*)"},
	"changes.transplant_type": {"", "the stratum (landmark, stratum_*); * = pooled"},
	"changes.donor_type":      {"", "the stratum; * = pooled"},
	"changes.indication":      {"", "the stratum; * = pooled"},
	"changes.day":             {"days", "landmark: the landmark day"},
	"old":                     {"", "the previous output's value (count or estimate)"},
	"new":                     {"", "this run's value; for *_added/_removed/_changed/_new/_screened the count"},
	"old_std_err":             {"probability", "landmark: the previous standard error"},
	"new_std_err":             {"probability", "landmark: this run's standard error"},
	"old_n":                   {"transplants", "landmark, stratum_*: transplants in the stratum before"},
	"new_n":                   {"transplants", "landmark, stratum_*: transplants in the stratum now"},
	"changes.detail":          {"", "previous: its manifest.json sha256; setting: old -> new as JSON"},
	"excluded":                {"", "groups left out for fewer than min_group transplants, ;-separated, byte order; empty when none"},
	// centre benchmark (SPEC §6; centre/doc.go)
	"centres.center_id":            {"", "reporting centre"},
	"centres.transplant_type":      {"", "ALLO | AUTO"},
	"centres.endpoint":             {"", "os | nrm"},
	"centres.n":                    {"transplants", "the centre's benchmark transplants (§3 cohort, dated on or before cutoff - 365)"},
	"centres.n_events":             {"events", "events of interest on or before day 365"},
	"observed":                     {"probability 0-1", "the centre's 1-year estimate: Kaplan–Meier survival (os), Aalen–Johansen incidence (nrm); empty when not estimable"},
	"centres.std_err":              {"probability", "standard error of observed (Greenwood; cmprsk's variance for nrm)"},
	"expected":                     {"probability 0-1", "mean risk-model prediction over the centre's transplants"},
	"lower95":                      {"probability 0-1", "lower 95% funnel limit around expected"},
	"upper95":                      {"probability 0-1", "upper 95% funnel limit"},
	"lower998":                     {"probability 0-1", "lower 99.8% funnel limit"},
	"upper998":                     {"probability 0-1", "upper 99.8% funnel limit"},
	"completeness":                 {"proportion 0-1", "Clark's completeness of follow-up over [0, 365]"},
	"centres.flag":                 {"", "better worse (outside 99.8%) better95 worse95 (outside 95% only) as_expected not_assessed"},
	"centres.reason":               {"", "why not_assessed (fewer than min_centre transplants, completeness under 0.9, ...); empty otherwise"},
	"centre_model.transplant_type": {"", "ALLO | AUTO"},
	"centre_model.endpoint":        {"", "os | nrm"},
	"term":                         {"", "row order within the model"},
	"covariate":                    {"", "(intercept) or a case-mix covariate"},
	"level":                        {"", "the covariate's level (band or code; MISSING, POOLED); empty for the intercept and dropped covariates"},
	"centre_model.n":               {"transplants", "transplants at the level (coefficients only)"},
	"centre_model.estimate":        {"logit", "GEE coefficient; empty on a note row"},
	"robust_se":                    {"logit", "robust (sandwich) standard error"},
	"centre_model.note":            {"", "reference, merged into X, aliased with earlier terms, dropped: why; empty for a coefficient"},
}

// abouts say what each table holds, one row per what.
var abouts = map[string]string{
	"transplants":    "One row per accepted transplant of the extract (SPEC §1), codes upper-case.",
	"events":         "One row per accepted event, event codes lower-case.",
	"rejects":        "One row per rejected extract row: where it was and why (SPEC §1).",
	"quality":        "One row per quality flag raised on a kept record.",
	"ingest_summary": "One row per input file: rows read, accepted, rejected (accepted + rejected = read).",
	"event_summary":  "One row per accepted transplant: what the cohort reads of its events, counted by ingest (marrow analyze reads it instead of summarizing events again). Cutoff-free: the cohort caps the dates at its cutoff.",
	"cohort":         "One row per transplant of the analysis cohort (each patient's first transplant of each type, dated on or before the cutoff, unless cohort = \"all\"), with every endpoint's time and status.",
	"landmarks":      "One row per endpoint, stratum and landmark day: the step function's value at the day (largest event time <= day).",
	"curves":         "One row per endpoint, stratum and distinct time: the risk table and the estimate after that time.",
	"medians":        "One row per Kaplan–Meier endpoint and stratum: median and its 95% CI (survfit's quantile()).",
	"tests":          "One row per comparison: log-rank (Kaplan–Meier endpoints) or Gray's test (cumulative incidence).",
	"centres":        "One row per centre, transplant type and endpoint (os, nrm): observed 1-year outcome against the case-mix expectation, funnel limits, completeness and flag (SPEC §6).",
	"centre_model":   "One row per term of each centre risk model (transplant type × endpoint): logit-link GEE coefficients on pseudo-values with robust SE, then the coding rules applied.",
	"changes":        "What changed since the output this run replaced, one row per compared item (long format: kind says which columns apply); not written on a first run.",
}

// doc returns the doc of table.column, or false.
func doc(table, column string, dims []string, eps endpoints.Set) (Doc, bool) {
	for _, d := range dims {
		if d == column {
			return Doc{"", "group of the dimension " + column + " (MISSING: no value; NONE: donor_type of an AUTO transplant); * = pooled"}, true
		}
	}
	if d, ok := docs[table+"."+column]; ok {
		return d, true
	}
	if code, ok := strings.CutSuffix(column, "_date"); ok && table == "event_summary" {
		return Doc{"", "the transplant's first " + code + " date (event code, then the grades it is limited to), not cut at a cutoff; NULL if none"}, true
	}
	for _, e := range eps {
		switch column {
		case e.Name + "_time":
			return Doc{"days", "time to " + e.Name + ": its event, competing event or end of follow-up; NULL outside its population"}, true
		case e.Name + "_status":
			return Doc{"", "0 censored, 1 event, 2 competing event (" + e.Name + "); NULL outside its population"}, true
		}
	}
	d, ok := docs[column]
	return d, ok
}

// Render writes a dictionary: a title, the tables and the endpoints.
func Render(title, intro string, tables []Table, eps endpoints.Set) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", title, intro)
	for _, t := range tables {
		about, ok := abouts[t.Name]
		if !ok {
			return "", fmt.Errorf("dictionary: table %s has no doc", t.Name)
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n| column | type | unit | meaning |\n|---|---|---|---|\n", t.Files, about)
		for _, c := range t.Columns {
			d, ok := doc(t.Name, c.Name, t.Dims, eps)
			if !ok {
				return "", fmt.Errorf("dictionary: column %s of %s has no doc", c.Name, t.Name)
			}
			row(&b, c.Name, c.Type, d.Unit, d.Meaning)
		}
	}
	b.WriteString("\n## Endpoints\n\nTime origin is the transplant date; times are whole days. Status 0 censored, 1 event, 2 competing event (SPEC §3, §5).\n\n")
	b.WriteString("| endpoint | label | estimator | event | competing | same day | population | definition |\n|---|---|---|---|---|---|---|---|\n")
	for _, e := range eps {
		terms := func(ts []endpoints.Term) string {
			s := make([]string, len(ts))
			for i, t := range ts {
				s[i] = t.String()
			}
			return strings.Join(s, ", ")
		}
		sameDay := e.SameDay
		if e.KM() {
			sameDay = ""
		}
		row(&b, e.Name, e.Label, string(e.Estimator), terms(e.Event), terms(e.Competing), sameDay, e.Population, e.Definition)
	}
	return b.String(), nil
}

// row writes one Markdown table row, escaping | in cells.
func row(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
	}
	b.WriteString("\n")
}
