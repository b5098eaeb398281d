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

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WriteWarehouse writes each table of db as dir/<table>.parquet (zstd,
// DATE columns as DATE), sorted on the table's unique key so that the same
// data always gives the same bytes, whatever DuckDB's thread count. With
// no tables it writes WarehouseTables.
func WriteWarehouse(ctx context.Context, db *sql.DB, dir string, tables ...string) error {
	if len(tables) == 0 {
		tables = WarehouseTables
	}
	for _, t := range tables {
		if !identifier.MatchString(t) {
			return fmt.Errorf("write warehouse: bad table name %q", t)
		}
		key, ok := sortKeys[t]
		if !ok {
			key = "ALL"
		}
		// The table name and key are identifiers checked above; the path
		// is a bound parameter.
		q := fmt.Sprintf("COPY (SELECT * FROM %s ORDER BY %s) TO $1 (FORMAT parquet, COMPRESSION zstd)", t, key)
		path := filepath.Join(dir, t+".parquet")
		if _, err := db.ExecContext(ctx, q, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
