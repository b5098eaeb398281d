package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"marrow/endpoints"
	"marrow/estimate"
	"marrow/queries"
	"marrow/report"
	"marrow/transforms"
)

// riskTable is one endpoint's risk table in one stratum (transforms.RiskSets).
type riskTable = transforms.RiskTable

// readRiskSets computes the risk tables of spec over the session's cohort,
// in key order: DuckDB counts, the counts cross into Go as Arrow batches,
// Go rolls them up to the grouping sets.
func (s *session) readRiskSets(ctx context.Context, spec transforms.RiskSpec) ([]riskTable, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return transforms.RiskSets(ctx, conn, spec)
}

// estimates are the results of the estimate stage, kept in memory for the
// report stage of the same run.
type estimates struct {
	tables []riskTable
	curves []*estimate.Curve // parallel to tables
	tests  []testResult
	// medians are each Kaplan–Meier curve's median, computed on first use
	// (results/medians and the report both read them), parallel to curves.
	medianOnce []sync.Once
	medians    []medianResult
	// views are what the report reads of each curve, parallel to curves;
	// nil until compact.
	views []curveView
}

// curveView is the part of a curve the report reads: its plotted points
// and its value at the report's days.
type curveView struct {
	points []report.Point
	at     map[int64]estimate.Landmark
}

// compact keeps of each curve what the report reads (the plotted points,
// the value at days and the median) and lets the full curves and the risk
// tables go, except the tables keep(t) names: at registry scale they are
// most of the Go heap, and the results are written by now. horizon is an
// endpoint's plot horizon; days the landmarks. Idempotent.
func (est *estimates) compact(eps endpoints.Set, landmarks []int, keep func(*riskTable) bool) {
	if est.views != nil {
		return
	}
	days := append(append([]int{}, landmarks...), trendDay)
	views := make([]curveView, len(est.curves))
	for i, c := range est.curves {
		t := &est.tables[i]
		e, _ := eps.Lookup(t.Endpoint)
		if eps.KM(t.Endpoint) {
			est.median(i)
		}
		v := curveView{points: reportPoints(c.Points, plotEnd(e.Horizon, landmarks)), at: map[int64]estimate.Landmark{}}
		for _, d := range days {
			v.at[int64(d)] = c.At(int64(d))
		}
		views[i] = v
		c.Points = nil
		if !keep(t) {
			t.Rows = nil
		}
	}
	est.views = views
}

// keepFollowUp keeps the risk tables the report's follow-up summary reads:
// overall survival pooled over all but the first dimension.
func keepFollowUp(t *riskTable) bool {
	if t.Endpoint != "os" {
		return false
	}
	for _, g := range t.Groups[1:] {
		if g != "*" {
			return false
		}
	}
	return true
}

// compactAll compacts the default analysis's and every analysis's
// estimates (marrow report, which estimates without writing results).
func (s *session) compactAll() {
	if s.est != nil {
		s.est.compact(s.eps, s.cfg.Landmarks, keepFollowUp)
	}
	for _, r := range s.analysisResults {
		r.est.compact(r.eps, r.landmarks, keepFollowUp)
	}
}

// at is curve i at day, which compact must have kept.
func (est *estimates) at(i int, day int) estimate.Landmark {
	l, ok := est.views[i].at[int64(day)]
	if !ok {
		panic(fmt.Sprintf("report: day %d of curve %d not kept", day, i))
	}
	return l
}

type medianResult struct {
	m   estimate.Median
	err error
}

