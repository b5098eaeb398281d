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
// 4,227,985 in a report. The first fault is returned as *WarehouseError.
func CheckWarehouse(ctx context.Context, db *sql.DB) error {
	for _, r := range warehouseRules {
		if err := r.check(ctx, db); err != nil {
			return err
		}
	}
	links := []struct {
		file, column, reason, query string
	}{
		{"transplants.parquet", "transplant_id", "duplicate values",
			"SELECT COUNT(*) FROM (SELECT transplant_id FROM transplants GROUP BY transplant_id HAVING COUNT(*) > 1)"},
		{"events.parquet", "transplant_id", "events of transplants not in transplants.parquet",
			"SELECT COUNT(*) FROM events AS e WHERE NOT EXISTS (SELECT 1 FROM transplants AS t WHERE t.transplant_id = e.transplant_id)"},
		{"events.parquet", "event_date", "events dated before their transplant",
			"SELECT COUNT(*) FROM events AS e JOIN transplants AS t USING (transplant_id) WHERE e.event_date < t.transplant_date"},
	}
	for _, l := range links {
		var n int64
		if err := db.QueryRowContext(ctx, l.query).Scan(&n); err != nil {
			return &WarehouseError{File: l.file, Column: l.column, Reason: duck.OneLine(err)}
		}
		if n > 0 {
			return &WarehouseError{File: l.file, Column: l.column, Reason: strconv.FormatInt(n, 10) + " " + l.reason}
		}
	}
	return nil
}

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
	// Table and column names come from warehouseRules, never from input;
	// values are bound parameters.
	var bad []string
	var args []any
	if r.required {
		bad = append(bad, "v IS NULL")
	}
	switch {
	case r.codes != nil:
		bad = append(bad, "NOT list_contains(string_split($1, '|'), CAST(v AS VARCHAR))")
		args = append(args, strings.Join(r.codes, "|"))
	case r.dateRange:
		bad = append(bad, "CAST(v AS DATE) < CAST($1 AS DATE)", "CAST(v AS DATE) > CAST($2 AS DATE)")
		args = append(args, minDateText, maxDateText)
	case r.lo < r.hi:
		bad = append(bad, "CAST(v AS DOUBLE) < $1", "CAST(v AS DOUBLE) > $2", "isnan(CAST(v AS DOUBLE))")
		args = append(args, r.lo, r.hi)
	}
	if len(bad) == 0 {
		// Only that the column exists.
		bad = append(bad, "false")
	}
	q := fmt.Sprintf("SELECT CAST(v AS VARCHAR) FROM (SELECT %s AS v FROM %s) WHERE %s LIMIT 1",
		r.column, r.table, strings.Join(bad, " OR "))
	var v sql.NullString
	err := db.QueryRowContext(ctx, q, args...).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		e.Reason = duck.OneLine(err)
	case !v.Valid:
		e.Reason = "missing value"
	case r.identifier:
		e.Reason = "value out of range"
	case r.codes != nil:
		e.Reason = fmt.Sprintf("%q is not one of %s", cut(v.String), strings.Join(r.codes, ", "))
	case r.dateRange:
		e.Reason = fmt.Sprintf("date %s is outside %s..%s", cut(v.String), minDateText, maxDateText)
	default:
		e.Reason = fmt.Sprintf("%s is outside %g..%g", cut(v.String), r.lo, r.hi)
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
