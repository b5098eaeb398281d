package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"marrow/estimate"
	"marrow/internal/duck"
	"marrow/queries"
)

// kmEndpoints are the Kaplan–Meier endpoints of SPEC §3; every other
// endpoint is a cumulative incidence with a competing event.
var kmEndpoints = map[string]bool{"os": true, "lfs": true, "grfs": true}

// stratumKey names one endpoint in one stratum; "*" = pooled.
type stratumKey struct {
	Endpoint, TransplantType, DonorType, Indication string
}

func (k stratumKey) less(o stratumKey) bool {
	if k.Endpoint != o.Endpoint {
		return k.Endpoint < o.Endpoint
	}
	if k.TransplantType != o.TransplantType {
		return k.TransplantType < o.TransplantType
	}
	if k.DonorType != o.DonorType {
		return k.DonorType < o.DonorType
	}
	return k.Indication < o.Indication
}

// riskTable is one stratum's risk table, sorted by time.
type riskTable struct {
	key  stratumKey
	rows []estimate.RiskRow
}

// readRiskSets runs risk_sets.sql over the cohort and returns the tables in
// key order. The result crosses from DuckDB to Go as Arrow batches.
func (s *session) readRiskSets(ctx context.Context) ([]riskTable, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var tables []riskTable
	err = duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		col := func(name string) arrow.Array {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) == 0 {
				panic("risk_sets.sql lacks column " + name)
			}
			return rec.Column(idx[0])
		}
		ep := col("endpoint").(*array.String)
		tt := col("transplant_type").(*array.String)
		dt := col("donor_type").(*array.String)
		ind := col("indication").(*array.String)
		tm := col("time").(*array.Int64)
		nr := col("n_risk").(*array.Int64)
		ne := col("n_event").(*array.Int64)
		nc := col("n_compete").(*array.Int64)
		ns := col("n_censor").(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			k := stratumKey{ep.Value(i), tt.Value(i), dt.Value(i), ind.Value(i)}
			if len(tables) == 0 || tables[len(tables)-1].key != k {
				// Arrow strings point into the batch, released after fn
				// returns: keep copies.
				k = stratumKey{strings.Clone(k.Endpoint), strings.Clone(k.TransplantType),
					strings.Clone(k.DonorType), strings.Clone(k.Indication)}
				tables = append(tables, riskTable{key: k})
			}
			t := &tables[len(tables)-1]
			t.rows = append(t.rows, estimate.RiskRow{
				Time: tm.Value(i), NRisk: nr.Value(i), NEvent: ne.Value(i),
				NCompete: nc.Value(i), NCensor: ns.Value(i),
			})
		}
		return nil
	}, queries.Text("risk_sets"), strings.Join(s.cfg.Strata, ","))
	if err != nil {
		return nil, fmt.Errorf("risk sets: %w", err)
	}
	if !sort.SliceIsSorted(tables, func(i, j int) bool { return tables[i].key.less(tables[j].key) }) {
		return nil, fmt.Errorf("risk sets: not ordered by stratum")
	}
	return tables, nil
}

// estimates are the results of the estimate stage, kept in memory for the
// report stage of the same run.
type estimates struct {
	tables []riskTable
	curves []*estimate.Curve // parallel to tables
	tests  []testResult
}

type testResult struct {
	Endpoint, Comparison, Within string
	estimate.Test
	// Excluded are the groups left out for having fewer than min_group
	// transplants, sorted by byte value.
	Excluded []string
}

// estimate computes every stratum's curve, the landmarks, medians and
// tests, and writes results/.
func (s *session) estimate(ctx context.Context, dir string) error {
	return s.stage(ctx, "estimate", func() ([]any, error) {
		est, err := s.computeEstimates(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.writeResults(ctx, dir, est.resultTables(s.cfg.Landmarks)); err != nil {
			return nil, err
		}
		return []any{"strata", len(est.tables), "tests", len(est.tests)}, nil
	})
}

// computeEstimates reads the risk tables of the session's cohort and
// estimates every stratum; the result is kept in s.est for the report.
func (s *session) computeEstimates(ctx context.Context) (*estimates, error) {
	conf, err := estimate.ParseConfType(s.cfg.ConfType)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	tables, err := s.readRiskSets(ctx)
	if err != nil {
		return nil, err
	}
	s.step("risk sets", start, "tables", len(tables))
	start = time.Now()
	est := &estimates{tables: tables, curves: make([]*estimate.Curve, len(tables))}
	// Strata are independent: estimate them on every core, each worker
	// taking the next table. A curve depends on its own table only, so
	// the result does not depend on the schedule.
	var next atomic.Int64
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(tables); i = int(next.Add(1) - 1) {
				if errs[i] = ctx.Err(); errs[i] != nil {
					return
				}
				t := tables[i]
				var c *estimate.Curve
				var err error
				if kmEndpoints[t.key.Endpoint] {
					c, err = estimate.NewKaplanMeier(t.rows, conf)
				} else {
					c, err = estimate.NewCumulativeIncidence(t.rows)
				}
				if err != nil {
					errs[i] = fmt.Errorf("estimate %v: %w", t.key, err)
					return
				}
				est.curves[i] = c
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first in stratum order
		}
	}
	s.step("curves", start)
	start = time.Now()
	est.tests = s.groupTests(est)
	s.step("tests", start, "tests", len(est.tests))
	s.est = est
	return est, nil
}

