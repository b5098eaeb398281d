package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
)

// WarehouseTables are the tables Ingest fills, in warehouse_schema.sql
// order.
var WarehouseTables = []string{"transplants", "events", "rejects", "quality", "ingest_summary"}

// sortKeys is the ORDER BY of each table written to Parquet: a unique key,
// so that the rows' order, and hence the file's bytes, depends on nothing
// but the data. A table not listed is sorted on all its columns (rows that
// tie there are identical, so their order does not matter either).
var sortKeys = map[string]string{
	"transplants":    "transplant_id",
	"events":         "source_line",
	"rejects":        `file, line`,
	"quality":        "flag, transplant_id, file, line, note",
	"ingest_summary": "file",
	"cohort":         "transplant_id",
}

// SummaryTable is the warehouse file Ingest writes beside WarehouseTables
// when it has endpoints (IngestOptions.Endpoints): ingest's event_summary,
// a row per accepted transplant with its last event date, the first date
// of each event code (and grades) the endpoints name, and first_of_type
// (the patient's first transplant of its type). None of it depends on the
// cutoff. marrow analyze reads it (LoadSummary) instead of summarizing
// events.parquet again and choosing each patient's first transplant with
// a window: at 1M transplants those took 0.66 s and most of the cohort
// statement's 1.6 s, the statement on the file 0.9 s.
const SummaryTable = "event_summary"

// inKeyOrder are the tables Ingest leaves in the order of their sort key:
// events are loaded in file order (runFile), and source_line grows with
// the file. They are written as they stand, which gives the same bytes as
// the ORDER BY without its sort (10^7 rows: a quarter of the write's CPU
// time); TestWarehouseOrder checks both at 1, 2 and 4 threads. The
// cohort is created in transplant_id order (cohort.sql.tmpl's ORDER BY,
// kept in the table under preserve_insertion_order), so its write needs
// no second sort either; TestCohortOrder checks it.
var inKeyOrder = map[string]bool{"events": true, "cohort": true}

// sortAll makes WriteWarehouse sort every table, for the tests that the
// tables of inKeyOrder need no sort.
var sortAll bool

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WriteWarehouse writes each table of db as dir/<table>.parquet (zstd,
// DATE columns as DATE), sorted on the table's unique key so that the same
// data always gives the same bytes, whatever DuckDB's thread count (the
// tables of inKeyOrder are in that order already, as Ingest loaded them).
// With no tables it writes WarehouseTables.
func WriteWarehouse(ctx context.Context, db *sql.DB, dir string, tables ...string) error {
	if len(tables) == 0 {
		tables = WarehouseTables
	}
	for _, t := range tables {
		if err := writeTable(ctx, db, dir, t, inKeyOrder[t]); err != nil {
			return err
		}
	}
	return nil
}

// parquetOptions are the options of warehouse table t's COPY: zstd, and
// for the events Parquet's newer encodings (PARQUET_VERSION V2: delta
// for the integers, which source_line, a count, packs into almost
// nothing). At 1M transplants (10.2 M events, one thread, from a table)
// V2 wrote events.parquet in 3.59 s against 4.18 (source_line 0.14
// against 0.54) and in 30.6 MB against 41.0; the other tables gained
// nothing (cohort 1.28 against 1.35 s, transplants 1.24 against 1.22)
// and keep the format every Parquet reader knows.
func parquetOptions(t string) string {
	if t == "events" {
		return "(FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V2)"
	}
	return "(FORMAT parquet, COMPRESSION zstd)"
}

// writeTable writes table t of db as dir/<t>.parquet, sorted on its key
// unless inOrder says its rows are in key order already.
func writeTable(ctx context.Context, db *sql.DB, dir, t string, inOrder bool) error {
	if !identifier.MatchString(t) {
		return fmt.Errorf("write warehouse: bad table name %q", t)
	}
	key, ok := sortKeys[t]
	if !ok {
		key = "ALL"
	}
	order := " ORDER BY " + key
	if inOrder && !sortAll {
		// Without preserve_insertion_order neither the loaded tables nor
		// an unsorted COPY keep any order.
		var ordered bool
		if err := db.QueryRowContext(ctx, "SELECT CAST(current_setting('preserve_insertion_order') AS BOOLEAN)").Scan(&ordered); err != nil {
			return fmt.Errorf("write warehouse: duckdb preserve_insertion_order: %w", err)
		}
		if ordered {
			order = ""
		}
	}
	// The table name and key are identifiers checked above; the path is a
	// bound parameter.
	q := fmt.Sprintf("COPY (SELECT * FROM %s%s) TO $1 %s", t, order, parquetOptions(t))
	path := filepath.Join(dir, t+".parquet")
	if _, err := db.ExecContext(ctx, q, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
