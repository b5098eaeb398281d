package transforms

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"marrow/endpoints"
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
	// Endpoints, if set, makes Ingest leave event_summary in db (a table;
	// with Warehouse a view of SummaryTable.parquet) with each endpoint term's first date and the last event date
	// of every transplant with events, counted as the events were
	// validated: DeriveCohort with CohortOptions.Summarized reads it
	// instead of scanning the events again. Nil drops the table.
	Endpoints endpoints.Set
	// Warehouse, if set, is the directory where Ingest writes
	// events.parquet and transplants.parquet itself, byte for byte as
	// WriteWarehouse would: the events straight from the validators, as
	// they are accepted, so that they are never a table in db (events is
	// then a view over the file, as LoadWarehouse leaves it), and the
	// transplants beside the event summary; with Endpoints also
	// SummaryTable.parquet, the event summary. The caller writes the
	// other tables. Empty: both are tables of db.
	Warehouse string
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
// rows of events.csv are checked against the accepted transplants. The
// quality table lists implausible accepted rows (quality.go).
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
	// The batches are inserted in file order (runFile), and DuckDB keeps
	// it in the table as long as preserve_insertion_order is on (its
	// default; WriteWarehouse checks).
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
		// The patient ids are kept for the first_of_type marks only.
		tvs[i].(*transplantRows).keepPatients = opts.Endpoints != nil
	}
	if err := loadFile(ctx, conn, tf, "transplants", transplantsArrow, tvs...); err != nil {
		return nil, err
	}
	step("load transplants", start)
	start = time.Now()
	index.accept(tvs...)
	// Each patient's first transplant of each type, for the cohort
	// (event_summary's first_of_type), counted beside the events.
	firsts := make(chan []bool, 1)
	go func() {
		var marks []bool
		if opts.Endpoints != nil {
			marks = index.firsts(tvs...)
		} else {
			for _, v := range tvs {
				v.(*transplantRows).done = nil
			}
		}
		firsts <- marks // firsts let go of the patient ids and done rows
	}()
	tv := mergeValidators(tvs)
	// Events are checked against the finished index only.
	tally := newEventTally(len(index.infos), opts.Endpoints)
	evs := make([]validator, validators())
	for i := range evs {
		evs[i] = newEventRows(ef, index, tally)
	}
	if opts.Warehouse != "" {
		path := filepath.Join(opts.Warehouse, "events.parquet")
		if err := streamEvents(ctx, conn, ef, path, evs...); err != nil {
			os.Remove(path)
			return nil, err
		}
	} else if err := loadFile(ctx, conn, ef, "events", eventsArrow, evs...); err != nil {
		return nil, err
	}
	ev := mergeValidators(evs)
	step("load events", start)
	start = time.Now()
	inOrder := index.at == nil // the transplants table is in transplant_id order
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
	// The row hashes are set and the event summary is stored (on another
	// connection) at once. The statements run on the committed tables:
	// DuckDB scans committed row groups several times faster than a
	// transaction's own rows. If one fails, the tables go.
	summarized := make(chan error, 1)
	go func() {
		start := time.Now()
		file := "" // the summary's warehouse file, in place of the table
		if opts.Warehouse != "" && opts.Endpoints != nil {
			file = filepath.Join(opts.Warehouse, SummaryTable+".parquet")
		}
		err := storeSummary(ctx, db, tally, index, <-firsts, file)
		if err == nil {
			step("event summary", start)
		}
		summarized <- err
	}()
	err = setRowHashes(ctx, conn, index, tally)
	if err == nil {
		step("row hashes", start)
	}
	if serr := <-summarized; err == nil {
		err = serr
	}
	if err != nil {
		dropWarehouse(context.WithoutCancel(ctx), conn)
		return nil, err
	}
	start = time.Now()
	// The tally and the transplant index are in DuckDB now, and the tally
	// flags are all that is left to read of them: return their heap to
	// the OS (Go's scavenger would give it back only slowly).
	flags, deaths := tally.tallyFlags(flagLists(tvs, evs), index)
	tally, index, tvs, evs = nil, nil, nil, nil
	debug.FreeOSMemory()
	// The transplants are written on another connection while the
	// quality flags are stored.
	var written chan error
	if opts.Warehouse != "" {
		written = make(chan error, 1)
		go func() {
			start := time.Now()
			err := writeTable(ctx, db, opts.Warehouse, "transplants", inOrder)
			if err == nil {
				step("write transplants.parquet", start)
			}
			written <- err
		}()
	}
	sum.QualityFlags, err = flagQuality(ctx, conn, flags, deaths)
	if err == nil {
		step("quality flags", start)
	}
	if opts.Endpoints == nil {
		if _, e := conn.ExecContext(ctx, "DROP TABLE event_summary"); err == nil {
			err = e
		}
	}
	if written != nil {
		if werr := <-written; err == nil {
			err = werr
		}
	}
	if err != nil {
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
		return Serially(ctx, conn, func() error {
			return duck.InsertArrow(ctx, conn, table, schema, recs, queries.Text("load_"+table))
		})
	}, vs...)
}

