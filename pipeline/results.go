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

	"marrow/estimate"
	"marrow/internal/duck"
	"marrow/transforms"
)

// resultTable is one results/ table (shapes in queries/results_schema.sql).
// Its rows come in parts (one per stratum for most tables): emit writes
// part i's rows through a csvWriter, and parts in order are sorted by
// orderBy.
type resultTable struct {
	name    string
	columns []string
	orderBy string
	notNull []string // text columns where an empty field is '' rather than NULL
	parts   int
	emit    func(part int, w rowSink)
	// points, set instead of emit, gives part i's rows as a curve: its
	// stratum (the columns before time) and its points, one row each
	// (the curves table, parquetOnly). writeArrow builds the columns from
	// them directly (pointsRecord), the record emit would give row by row.
	points func(part int) (stratum []string, pts []estimate.Point)
	// parquetOnly: results/ gets the Parquet file only (curves, SPEC §4:
	// millions of rows; marrow query gives CSV). Its rows then go to
	// DuckDB's COPY as an Arrow stream (writeArrow), in orderBy order as
	// emitted, and the Parquet file is written without a sort.
	parquetOnly bool
	// table is the DuckDB table loaded from the CSV; "" = name.
	table string
	// loaded, if set, is called once the table is in DuckDB, before its
	// Parquet file is written (parquetOnly: once the file is written):
	// what only the table needed may be let go.
	loaded func()
}

// tableName is the DuckDB table of t.
func (t resultTable) tableName() string {
	if t.table == "" {
		return t.name
	}
	return t.table
}

// writeResults writes dir/<name>.csv for each table from Go — numbers in
// shortest round-trip form, so the text is the exact double — then has
// DuckDB load that CSV into the typed table of results_schema.sql and
// write dir/<name>.parquet from it in key order. The two files therefore
// hold the same values, and no row passes through database/sql. A
// parquetOnly table has no CSV and no table: its rows reach the COPY as
// Arrow.
//
// schema creates the tables (results_schema.sql for the default analysis).
func (s *session) writeResults(ctx context.Context, dir, schema string, tables []resultTable) error {
	return s.writeResultsThen(ctx, dir, schema, tables, nil)
}

// writeResultsThen is writeResults calling prepare, if set, once the
// parquetOnly tables are started (in the background when s.writes is
// set) and before the CSV tables are written: what only those need is
// computed while the big files are written.
func (s *session) writeResultsThen(ctx context.Context, dir, schema string, tables []resultTable, prepare func()) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("results schema: %w", err)
	}
	// A parquetOnly table's loaded may let go of what the CSV tables read
	// (the curves, which the landmarks and medians come from): it waits
	// for them.
	csvDone := make(chan struct{})
	closeCSV := sync.OnceFunc(func() { close(csvDone) })
	defer closeCSV()
	var after []func() // the loaded of tables written in line
	for _, t := range tables {
		if !t.parquetOnly {
			continue
		}
		table, path := t.tableName(), filepath.Join(dir, t.name+".parquet")
		// Straight from Go as Arrow, already in key order: no CSV, no
		// table and no sort (writeArrow) — in the background when the
		// stage allows it (s.writes), on a connection of its own.
		// The one-thread setting is the background's while its writes may
		// overlap: chosen now, not when the write starts (s.writes is nil
		// again by then if the stage has ended).
		serially := transforms.Serially
		if s.writes != nil {
			serially = s.writes.serially
		}
		write := func(ctx context.Context, background bool) error {
			start := time.Now()
			conn, err := s.db.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			rows, err := writeArrow(ctx, conn, table, t, path, sortResults, serially)
			if err != nil {
				return err
			}
			s.step("write "+t.name+".parquet", start, "rows", rows)
			if t.loaded != nil && background {
				<-csvDone
				t.loaded()
			}
			return nil
		}
		if s.writes == nil {
			if err := write(ctx, false); err != nil {
				return err
			}
			if t.loaded != nil {
				after = append(after, t.loaded)
			}
			continue
		}
		s.writes.Go(ctx, func(ctx context.Context) error { return write(ctx, true) })
	}
	if prepare != nil {
		prepare()
	}
	for _, t := range tables {
		if t.parquetOnly {
			continue
		}
		start := time.Now()
		table, path := t.tableName(), filepath.Join(dir, t.name+".parquet")
		rows, err := writeCSV(filepath.Join(dir, t.name+".csv"), t)
		if err != nil {
			return err
		}
		s.step("write "+t.name+".csv", start, "rows", rows)
		if err := loadCSV(ctx, conn, table, filepath.Join(dir, t.name+".csv"), t); err != nil {
			return err
		}
		if t.loaded != nil {
			t.loaded()
		}
		q := "SELECT " + strings.Join(t.columns, ", ") + " FROM " + table + " ORDER BY " + t.orderBy
		if err := duck.CopyParquet(ctx, conn, q, path); err != nil {
			return err
		}
		s.step("write "+t.name+".parquet", start)
	}
	closeCSV()
	for _, f := range after {
		f()
	}
	return nil
}

// background runs writes beside the work that follows them (the
// estimate stage's curves), as many at once as there are cores, started in
// the order given. Each curves COPY scans its Arrow stream on one DuckDB
// thread (serially), which leaves the other core to the next analysis or
// to the next COPY. Wait returns the first error; after an error the
// writes not started are skipped.
type background struct {
	wg   sync.WaitGroup
	slot chan struct{} // a token per running write
	mu   sync.Mutex
	err  error
	// serial counts the writes inside serially; threads is DuckDB's
	// thread count before the first.
	serial  int
	threads int64
	// done is when the last results write to end ended; otherDone the
	// same for the others (GoOther: cohort.parquet, a warehouse file).
	done, otherDone time.Time
}

