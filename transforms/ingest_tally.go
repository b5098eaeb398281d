package transforms

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"marrow/endpoints"
	"marrow/internal/duck"
)

// eventTally counts, per transplant of the index, what ingest needs to
// know of its accepted events (see testdata/plainsql/event_summary.sql,
// its reference in SQL, and queries/event_dates.sql.tmpl): the validators
// add each accepted event as they append it, so that no pass over the
// events is needed for it. Its dates become the table event_summary (the
// cohort's); its counts and latest rows give the quality flags
// (quality.go); hash_sum, the sum of the rows' hash(event, event_date,
// grade, detail), gives the row hashes (rowhash.go): eventHash computes
// DuckDB's hash() in Go (TestEventSummaryPlain holds it to DuckDB's own,
// and fails should a DuckDB upgrade change it).
//
// The validators work on different batches at once, and a transplant's
// events may span batches: each validator sums the run of rows of one
// transplant locally and adds the run to the shared arrays with atomic
// operations when the transplant changes (events come grouped by
// transplant, so that is about once per transplant).
type eventTally struct {
	n, deaths, gvhd []int32
	// hashLo, hashHi: hash_sum as a 128-bit sum (DuckDB's sum of UBIGINT
	// is a HUGEINT).
	hashLo, hashHi []uint64
	// firstDeath, lastContact, latestOther: as in event_summary.sql, a
	// BIGINT of (days since 1900-01-01) << 40 + source_line; noneMin /
	// noneMax when there is none.
	firstDeath, lastContact, latestOther []int64
	lastDate                             []int32 // latest event_date (day number), noneMax32 if none
	terms                                []endpoints.Term
	byCode                               map[string][]int // event code → its terms' indices
	first                                [][]int32        // per term, the first date (day number), noneMin32 if none
}

const (
	noneMin   = math.MaxInt64
	noneMax   = -1
	noneMin32 = math.MaxInt32
	noneMax32 = math.MinInt32
	// days1900 is the day number of 1900-01-01 (days since 1970-01-01 are
	// what the validators store).
	days1900  = -25567
	lineShift = 40 // event_summary.sql's 1099511627776 = 1 << 40
)

// newEventTally makes a tally for the n transplants of an index, with the
// first dates of the distinct terms of eps (in eventDateTerms order).
func newEventTally(n int, eps endpoints.Set) *eventTally {
	t := &eventTally{
		n: make([]int32, n), deaths: make([]int32, n), gvhd: make([]int32, n),
		hashLo: make([]uint64, n), hashHi: make([]uint64, n),
		firstDeath: fill(n, int64(noneMin)), lastContact: fill(n, int64(noneMax)), latestOther: fill(n, int64(noneMax)),
		lastDate: fill(n, int32(noneMax32)),
		terms:    eventDateTerms(eps),
		byCode:   map[string][]int{},
	}
	for i, term := range t.terms {
		t.byCode[term.Code] = append(t.byCode[term.Code], i)
		t.first = append(t.first, fill(n, int32(noneMin32)))
	}
	return t
}

