package pipeline

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"marrow/estimate"
	"marrow/transforms"
)

// defaultDims are the stratum columns of the default analysis (SPEC §3).
var defaultDims = []string{"transplant_type", "donor_type", "indication"}

// defaultAnalysis is SPEC §3's: every endpoint by transplant type × donor
// type × indication over the config's grouping sets, written to results/.
func (s *session) defaultAnalysis() analysis {
	return analysis{name: "default", title: "Default", dims: defaultDims, eps: s.eps,
		landmarks: s.cfg.Landmarks, spec: transforms.DefaultRiskSpec(s.eps, s.cfg.Strata)}
}

// byYearEndpoints are the endpoints of the built-in by_year analysis: the
// headline outcomes whose trend over the years of transplant the report
// shows.
var byYearEndpoints = []string{"os", "lfs", "relapse", "nrm"}

// byYearAnalysis is the built-in analysis by_year: transplant_type ×
// transplant_year, written to results/analyses/by_year/.
func (s *session) byYearAnalysis() analysis {
	ac := AnalysisConfig{Name: "by_year", Title: "Outcomes by year of transplant",
		By: []string{"transplant_type", "transplant_year"}, Endpoints: byYearEndpoints}
	spec, err := ac.spec(s.eps)
	if err != nil {
		panic("by_year: " + err.Error()) // fixed by the code, tested
	}
	return analysis{name: ac.Name, title: ac.Title, dims: ac.By, eps: spec.Endpoints, landmarks: s.cfg.Landmarks, spec: spec}
}

// analyses are the analyses written under results/analyses/: the built-in
// by_year, then the config's in config order.
func (s *session) analyses() []analysis {
	return append([]analysis{s.byYearAnalysis()}, s.cfg.declaredAnalyses()...)
}

// analysisResult is one analysis's estimates, kept for the report.
type analysisResult struct {
	analysis
	est *estimates
}

// computeAnalyses estimates every analysis of s.analyses(); the results
// are kept in s.analysisResults for the report.
func (s *session) computeAnalyses(ctx context.Context) error {
	s.analysisResults = nil
	for _, a := range s.analyses() {
		est, err := s.estimateCurves(ctx, a)
		if err != nil {
			return err
		}
		start := time.Now()
		est.tests = s.dimensionTests(a, est)
		s.step("tests", start, "analysis", a.name, "tests", len(est.tests))
		s.analysisResults = append(s.analysisResults, analysisResult{a, est})
	}
	return nil
}

// estimateAnalyses estimates every analysis and writes its results to
// dir/<name>/ (SPEC §5). It returns how many it wrote.
func (s *session) estimateAnalyses(ctx context.Context, dir string) (int, error) {
	if err := s.computeAnalyses(ctx); err != nil {
		return 0, err
	}
	for _, r := range s.analysisResults {
		a := r.analysis
		tables := r.est.analysisTables(a.dims, a.eps, a.landmarks)
		prefix := "analysis_" + a.name + "_"
		for i := range tables {
			tables[i].table = prefix + tables[i].name
		}
		if err := s.writeResults(ctx, filepath.Join(dir, a.name), transforms.AnalysisResultsSchemaSQL(prefix, a.dims), tables); err != nil {
			return 0, err
		}
	}
	return len(s.analysisResults), nil
}

// dimensionTests compares the groups of each dimension within each
// combination of the other dimensions' real groups, never within a pooled
// '*' (SPEC §5): comparison = the dimension, within = "dim=code;dim=code"
// in by order, or "*" in a one-dimension analysis. The groups are the
// strata with every dimension real. SPEC §3's rules: a group with fewer
// than min_group transplants is left out and named in excluded; a test is
// run where two groups remain and an event occurred among them; a
// statistic R cannot compute is empty ("not computable").
func (s *session) dimensionTests(a analysis, est *estimates) []testResult {
	index := map[string]*testGroups{}
	var order []string
	for _, t := range est.tables {
		if slices.Contains(t.Groups, transforms.Pooled) {
			continue
		}
		for d, dim := range a.dims {
			within := "*"
			if len(a.dims) > 1 {
				var parts []string
				for o, other := range a.dims {
					if o != d {
						parts = append(parts, other+"="+t.Groups[o])
					}
				}
				within = strings.Join(parts, ";")
			}
			id := t.Endpoint + "\x00" + dim + "\x00" + within
			g := index[id]
			if g == nil {
				g = &testGroups{endpoint: t.Endpoint, comparison: dim, within: within}
				index[id] = g
				order = append(order, id)
			}
			g.names = append(g.names, t.Groups[d])
			g.groups = append(g.groups, t.Rows)
		}
	}
	sort.Strings(order)
	// Tests are independent: run them on every core (a Gray's test across
	// hundreds of centres costs O(groups³) per time), each result in its
	// place, so the output does not depend on the schedule.
	results := make([]*testResult, len(order))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(order); i = int(next.Add(1) - 1) {
				results[i] = s.dimensionTest(a, index[order[i]])
			}
		})
	}
	wg.Wait()
	var out []testResult
	for _, r := range results {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// testGroups is one test's groups: the strata of one dimension's groups
// within one combination of the other dimensions.
type testGroups struct {
	endpoint, comparison, within string
	names                        []string
	groups                       [][]estimate.RiskRow
}

// dimensionTest runs one test under SPEC §3's rules; nil when there is no
// test to report.
func (s *session) dimensionTest(a analysis, g *testGroups) *testResult {
	var kept [][]estimate.RiskRow
	var excluded []string
	for i, rows := range g.groups {
		if rows[0].NRisk < int64(s.cfg.MinGroup) {
			excluded = append(excluded, g.names[i])
			continue
		}
		kept = append(kept, rows)
	}
	sort.Strings(excluded)
	test := estimate.LogRank
	if !a.eps.KM(g.endpoint) {
		test = estimate.Gray
	}
	r, err := test(kept)
	if err != nil {
		if !errors.Is(err, estimate.ErrTooFewGroups) && !errors.Is(err, estimate.ErrNoEvents) {
			s.log.Warn("test not computed", "analysis", a.name, "endpoint", g.endpoint,
				"comparison", g.comparison, "within", g.within, "err", err)
		}
		return nil
	}
	if r.Statistic < 0 || math.IsNaN(r.Statistic) {
		r.Statistic, r.PValue = math.NaN(), math.NaN()
	}
	return &testResult{Endpoint: g.endpoint, Comparison: g.comparison, Within: g.within,
		Excluded: excluded, Test: r}
}
