package transforms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"marrow/internal/duck"
)

// WarehouseError is a loaded warehouse table that breaks the rules ingest
// enforces: a file damaged or edited after ingest. It names the file and
// the column.
type WarehouseError struct {
	File   string // e.g. "transplants.parquet"
	Column string
	Reason string // one line; never an identifier's value
}

func (e *WarehouseError) Error() string {
	return e.File + ": column " + e.Column + ": " + e.Reason
}

// columnRule is what every value of one warehouse column must satisfy, as
// ingest guarantees (SPEC §1).
type columnRule struct {
	table, column string
	required      bool
	codes         []string // allowed codes, if a code column
	dateRange     bool     // a DATE from minDateText to maxDateText
	lo, hi        float64  // a number in [lo, hi], if lo < hi
	identifier    bool     // never print its values
}

var warehouseRules = []columnRule{
	{table: "transplants", column: "transplant_id", required: true, identifier: true},
	{table: "transplants", column: "patient_id", required: true, identifier: true},
	{table: "transplants", column: "center_id", identifier: true},
	{table: "transplants", column: "transplant_date", required: true, dateRange: true},
	{table: "transplants", column: "transplant_type", required: true, codes: transplantTypes},
	{table: "transplants", column: "donor_type", codes: append(append([]string{}, donorTypes...), donorUnknown)},
	{table: "transplants", column: "graft_source", codes: graftSources},
	{table: "transplants", column: "indication", required: true, codes: indications},
	{table: "transplants", column: "disease_status", codes: diseaseStatuses},
	{table: "transplants", column: "conditioning", codes: conditionings},
	{table: "transplants", column: "sex", codes: sexes},
	{table: "transplants", column: "age_years", lo: 0, hi: 100},
	{table: "transplants", column: "karnofsky", lo: 10, hi: 100},
	{table: "transplants", column: "hct_ci", lo: 0, hi: 1e9},
	{table: "events", column: "transplant_id", required: true, identifier: true},
	{table: "events", column: "event", required: true, codes: eventTypes},
	{table: "events", column: "event_date", required: true, dateRange: true},
	{table: "events", column: "grade", codes: append([]string{"1", "2", "3", "4"}, cgvhdGrades...)},
}

// CheckWarehouse re-checks the codes and ranges of the warehouse tables
// transplants and events loaded in db, and the links between them
// (transplant_id unique, every event's transplant present, no event before
// its transplant). Ingest wrote nothing else; anything else is a damaged or
// edited file, and would otherwise become a stratum ('X|Y') or a year
// 4,227,985 in a report. The first fault, in the order of warehouseRules
// and then of the links, is returned as *WarehouseError.
//
// Each rule is a query of its own: DuckDB answers most of them from the
// row groups' statistics (no NULLs, dates within range) without reading
// the column, which one scan of the table for all rules would have to.
// The two links that need a join share it.
func CheckWarehouse(ctx context.Context, db *sql.DB) error {
	for _, r := range warehouseRules {
		if err := r.check(ctx, db); err != nil {
			return err
		}
	}
	var dups int64
	if err := db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM (SELECT transplant_id FROM transplants GROUP BY transplant_id HAVING COUNT(*) > 1)").Scan(&dups); err != nil {
		return &WarehouseError{File: "transplants.parquet", Column: "transplant_id", Reason: duck.OneLine(err)}
	}
	if dups > 0 {
		return &WarehouseError{File: "transplants.parquet", Column: "transplant_id", Reason: strconv.FormatInt(dups, 10) + " duplicate values"}
	}
	// transplant_id is unique now, so the join gives each event once.
	var orphans, early int64
	if err := db.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE t.transplant_id IS NULL),
			count(*) FILTER (WHERE e.event_date < t.transplant_date)
		FROM events AS e
		LEFT JOIN transplants AS t ON t.transplant_id = e.transplant_id`).Scan(&orphans, &early); err != nil {
		return &WarehouseError{File: "events.parquet", Column: "transplant_id", Reason: duck.OneLine(err)}
	}
	switch {
	case orphans > 0:
		return &WarehouseError{File: "events.parquet", Column: "transplant_id",
			Reason: strconv.FormatInt(orphans, 10) + " events of transplants not in transplants.parquet"}
	case early > 0:
		return &WarehouseError{File: "events.parquet", Column: "event_date",
			Reason: strconv.FormatInt(early, 10) + " events dated before their transplant"}
	}
	return nil
}

// condition is the SQL condition a non-NULL value of r's column breaks
// the rule with, or "" if any value will do.
func (r columnRule) condition() string {
	v := "CAST(" + r.column + " AS %s)"
	switch {
	case r.codes != nil:
		lits := make([]string, len(r.codes))
		for i, c := range r.codes {
			lits[i] = duck.Literal(c)
		}
		// Faster than NOT IN over a dozen codes.
		return "NOT list_contains([" + strings.Join(lits, ", ") + "], " + fmt.Sprintf(v, "VARCHAR") + ")"
	case r.dateRange:
		d := fmt.Sprintf(v, "DATE")
		return fmt.Sprintf("%s < DATE %s OR %s > DATE %s", d, duck.Literal(minDateText), d, duck.Literal(maxDateText))
	case r.lo < r.hi:
		x := fmt.Sprintf(v, "DOUBLE")
		return fmt.Sprintf("%s < %s OR %s > %s OR isnan(%s)", x, strconv.FormatFloat(r.lo, 'g', -1, 64), x, strconv.FormatFloat(r.hi, 'g', -1, 64), x)
	}
	return ""
}

// reason says why the value v (not NULL) breaks r.
func (r columnRule) reason(v string) string {
	switch {
	case r.identifier:
		return "value out of range"
	case r.codes != nil:
		return fmt.Sprintf("%q is not one of %s", cut(v), strings.Join(r.codes, ", "))
	case r.dateRange:
		return fmt.Sprintf("date %s is outside %s..%s", cut(v), minDateText, maxDateText)
	}
	return fmt.Sprintf("%s is outside %g..%g", cut(v), r.lo, r.hi)
}

// check returns the first fault of r's column, if any: missing, a NULL
// where one is required, or a value that breaks the rule (any one).
func (r columnRule) check(ctx context.Context, db *sql.DB) error {
	e := &WarehouseError{File: r.table + ".parquet", Column: r.column}
	var present int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
		r.table, r.column).Scan(&present); err != nil {
		e.Reason = duck.OneLine(err)
		return e
	}
	if present == 0 {
		e.Reason = "missing"
		return e
	}
	var bad []string
	if r.required {
		bad = append(bad, r.column+" IS NULL")
	}
	if c := r.condition(); c != "" {
		bad = append(bad, "("+c+")")
	}
	if len(bad) == 0 {
		// Only that the column exists.
		bad = append(bad, "false")
	}
	// Table and column names, codes and bounds come from warehouseRules,
	// never from input.
	q := fmt.Sprintf("SELECT CAST(%s AS VARCHAR) FROM %s WHERE %s LIMIT 1", r.column, r.table, strings.Join(bad, " OR "))
	var v sql.NullString
	err := db.QueryRowContext(ctx, q).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		e.Reason = duck.OneLine(err)
	case !v.Valid:
		e.Reason = "missing value"
	default:
		e.Reason = r.reason(v.String)
	}
	return e
}

// cut shortens a value for an error message to 40 characters.
func cut(s string) string {
	n := 0
	for i := range s {
		if n == 40 {
			return s[:i] + "..."
		}
		n++
	}
	return s
}
