package pipeline

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"marrow/internal/duck"
	"marrow/queries"
)

// resultTable is one results/ table (shapes in queries/results_schema.sql).
// Its rows come in parts (one per stratum for most tables): emit appends
// part i's rows to a rowBuilder, and parts in order are sorted by orderBy.
type resultTable struct {
	name    string
	columns []string
	orderBy string
	parts   int
	emit    func(part int, r *rowBuilder)
}

// partsPerBatch is how many parts go into one Arrow record batch: about
// 125,000 curve rows at registry scale.
const partsPerBatch = 64

// writeResults writes dir/<name>.csv and dir/<name>.parquet for each
// table. Rows are built once, as Arrow record batches typed by
// results_schema.sql, on every core; then each batch is both formatted as
// CSV by Go — numbers in shortest round-trip form, so the text is the
// exact double — and streamed to DuckDB (duck.InsertArrow) into the typed
// table, from which DuckDB writes the Parquet file in key order. The two
// files therefore hold the same values, and no row passes through
// database/sql or a text parser.
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
		schema, err := tableSchema(ctx, conn, t.name)
		if err != nil {
			return err
		}
		if err := checkColumns(schema, t.columns); err != nil {
			return fmt.Errorf("results %s: %w", t.name, err)
		}
		// The producer (batches, CSV) and DuckDB's insert run side by
		// side; whichever fails first stops the other.
		tctx, cancel := context.WithCancel(ctx)
		recs := make(chan arrow.RecordBatch, 2)
		inserted := make(chan error, 1)
		go func() {
			stmt := "INSERT INTO " + t.name + " SELECT * FROM " + duck.StreamView
			err := duck.InsertArrow(tctx, conn, t.name, schema, recs, stmt)
			if err != nil {
				cancel()
			}
			inserted <- err
		}()
		csvPath := filepath.Join(dir, t.name+".csv")
		rows, err := produceRows(tctx, csvPath, t, schema, recs)
		if err != nil {
			cancel()
		}
		if ierr := <-inserted; err == nil && ierr != nil {
			err = fmt.Errorf("results %s: %w", t.name, ierr)
		}
		cancel()
		if err != nil {
			return err
		}
		s.step("write "+t.name+".csv", start, "rows", rows)
		q := "SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.name + " ORDER BY " + t.orderBy
		if err := duck.CopyParquet(ctx, conn, q, filepath.Join(dir, t.name+".parquet")); err != nil {
			return err
		}
		s.step("write "+t.name+".parquet", start)
	}
	return nil
}

// tableSchema is the Arrow schema of a results table, from DuckDB's
// catalog: results_schema.sql is the one place the types are written.
func tableSchema(ctx context.Context, conn *sql.Conn, table string) (*arrow.Schema, error) {
	rows, err := conn.QueryContext(ctx, queries.Text("table_columns"), table)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", table, err)
	}
	defer rows.Close()
	var fields []arrow.Field
	for rows.Next() {
		var name, typ string
		var nullable bool
		if err := rows.Scan(&name, &typ, &nullable); err != nil {
			return nil, err
		}
		var dt arrow.DataType
		switch typ {
		case "VARCHAR":
			dt = arrow.BinaryTypes.String
		case "INTEGER":
			dt = arrow.PrimitiveTypes.Int32
		case "BIGINT":
			dt = arrow.PrimitiveTypes.Int64
		case "DOUBLE":
			dt = arrow.PrimitiveTypes.Float64
		default:
			return nil, fmt.Errorf("results %s: column %s has type %s, not VARCHAR, INTEGER, BIGINT or DOUBLE", table, name, typ)
		}
		fields = append(fields, arrow.Field{Name: name, Type: dt, Nullable: nullable})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("results: no table %s", table)
	}
	return arrow.NewSchema(fields, nil), nil
}

func checkColumns(schema *arrow.Schema, columns []string) error {
	if schema.NumFields() != len(columns) {
		return fmt.Errorf("%d columns in results_schema.sql, %d written", schema.NumFields(), len(columns))
	}
	for i, f := range schema.Fields() {
		if f.Name != columns[i] {
			return fmt.Errorf("column %d is %s in results_schema.sql, %s written", i+1, f.Name, columns[i])
		}
	}
	return nil
}

