package transforms

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"

	"marrow/internal/duck"
	"marrow/queries"
)

// DefaultMaxRejectRate is the SPEC's default max_reject_rate: 1% of a
// file's rows.
const DefaultMaxRejectRate = 0.01

// IngestOptions tune Ingest.
type IngestOptions struct {
	// MaxRejectRate is the largest share of a file's rows that may be
	// rejected, e.g. 0.01 for 1% (DefaultMaxRejectRate); above it
	// Ingest fails with *RejectRateError. 0 allows no rejected row at
	// all, 1 never fails.
	MaxRejectRate float64
	// Step, if set, is told as each part of Ingest ends, with when it
	// began (marrow -v logs them).
	Step func(name string, start time.Time)
}

// FileSummary is what Ingest made of one extract file. RowsRead counts the
// records after the header (blank lines are not records);
// RowsAccepted + RowsRejected = RowsRead.
type FileSummary struct {
	File           string // base name, e.g. "transplants.csv"
	SHA256         string // hex SHA-256 of the file's bytes
	RowsRead       int64
	RowsAccepted   int64
	RowsRejected   int64
	UnknownColumns []string // ignored header names, as written, in file order
}

// IngestSummary is the outcome of Ingest, also stored in the
// ingest_summary table.
type IngestSummary struct {
	Files        []FileSummary    // transplants.csv, then events.csv
	Rejects      int64            // rows in the rejects table
	QualityFlags map[string]int64 // rows in the quality table per flag; every flag of QualityFlagNames is present
}

// Ingest reads extractDir/transplants.csv and extractDir/events.csv into
// the warehouse tables of db (transplants, events, rejects, quality,
// ingest_summary, created from queries/warehouse_schema.sql; they must not
// exist yet).
//
// Each row is accepted or rejected with its first fault (see RowError);
// rows of events.csv are checked against the accepted transplants. After
// loading, queries/quality_flags.sql lists implausible accepted rows.
//
// A structural fault returns a *StructuralError and rolls everything back:
// db is left as it was. A file with more rejects than opts.MaxRejectRate
// returns the summary together with a *RejectRateError; the tables are
// then kept in db so the rejects can be inspected, and the caller should
// not publish them.
func Ingest(ctx context.Context, db *sql.DB, extractDir string, opts IngestOptions) (*IngestSummary, error) {
	step := opts.Step
	if step == nil {
		step = func(string, time.Time) {}
	}
	start := time.Now()
	// Both headers are checked before anything is loaded.
	tf, err := openCSV(extractDir, &transplantsSpec)
	if err != nil {
		return nil, err
	}
	defer tf.close()
	ef, err := openCSV(extractDir, &eventsSpec)
	if err != nil {
		return nil, err
	}
	defer ef.close()

	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	restore, err := unorderedInserts(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer restore()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, queries.Text("warehouse_schema")); err != nil {
		return nil, fmt.Errorf("create warehouse tables: %w", err)
	}

	index := newTransplantIndex()
	tf.register = (&registrar{index: index, ncols: tf.ncols, size: tf.size}).register
	tvs := make([]validator, validators())
	for i := range tvs {
		tvs[i] = newTransplantRows(tf)
	}
	if err := loadFile(ctx, conn, tf, "transplants", transplantsArrow, tvs...); err != nil {
		return nil, err
	}
	step("load transplants", start)
	start = time.Now()
	index.accept(tvs...)
	tv := mergeValidators(tvs)
	// Events are checked against the finished index only.
	evs := make([]validator, validators())
	for i := range evs {
		evs[i] = newEventRows(ef, index)
	}
	if err := loadFile(ctx, conn, ef, "events", eventsArrow, evs...); err != nil {
		return nil, err
	}
	ev := mergeValidators(evs)
	step("load events", start)
	start = time.Now()

	if err := insertRejects(ctx, conn, tv.rejects, ev.rejects); err != nil {
		return nil, err
	}
	sum := &IngestSummary{Rejects: int64(len(tv.rejects) + len(ev.rejects))}
	for _, p := range []struct {
		f *csvFile
		v *rowValidator
	}{{tf, tv}, {ef, ev}} {
		fs := FileSummary{
			File: p.f.spec.name, SHA256: p.f.sha256(),
			RowsRead: p.v.read, RowsAccepted: p.v.kept, RowsRejected: int64(len(p.v.rejects)),
			UnknownColumns: p.f.unknown,
		}
		if fs.RowsRead != p.f.rows || fs.RowsAccepted+fs.RowsRejected != fs.RowsRead {
			return nil, fmt.Errorf("ingest %s: %d rows read, %d validated, %d accepted, %d rejected: rows lost",
				fs.File, p.f.rows, fs.RowsRead, fs.RowsAccepted, fs.RowsRejected)
		}
		if _, err := conn.ExecContext(ctx, queries.Text("insert_ingest_summary"),
			fs.File, fs.SHA256, fs.RowsRead, fs.RowsAccepted, fs.RowsRejected, strings.Join(fs.UnknownColumns, ",")); err != nil {
			return nil, fmt.Errorf("ingest summary: %w", err)
		}
		sum.Files = append(sum.Files, fs)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, err
	}
	committed = true
	step("rejects, summary, commit", start)
	start = time.Now()
	// The quality flags and the row hashes are computed on the committed
	// tables: DuckDB scans committed row groups several times faster than
	// a transaction's own rows. Both read the per-transplant summary of
	// the events, made once. Each statement is atomic; if one fails, the
	// tables go.
	if err := summarizeEvents(ctx, conn, func(name string) { step(name, start); start = time.Now() }, sum); err != nil {
		dropWarehouse(context.WithoutCancel(ctx), conn)
		return nil, err
	}

	for _, p := range []struct {
		fs *FileSummary
		v  *rowValidator
	}{{&sum.Files[0], tv}, {&sum.Files[1], ev}} {
		if rejectRateExceeded(p.fs.RowsRejected, p.fs.RowsRead, opts.MaxRejectRate) {
			return sum, &RejectRateError{File: p.fs.File, Rejected: p.fs.RowsRejected, Read: p.fs.RowsRead,
				MaxRate: opts.MaxRejectRate, First: &p.v.rejects[0]}
		}
	}
	return sum, nil
}