// median is curves[i].Median(), computed once. Safe for concurrent use.
func (est *estimates) median(i int) (estimate.Median, error) {
	est.medianOnce[i].Do(func() {
		m, err := est.curves[i].Median()
		est.medians[i] = medianResult{m, err}
	})
	return est.medians[i].m, est.medians[i].err
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
	start := time.Now()
	return s.stage(ctx, "estimate", func() (_ []any, err error) {
		est, err := s.estimateCurves(ctx, s.defaultAnalysis())
		if err != nil {
			return nil, err
		}
		// The curves files are written while the analyses are estimated
		// and, once the stage is done, while the centres and the report
		// are made: awaitWrites waits for them before the manifest hashes
		// the output (and close before a failed run's staging directory
		// goes: nothing may still write into it then).
		wctx, cancel := context.WithCancel(ctx)
		s.writes = newBackground(runtime.GOMAXPROCS(0))
		s.pending = &pendingWrites{b: s.writes, cancel: cancel, start: start}
		defer func() {
			s.writes = nil // later results are written in the foreground
			s.pending.end = time.Now()
			if err != nil {
				s.abortWrites()
			}
		}()
		// The tests are computed while the curves are written.
		tests := func() { s.finishEstimates(est) }
		if err := s.writeResultsThen(wctx, dir, queries.Text("results_schema"), est.resultTables(s.eps, s.cfg.Landmarks), tests); err != nil {
			return nil, err
		}
		astart := time.Now()
		n, err := s.estimateAnalyses(wctx, filepath.Join(dir, "analyses"))
		if err != nil {
			return nil, err
		}
		for _, w := range s.later {
			s.writes.GoOther(wctx, w)
		}
		s.later = nil
		// The declared and built-in analyses (SPEC §5) as one figure, for
		// scripts/bench.sh: the rest of the stage is the default analysis.
		s.step("analyses", astart, "analyses", n)
		if err := s.writeResultsDictionary(ctx, dir); err != nil {
			return nil, err
		}
		return []any{"strata", len(est.tables), "tests", len(est.tests), "analyses", n}, nil
	})
}

// pendingWrites are the estimate stage's background writes still running
// after the stage; start is when the stage began.
type pendingWrites struct {
	b      *background
	cancel context.CancelFunc
	// start and end are the estimate stage's.
	start, end time.Time
}

// awaitWrites waits for the estimate stage's background writes and returns
// their first error. It logs "results written": the seconds from the start
// of the estimate stage until it and the last of its results files ended
// (not until the wait), the estimation phase of scripts/bench.sh; and, as
// all_seconds, until the last background write ended, cohort.parquet (a
// warehouse file, written there to overlap) included.
func (s *session) awaitWrites() error {
	p := s.pending
	if p == nil {
		return nil
	}
	s.pending = nil
	err := p.b.Wait()
	p.cancel()
	if err == nil {
		last := p.end
		if p.b.done.After(last) {
			last = p.b.done
		}
		all := last
		if p.b.otherDone.After(all) {
			all = p.b.otherDone
		}
		s.log.Debug("results written", "seconds", secondsOf(last.Sub(p.start)), "all_seconds", secondsOf(all.Sub(p.start)))
	}
	return err
}

// abortWrites cancels the background writes still running (a failed run)
// and waits for them to stop.
func (s *session) abortWrites() {
	if s.pending != nil {
		s.pending.cancel()
		s.awaitWrites()
	}
}

// computeEstimates reads the risk tables of the session's cohort and
// estimates every stratum of the default analysis; the result is kept in
// s.est for the report.
func (s *session) computeEstimates(ctx context.Context) (*estimates, error) {
	est, err := s.estimateCurves(ctx, s.defaultAnalysis())
	if err != nil {
		return nil, err
	}
	s.finishEstimates(est)
	return est, nil
}

// finishEstimates computes the default analysis's tests and keeps est in
// s.est.
func (s *session) finishEstimates(est *estimates) {
	start := time.Now()
	est.tests = s.groupTests(est)
	s.step("tests", start, "tests", len(est.tests))
	s.est = est
}

