package pipeline

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"marrow/estimate"
	"marrow/internal/duck"
)

// sortResults makes writeResults sort every table on its key as it writes
// it (tests: the files must be the same without the sort).
var sortResults bool

// partsPerBatch is how many parts (strata) go into one Arrow record: a
// fixed number, so that the records, and the table's row groups built from
// them, do not depend on the number of cores. 64 curves are ~75,000 rows
// at registry scale.
const partsPerBatch = 64

// writeArrow writes t's rows straight from Go to path as Parquet, as
// Arrow records (no CSV and no table in between): the parts are built a
// batch of partsPerBatch at a time on every core and handed to DuckDB in
// part order, whose COPY scans them on one thread (serially: transforms'
// Serially, or background's when writes overlap)
// — so the file's row groups do not depend on the thread count, and it
// needs no sort. The parts must come in t.orderBy order, which the rows
// are checked against as they pass. table (empty) gives the columns'
// types. With sorted (tests) the COPY sorts on t.orderBy all the same.
//
// At 1M transplants (3.5 million curve rows) this took 1.3-1.5 s where
// loading a table on one thread (0.84 s) and copying it on two (0.74 s)
// took 1.6, and DuckDB held no table of the rows after; the file is the
// same bytes either way. Scanning the stream on two threads made files
// that differed between runs.
func writeArrow(ctx context.Context, conn *sql.Conn, table string, t resultTable, path string, sorted bool,
	serially func(context.Context, *sql.Conn, func() error) error) (int, error) {
	schema, err := tableSchema(ctx, conn, table, t.columns)
	if err != nil {
		return 0, err
	}
	keys := len(strings.Split(t.orderBy, ","))
	for i, k := range strings.Split(t.orderBy, ",") {
		if i >= len(t.columns) || strings.TrimSpace(k) != t.columns[i] {
			return 0, fmt.Errorf("results %s: order %q is not a prefix of the columns", t.name, t.orderBy)
		}
	}
	notNull := map[string]bool{}
	for _, c := range t.notNull {
		notNull[c] = true
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan arrow.RecordBatch, 2*runtime.GOMAXPROCS(0))
	var buildErr error
	rows := 0
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(recs)
		chunks := &fullChunks{out: func(r arrow.RecordBatch) error {
			select {
			case recs <- r:
				return nil
			case <-ctx.Done():
				r.Release()
				return ctx.Err()
			}
		}}
		defer chunks.release()
		buildErr = buildBatches(ctx, t, schema, notNull, keys, chunks.push, &rows)
		if buildErr == nil {
			buildErr = chunks.flush()
		}
	})
	sel := t.columns
	opts := ""
	if t.points != nil {
		sel = enumColumns(t, schema, notNull)
		opts = curvesParquetOptions
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + duck.StreamView
	if sorted {
		q += " ORDER BY " + t.orderBy
	}
	err = serially(ctx, conn, func() error {
		return duck.StreamArrow(ctx, conn, table, schema, recs, duck.CopyParquetStmtWith(q, path, opts))
	})
	if err != nil {
		cancel()
	}
	for range recs { // unblock the builder after an error
	}
	wg.Wait()
	if buildErr != nil {
		return 0, buildErr
	}
	if err != nil {
		return 0, fmt.Errorf("results %s: %w", t.name, err)
	}
	return rows, nil
}

// curvesParquetOptions are the curves COPY's options beyond zstd: no
// dictionary for its numbers (most values of a curve's estimate, standard
// error and limits are distinct, and the dictionary DuckDB builds and
// abandons for them costs time and bytes); Parquet's version 2 encodings
// (DELTA_BINARY_PACKED counts and times, BYTE_STREAM_SPLIT doubles), which
// leave zstd a quarter of the bytes PLAIN does, at its level 1. The one-
// thread COPY of the 3.5 M rows of a 1M registry (scripts/sqlprof, from a
// table, three alternations): 0.83-0.92 s against 1.01-1.07 s (version 1,
// level 3) and 0.94-1.04 s (version 1, level 1), the file 36.5 MB against
// 35.4 MB; the estimation phase 2.17 against 2.34 s (medians of seven
// analyze runs in pairs). Readers of the file
// need the version 2 encodings (DuckDB, Arrow's C++ and so pyarrow and R's
// arrow, Spark, polars read them).
const curvesParquetOptions = "DICTIONARY_SIZE_LIMIT 1, COMPRESSION_LEVEL 1, PARQUET_VERSION v2"

