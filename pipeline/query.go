package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"marrow/internal/duck"
)

// QueryOptions are the inputs of Query.
type QueryOptions struct {
	Warehouse string    // warehouse directory; a sibling results/ is exposed too
	SQL       string    // one SELECT statement
	Out       io.Writer // CSV goes here
}

// ErrNotReadOnly is returned for any statement that is not a plain query.
var ErrNotReadOnly = errors.New("only a single read-only SELECT statement is allowed")

// Query runs one read-only statement over the Parquet files of a warehouse
// (and of its sibling results/) and writes the result as CSV.
//
// The session is locked down before the user's SQL is seen: external access
// is limited to the two directories, extensions can be neither installed nor
// loaded, and the configuration is locked so the statement cannot undo any
// of it. The statement is prepared first and refused unless DuckDB types it
// as SELECT (so no COPY, ATTACH, CREATE, INSERT, SET, INSTALL, LOAD, PRAGMA).
func Query(ctx context.Context, o QueryOptions) error {
	wh, err := filepath.Abs(o.Warehouse)
	if err != nil {
		return err
	}
	dirs := []string{wh}
	if res := filepath.Join(filepath.Dir(wh), "results"); isDir(res) {
		dirs = append(dirs, res)
	}
	if !isDir(wh) {
		return badInput(fmt.Errorf("query: warehouse %s is not a directory", o.Warehouse))
	}
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var views []string
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.parquet"))
		sort.Strings(files)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".parquet")
			if !isIdent(name) {
				continue
			}
			stmt := fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet(%s)", name, duck.Literal(f))
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("query: view %s: %w", name, err)
			}
			views = append(views, name)
		}
	}
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		quoted[i] = duck.Literal(d + string(os.PathSeparator))
	}
	lockdown := []string{
		"SET allowed_directories = [" + strings.Join(quoted, ", ") + "]",
		"SET enable_external_access = false",
		"SET allow_community_extensions = false",
		"SET lock_configuration = true",
	}
	for _, s := range lockdown {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("query: lock down session (%s): %w", s, err)
		}
	}
	if err := requireSelect(ctx, conn, o.SQL); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, o.SQL)
	if err != nil {
		return badInput(fmt.Errorf("query: %s", oneLine(err.Error())))
	}
	defer rows.Close()
	return writeRowsCSV(o.Out, rows)
}

func requireSelect(ctx context.Context, conn *sql.Conn, query string) error {
	return conn.Raw(func(dc any) error {
		st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
		if err != nil {
			return badInput(fmt.Errorf("query: %s", oneLine(err.Error())))
		}
		defer st.Close()
		t, err := st.(*duckdb.Stmt).StatementType()
		if err != nil {
			return err
		}
		if t != duckdb.STATEMENT_TYPE_SELECT {
			return badInput(fmt.Errorf("query: %w", ErrNotReadOnly))
		}
		return nil
	})
}

// writeRowsCSV writes rows as RFC 4180 CSV with a header. Text cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func writeRowsCSV(out io.Writer, rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	if err := w.Write(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			rec[i] = formatCell(v)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %s", oneLine(err.Error()))
	}
	w.Flush()
	return w.Error()
}

func formatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return CSVSafe(x)
	case []byte:
		return CSVSafe(string(x))
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	default:
		return CSVSafe(fmt.Sprint(x))
	}
}

// CSVSafe neutralises a text cell that a spreadsheet would evaluate as a
// formula (leading = + - @ tab or CR) by prefixing a single quote (OWASP
// CSV injection advice). Numbers are never passed through it.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// oneLine folds DuckDB's multi-line messages (caret diagrams, hints) into
// the one-line reason the command line prints.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
