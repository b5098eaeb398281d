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
func RiskCountsSQL(spec RiskSpec) string { return riskCountsSQL(spec, false, false) }

// RiskCombosSQL renders risk_counts.sql's combinations query for spec.
func RiskCombosSQL(spec RiskSpec) string { return riskCountsSQL(spec, true, false) }

// RiskJoinedSQL renders risk_counts.sql's joined counts query for spec,
// keyed by the combination's number: for when two combinations share a
// hash.
func RiskJoinedSQL(spec RiskSpec) string { return riskCountsSQL(spec, false, true) }

func riskCountsSQL(spec RiskSpec, combos, joined bool) string {
	return render("risk_counts", struct {
		Endpoints endpoints.Set
		Dims      []Dimension
		Where     []string
		Combos    bool
		Joined    bool
	}{spec.Endpoints.Sorted(), spec.Dims, spec.Where, combos, joined})
}

// riskJoined makes RiskSets use the joined counts query, as it does when
// two combinations share a hash (tests: both give the same tables).
var riskJoined bool

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
	byHash := map[uint64]int64{}
	err := duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		if int(rec.NumCols()) != nd+1 {
			return fmt.Errorf("risk combinations: %d columns, want %d", rec.NumCols(), nd+1)
		}
		hs, err := hashColumn(rec.Column(nd))
		if err != nil {
			return fmt.Errorf("risk combinations: %w", err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var k [MaxDimensions]int32
			for c := range nd {
				k[c] = cols[1+c].id(rec.Column(c).(*array.String).Value(i)) // NULL reads as ""
			}
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

// hashColumn reads a column of DuckDB's hash (UBIGINT): Uint64 from the
// Arrow interface, Int64 holding the same bits from the row-by-row
// fallback (build without duckdb_arrow).
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