// enumColumns is the select list of a curves COPY: each stratum column
// cast to an ENUM of the values it takes in t (sorted, as VARCHAR sorts),
// the rest as they are. DuckDB writes an ENUM column as the same Parquet
// strings (BYTE_ARRAY, UTF8, dictionary-encoded) from its codes, where
// a VARCHAR column's every value is hashed into a dictionary again: at 1M
// transplants the four stratum columns took 1.24 s of the one-thread
// COPY as VARCHAR, 0.13 as ENUM.
func enumColumns(t resultTable, schema *arrow.Schema, notNull map[string]bool) []string {
	ns := schema.NumFields() - 9
	vals := make([]map[string]bool, ns)
	for j := range vals {
		vals[j] = map[string]bool{}
	}
	for p := range t.parts {
		st, ps := t.points(p)
		if len(ps) == 0 || len(st) != ns {
			continue // pointsRecord reports a wrong stratum
		}
		for j, v := range st {
			if v != "" || notNull[schema.Field(j).Name] {
				vals[j][CSVSafe(v)] = true
			}
		}
	}
	sel := slices.Clone(t.columns)
	for j := range ns {
		if len(vals[j]) == 0 {
			continue // all NULL: an ENUM needs a value
		}
		lits := make([]string, 0, len(vals[j]))
		for _, v := range slices.Sorted(maps.Keys(vals[j])) {
			lits = append(lits, duck.Literal(v))
		}
		sel[j] = fmt.Sprintf("CAST(%s AS ENUM(%s)) AS %s", t.columns[j], strings.Join(lits, ", "), t.columns[j])
	}
	return sel
}

// buildBatches sends t's records in part order (send takes each over), batches built in
// parallel a wave at a time, and checks the key order across them.
func buildBatches(ctx context.Context, t resultTable, schema *arrow.Schema, notNull map[string]bool, keys int, send func(arrow.RecordBatch) error, rows *int) error {
	workers := runtime.GOMAXPROCS(0)
	batches := (t.parts + partsPerBatch - 1) / partsPerBatch
	wave := make([]arrow.RecordBatch, workers)
	errs := make([]error, workers)
	var last arrow.RecordBatch // the last row of the previous batch
	defer func() {
		if last != nil {
			last.Release()
		}
	}()
	for first := 0; first < batches; first += workers {
		n := min(workers, batches-first)
		var wg sync.WaitGroup
		for k := range n {
			wg.Go(func() {
				b := first + k
				from, to := b*partsPerBatch, min(t.parts, (b+1)*partsPerBatch)
				if t.points != nil {
					wave[k], errs[k] = pointsRecord(schema, notNull, t.points, from, to)
					return
				}
				a := newArrowRows(schema, notNull)
				for p := from; p < to; p++ {
					t.emit(p, a)
				}
				wave[k], errs[k] = a.record()
				if errs[k] == nil {
					errs[k] = checkOrder(wave[k], keys)
				}
			})
		}
		wg.Wait()
		for k := range n {
			if errs[k] == nil && wave[k].NumRows() > 0 {
				if last != nil && keyOrder(last, 0, wave[k], 0, keys) >= 0 {
					errs[k] = errors.New("first row of a batch out of key order")
				}
				if last != nil {
					last.Release()
				}
				last = wave[k].NewSlice(wave[k].NumRows()-1, wave[k].NumRows())
			}
			if errs[k] != nil {
				for _, r := range wave[k:n] {
					if r != nil {
						r.Release()
					}
				}
				return fmt.Errorf("results %s: %w", t.name, errs[k])
			}
			*rows += int(wave[k].NumRows())
			if err := send(wave[k]); err != nil {
				for _, r := range wave[k+1 : n] {
					r.Release()
				}
				return err
			}
		}
	}
	return nil
}