// Serially runs fn with DuckDB on one thread. The inserts run so: one
// thread fills the table's row groups one after the other, each to
// DuckDB's full row group size, whereas parallel inserts leave row groups
// of sizes that vary with the thread count and the timing. An unsorted
// COPY of the table (WriteWarehouse, inKeyOrder) writes a Parquet row
// group per table row group, so its bytes would vary too. One DuckDB
// thread keeps up with the validators: converting the Arrow batches and
// appending them is the smaller part of a load.
func Serially(ctx context.Context, conn *sql.Conn, fn func() error) error {
	threads, err := OneThread(ctx, conn)
	if err != nil {
		return err
	}
	err = fn()
	if e := SetThreads(ctx, conn, threads); e != nil && err == nil {
		err = e
	}
	return err
}

// OneThread sets DuckDB's thread count (the database's, not conn's) to
// one and returns its value before.
func OneThread(ctx context.Context, conn *sql.Conn) (threads int64, err error) {
	if err := conn.QueryRowContext(ctx, "SELECT CAST(current_setting('threads') AS BIGINT)").Scan(&threads); err != nil {
		return 0, fmt.Errorf("duckdb threads: %w", err)
	}
	return threads, SetThreads(ctx, conn, 1)
}

// SetThreads sets DuckDB's thread count, even after ctx is done (to
// restore it).
func SetThreads(ctx context.Context, conn *sql.Conn, threads int64) error {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return fmt.Errorf("duckdb threads: %w", err)
	}
	return nil
}

// runFile runs the pipeline parse → validate → load: the reader in one
// goroutine, each validator in another, load on this one. The validators
// work on the reader's batches in parallel, and their records are put back
// in the file's order before load sees them, so that the table's rows are
// in file order whatever the number of validators and threads: WriteWarehouse
// relies on it. A structural fault of the file wins over the error of
// load, which it may cause.
func runFile(ctx context.Context, f *csvFile, load func(context.Context, <-chan arrow.RecordBatch) error, vs ...validator) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	produced := make(chan *rawBatch)
	raw := make(chan *rawBatch, 4)
	free := make(chan *rawBatch, 8)
	validated := make(chan seqRecord, len(vs))
	recs := make(chan arrow.RecordBatch, 2)
	// A batch holds a token from the reader until its record is handed
	// to load (or found empty): that bounds how far the reader and the
	// validators run ahead of a batch still being validated.
	tokens := make(chan struct{}, 2*len(vs)+4)
	var parseErr error
	var wg, validating sync.WaitGroup
	wg.Go(func() {
		defer close(produced)
		parseErr = f.produce(ctx, produced, free)
	})
	wg.Go(func() {
		defer close(raw)
		sequence(ctx, produced, raw, tokens)
	})
	for _, v := range vs {
		validating.Go(func() { validate(ctx, v, raw, free, validated) })
	}
	wg.Go(func() {
		validating.Wait()
		close(validated)
	})
	wg.Go(func() {
		defer close(recs)
		inOrder(ctx, validated, recs, tokens)
	})
	loadErr := load(ctx, recs)
	cancel()
	for rec := range recs {
		rec.Release()
	}
	wg.Wait()
	for r := range validated {
		if r.rec != nil {
			r.rec.Release()
		}
	}
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

// seqRecord is the record of the accepted rows of the reader's batch
// number seq (counted from 0); nil if none was accepted.
type seqRecord struct {
	seq int64
	rec arrow.RecordBatch
}

// sequence numbers the batches of in, in the reader's order, and passes
// them on to out, each once it holds a token.
func sequence(ctx context.Context, in <-chan *rawBatch, out chan<- *rawBatch, tokens chan<- struct{}) {
	var seq int64
	for b := range in {
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return
		}
		b.seq = seq
		seq++
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
	}
}

