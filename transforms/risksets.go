package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"marrow/endpoints"
	"marrow/estimate"
	"marrow/internal/duck"
)

// MaxDimensions is the most dimensions an analysis may have (SPEC §5).
const MaxDimensions = 4

// Pooled is the group value of a dimension pooled over ("*", SPEC §3).
const Pooled = "*"

// Dimension is one grouping dimension of an analysis: its name in the
// outputs and the SQL expression giving a transplant's group, over the
// cohort table as c and, when the spec joins them, transplants as t. A NULL
// value is a group of its own, read as "".
type Dimension struct {
	Name string
	Expr string
}

// GroupingSet is one combination of the dimensions to estimate: Keep[i]
// says dimension i is a real group, not pooled.
type GroupingSet struct {
	Name string
	Keep []bool
}

// RiskSpec is what RiskSets computes: the risk tables of every endpoint in
// every group of every grouping set of an analysis.
type RiskSpec struct {
	Endpoints endpoints.Set
	// Dims and Where read cohort_wide as c: the cohort's columns and
	// CohortCarried.
	Dims []Dimension
	// Where are SQL conditions every transplant of the analysis meets.
	Where []string
	Sets  []GroupingSet
	// TypeDim is the index of the transplant_type dimension, -1 if none.
	// An endpoint defined for one transplant type has no stratum pooled
	// over transplant_type (SPEC §3, §5).
	TypeDim int
	// AlloOnlyDim is the index of a dimension whose groups exist within
	// ALLO only (the default analysis's donor_type), -1 if none: a set
	// keeping it keeps only ALLO transplants.
	AlloOnlyDim int
}

// RiskTable is one endpoint's risk table in one stratum, rows sorted by
// time. Groups has one value per dimension, Pooled where pooled.
type RiskTable struct {
	Endpoint string
	Groups   []string
	Rows     []estimate.RiskRow
}

// Compare orders tables by endpoint, then groups, as byte strings: the
// row order of every results/ table.
func (t *RiskTable) Compare(o *RiskTable) int {
	if c := strings.Compare(t.Endpoint, o.Endpoint); c != 0 {
		return c
	}
	return slices.Compare(t.Groups, o.Groups)
}

// RiskCountsSQL renders risk_counts.sql for spec: the counts query, keyed
// by the hash of each combination of the dimensions.
func RiskCountsSQL(spec RiskSpec) string { return riskCountsSQL(spec, riskCounts, 0) }

// RiskCombosSQL renders risk_counts.sql's combinations query for spec.
func RiskCombosSQL(spec RiskSpec) string { return riskCountsSQL(spec, riskCombos, 0) }

// RiskJoinedSQL renders risk_counts.sql's joined counts query for spec,
// keyed by the combination's number: for when two combinations share a
// hash.
func RiskJoinedSQL(spec RiskSpec) string { return riskCountsSQL(spec, riskJoinedQuery, 0) }

// RiskRowsSQL renders risk_counts.sql's rows query for spec: a row per
// transplant, for the dense counts, each endpoint's time · 4 + status in
// bits (16 or 32) of a UBIGINT column.
func RiskRowsSQL(spec RiskSpec, bits int) string { return riskCountsSQL(spec, riskRows, bits) }

// packField is one endpoint's place in the rows query's packed columns.
type packField struct {
	Name  string
	Shift int
}

// The queries risk_counts.sql.tmpl renders.
const (
	riskCounts = iota
	riskCombos
	riskJoinedQuery
	riskRows
)

func riskCountsSQL(spec RiskSpec, query, bits int) string {
	eps := spec.Endpoints.Sorted()
	var packs [][]packField
	var sentinel uint64
	if query == riskRows {
		per := 64 / bits
		for i, e := range eps {
			if i%per == 0 {
				packs = append(packs, nil)
			}
			packs[len(packs)-1] = append(packs[len(packs)-1], packField{e.Name, bits * (i % per)})
		}
		sentinel = 1<<bits - 1
	}
	return render("risk_counts", struct {
		Endpoints endpoints.Set
		Dims      []Dimension
		Where     []string
		Combos    bool
		Joined    bool
		Rows      bool
		Packs     [][]packField
		Bits      int
		Sentinel  uint64
	}{eps, spec.Dims, spec.Where, query == riskCombos, query == riskJoinedQuery, query == riskRows, packs, bits, sentinel})
}