func fill[T any](n int, v T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// eventDateTerms are the distinct terms of eps, each once, in the order
// the endpoints (in set order) first name them: the term columns of
// event_summary and of the cohort SQL.
func eventDateTerms(eps endpoints.Set) []endpoints.Term {
	var terms []endpoints.Term
	seen := map[string]bool{}
	for _, e := range eps {
		for _, t := range e.Terms() {
			if !seen[t.Column()] {
				seen[t.Column()] = true
				terms = append(terms, t)
			}
		}
	}
	return terms
}

// tallyRun is one validator's sums over a run of rows of one transplant.
type tallyRun struct {
	entry                                int32 // -1: no run
	n, deaths, gvhd                      int32
	hashLo, hashHi                       uint64
	firstDeath, lastContact, latestOther int64
	lastDate                             int32
	first                                []int32
}

func (t *eventTally) newRun() *tallyRun {
	r := &tallyRun{entry: -1, first: make([]int32, len(t.terms))}
	r.reset(-1)
	return r
}

func (r *tallyRun) reset(entry int32) {
	r.entry = entry
	r.n, r.deaths, r.gvhd = 0, 0, 0
	r.hashLo, r.hashHi = 0, 0
	r.firstDeath, r.lastContact, r.latestOther = noneMin, noneMax, noneMax
	r.lastDate = noneMax32
	for i := range r.first {
		r.first[i] = noneMin32
	}
}

// add counts an accepted event of transplant entry (event a code of
// eventTypes; grade and detail as stored, "" for NULL), flushing the run
// of the previous transplant first.
func (t *eventTally) add(r *tallyRun, entry int32, event, grade, detail string, date int32, line int64) {
	if r.entry != entry {
		t.flush(r)
		r.reset(entry)
	}
	r.n++
	var carry uint64
	r.hashLo, carry = bits.Add64(r.hashLo, eventHash(event, date, grade, detail), 0)
	r.hashHi += carry
	dl := int64(date-days1900)<<lineShift + line
	switch event {
	case "death":
		r.deaths++
		r.firstDeath = min(r.firstDeath, dl)
	case "agvhd", "cgvhd":
		r.gvhd++
	}
	if event == "last_contact" {
		r.lastContact = max(r.lastContact, dl)
	} else {
		r.latestOther = max(r.latestOther, dl)
	}
	r.lastDate = max(r.lastDate, date)
	for _, i := range t.byCode[event] {
		if g := t.terms[i].Grades; len(g) == 0 || grade != "" && containsString(g, grade) {
			r.first[i] = min(r.first[i], date)
		}
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// flush adds the run r to the shared sums.
func (t *eventTally) flush(r *tallyRun) {
	i := r.entry
	if i < 0 || r.n == 0 {
		return
	}
	atomic.AddInt32(&t.n[i], r.n)
	// A 128-bit add: the carry out of each add to the low word goes to
	// the high word, whatever other adds happen in between.
	if lo := atomic.AddUint64(&t.hashLo[i], r.hashLo); lo < r.hashLo {
		atomic.AddUint64(&t.hashHi[i], 1)
	}
	if r.hashHi > 0 {
		atomic.AddUint64(&t.hashHi[i], r.hashHi)
	}
	if r.deaths > 0 {
		atomic.AddInt32(&t.deaths[i], r.deaths)
	}
	if r.gvhd > 0 {
		atomic.AddInt32(&t.gvhd[i], r.gvhd)
	}
	if r.firstDeath != noneMin {
		minInt64(&t.firstDeath[i], r.firstDeath)
	}
	if r.lastContact != noneMax {
		maxInt64(&t.lastContact[i], r.lastContact)
	}
	if r.latestOther != noneMax {
		maxInt64(&t.latestOther[i], r.latestOther)
	}
	maxInt32(&t.lastDate[i], r.lastDate)
	for k, d := range r.first {
		if d != noneMin32 {
			minInt32(&t.first[k][i], d)
		}
	}
	r.entry = -1
}

func minInt64(p *int64, v int64) {
	for {
		old := atomic.LoadInt64(p)
		if v >= old || atomic.CompareAndSwapInt64(p, old, v) {
			return
		}
	}
}

func maxInt64(p *int64, v int64) {
	for {
		old := atomic.LoadInt64(p)
		if v <= old || atomic.CompareAndSwapInt64(p, old, v) {
			return
		}
	}
}

func minInt32(p *int32, v int32) {
	for {
		old := atomic.LoadInt32(p)
		if v >= old || atomic.CompareAndSwapInt32(p, old, v) {
			return
		}
	}
}

func maxInt32(p *int32, v int32) {
	for {
		old := atomic.LoadInt32(p)
		if v <= old || atomic.CompareAndSwapInt32(p, old, v) {
			return
		}
	}
}

// fullSummary makes store keep every column of the tally, for
// TestEventSummaryPlain; Ingest needs only the dates (the counts, hash sums
// and latest rows are read in Go: quality.go, rowhash.go).
var fullSummary bool

// summaryColumns is the column list of event_summary for terms:
// transplant_id, last_date and a <term>_date column per term, the columns
// of event_dates.sql.tmpl, then first_of_type (transplantIndex.firsts);
// with fullSummary first the columns of
// testdata/plainsql/event_summary.sql, hash_sum as its low and high 64
// bits (hash_lo, hash_hi: Arrow has no 128-bit integer).
func summaryColumns(terms []endpoints.Term) string {
	var b strings.Builder
	b.WriteString("transplant_id VARCHAR NOT NULL, ")
	if fullSummary {
		b.WriteString(`n_events BIGINT NOT NULL, hash_lo UBIGINT NOT NULL, hash_hi UBIGINT NOT NULL,
n_deaths BIGINT NOT NULL, n_gvhd BIGINT NOT NULL,
first_death BIGINT, last_contact BIGINT, latest_other BIGINT, `)
	}
	b.WriteString("last_date DATE")
	for _, t := range terms {
		fmt.Fprintf(&b, ", %s DATE", termDateColumn(t))
	}
	b.WriteString(", first_of_type BOOLEAN NOT NULL")
	return b.String()
}

// termDateColumn is the name of a term's first-date column.
func termDateColumn(t endpoints.Term) string { return `"` + t.Column() + `_date"` }

// summaryBatchRows is the number of rows of each record batch store sends:
// a Parquet row group's, so that the summary file written from them is the
// same bytes at any thread count (as events.parquet: rowGroups).
const summaryBatchRows = parquetRowGroup

// store creates event_summary with a row per accepted transplant of
// index, in index order: last_date and the term dates are NULL for one
// without accepted events; first_of_type is firsts' mark (false for every
// row when firsts is nil). cohort.sql.tmpl's Marked form reads it. With
// file set, the records go to DuckDB's Parquet writer as that file
// (SummaryTable.parquet, in index order: the transplants' file order, no
// sort) and event_summary is a view of it, as events is of events.parquet:
// nothing reads the summary before derive, which would view the file
// anyway. Else it is a table of db.
func (t *eventTally) store(ctx context.Context, conn *sql.Conn, index *transplantIndex, firsts []bool, file string) error {
	table, kind := "event_summary", "TABLE"
	if file != "" {
		// What the build without duckdb_arrow stages the stream in.
		table, kind = "summary_stream", "TEMP TABLE"
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE "+kind+" "+table+" ("+summaryColumns(t.terms)+")"); err != nil {
		return fmt.Errorf("event summary: %w", err)
	}
	fields := []arrow.Field{{Name: "transplant_id", Type: arrow.BinaryTypes.String}}
	if fullSummary {
		fields = append(fields,
			arrow.Field{Name: "n_events", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "hash_lo", Type: arrow.PrimitiveTypes.Uint64},
			arrow.Field{Name: "hash_hi", Type: arrow.PrimitiveTypes.Uint64},
			arrow.Field{Name: "n_deaths", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "n_gvhd", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "first_death", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "last_contact", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "latest_other", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	}
	dates := len(fields) // the first date column
	fields = append(fields, arrow.Field{Name: "last_date", Type: arrow.FixedWidthTypes.Date32})
	for _, term := range t.terms {
		fields = append(fields, arrow.Field{Name: term.Column() + "_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true})
	}
	marked := len(fields)
	fields = append(fields, arrow.Field{Name: "first_of_type", Type: arrow.FixedWidthTypes.Boolean})
	schema := arrow.NewSchema(fields, nil)
	recs := make(chan arrow.RecordBatch, 1)
	go func() {
		defer close(recs)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		id := b.Field(0).(*array.StringBuilder)
		ints := func(k int) *array.Int64Builder { return b.Field(k).(*array.Int64Builder) }
		opt := func(k int, v, none int64) {
			if v == none {
				ints(k).AppendNull()
			} else {
				ints(k).Append(v)
			}
		}
		last := b.Field(dates).(*array.Date32Builder)
		rows := 0
		send := func() bool {
			rec := b.NewRecordBatch()
			rows = 0
			select {
			case recs <- rec:
				return true
			case <-ctx.Done():
				rec.Release()
				return false
			}
		}
		first := b.Field(marked).(*array.BooleanBuilder)
		for i := range t.n {
			if !index.infos[i].ok {
				continue
			}
			id.Append(index.id(int32(i)))
			first.Append(firsts != nil && firsts[i])
			if fullSummary {
				ints(1).Append(int64(t.n[i]))
				b.Field(2).(*array.Uint64Builder).Append(t.hashLo[i])
				b.Field(3).(*array.Uint64Builder).Append(t.hashHi[i])
				ints(4).Append(int64(t.deaths[i]))
				ints(5).Append(int64(t.gvhd[i]))
				opt(6, t.firstDeath[i], noneMin)
				opt(7, t.lastContact[i], noneMax)
				opt(8, t.latestOther[i], noneMax)
			}
			if t.n[i] == 0 {
				last.AppendNull()
			} else {
				last.Append(arrow.Date32(t.lastDate[i]))
			}
			for k := range t.terms {
				f := b.Field(dates + 1 + k).(*array.Date32Builder)
				if d := t.first[k][i]; d == noneMin32 {
					f.AppendNull()
				} else {
					f.Append(arrow.Date32(d))
				}
			}
			if rows++; rows == summaryBatchRows && !send() {
				return
			}
		}
		if rows > 0 {
			send()
		}
	}()
	var err error
	if file == "" {
		err = duck.InsertArrow(ctx, conn, table, schema, recs, "INSERT INTO "+table+" SELECT * FROM "+duck.StreamView)
	} else {
		err = duck.StreamArrow(ctx, conn, table, schema, recs,
			"COPY (SELECT * FROM "+duck.StreamView+") TO "+duck.Literal(file)+" "+parquetOptions(SummaryTable))
		conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+table)
		if err == nil {
			_, err = conn.ExecContext(ctx, "CREATE OR REPLACE VIEW event_summary AS SELECT * FROM read_parquet("+duck.Literal(file)+")")
		}
	}
	for rec := range recs {
		rec.Release()
	}
	if err != nil {
		return fmt.Errorf("event summary: %w", err)
	}
	return nil
}

// DuckDB's hash() of the values of an events row, as
// hash(event, event_date, grade, detail) computes it for the stored row
// (grade and detail "" for NULL): each value's hash, folded left to right.
// TestEventSummaryPlain compares the sums with DuckDB's.
func eventHash(event string, date int32, grade, detail string) uint64 {
	h := hashString(event)
	h = combineHash(h, murmur64(uint64(uint32(date))))
	h = combineHash(h, hashOptString(grade))
	return combineHash(h, hashOptString(detail))
}

const (
	duckNullHash = 0xbf58476d1ce4e5b9
	duckMul      = 0xd6e8feb86659fd93
)

func murmur64(x uint64) uint64 {
	x ^= x >> 32
	x *= duckMul
	x ^= x >> 32
	x *= duckMul
	x ^= x >> 32
	return x
}

func combineHash(a, b uint64) uint64 {
	a ^= a >> 32
	a *= duckMul
	return a ^ b
}

func hashOptString(s string) uint64 {
	if s == "" {
		return duckNullHash
	}
	return hashString(s)
}

// hashString is DuckDB's hash of a VARCHAR: its bytes in 8-byte words
// (little-endian, the last one zero-padded), seeded with the length.
func hashString(s string) uint64 {
	h := uint64(0xe17a1465) ^ uint64(len(s))*0xc6a4a7935bd1e995
	for ; len(s) >= 8; s = s[8:] {
		h ^= uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h *= duckMul
	}
	if len(s) > 0 {
		var w [8]byte
		copy(w[:], s)
		h ^= binary.LittleEndian.Uint64(w[:])
		h *= duckMul
	}
	return murmur64(h)
}