// rejectRateExceeded reports rejected/read > rate, with a relative
// tolerance so that 1 reject in 100 rows passes a rate of 0.01 whatever
// the rounding of 0.01·100.
func rejectRateExceeded(rejected, read int64, rate float64) bool {
	if rejected == 0 {
		return false
	}
	return float64(rejected) > rate*float64(read)*(1+1e-12)
}

// loadFile runs one file through the pipeline parse → validate → load
// into table.
func loadFile(ctx context.Context, conn *sql.Conn, f *csvFile, table string, schema *arrow.Schema, vs ...validator) error {
	return runFile(ctx, f, func(ctx context.Context, recs <-chan arrow.RecordBatch) error {
		return duck.InsertArrow(ctx, conn, table, schema, recs, queries.Text("load_"+table))
	}, vs...)
}

// runFile runs the pipeline parse → validate → load: the reader in one
// goroutine, each validator in another, load on this one. A structural
// fault of the file wins over the error of load, which it may cause.
func runFile(ctx context.Context, f *csvFile, load func(context.Context, <-chan arrow.RecordBatch) error, vs ...validator) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	raw := make(chan *rawBatch, 4)
	free := make(chan *rawBatch, 8)
	recs := make(chan arrow.RecordBatch, 2)
	var parseErr error
	var wg, validating sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(raw)
		parseErr = f.produce(ctx, raw, free)
	}()
	validating.Add(len(vs))
	go func() {
		validating.Wait()
		close(recs)
	}()
	for _, v := range vs {
		go validate(ctx, v, raw, free, recs, &validating)
	}
	loadErr := load(ctx, recs)
	cancel()
	for rec := range recs {
		rec.Release()
	}
	wg.Wait()
	var se *StructuralError
	switch {
	case errors.As(parseErr, &se):
		return parseErr
	case loadErr != nil:
		return fmt.Errorf("load %s: %w", f.spec.name, loadErr)
	case parseErr != nil:
		return parseErr
	}
	return nil
}

