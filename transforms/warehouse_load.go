package transforms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"marrow/endpoints"
	"marrow/internal/duck"
	"marrow/queries"
)

// viewed are the warehouse tables LoadWarehouse leaves in their Parquet
// file, as a view: events, ten times the transplants' rows, is only
// scanned after loading (the checks, the event summary of the cohort, the
// default cutoff), and DuckDB scans the zstd Parquet file as fast as its
// own in-memory table (1M transplants: 0.17 vs 0.19 s for the orphan
// check, 0.31 vs 0.37 s for the summary), so copying it in (0.67 s, and
// its memory) buys nothing. The transplants too are read only a few
// times (the checks, the cohort statement; run views them after derive
// as well): loaded as a table, then the duplicate check, the link check
// and the cohort statement took 3.19/3.22 s at 1M, as a view 2.68/2.87.
// The file cannot change under the view: the caller holds the
// warehouse's lock (pipeline's lockWarehouse).
var viewed = map[string]bool{"events": true, "transplants": true}

// ViewTable replaces table by a view over its warehouse file path, which
// holds the same rows (WriteWarehouse's, or Ingest's transplants.parquet):
// the table's memory goes back to DuckDB for the work that follows, and
// the few later reads scan the file. Nothing may write to path while the
// view is in use.
func ViewTable(ctx context.Context, db *sql.DB, table, path string) error {
	// table is one of the fixed warehouse names.
	stmt := "BEGIN; DROP TABLE " + table + "; CREATE VIEW " + table + " AS SELECT * FROM read_parquet(" + duck.Literal(path) + "); COMMIT"
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		db.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("view %s: %w", table, duck.Flat(err))
	}
	return nil
}

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
		kind := "TABLE"
		if viewed[t] {
			kind = "VIEW"
		}
		stmt := fmt.Sprintf("CREATE OR REPLACE %s %s AS SELECT * FROM read_parquet(%s)", kind, t, duck.Literal(path))
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

// LoadSummary makes the view event_summary over dir's SummaryTable file
// when there is one and it has every column the cohort SQL of eps reads
// in its marked form (transplant_id, last_date, a date per term of eps,
// first_of_type), and reports whether it did: DeriveCohort then takes it
// as Summarized. A warehouse without the file (written before it existed),
// or one whose endpoints named other terms, gives false, and the cohort is
// summarized from events as before. The file, like the others, is what
// the warehouse's manifest says (the caller checks its hashes), and it
// does not depend on the cutoff.
func LoadSummary(ctx context.Context, db *sql.DB, dir string, eps endpoints.Set) (bool, error) {
	path := filepath.Join(dir, SummaryTable+".parquet")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load warehouse: %w", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT name FROM parquet_schema(?)", path)
	if err != nil {
		return false, fmt.Errorf("load warehouse %s: %w", path, duck.Flat(err))
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("load warehouse %s: %w", path, duck.Flat(err))
	}
	need := []string{"transplant_id", "last_date", "first_of_type"}
	for _, t := range eventDateTerms(eps) {
		need = append(need, t.Column()+"_date")
	}
	for _, c := range need {
		if !have[c] {
			return false, nil
		}
	}
	stmt := "CREATE OR REPLACE VIEW " + SummaryTable + " AS SELECT * FROM read_parquet(" + duck.Literal(path) + ")"
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return false, fmt.Errorf("load warehouse %s: %w", path, duck.Flat(err))
	}
	return true, nil
}