// pointsRecord builds the record of parts [from, to) of a curves table
// (resultTable.points) column by column, as arrowRows would from emit:
// each part's stratum repeated on its rows, then its points. At registry
// scale (3.5 million rows) the row-by-row path took 180-240 ns a row on
// one core, this one 46 (BenchmarkCurvesBatches). The rows must be in
// key order, as checkOrder checks a record: the strata of parts with
// rows strictly increasing, times within a part.
func pointsRecord(schema *arrow.Schema, notNull map[string]bool, points func(int) ([]string, []estimate.Point), from, to int) (arrow.RecordBatch, error) {
	nf := schema.NumFields()
	ns := nf - 9 // the stratum's columns; then time and the point's eight
	for i, f := range schema.Fields() {
		want := arrow.STRING
		switch {
		case i == ns:
			want = arrow.INT32
		case i > ns && i <= ns+4:
			want = arrow.INT64
		case i > ns+4:
			want = arrow.FLOAT64
		}
		if ns < 1 || f.Type.ID() != want {
			return nil, fmt.Errorf("curves: column %s is %s, not as a curve's", f.Name, f.Type)
		}
	}
	rows := 0
	strata := make([][]string, to-from)
	pts := make([][]estimate.Point, to-from)
	var prev []string // the stratum of the last part with rows
	for p := from; p < to; p++ {
		st, ps := points(p)
		if len(st) != ns {
			return nil, fmt.Errorf("curves: part %d has %d stratum values for %d columns", p, len(st), ns)
		}
		strata[p-from] = make([]string, ns)
		for j, v := range st {
			if v != "" || notNull[schema.Field(j).Name] {
				v = CSVSafe(v)
			}
			strata[p-from][j] = v
		}
		if len(ps) > 0 {
			if prev != nil && slices.Compare(strata[p-from], prev) <= 0 {
				return nil, fmt.Errorf("curves: part %d's stratum not after the one before", p)
			}
			prev = strata[p-from]
		}
		for k := 1; k < len(ps); k++ {
			if ps[k].Time <= ps[k-1].Time {
				return nil, fmt.Errorf("curves: part %d: time %d after %d", p, ps[k].Time, ps[k-1].Time)
			}
		}
		pts[p-from] = ps
		rows += len(ps)
	}
	arrays := make([]arrow.Array, nf)
	defer func() {
		for _, a := range arrays {
			if a != nil {
				a.Release()
			}
		}
	}()
	buf := func(b []byte) *memory.Buffer { return memory.NewBufferBytes(b) }
	// nulls is a column's validity bitmap, made at its first NULL.
	type nulls struct {
		bits []byte
		n    int
	}
	setNull := func(v *nulls, from, to int) {
		if v.bits == nil {
			v.bits = make([]byte, bitutil.BytesForBits(int64(rows)))
			bitutil.SetBitsTo(v.bits, 0, int64(rows), true)
		}
		bitutil.SetBitsTo(v.bits, int64(from), int64(to-from), false)
		v.n += to - from
	}
	set := func(i int, v nulls, data ...[]byte) {
		bufs := []*memory.Buffer{nil}
		if v.bits != nil {
			bufs[0] = buf(v.bits)
		}
		for _, d := range data {
			bufs = append(bufs, buf(d))
		}
		d := array.NewData(schema.Field(i).Type, rows, bufs, nil, v.n, 0)
		arrays[i] = array.MakeFromData(d)
		d.Release()
	}
	for j := range ns {
		null := !notNull[schema.Field(j).Name]
		size := 0
		for p := range pts {
			size += len(strata[p][j]) * len(pts[p])
		}
		if size > math.MaxInt32 {
			return nil, fmt.Errorf("curves: column %s: more than 2 GiB of text in one batch", schema.Field(j).Name)
		}
		offsets := make([]int32, 1, rows+1)
		data := make([]byte, 0, size)
		var v nulls
		for p := range pts {
			s := strata[p][j]
			if s == "" && null && len(pts[p]) > 0 {
				setNull(&v, len(offsets)-1, len(offsets)-1+len(pts[p]))
			}
			for range pts[p] {
				data = append(data, s...)
				offsets = append(offsets, int32(len(data)))
			}
		}
		set(j, v, arrow.Int32Traits.CastToBytes(offsets), data)
	}
	times := make([]int32, 0, rows)
	ints := [4][]int64{}
	floats := [4][]float64{}
	for c := range 4 {
		ints[c] = make([]int64, rows)
		floats[c] = make([]float64, rows)
	}
	var fnulls [4]nulls
	for p := range pts {
		for _, pt := range pts[p] {
			if pt.Time < math.MinInt32 || pt.Time > math.MaxInt32 {
				return nil, fmt.Errorf("curves: time %d out of INTEGER range", pt.Time)
			}
			r := len(times)
			times = append(times, int32(pt.Time))
			ints[0][r], ints[1][r], ints[2][r], ints[3][r] = pt.NRisk, pt.NEvent, pt.NCompete, pt.NCensor
			for c, x := range [4]float64{pt.Estimate, pt.StdErr, pt.Lower, pt.Upper} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					setNull(&fnulls[c], r, r+1) // NULL, as arrowRows.Float
					x = 0
				}
				floats[c][r] = x
			}
		}
	}
	set(ns, nulls{}, arrow.Int32Traits.CastToBytes(times))
	for c := range 4 {
		set(ns+1+c, nulls{}, arrow.Int64Traits.CastToBytes(ints[c]))
		set(ns+5+c, fnulls[c], arrow.Float64Traits.CastToBytes(floats[c]))
	}
	return array.NewRecordBatch(schema, arrays, int64(rows)), nil
}