// inOrder sends the records of in on out by sequence number, skipping the
// empty ones, and gives back a batch's token once its record is sent.
func inOrder(ctx context.Context, in <-chan seqRecord, out chan<- arrow.RecordBatch, tokens <-chan struct{}) {
	pending := map[int64]arrow.RecordBatch{}
	defer func() {
		for _, rec := range pending {
			if rec != nil {
				rec.Release()
			}
		}
	}()
	var next int64
	for {
		rec, ok := pending[next]
		switch {
		case ok && rec == nil:
			delete(pending, next)
			next++
			<-tokens
			continue
		case !ok && in == nil:
			// Every record is sent (or, after a cancellation, one
			// never came).
			return
		}
		var send chan<- arrow.RecordBatch
		if ok {
			send = out
		}
		select {
		case send <- rec:
			delete(pending, next)
			next++
			<-tokens
		case r, more := <-in:
			if !more {
				in = nil
				continue
			}
			pending[r.seq] = r.rec
		case <-ctx.Done():
			return
		}
	}
}

// validate runs v over the batches of raw, recycling them to free, and
// sends the accepted rows of each batch on out.
func validate(ctx context.Context, v validator, raw <-chan *rawBatch, free chan<- *rawBatch, out chan<- seqRecord) {
	for b := range raw {
		v.batch(b)
		r := seqRecord{seq: b.seq}
		// Nothing refers to b's fields any more: the accepted
		// values were copied into the column builders, rejected
		// values cloned.
		select {
		case free <- b:
		default:
		}
		if !v.empty() {
			r.rec = v.flush()
		}
		select {
		case out <- r:
		case <-ctx.Done():
			if r.rec != nil {
				r.rec.Release()
			}
			return
		}
	}
}

// validator is transplantRows or eventRows.
type validator interface {
	base() *rowValidator
	batch(*rawBatch)          // validates the records of a batch
	empty() bool              // no accepted row is pending
	flush() arrow.RecordBatch // the pending accepted rows
}

// storeSummary stores event_summary from tally (eventTally.store: a table,
// or with file a view of that Parquet file), on a connection of its own.
func storeSummary(ctx context.Context, db *sql.DB, tally *eventTally, index *transplantIndex, firsts []bool, file string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return tally.store(ctx, conn, index, firsts, file)
}

// flagLists are the quality flags the validators found, in one list.
func flagLists(tvs, evs []validator) []qualityFlag {
	var flags []qualityFlag
	for _, v := range tvs {
		flags = append(flags, v.(*transplantRows).flags...)
	}
	for _, v := range evs {
		flags = append(flags, v.(*eventRows).flags...)
	}
	return flags
}

// setRowHashes sets the transplants' row_hash (rowhash.go): the hashes
// are loaded into a table of their own, by row number, and the
// transplants updated from it on their rowid. Row k of the table (loaded
// in file order) is the k-th accepted entry of index (entries are made in
// file order). Updating on the rowid costs a tenth of the join on
// transplant_id (1M transplants: 0.13 CPU s).
func setRowHashes(ctx context.Context, conn *sql.Conn, index *transplantIndex, tally *eventTally) error {
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE row_hashes (rid BIGINT NOT NULL, row_hash UBIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("row hashes: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS row_hashes")
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "rid", Type: arrow.PrimitiveTypes.Int64},
		{Name: "row_hash", Type: arrow.PrimitiveTypes.Uint64},
	}, nil)
	recs := make(chan arrow.RecordBatch, 1)
	go func() {
		defer close(recs)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		rid, hash := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Uint64Builder)
		var k int64
		for i := range index.infos {
			e := &index.infos[i]
			if !e.ok {
				continue
			}
			rid.Append(k)
			hash.Append(rowHash(e.hash, int64(tally.n[i]), tally.hashLo[i], tally.hashHi[i]))
			if k++; k%summaryBatchRows == 0 || i == len(index.infos)-1 {
				select {
				case recs <- b.NewRecordBatch():
				case <-ctx.Done():
					return
				}
			}
		}
		if rid.Len() > 0 {
			select {
			case recs <- b.NewRecordBatch():
			case <-ctx.Done():
			}
		}
	}()
	err := duck.InsertArrow(ctx, conn, "row_hashes", schema, recs, "INSERT INTO row_hashes SELECT * FROM "+duck.StreamView)
	for r := range recs {
		r.Release()
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, queries.Text("transplant_row_hash"))
	}
	if err != nil {
		return fmt.Errorf("row hashes: %w", err)
	}
	return nil
}