// riskJoined makes RiskSets use the joined counts query, as it does when
// two combinations share a hash; riskSQL makes it use the hashed counts
// query, as it does when the dense counters would be too many; riskWide
// makes the dense counts pack endpoints in 32 bits, as they do past 44
// years of follow-up (tests: all give the same tables).
var riskJoined, riskSQL, riskWide bool

// riskDenseCells is the most counters the dense counts may hold at once
// (int32: 4 bytes each): three per endpoint, combination and day from 0 to
// the combination's last endpoint time. The default analysis of a
// registry with 113 combinations and 5,658 days of follow-up takes 23 M
// (92 MB); past the bound the counts are DuckDB's hash aggregate.
var riskDenseCells int64 = 64 << 20

// riskTimeBits is the bits of risk_counts.sql's key k holding the time.
const riskTimeBits = 22

// fineRow is one time of a fine stratum's counts.
type fineRow struct{ time, event, compete, censor int64 }

// fineStratum is one endpoint in one finest combination of the dimensions.
type fineStratum struct {
	key        [1 + MaxDimensions]int32 // endpoint id, then each dimension's value id
	rows       []fineRow
	minT, maxT int64
}

// valueIDs numbers the distinct strings of one column.
type valueIDs struct {
	ids    map[string]int32
	names  []string
	last   string
	lastID int32
}

func (v *valueIDs) id(s string) int32 {
	if len(v.names) > 0 && s == v.last {
		return v.lastID
	}
	id, ok := v.ids[s]
	if !ok {
		id = int32(len(v.names))
		s = strings.Clone(s) // Arrow strings point into the batch
		v.ids[s] = id
		v.names = append(v.names, s)
	}
	v.last, v.lastID = v.names[id], id
	return id
}