// vectorRows is DuckDB's vector size: its scan of an Arrow record reads
// the record 2048 rows at a time, the last chunk of a record short.
const vectorRows = 2048

// fullChunks re-cuts a stream of records (push, then flush) into records
// of a multiple of vectorRows rows but the last, which out takes over:
// DuckDB's scan of them then gives only full chunks, and its Parquet
// writer closes each row group at exactly row_group_size rows (122,880) —
// the same file as written from a table, whatever the parts per record.
// The records are sliced, not copied, but for the few rows joining one
// record's tail to the next one's head.
type fullChunks struct {
	carry arrow.RecordBatch // fewer than vectorRows rows, or nil
	out   func(arrow.RecordBatch) error
}

func (f *fullChunks) push(rec arrow.RecordBatch) error {
	defer rec.Release()
	n, off := rec.NumRows(), int64(0)
	if f.carry != nil {
		take := min(n, vectorRows-f.carry.NumRows())
		head := rec.NewSlice(0, take)
		joined, err := concatRecords(f.carry, head)
		head.Release()
		f.carry.Release()
		f.carry = nil
		if err != nil {
			return err
		}
		if joined.NumRows() < vectorRows {
			f.carry = joined
			return nil
		}
		if err := f.out(joined); err != nil {
			return err
		}
		off = take
	}
	whole := (n - off) / vectorRows * vectorRows
	if whole > 0 {
		if err := f.out(rec.NewSlice(off, off+whole)); err != nil {
			return err
		}
	}
	if off+whole < n {
		f.carry = rec.NewSlice(off+whole, n)
	}
	return nil
}

// flush sends the last short record, if any.
func (f *fullChunks) flush() error {
	if f.carry == nil {
		return nil
	}
	r := f.carry
	f.carry = nil
	return f.out(r)
}

// release lets go of a record not sent (after an error).
func (f *fullChunks) release() {
	if f.carry != nil {
		f.carry.Release()
		f.carry = nil
	}
}

// concatRecords is a's rows followed by b's (same schema).
func concatRecords(a, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, a.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		c, err := array.Concatenate([]arrow.Array{a.Column(i), b.Column(i)}, memory.DefaultAllocator)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return array.NewRecordBatch(a.Schema(), cols, a.NumRows()+b.NumRows()), nil
}

// keyOrder compares row i of a with row j of b on their first keys
// columns as DuckDB's ORDER BY does: text by bytes, numbers by value.
func keyOrder(a arrow.RecordBatch, i int, b arrow.RecordBatch, j int, keys int) int {
	for c := range keys {
		var d int
		switch x := a.Column(c).(type) {
		case *array.String:
			d = strings.Compare(x.Value(i), b.Column(c).(*array.String).Value(j))
		case *array.Int32:
			d = cmp.Compare(x.Value(i), b.Column(c).(*array.Int32).Value(j))
		case *array.Int64:
			d = cmp.Compare(x.Value(i), b.Column(c).(*array.Int64).Value(j))
		}
		if d != 0 {
			return d
		}
	}
	return 0
}