// streamEvents runs events.csv through the pipeline parse → validate →
// Parquet: the accepted rows are written to path by DuckDB's Parquet
// writer straight from the validators' record batches, in file order, re-cut
// into one record per row group (rowGroups) so that DuckDB's parallel,
// order-preserving COPY writes on all its threads and still the file
// WriteWarehouse writes of the loaded table, byte for byte, at any thread
// count (TestEventsParquetThreads; scripts/bench.sh at 1M). events becomes a
// view over it. At 1M transplants the COPY took 2.9-3.1 s of CPU on one
// thread, 1.63 s wall on two (from a table); ingest's wall time went down
// 9% (farm-bench pairs), peak RSS up 0.2 GB (DuckDB's batches in flight).
func streamEvents(ctx context.Context, conn *sql.Conn, f *csvFile, path string, vs ...validator) error {
	err := runFile(ctx, f, func(ctx context.Context, recs <-chan arrow.RecordBatch) error {
		groups := make(chan arrow.RecordBatch, 2)
		// A record cut short by an error would end the stream, and DuckDB
		// would write what it had: the error wins over the COPY's result.
		var groupErr error
		var wg sync.WaitGroup
		wg.Go(func() { groupErr = rowGroups(ctx, recs, groups) })
		err := duck.StreamArrow(ctx, conn, "events", eventsArrow, groups,
			"COPY (SELECT * FROM "+duck.StreamView+") TO "+duck.Literal(path)+" "+parquetOptions("events"))
		for r := range groups {
			r.Release()
		}
		wg.Wait()
		if groupErr != nil {
			return groupErr
		}
		return err
	}, vs...)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE events"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE VIEW events AS SELECT * FROM read_parquet("+duck.Literal(path)+")"); err != nil {
		return fmt.Errorf("events view: %w", err)
	}
	return nil
}

// parquetRowGroup is the number of rows of a row group of DuckDB's Parquet
// writer (its default ROW_GROUP_SIZE), and of a table's row group.
const parquetRowGroup = 122880

// rowGroups passes the records of in on to out as one record per Parquet
// row group: parquetRowGroup rows each, but the last. DuckDB's Parquet
// writer ends a row group at the first chunk boundary at or after
// parquetRowGroup rows, and its order-preserving parallel COPY takes each
// record of an Arrow stream as one batch and cuts the batches it has in
// order into row groups of that size; with every record one whole row
// group, each becomes one row group of the file whichever thread scans it
// and whenever, so the file is the same bytes at any thread count — and
// the same as the single-threaded COPY of the loaded table, whose row
// groups hold that many rows too.
func rowGroups(ctx context.Context, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer close(out)
	var parts []arrow.RecordBatch // the current row group's, in order
	var rows int64
	release := func() {
		for _, p := range parts {
			p.Release()
		}
		parts = parts[:0]
		rows = 0
	}
	defer release()
	drain := func() {
		for r := range in {
			r.Release()
		}
	}
	send := func() error {
		if len(parts) == 0 {
			return nil
		}
		rec, err := concatParts(parts)
		release()
		if err != nil {
			drain()
			return err
		}
		select {
		case out <- rec:
			return nil
		case <-ctx.Done():
			rec.Release()
			drain()
			return ctx.Err()
		}
	}
	for rec := range in {
		for off, n := int64(0), rec.NumRows(); off < n; {
			end := min(n, off+parquetRowGroup-rows)
			part := rec
			if off > 0 || end < n {
				part = rec.NewSlice(off, end)
			} else {
				part.Retain()
			}
			parts = append(parts, part)
			rows += end - off
			off = end
			if rows == parquetRowGroup {
				if err := send(); err != nil {
					rec.Release()
					return err
				}
			}
		}
		rec.Release()
	}
	return send()
}

// concatParts is the record of parts' rows, in order (parts[0] itself,
// retained, when it is the only one).
func concatParts(parts []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(parts) == 1 {
		parts[0].Retain()
		return parts[0], nil
	}
	cols := make([]arrow.Array, parts[0].NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var rows int64
	for _, p := range parts {
		rows += p.NumRows()
	}
	col := make([]arrow.Array, len(parts))
	for i := range cols {
		for k, p := range parts {
			col[k] = p.Column(i)
		}
		c, err := array.Concatenate(col, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("row group: %w", err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(parts[0].Schema(), cols, rows), nil
}

// dropWarehouse removes the warehouse tables after a failure.
func dropWarehouse(ctx context.Context, conn *sql.Conn) {
	for _, t := range slices.Concat(WarehouseTables, []string{"event_summary"}) {
		// t is one of a fixed set of identifiers.
		conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+t)
	}
	conn.ExecContext(ctx, "DROP VIEW IF EXISTS events")        // streamEvents's
	conn.ExecContext(ctx, "DROP VIEW IF EXISTS event_summary") // store's, with a warehouse
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