// RiskSets computes the risk tables of spec: DuckDB counts events,
// competing events and censorings per endpoint, finest combination of the
// dimensions (by its hash, checked to be unique among the combinations;
// else by its number, joined) and time from the cohort (risk_counts.sql);
// the counts cross
// into Go as Arrow batches; Go adds them up to each grouping set and
// computes n_risk, the subjects whose endpoint time is >= time (survfit's
// n.risk), as a running sum from the last time back. Tables come in
// Compare order; a stratum with no subjects has no table.
func RiskSets(ctx context.Context, conn *sql.Conn, spec RiskSpec) ([]RiskTable, error) {
	nd := len(spec.Dims)
	if nd > MaxDimensions {
		return nil, fmt.Errorf("risk sets: %d dimensions, at most %d", nd, MaxDimensions)
	}
	cols := make([]valueIDs, 1+nd) // endpoint, then dimensions
	for i := range cols {
		cols[i].ids = map[string]int32{}
	}
	// The combinations of the dimensions, numbered as the joined counts
	// query numbers them, as value ids of each dimension, and by their
	// hash as the counts query gives it.
	var combos [][MaxDimensions]int32
	// Each combination's least and greatest endpoint time (-1, -1: none).
	var spans [][2]int64
	byHash := map[uint64]int64{}
	err := duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		if int(rec.NumCols()) != nd+3 {
			return fmt.Errorf("risk combinations: %d columns, want %d", rec.NumCols(), nd+3)
		}
		hs, err := hashColumn(rec.Column(nd))
		if err != nil {
			return fmt.Errorf("risk combinations: %w", err)
		}
		lo, lok := rec.Column(nd + 1).(*array.Int64)
		hi, hok := rec.Column(nd + 2).(*array.Int64)
		if !lok || !hok {
			return fmt.Errorf("risk combinations: time range columns are %s, %s", rec.Column(nd+1).DataType(), rec.Column(nd+2).DataType())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var k [MaxDimensions]int32
			for c := range nd {
				k[c] = cols[1+c].id(rec.Column(c).(*array.String).Value(i)) // NULL reads as ""
			}
			span := [2]int64{-1, -1}
			if lo.IsValid(i) && hi.IsValid(i) {
				span = [2]int64{lo.Value(i), hi.Value(i)}
			}
			spans = append(spans, span)
			if byHash != nil {
				if _, dup := byHash[hs(i)]; dup {
					byHash = nil // two combinations share a hash: the joined query
				} else {
					byHash[hs(i)] = int64(len(combos))
				}
			}
			combos = append(combos, k)
		}
		return nil
	}, RiskCombosSQL(spec))
	if err != nil {
		return nil, fmt.Errorf("risk sets: %w", err)
	}
	eps := spec.Endpoints.Sorted()
	for _, e := range eps {
		cols[0].id(e.Name)
	}
	if bits, ok := denseFits(spans, len(eps)); ok && byHash != nil && !riskJoined && !riskSQL {
		fines, err := denseFines(ctx, conn, spec, combos, spans, byHash, len(eps), bits)
		if err != nil {
			return nil, fmt.Errorf("risk sets: %w", err)
		}
		return rollUp(ctx, spec, cols, fines)
	}
	// The fine strata by combination · endpoints + endpoint: a dense
	// index.
	index := make([]int32, len(combos)*len(eps))
	for i := range index {
		index[i] = -1
	}
	var fines []fineStratum
	// The hashed counts query gives h before the joined one's columns; its
	// k holds the endpoint and time only, the joined one's the
	// combination too.
	hashed := byHash != nil && !riskJoined
	query, off := RiskJoinedSQL(spec), 0
	if hashed {
		query, off = RiskCountsSQL(spec), 1
	}
	err = duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		if int(rec.NumCols()) != 4+off {
			return fmt.Errorf("risk_counts: %d columns, want %d", rec.NumCols(), 4+off)
		}
		var hs func(int) uint64
		if hashed {
			var err error
			if hs, err = hashColumn(rec.Column(0)); err != nil {
				return fmt.Errorf("risk_counts: %w", err)
			}
		}
		ks := rec.Column(off).(*array.Int64)
		ne := rec.Column(off + 1).(*array.Int64)
		nc := rec.Column(off + 2).(*array.Int64)
		ns := rec.Column(off + 3).(*array.Int64)
		lastH, lastC := uint64(0), int64(-1)
		for i := 0; i < int(rec.NumRows()); i++ {
			k := ks.Value(i)
			ce, t := k>>riskTimeBits, k&(1<<riskTimeBits-1)
			if hashed {
				if h := hs(i); lastC < 0 || h != lastH {
					c, ok := byHash[h]
					if !ok {
						return fmt.Errorf("risk_counts: hash %d of no combination", h)
					}
					lastH, lastC = h, c
				}
				if ce < 0 || ce >= int64(len(eps)) {
					return fmt.Errorf("risk_counts: endpoint %d outside %d endpoints", ce, len(eps))
				}
				ce += lastC * int64(len(eps))
			}
			if ce < 0 || ce >= int64(len(index)) {
				return fmt.Errorf("risk_counts: stratum %d outside %d combinations of %d endpoints", ce, len(combos), len(eps))
			}
			fi := index[ce]
			if fi < 0 {
				fi = int32(len(fines))
				index[ce] = fi
				var key [1 + MaxDimensions]int32
				key[0] = int32(ce % int64(len(eps))) // endpoint ids are the sorted places
				copy(key[1:], combos[ce/int64(len(eps))][:])
				fines = append(fines, fineStratum{key: key, minT: t, maxT: t})
			}
			f := &fines[fi]
			f.minT, f.maxT = min(f.minT, t), max(f.maxT, t)
			f.rows = append(f.rows, fineRow{t, ne.Value(i), nc.Value(i), ns.Value(i)})
		}
		return nil
	}, query)
	if err != nil {
		return nil, fmt.Errorf("risk sets: %w", err)
	}
	return rollUp(ctx, spec, cols, fines)
}