// produceRows builds t's rows as record batches, partsPerBatch parts each,
// formats them into the CSV file at path and sends them in order on recs,
// which it closes. Batches are built and formatted on every core, a
// window at a time, so memory holds a few batches whatever the table's
// size. It returns the number of rows.
func produceRows(ctx context.Context, path string, t resultTable, schema *arrow.Schema, recs chan<- arrow.RecordBatch) (int, error) {
	defer close(recs)
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	out := bufio.NewWriterSize(f, 1<<20)
	out.WriteString(strings.Join(t.columns, ",") + "\n")

	workers := runtime.GOMAXPROCS(0)
	window := make([]resultBatch, 2*workers)
	nbatches := (t.parts + partsPerBatch - 1) / partsPerBatch
	rows := 0
	for first := 0; first < nbatches; first += len(window) {
		n := min(len(window), nbatches-first)
		var wg sync.WaitGroup
		for k := range workers {
			wg.Go(func() {
				for j := k; j < n; j += workers {
					b := first + j
					r := newRowBuilder(schema)
					for p := b * partsPerBatch; p < min((b+1)*partsPerBatch, t.parts); p++ {
						t.emit(p, r)
					}
					window[j].rec = r.finish()
					window[j].csv = appendCSV(window[j].csv[:0], window[j].rec)
				}
			})
		}
		wg.Wait()
		for j := range n {
			rec := window[j].rec
			window[j].rec = nil
			rows += int(rec.NumRows())
			if _, err := out.Write(window[j].csv); err != nil {
				rec.Release()
				releaseBatches(window[j+1 : n])
				return 0, fmt.Errorf("write %s: %w", path, err)
			}
			select {
			case recs <- rec: // the insert owns it now
			case <-ctx.Done():
				rec.Release()
				releaseBatches(window[j+1 : n])
				return 0, ctx.Err()
			}
		}
	}
	if err := out.Flush(); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return rows, f.Close()
}

// resultBatch is one record batch of a results table and its CSV text.
type resultBatch struct {
	rec arrow.RecordBatch
	csv []byte
}

func releaseBatches(bs []resultBatch) {
	for i := range bs {
		if bs[i].rec != nil {
			bs[i].rec.Release()
			bs[i].rec = nil
		}
	}
}

// rowBuilder appends rows to a record batch one field at a time without
// boxing values: Str, Int and Float append the next field, End finishes
// the row. Int fills INTEGER and BIGINT columns; a NaN or ±Inf Float ("not
// estimable") is NULL.
type rowBuilder struct {
	b     *array.RecordBuilder
	field int
}

func newRowBuilder(schema *arrow.Schema) *rowBuilder {
	return &rowBuilder{b: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
}

// Str appends a text field.
func (r *rowBuilder) Str(s string) *rowBuilder {
	r.b.Field(r.field).(*array.StringBuilder).Append(s)
	r.field++
	return r
}

// Int appends an integer field.
func (r *rowBuilder) Int(v int64) *rowBuilder {
	switch fb := r.b.Field(r.field).(type) {
	case *array.Int64Builder:
		fb.Append(v)
	case *array.Int32Builder:
		if v < math.MinInt32 || v > math.MaxInt32 {
			panic(fmt.Sprintf("results: %d does not fit column %s (INTEGER)", v, r.b.Schema().Field(r.field).Name))
		}
		fb.Append(int32(v))
	default:
		panic(fmt.Sprintf("results: Int for column %s of type %s", r.b.Schema().Field(r.field).Name, fb.Type()))
	}
	r.field++
	return r
}

// Float appends a number; NaN or ±Inf as NULL.
func (r *rowBuilder) Float(v float64) *rowBuilder {
	fb := r.b.Field(r.field).(*array.Float64Builder)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		fb.AppendNull()
	} else {
		fb.Append(v)
	}
	r.field++
	return r
}

// End finishes the row.
func (r *rowBuilder) End() {
	if r.field != r.b.Schema().NumFields() {
		panic(fmt.Sprintf("results: row of %d fields, want %d", r.field, r.b.Schema().NumFields()))
	}
	r.field = 0
}

// finish returns the rows appended so far as one record batch.
func (r *rowBuilder) finish() arrow.RecordBatch {
	defer r.b.Release()
	return r.b.NewRecordBatch()
}

// appendCSV appends rec's rows to buf as RFC 4180 CSV: text neutralised by
// CSVSafe and quoted where needed, integers in decimal, doubles in
// shortest round-trip form, NULL as an empty field.
func appendCSV(buf []byte, rec arrow.RecordBatch) []byte {
	cols := rec.Columns()
	for i := range int(rec.NumRows()) {
		for c, col := range cols {
			if c > 0 {
				buf = append(buf, ',')
			}
			if col.IsNull(i) {
				continue
			}
			switch x := col.(type) {
			case *array.String:
				buf = appendCSVText(buf, x.Value(i))
			case *array.Int32:
				buf = strconv.AppendInt(buf, int64(x.Value(i)), 10)
			case *array.Int64:
				buf = strconv.AppendInt(buf, x.Value(i), 10)
			case *array.Float64:
				buf = strconv.AppendFloat(buf, x.Value(i), 'g', -1, 64)
			default:
				panic("results: CSV of " + col.DataType().String())
			}
		}
		buf = append(buf, '\n')
	}
	return buf
}

func appendCSVText(buf []byte, s string) []byte {
	s = CSVSafe(s)
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
	return append(buf, '"')
}
