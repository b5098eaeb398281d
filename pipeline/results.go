package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"marrow/internal/duck"
	"marrow/queries"
)

// resultTable is one results/ table (shapes in queries/results_schema.sql).
// emit writes its rows, already sorted by orderBy, through a csvWriter.
type resultTable struct {
	name    string
	columns []string
	orderBy string
	emit    func(w *csvWriter)
}

// writeResults writes dir/<name>.csv for each table from Go — numbers in
// shortest round-trip form, so the text is the exact double — then has
// DuckDB load that CSV into the typed table of results_schema.sql and
// write dir/<name>.parquet from it in key order. The two files therefore
// hold the same values, and no row passes through database/sql.
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
		start := time.Now()
		csvPath := filepath.Join(dir, t.name+".csv")
		rows, err := writeCSV(csvPath, t)
		if err != nil {
			return err
		}
		s.step("write "+t.name+".csv", start, "rows", rows)
		load := fmt.Sprintf("COPY %s (%s) FROM %s (FORMAT csv, HEADER true, NULLSTR '')",
			t.name, strings.Join(t.columns, ", "), duck.Literal(csvPath))
		if _, err := conn.ExecContext(ctx, load); err != nil {
			return fmt.Errorf("results %s: %w", t.name, err)
		}
		q := "SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.name + " ORDER BY " + t.orderBy
		if err := duck.CopyParquet(ctx, conn, q, filepath.Join(dir, t.name+".parquet")); err != nil {
			return err
		}
		s.step("write "+t.name+".parquet", start)
	}
	return nil
}

// writeCSV writes t as RFC 4180 CSV and returns its row count.
func writeCSV(path string, t resultTable) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := &csvWriter{w: bufio.NewWriterSize(f, 1<<20)}
	w.w.WriteString(strings.Join(t.columns, ",") + "\n")
	t.emit(w)
	if err := w.w.Flush(); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return w.rows, f.Close()
}

// csvWriter writes one CSV row at a time without boxing values: Str, Int
// and Float append fields, End finishes the row.
type csvWriter struct {
	w      *bufio.Writer
	buf    []byte
	fields int // fields in the current row
	rows   int
}

func (c *csvWriter) sep() {
	if c.fields > 0 {
		c.buf = append(c.buf, ',')
	}
	c.fields++
}

// Str appends a text field, neutralised by CSVSafe and quoted if needed.
func (c *csvWriter) Str(s string) *csvWriter {
	c.sep()
	s = CSVSafe(s)
	if !strings.ContainsAny(s, ",\"\r\n") {
		c.buf = append(c.buf, s...)
		return c
	}
	c.buf = append(c.buf, '"')
	c.buf = append(c.buf, strings.ReplaceAll(s, `"`, `""`)...)
	c.buf = append(c.buf, '"')
	return c
}

// Int appends an integer field.
func (c *csvWriter) Int(v int64) *csvWriter {
	c.sep()
	c.buf = strconv.AppendInt(c.buf, v, 10)
	return c
}

// Float appends a number in shortest round-trip form; NaN or ±Inf ("not
// estimable") as an empty field.
func (c *csvWriter) Float(v float64) *csvWriter {
	c.sep()
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		c.buf = strconv.AppendFloat(c.buf, v, 'g', -1, 64)
	}
	return c
}

// End finishes the row.
func (c *csvWriter) End() {
	c.buf = append(c.buf, '\n')
	c.w.Write(c.buf)
	c.buf = c.buf[:0]
	c.fields = 0
	c.rows++
}