// groupTests runs the SPEC §3 comparisons: across indications within each
// transplant type, and ALLO vs AUTO within each indication (log-rank for
// Kaplan–Meier endpoints, Gray's test otherwise). A group with fewer than
// min_group transplants in the endpoint's population is left out and named
// in Excluded; a test is run where at least two groups remain and an event
// of interest occurred among them.
func (s *session) groupTests(est *estimates) []testResult {
	type groupSet struct {
		endpoint, comparison, within string
		groups                       [][]estimate.RiskRow
		excluded                     []string
	}
	index := map[string]*groupSet{}
	var order []string
	add := func(ep, comp, within, code string, rows []estimate.RiskRow) {
		id := ep + "\x00" + comp + "\x00" + within
		g := index[id]
		if g == nil {
			g = &groupSet{endpoint: ep, comparison: comp, within: within}
			index[id] = g
			order = append(order, id)
		}
		// The first row's n_risk is every transplant of the group (rows
		// are in time order, and every subject has a time).
		if n := rows[0].NRisk; n < int64(s.cfg.MinGroup) {
			g.excluded = append(g.excluded, code)
			return
		}
		g.groups = append(g.groups, rows)
	}
	for _, t := range est.tables {
		k := t.key
		if k.DonorType != "*" || k.TransplantType == "*" || k.Indication == "*" || len(t.rows) == 0 {
			continue
		}
		add(k.Endpoint, "indication", k.TransplantType, k.Indication, t.rows)
		add(k.Endpoint, "transplant_type", k.Indication, k.TransplantType, t.rows)
	}
	sort.Strings(order)
	var out []testResult
	for _, id := range order {
		g := index[id]
		test := estimate.LogRank
		if !kmEndpoints[g.endpoint] {
			test = estimate.Gray
		}
		sort.Strings(g.excluded)
		r, err := test(g.groups)
		if err != nil {
			if !errors.Is(err, estimate.ErrTooFewGroups) && !errors.Is(err, estimate.ErrNoEvents) {
				s.log.Warn("test not computed", "endpoint", g.endpoint, "comparison", g.comparison, "within", g.within, "err", err)
			}
			continue
		}
		out = append(out, testResult{Endpoint: g.endpoint, Comparison: g.comparison, Within: g.within, Test: r, Excluded: g.excluded})
	}
	return out
}

// resultTables describes the four results/ tables; each emits its rows in
// key order straight from the estimates.
func (est *estimates) resultTables(days []int) []resultTable {
	return []resultTable{{
		name:    "landmarks",
		orderBy: "endpoint, transplant_type, donor_type, indication, day",
		columns: []string{"endpoint", "transplant_type", "donor_type", "indication", "day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"},
		parts:   len(est.tables),
		emit: func(i int, w *csvWriter) {
			for _, d := range days {
				l := est.curves[i].At(int64(d))
				w.stratum(est.tables[i].key).Int(int64(d)).Int(l.N).Int(l.NRisk).Int(l.NEvents).
					Float(l.Estimate).Float(l.StdErr).Float(l.Lower).Float(l.Upper).End()
			}
		},
	}, {
		name:    "curves",
		orderBy: "endpoint, transplant_type, donor_type, indication, time",
		columns: []string{"endpoint", "transplant_type", "donor_type", "indication", "time", "n_risk", "n_event", "n_compete", "n_censor", "estimate", "std_err", "lower", "upper"},
		parts:   len(est.tables),
		emit: func(i int, w *csvWriter) {
			for _, p := range est.curves[i].Points {
				w.stratum(est.tables[i].key).Int(p.Time).Int(p.NRisk).Int(p.NEvent).Int(p.NCompete).Int(p.NCensor).
					Float(p.Estimate).Float(p.StdErr).Float(p.Lower).Float(p.Upper).End()
			}
		},
	}, {
		name:    "medians",
		orderBy: "endpoint, transplant_type, donor_type, indication",
		columns: []string{"endpoint", "transplant_type", "donor_type", "indication", "n", "median", "lower", "upper"},
		parts:   len(est.tables),
		emit: func(i int, w *csvWriter) {
			t := est.tables[i]
			if !kmEndpoints[t.key.Endpoint] {
				return
			}
			if m, err := est.curves[i].Median(); err == nil {
				w.stratum(t.key).Int(est.curves[i].N).Float(m.Median).Float(m.Lower).Float(m.Upper).End()
			}
		},
	}, {
		name:    "tests",
		orderBy: "endpoint, comparison, within",
		columns: []string{"endpoint", "comparison", "within", "statistic", "df", "p_value", "method", "excluded"},
		notNull: []string{"excluded"},
		parts:   1,
		emit: func(_ int, w *csvWriter) {
			for _, r := range est.tests {
				w.Str(r.Endpoint).Str(r.Comparison).Str(r.Within).Float(r.Statistic).Int(int64(r.DF)).Float(r.PValue).Str(r.Method).
					Str(strings.Join(r.Excluded, ";")).End()
			}
		},
	}}
}

// stratum appends a stratum key's four fields.
func (c *csvWriter) stratum(k stratumKey) *csvWriter {
	return c.Str(k.Endpoint).Str(k.TransplantType).Str(k.DonorType).Str(k.Indication)
}
