package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"marrow/internal/duck"
	"marrow/queries"
)

// LoadWarehouse reads the named tables of a warehouse directory written by
// WriteWarehouse (dir/<table>.parquet) into db, and returns the ingest
// summary stored with them. A missing file is an error naming it; so is a
// transplants or events table that breaks the rules ingest enforces
// (*WarehouseError, see CheckWarehouse).
func LoadWarehouse(ctx context.Context, db *sql.DB, dir string, tables ...string) (*IngestSummary, error) {
	for _, t := range tables {
		path := filepath.Join(dir, t+".parquet")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("load warehouse: %w", err)
		}
		stmt := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * FROM read_parquet(%s)", t, duck.Literal(path))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("load warehouse %s: %w", path, duck.Flat(err))
		}
	}
	if slices.Contains(tables, "transplants") && slices.Contains(tables, "events") {
		if err := CheckWarehouse(ctx, db); err != nil {
			return nil, err
		}
	}
	rows, err := db.QueryContext(ctx, queries.Text("ingest_summary"))
	if err != nil {
		return nil, fmt.Errorf("load warehouse: ingest_summary: %w", err)
	}
	defer rows.Close()
	sum := &IngestSummary{}
	for rows.Next() {
		var f FileSummary
		var unknown string
		if err := rows.Scan(&f.File, &f.SHA256, &f.RowsRead, &f.RowsAccepted, &f.RowsRejected, &unknown); err != nil {
			return nil, err
		}
		if unknown != "" {
			f.UnknownColumns = strings.Split(unknown, ",")
		}
		sum.Files = append(sum.Files, f)
		sum.Rejects += f.RowsRejected
	}
	return sum, rows.Err()
}