// validate runs v over the batches of raw, recycling them to free, and
// sends the accepted rows on recs.
func validate(ctx context.Context, v validator, raw <-chan *rawBatch, free chan<- *rawBatch, recs chan<- arrow.RecordBatch, wg *sync.WaitGroup) {
	defer wg.Done()
	send := func(rec arrow.RecordBatch) bool {
		select {
		case recs <- rec:
			return true
		case <-ctx.Done():
			rec.Release()
			return false
		}
	}
	for b := range raw {
		v.batch(b)
		// Nothing refers to b's fields any more: the accepted
		// values were copied into the column builders, rejected
		// values cloned.
		select {
		case free <- b:
		default:
		}
		if v.full() && !send(v.flush()) {
			return
		}
	}
	if ctx.Err() == nil && !v.empty() {
		send(v.flush())
	}
}

// validator is transplantRows or eventRows.
type validator interface {
	base() *rowValidator
	batch(*rawBatch)          // validates the records of a batch
	full() bool               // the accepted rows should be flushed
	empty() bool              // no accepted row is pending
	flush() arrow.RecordBatch // the pending accepted rows
}

// unorderedInserts lets DuckDB insert the loaded batches in any order,
// which halves the CPU time of the inserts: the tables' row order means
// nothing (the batches of parallel validators arrive in any order anyway;
// source_line is the file's order) and every output is sorted. It returns
// a function that restores the previous setting.
func unorderedInserts(ctx context.Context, conn *sql.Conn) (func(), error) {
	var prev bool
	if err := conn.QueryRowContext(ctx, "SELECT CAST(current_setting('preserve_insertion_order') AS BOOLEAN)").Scan(&prev); err != nil {
		return nil, fmt.Errorf("duckdb preserve_insertion_order: %w", err)
	}
	if !prev {
		return func() {}, nil
	}
	if _, err := conn.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return nil, fmt.Errorf("duckdb preserve_insertion_order: %w", err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SET preserve_insertion_order = true")
	}, nil
}

// summarizeEvents makes the temporary table event_summary, fills the
// quality table (sum.QualityFlags gets its counts) and sets the
// transplants' row hashes from it, then drops it. done is told as each
// part ends.
func summarizeEvents(ctx context.Context, conn *sql.Conn, done func(string), sum *IngestSummary) error {
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.event_summary")
	if _, err := conn.ExecContext(ctx, queries.Text("event_summary")); err != nil {
		return fmt.Errorf("event summary: %w", err)
	}
	done("event summary")
	var err error
	if sum.QualityFlags, err = flagQuality(ctx, conn); err != nil {
		return err
	}
	done("quality flags")
	// Each transplant's row hash is what the next run compares with
	// (results/changes).
	if _, err := conn.ExecContext(ctx, queries.Text("transplant_row_hash")); err != nil {
		return fmt.Errorf("row hashes: %w", err)
	}
	done("row hashes")
	return nil
}

// dropWarehouse removes the warehouse tables after a failure.
func dropWarehouse(ctx context.Context, conn *sql.Conn) {
	for _, t := range WarehouseTables {
		// t is one of a fixed set of identifiers.
		conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+t)
	}
}

// validators is the number of goroutines validating a file's rows: with
// the reader and DuckDB's insert they keep two cores busy.
func validators() int {
	return max(1, min(4, runtime.GOMAXPROCS(0)))
}

// mergeValidators sums the counts of validators that shared a file and
// puts their rejects in line order.
func mergeValidators(vs []validator) *rowValidator {
	m := *vs[0].base()
	m.rejects = nil
	m.read, m.kept = 0, 0
	for _, v := range vs {
		b := v.base()
		m.read += b.read
		m.kept += b.kept
		m.rejects = append(m.rejects, b.rejects...)
	}
	slices.SortFunc(m.rejects, func(a, b RowError) int { return cmp.Compare(a.Line, b.Line) })
	return &m
}

// insertRejects appends the rejected rows of both files to rejects.
func insertRejects(ctx context.Context, conn *sql.Conn, lists ...[]RowError) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "rejects")
		if err != nil {
			return fmt.Errorf("appender rejects: %w", err)
		}
		for _, list := range lists {
			for i := range list {
				e := &list[i]
				if err := a.AppendRow(e.File, e.Line, e.ColumnName, e.Value, e.storedReason()); err != nil {
					a.Close()
					return fmt.Errorf("rejects: %w", err)
				}
			}
			if err := ctx.Err(); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
}