// checkOrder checks that rec's rows are in strictly increasing key order.
func checkOrder(rec arrow.RecordBatch, keys int) error {
	for r := 1; r < int(rec.NumRows()); r++ {
		if keyOrder(rec, r-1, rec, r, keys) >= 0 {
			return fmt.Errorf("row %d of a batch out of key order", r)
		}
	}
	return nil
}

// tableSchema is the Arrow schema of table's columns, from DuckDB's
// catalogue: VARCHAR, INTEGER, BIGINT and DOUBLE are what results/ uses.
func tableSchema(ctx context.Context, conn *sql.Conn, table string, columns []string) (*arrow.Schema, error) {
	rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE table_name = ? AND schema_name = current_schema() ORDER BY column_index`, table)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", table, err)
	}
	defer rows.Close()
	types := map[string]arrow.DataType{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		switch typ {
		case "VARCHAR":
			types[name] = arrow.BinaryTypes.String
		case "INTEGER":
			types[name] = arrow.PrimitiveTypes.Int32
		case "BIGINT":
			types[name] = arrow.PrimitiveTypes.Int64
		case "DOUBLE":
			types[name] = arrow.PrimitiveTypes.Float64
		default:
			return nil, fmt.Errorf("results %s: column %s has type %s, not one Arrow results take", table, name, typ)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		typ, ok := types[c]
		if !ok {
			return nil, fmt.Errorf("results %s: no column %s", table, c)
		}
		fields[i] = arrow.Field{Name: c, Type: typ, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// arrowRows is a rowSink building Arrow columns. Its values are those the
// CSV path gives DuckDB: text through CSVSafe, an empty text NULL unless
// its column is notNull, NaN and ±Inf NULL. A field of the wrong kind for
// its column is an error, reported by record.
type arrowRows struct {
	b       *array.RecordBuilder
	notNull []bool
	col     int
	err     error
}

func newArrowRows(schema *arrow.Schema, notNull map[string]bool) *arrowRows {
	a := &arrowRows{b: array.NewRecordBuilder(memory.DefaultAllocator, schema), notNull: make([]bool, schema.NumFields())}
	for i, f := range schema.Fields() {
		a.notNull[i] = notNull[f.Name]
	}
	return a
}

func (a *arrowRows) field() array.Builder {
	if a.col >= len(a.notNull) {
		if a.err == nil {
			a.err = fmt.Errorf("row has more than %d fields", len(a.notNull))
		}
		return nil
	}
	a.col++
	return a.b.Field(a.col - 1)
}

func (a *arrowRows) wrong(kind string, b array.Builder) {
	if a.err == nil && b != nil {
		a.err = fmt.Errorf("field %d: %s value for a %s column", a.col, kind, b.Type())
	}
}

func (a *arrowRows) Str(s string) rowSink {
	b := a.field()
	if sb, ok := b.(*array.StringBuilder); ok {
		if s == "" && !a.notNull[a.col-1] {
			sb.AppendNull()
		} else {
			sb.Append(CSVSafe(s))
		}
	} else if s == "" && b != nil {
		b.AppendNull() // as an empty CSV field loads
	} else {
		a.wrong("text", b)
	}
	return a
}

func (a *arrowRows) Int(v int64) rowSink {
	switch b := a.field().(type) {
	case *array.Int64Builder:
		b.Append(v)
	case *array.Int32Builder:
		if v < math.MinInt32 || v > math.MaxInt32 {
			if a.err == nil {
				a.err = fmt.Errorf("field %d: %d out of INTEGER range", a.col, v)
			}
		}
		b.Append(int32(v))
	case *array.Float64Builder:
		b.Append(float64(v))
	default:
		a.wrong("integer", b)
	}
	return a
}

func (a *arrowRows) Float(v float64) rowSink {
	b := a.field()
	if fb, ok := b.(*array.Float64Builder); ok {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	} else {
		a.wrong("number", b)
	}
	return a
}

func (a *arrowRows) End() {
	if a.col != len(a.notNull) && a.err == nil {
		a.err = fmt.Errorf("row has %d fields, want %d", a.col, len(a.notNull))
	}
	a.col = 0
}

// record returns the rows built so far as one record (the caller releases
// it), or the first error.
func (a *arrowRows) record() (arrow.RecordBatch, error) {
	defer a.b.Release()
	if a.err != nil {
		return nil, a.err
	}
	return a.b.NewRecordBatch(), nil
}
