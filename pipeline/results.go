package pipeline

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"marrow/internal/duck"
	"marrow/queries"
)

// resultTable is one results/ table: rows already sorted by its key, to be
// written as CSV (by Go: shortest round-trip numbers, empty = not
// estimable) and as Parquet (by DuckDB, from the same rows).
type resultTable struct {
	name    string
	columns []string
	orderBy string
	rows    [][]any // string, int64, or float64 (NaN = NULL)
}

// writeResults creates the results tables in the session, appends the rows,
// and writes dir/<name>.csv and dir/<name>.parquet for each.
func (s *session) writeResults(ctx context.Context, dir string, tables []resultTable) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, queries.Text("results_schema")); err != nil {
		return fmt.Errorf("results schema: %w", err)
	}
	for _, t := range tables {
		if err := appendRows(ctx, conn, t); err != nil {
			return err
		}
		if err := writeCSV(filepath.Join(dir, t.name+".csv"), t); err != nil {
			return err
		}
		q := "SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.name + " ORDER BY " + t.orderBy
		if err := duck.CopyParquet(ctx, conn, q, filepath.Join(dir, t.name+".parquet")); err != nil {
			return err
		}
	}
	return nil
}

func appendRows(ctx context.Context, conn *sql.Conn, t resultTable) error {
	return conn.Raw(func(dc any) error {
		app, err := duck.NewAppender(dc.(driver.Conn), t.name, t.columns)
		if err != nil {
			return fmt.Errorf("results %s: %w", t.name, err)
		}
		vals := make([]driver.Value, len(t.columns))
		for _, r := range t.rows {
			for i, v := range r {
				if f, ok := v.(float64); ok && math.IsNaN(f) {
					vals[i] = nil
				} else {
					vals[i] = v
				}
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return fmt.Errorf("results %s: %w", t.name, err)
			}
		}
		return app.Close()
	})
}

// writeCSV writes t as RFC 4180 CSV. Numbers in shortest round-trip form
// (strconv 'g', -1), NaN as an empty field; text through CSVSafe.
func writeCSV(path string, t resultTable) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(t.columns, ",") + "\n")
	var buf []byte
	for _, r := range t.rows {
		buf = buf[:0]
		for i, v := range r {
			if i > 0 {
				buf = append(buf, ',')
			}
			switch x := v.(type) {
			case string:
				buf = appendCSVField(buf, CSVSafe(x))
			case int64:
				buf = strconv.AppendInt(buf, x, 10)
			case int:
				buf = strconv.AppendInt(buf, int64(x), 10)
			case float64:
				if !math.IsNaN(x) {
					buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
				}
			default:
				return fmt.Errorf("results %s: unexpected %T", t.name, v)
			}
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func appendCSVField(buf []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
	return append(buf, '"')
}