// newBackground runs up to slots writes at once.
func newBackground(slots int) *background {
	return &background{slot: make(chan struct{}, max(1, slots))}
}

func (b *background) Go(ctx context.Context, fn func(context.Context) error) {
	b.wg.Add(1)
	b.slot <- struct{}{} // in order: a write starts once a slot is free
	go b.run(ctx, fn, &b.done)
}

// GoOther runs fn as Go does, a write that is not a result file: its end
// is not the end of the estimation phase ("results written"). It returns
// at once: fn waits for its slot on its own goroutine, so the caller (the
// estimate stage's end, cohort.parquet) does not wait for a results write
// to end; call it after the last Go.
func (b *background) GoOther(ctx context.Context, fn func(context.Context) error) {
	b.wg.Add(1)
	go func() {
		b.slot <- struct{}{} // every running write gives its slot back
		b.run(ctx, fn, &b.otherDone)
	}()
}

// run runs fn in the slot its caller took.
func (b *background) run(ctx context.Context, fn func(context.Context) error, done *time.Time) {
	defer b.wg.Done()
	defer func() { <-b.slot }()
	b.mu.Lock()
	failed := b.err != nil
	b.mu.Unlock()
	if failed {
		return
	}
	err := fn(ctx)
	b.mu.Lock()
	if err != nil && b.err == nil {
		b.err = err
	}
	*done = time.Now()
	b.mu.Unlock()
}

// Wait waits for every write given so far.
func (b *background) Wait() error {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// serially runs fn with DuckDB on one thread, as transforms.Serially, for
// writes that overlap: the first to enter sets one thread, the last to
// leave restores the count (threads is the database's setting, not the
// connection's). Other queries meanwhile run on one thread too, each on
// its caller's.
func (b *background) serially(ctx context.Context, conn *sql.Conn, fn func() error) error {
	b.mu.Lock()
	if b.serial == 0 {
		threads, err := transforms.OneThread(ctx, conn)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		b.threads = threads
	}
	b.serial++
	b.mu.Unlock()
	err := fn()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.serial--
	if b.serial == 0 {
		if e := transforms.SetThreads(ctx, conn, b.threads); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// loadCSV loads the CSV at path, written by writeCSV, into table.
func loadCSV(ctx context.Context, conn *sql.Conn, table, path string, t resultTable) error {
	opts := "FORMAT csv, HEADER true, NULLSTR ''"
	if len(t.notNull) > 0 {
		opts += ", FORCE_NOT_NULL (" + strings.Join(t.notNull, ", ") + ")"
	}
	load := fmt.Sprintf("COPY %s (%s) FROM %s (%s)",
		table, strings.Join(t.columns, ", "), duck.Literal(path), opts)
	if _, err := conn.ExecContext(ctx, load); err != nil {
		return fmt.Errorf("results %s: %w", t.name, err)
	}
	return nil
}

// writeCSV writes t as RFC 4180 CSV and returns its row count. Parts are
// formatted concurrently, a batch at a time, and written in order: number
// formatting is most of the cost of the 3.5 million curve rows of a
// registry-scale run.
func writeCSV(path string, t resultTable) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	out := bufio.NewWriterSize(f, 1<<20)
	out.WriteString(strings.Join(t.columns, ",") + "\n")
	workers := runtime.GOMAXPROCS(0)
	ws := make([]csvWriter, workers*4)
	rows := 0
	for first := 0; first < t.parts; first += len(ws) {
		n := min(len(ws), t.parts-first)
		var wg sync.WaitGroup
		for k := 0; k < workers; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := k; j < n; j += workers {
					ws[j].buf, ws[j].rows = ws[j].buf[:0], 0
					t.emit(first+j, &ws[j])
				}
			}()
		}
		wg.Wait()
		for j := range n {
			out.Write(ws[j].buf)
			rows += ws[j].rows
		}
	}
	if err := out.Flush(); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return rows, f.Close()
}

// rowSink takes a result table's rows one field at a time, in column
// order: csvWriter formats them as CSV, arrowRows builds Arrow columns.
type rowSink interface {
	Str(s string) rowSink
	Int(v int64) rowSink
	Float(v float64) rowSink
	End()
}

// csvWriter writes one CSV row at a time without boxing values: Str, Int
// and Float append fields, End finishes the row.
type csvWriter struct {
	buf    []byte // finished rows, then the current one
	fields int    // fields in the current row
	rows   int
}

func (c *csvWriter) sep() {
	if c.fields > 0 {
		c.buf = append(c.buf, ',')
	}
	c.fields++
}

// Str appends a text field, neutralised by CSVSafe and quoted if needed.
func (c *csvWriter) Str(s string) rowSink {
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
func (c *csvWriter) Int(v int64) rowSink {
	c.sep()
	c.buf = strconv.AppendInt(c.buf, v, 10)
	return c
}

// Float appends a number in shortest round-trip form; NaN or ±Inf ("not
// estimable") as an empty field.
func (c *csvWriter) Float(v float64) rowSink {
	c.sep()
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		c.buf = strconv.AppendFloat(c.buf, v, 'g', -1, 64)
	}
	return c
}

// End finishes the row.
func (c *csvWriter) End() {
	c.buf = append(c.buf, '\n')
	c.fields = 0
	c.rows++
}