// rollUp adds the fine strata's counts up to every group of every grouping
// set of spec and computes n_risk; cols numbers the endpoints, then each
// dimension's values. Tables come in Compare order.
func rollUp(ctx context.Context, spec RiskSpec, cols []valueIDs, fines []fineStratum) ([]RiskTable, error) {
	nd := len(spec.Dims)
	// Each fine stratum belongs to one group of each grouping set.
	type group struct {
		key     [1 + MaxDimensions]int32 // -1 = pooled
		members []int32
	}
	var groups []group
	gindex := map[[1 + MaxDimensions]int32]int{}
	for fi, f := range fines {
		ep, ok := spec.Endpoints.Lookup(cols[0].names[f.key[0]])
		if !ok {
			return nil, fmt.Errorf("risk sets: unknown endpoint %q", cols[0].names[f.key[0]])
		}
		for _, set := range spec.Sets {
			if ep.Population != endpoints.PopulationAll && spec.TypeDim >= 0 && !set.Keep[spec.TypeDim] {
				continue
			}
			if spec.AlloOnlyDim >= 0 && set.Keep[spec.AlloOnlyDim] && spec.TypeDim >= 0 &&
				cols[1+spec.TypeDim].names[f.key[1+spec.TypeDim]] != "ALLO" {
				continue
			}
			k := f.key
			for d := range nd {
				if !set.Keep[d] {
					k[1+d] = -1
				}
			}
			gi, ok := gindex[k]
			if !ok {
				gi = len(groups)
				gindex[k] = gi
				groups = append(groups, group{key: k})
			}
			groups[gi].members = append(groups[gi].members, int32(fi))
		}
	}

	tables := make([]RiskTable, len(groups))
	for i, g := range groups {
		t := &tables[i]
		t.Endpoint = cols[0].names[g.key[0]]
		t.Groups = make([]string, nd)
		for d := range nd {
			if v := g.key[1+d]; v < 0 {
				t.Groups[d] = Pooled
			} else {
				t.Groups[d] = cols[1+d].names[v]
			}
		}
	}
	// Add up each group's counts by time in a dense buffer indexed by day,
	// on every core; a table depends only on its own counts.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var buf []fineRow
			for i := int(next.Add(1) - 1); i < len(groups); i = int(next.Add(1) - 1) {
				if ctx.Err() != nil {
					return
				}
				g := groups[i]
				lo, hi, nrows := fines[g.members[0]].minT, fines[g.members[0]].maxT, 0
				for _, m := range g.members {
					lo, hi = min(lo, fines[m].minT), max(hi, fines[m].maxT)
					nrows += len(fines[m].rows)
				}
				span := int(hi - lo + 1)
				if cap(buf) < span {
					buf = make([]fineRow, span)
				}
				buf = buf[:span]
				var total int64
				for _, m := range g.members {
					for _, r := range fines[m].rows {
						b := &buf[r.time-lo]
						b.event += r.event
						b.compete += r.compete
						b.censor += r.censor
						total += r.event + r.compete + r.censor
					}
				}
				rows := make([]estimate.RiskRow, 0, min(span, nrows))
				for j := range buf {
					b := &buf[j]
					if left := b.event + b.compete + b.censor; left > 0 {
						rows = append(rows, estimate.RiskRow{Time: lo + int64(j), NRisk: total,
							NEvent: b.event, NCompete: b.compete, NCensor: b.censor})
						total -= left
					}
					*b = fineRow{}
				}
				tables[i].Rows = rows
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(tables, func(a, b RiskTable) int { return a.Compare(&b) })
	return tables, nil
}

// hashColumn reads a UBIGINT column (DuckDB's hash, the rows query's
// packed endpoints): Uint64 from the Arrow interface, Int64 holding the
// same bits from the row-by-row fallback (build without duckdb_arrow).
func hashColumn(a arrow.Array) (func(int) uint64, error) {
	switch c := a.(type) {
	case *array.Uint64:
		return c.Value, nil
	case *array.Int64:
		return func(i int) uint64 { return uint64(c.Value(i)) }, nil
	}
	return nil, fmt.Errorf("hash column is %s", a.DataType())
}

// DefaultStrata are the grouping sets of the default analysis (SPEC §3),
// in its order, by their config names.
var DefaultStrata = []string{"all", "type", "indication", "type_indication", "donor", "donor_indication"}

// DefaultRiskSpec is the default analysis of SPEC §3: every endpoint of eps
// by transplant_type × donor_type × indication over the grouping sets named
// in strata (some of DefaultStrata): (*,*,*), (type,*,*), (*,*,indication),
// (type,*,indication), (ALLO,donor,*), (ALLO,donor,indication). AUTO
// transplants (donor_type NULL) are in no donor stratum.
func DefaultRiskSpec(eps endpoints.Set, strata []string) RiskSpec {
	keep := map[string][]bool{
		"all":              {false, false, false},
		"type":             {true, false, false},
		"indication":       {false, false, true},
		"type_indication":  {true, false, true},
		"donor":            {true, true, false},
		"donor_indication": {true, true, true},
	}
	spec := RiskSpec{
		Endpoints: eps,
		Dims: []Dimension{
			{"transplant_type", "c.transplant_type"},
			{"donor_type", "c.donor_type"},
			{"indication", "c.indication"},
		},
		TypeDim:     0,
		AlloOnlyDim: 1,
	}
	for _, name := range DefaultStrata {
		if slices.Contains(strata, name) {
			spec.Sets = append(spec.Sets, GroupingSet{Name: name, Keep: keep[name]})
		}
	}
	return spec
}

// denseFits says whether the dense counts can take spans' combinations,
// and with how many bits a packed endpoint: every endpoint time within 0 to
// 2^22 − 1 (else the counts query, which fails naming the endpoint and the
// time) and at most riskDenseCells counters. 16 bits when every time · 4 +
// 3 is below 2^16 − 1 (44 years), else 32.
func denseFits(spans [][2]int64, nEndpoints int) (bits int, ok bool) {
	var cells, hi int64
	for _, s := range spans {
		if s[0] == -1 && s[1] == -1 {
			continue
		}
		if s[0] < 0 || s[1] < s[0] || s[1] >= 1<<riskTimeBits {
			return 0, false
		}
		cells += (s[1] + 1) * 3 * int64(nEndpoints)
		hi = max(hi, s[1])
	}
	if cells > riskDenseCells {
		return 0, false
	}
	if hi*4+3 < 1<<16-1 && !riskWide {
		return 16, true
	}
	return 32, true
}

// denseFines counts the fine strata in Go: risk_counts.sql's rows query
// gives each transplant's combination (by its hash) and each endpoint's
// time · 4 + status packed in bits-wide fields; a counter per endpoint,
// combination, day and status (days 0 to the combination's last endpoint
// time) is incremented for each, and the days with a count become the
// fine strata's rows. The counts are those of the counts query (a row of
// a NULL time or of a status other than 0, 1, 2 counts nowhere), without
// DuckDB's hash aggregate over a row per transplant and endpoint. One
// goroutine counts, beside DuckDB making the batches; the fine strata are
// then read off the counters on every core.
func denseFines(ctx context.Context, conn *sql.Conn, spec RiskSpec, combos [][MaxDimensions]int32, spans [][2]int64, byHash map[uint64]int64, ne, bits int) ([]fineStratum, error) {
	per := 64 / bits
	npacks := (ne + per - 1) / per
	mask := uint64(1)<<bits - 1
	// counters[c*ne+e]: combination c, endpoint e, allocated at its first
	// time; day t status s at 3*t + s.
	counters := make([][]int32, len(combos)*ne)
	// The rows' packed columns wait in their combination's bucket until
	// it holds bucketRows rows (or all buckets together bufferedRows):
	// counted then, one combination at a time, their counters are in cache
	// (a combination's, 12 endpoints over 15 years, are under 1 MB), where
	// rows in transplant order would touch every combination's in turn
	// (1M: 107 ms on one core against 232 ms on two).
	const bucketRows, bufferedRows = 4096, 1 << 18
	buckets := make([][]uint64, len(combos))
	buffered := 0
	var bad error
	count := func(c int) {
		b := buckets[c]
		buffered -= len(b) / npacks
		hi := spans[c][1]
		for r := 0; r+npacks <= len(b); r += npacks {
			for j := range npacks {
				v := b[r+j]
				for k := 0; k < per && j*per+k < ne; k++ {
					x := v >> (bits * k) & mask
					if x == mask {
						continue
					}
					e, t, s := j*per+k, int64(x>>2), x&3
					if s > 2 || t > hi {
						bad = fmt.Errorf("risk rows: endpoint %d: time %d, status %d outside the combination's days 0 to %d", e, t, s, hi)
						return
					}
					cs := counters[c*ne+e]
					if cs == nil {
						cs = make([]int32, 3*(hi+1))
						counters[c*ne+e] = cs
					}
					cs[3*t+int64(s)]++
				}
			}
		}
		buckets[c] = b[:0]
	}
	bucket := func(rec arrow.RecordBatch) error {
		if int(rec.NumCols()) != 1+npacks {
			return fmt.Errorf("risk rows: %d columns, want %d", rec.NumCols(), 1+npacks)
		}
		hs, err := hashColumn(rec.Column(0))
		if err != nil {
			return fmt.Errorf("risk rows: %w", err)
		}
		cols := make([]func(int) uint64, npacks)
		for j := range cols {
			col := rec.Column(1 + j)
			if col.NullN() > 0 {
				return fmt.Errorf("risk rows: column p%d has NULLs", j)
			}
			if cols[j], err = hashColumn(col); err != nil {
				return fmt.Errorf("risk rows: p%d: %w", j, err)
			}
		}
		lastH, lastC := uint64(0), -1
		for i := range int(rec.NumRows()) {
			if h := hs(i); lastC < 0 || h != lastH {
				c, ok := byHash[h]
				if !ok {
					return fmt.Errorf("risk rows: hash %d of no combination", h)
				}
				lastH, lastC = h, int(c)
			}
			b := buckets[lastC]
			for _, col := range cols {
				b = append(b, col(i))
			}
			buckets[lastC] = b
			if buffered++; len(b) >= bucketRows*npacks {
				if count(lastC); bad != nil {
					return bad
				}
			}
			if buffered >= bufferedRows {
				for c := range buckets {
					if count(c); bad != nil {
						return bad
					}
				}
			}
		}
		return nil
	}
	// Batches are bucketed on another goroutine while DuckDB makes the
	// next ones.
	feed, wait := duck.Overlapped(bucket)
	err := duck.QueryArrow(ctx, conn, feed, RiskRowsSQL(spec, bits))
	if werr := wait(); werr != nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for c := range buckets {
		if count(c); bad != nil {
			return nil, bad
		}
	}
	// The fine strata, combination by combination, endpoint by endpoint
	// (in parts on every core, joined in order); status 1 is the event,
	// 2 the competing event, 0 censored.
	parts := make([][]fineStratum, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			lo, hi := p*len(counters)/len(parts), (p+1)*len(counters)/len(parts)
			for ce := lo; ce < hi; ce++ {
				cs := counters[ce]
				if cs == nil {
					continue
				}
				var key [1 + MaxDimensions]int32
				key[0] = int32(ce % ne) // endpoint ids are the sorted places
				copy(key[1:], combos[ce/ne][:])
				f := fineStratum{key: key}
				for t := 0; t < len(cs); t += 3 {
					if cs[t] == 0 && cs[t+1] == 0 && cs[t+2] == 0 {
						continue
					}
					day := int64(t / 3)
					if len(f.rows) == 0 {
						f.minT = day
					}
					f.maxT = day
					f.rows = append(f.rows, fineRow{day, int64(cs[t+1]), int64(cs[t+2]), int64(cs[t])})
				}
				counters[ce] = nil
				parts[p] = append(parts[p], f)
			}
		})
	}
	wg.Wait()
	fines := slices.Concat(parts...)
	return fines, nil
}