// estimateCurves computes the risk tables of analysis a and every
// stratum's curve.
func (s *session) estimateCurves(ctx context.Context, a analysis) (*estimates, error) {
	conf, err := estimate.ParseConfType(s.cfg.ConfType)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	tables, err := s.readRiskSets(ctx, a.spec)
	if err != nil {
		return nil, err
	}
	s.step("risk sets", start, "analysis", a.name, "tables", len(tables))
	start = time.Now()
	est := &estimates{tables: tables, curves: make([]*estimate.Curve, len(tables)),
		medianOnce: make([]sync.Once, len(tables)), medians: make([]medianResult, len(tables))}
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
				t := &tables[i]
				var c *estimate.Curve
				var err error
				if a.eps.KM(t.Endpoint) {
					c, err = estimate.NewKaplanMeier(t.Rows, conf)
				} else {
					c, err = estimate.NewCumulativeIncidence(t.Rows)
				}
				if err != nil {
					errs[i] = fmt.Errorf("estimate %s %s: %w", t.Endpoint, strings.Join(t.Groups, ","), err)
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
	s.step("curves", start, "analysis", a.name)
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
		typ, donor, ind := t.Groups[0], t.Groups[1], t.Groups[2]
		if donor != "*" || typ == "*" || ind == "*" || len(t.Rows) == 0 {
			continue
		}
		add(t.Endpoint, "indication", typ, ind, t.Rows)
		add(t.Endpoint, "transplant_type", ind, typ, t.Rows)
	}
	sort.Strings(order)
	var out []testResult
	for _, id := range order {
		g := index[id]
		test := estimate.LogRank
		if !s.eps.KM(g.endpoint) {
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

// resultTables describes the four results/ tables of the default
// analysis; each emits its rows in key order straight from the estimates.
func (est *estimates) resultTables(eps endpoints.Set, days []int) []resultTable {
	return est.analysisTables(defaultDims, eps, days)
}

// analysisTables describes an analysis's four tables: the stratum columns
// are its dimensions.
func (est *estimates) analysisTables(dims []string, eps endpoints.Set, days []int) []resultTable {
	key := "endpoint, " + strings.Join(dims, ", ")
	cols := func(extra ...string) []string {
		return append(append([]string{"endpoint"}, dims...), extra...)
	}
	return []resultTable{{
		name:    "landmarks",
		orderBy: key + ", day",
		columns: cols("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"),
		parts:   len(est.tables),
		emit: func(i int, w rowSink) {
			for _, d := range days {
				l := est.curves[i].At(int64(d))
				stratum(w, &est.tables[i]).Int(int64(d)).Int(l.N).Int(l.NRisk).Int(l.NEvents).
					Float(l.Estimate).Float(l.StdErr).Float(l.Lower).Float(l.Upper).End()
			}
		},
	}, {
		name:        "curves",
		parquetOnly: true,
		orderBy:     key + ", time",
		columns:     cols("time", "n_risk", "n_event", "n_compete", "n_censor", "estimate", "std_err", "lower", "upper"),
		parts:       len(est.tables),
		// Loaded into DuckDB, the curves are kept only as the report
		// reads them (the medians are computed first).
		// The heap they took goes back to the system at once: DuckDB's
		// Parquet write that follows is the run's peak of memory, and
		// Go's scavenger would return it only slowly.
		loaded: func() {
			est.compact(eps, days, keepFollowUp)
			debug.FreeOSMemory()
		},
		points: func(i int) ([]string, []estimate.Point) {
			t := &est.tables[i]
			return append([]string{t.Endpoint}, t.Groups...), est.curves[i].Points
		},
	}, {
		name:    "medians",
		orderBy: key,
		columns: cols("n", "median", "lower", "upper"),
		parts:   len(est.tables),
		emit: func(i int, w rowSink) {
			t := est.tables[i]
			if !eps.KM(t.Endpoint) {
				return
			}
			if m, err := est.median(i); err == nil {
				stratum(w, &t).Int(est.curves[i].N).Float(m.Median).Float(m.Lower).Float(m.Upper).End()
			}
		},
	}, {
		name:    "tests",
		orderBy: "endpoint, comparison, within",
		columns: []string{"endpoint", "comparison", "within", "statistic", "df", "p_value", "method", "excluded"},
		notNull: []string{"excluded"},
		parts:   1,
		emit: func(_ int, w rowSink) {
			for _, r := range est.tests {
				w.Str(r.Endpoint).Str(r.Comparison).Str(r.Within).Float(r.Statistic).Int(int64(r.DF)).Float(r.PValue).Str(r.Method).
					Str(strings.Join(r.Excluded, ";")).End()
			}
		},
	}}
}

// stratum appends a table's endpoint and groups.
func stratum(w rowSink, t *riskTable) rowSink {
	w.Str(t.Endpoint)
	for _, g := range t.Groups {
		w.Str(g)
	}
	return w
}
