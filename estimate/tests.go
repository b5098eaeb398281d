package estimate

import (
	"math"
	"sort"
)

// Test is a k-sample test comparing the curves of several groups, a row of
// results/tests.csv. A test R cannot compute — cuminc's statistic −1 for a
// singular variance, or any negative statistic (a quadratic form that
// rounding took below 0) — has Statistic and PValue NaN ("not computable",
// empty in results/, SPEC §3); DF is still what R reports.
type Test struct {
	Method    string  // "logrank" or "gray"
	Statistic float64 // chi-square statistic; NaN when not computable
	DF        int     // degrees of freedom as the R function reports them
	PValue    float64 // upper chi-square tail of Statistic on DF; NaN when not computable
}

// Computable reports whether the test has a statistic (see Test).
func (t Test) Computable() bool { return !math.IsNaN(t.Statistic) }

// finish sets PValue from Statistic, or marks the test not computable
// when the statistic is negative (no chi-square is below 0).
func (t *Test) finish() {
	if t.Statistic < 0 || math.IsNaN(t.Statistic) {
		t.Statistic, t.PValue = nan, nan
		return
	}
	t.PValue = chisqUpper(t.Statistic, t.DF)
}

// grid is the union of the groups' times with each group's row at each
// time: the aggregated risk tables merged as R's routines walk the pooled,
// sorted data.
type grid struct {
	times []int64
	// at[g][k] is group g's row at times[k]; NRisk is filled even where the
	// group has nothing happening (then the group's subjects with time >=
	// times[k]), the counts are 0 there.
	at [][]RiskRow
}

func newGrid(groups [][]RiskRow) grid {
	seen := map[int64]bool{}
	var g grid
	for _, rows := range groups {
		for _, r := range rows {
			if !seen[r.Time] {
				seen[r.Time] = true
				g.times = append(g.times, r.Time)
			}
		}
	}
	sort.Slice(g.times, func(i, j int) bool { return g.times[i] < g.times[j] })
	g.at = make([][]RiskRow, len(groups))
	for gi, rows := range groups {
		g.at[gi] = make([]RiskRow, len(g.times))
		j := 0
		for k, t := range g.times {
			for j < len(rows) && rows[j].Time < t {
				j++
			}
			switch {
			case j == len(rows):
				g.at[gi][k] = RiskRow{Time: t}
			case rows[j].Time == t:
				g.at[gi][k] = rows[j]
			default:
				g.at[gi][k] = RiskRow{Time: t, NRisk: rows[j].NRisk}
			}
		}
	}
	return g
}

// prepareGroups checks every group's table and drops empty groups (R
// drops factor levels without observations).
func prepareGroups(groups [][]RiskRow) ([][]RiskRow, error) {
	var out [][]RiskRow
	for _, rows := range groups {
		rows, err := prepare(rows)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			out = append(out, rows)
		}
	}
	if len(out) < 2 {
		return nil, ErrTooFewGroups
	}
	events := false
	for _, rows := range out {
		for _, r := range rows {
			events = events || r.NEvent > 0
		}
	}
	if !events {
		return nil, ErrNoEvents
	}
	return out, nil
}

// LogRank is survival::survdiff with rho = 0 comparing the groups' curves,
// each group given as its risk table (competing events count as censored).
// As survdiff: observed minus expected events per group, the hypergeometric
// variance matrix (survdiff2.c), groups with 0 expected events left out, the
// first remaining group dropped, Statistic = (O−E)ᵀ V⁻¹ (O−E) by solve();
// DF = (groups with expected > 0) − 1 as print.survdiff; PValue the upper
// chi-square tail; a negative Statistic (rounding) is not computable (see
// Test). Empty groups are ignored. Errors: ErrTooFewGroups, ErrNoEvents,
// ErrSingular, or a *TableError.
func LogRank(groups [][]RiskRow) (Test, error) {
	groups, err := prepareGroups(groups)
	if err != nil {
		return Test{}, err
	}
	ng := len(groups)
	g := newGrid(groups)
	obs := make([]float64, ng)
	exp := make([]float64, ng)
	v := newMatrix(ng)
	risk := make([]float64, ng)
	for k := range g.times {
		var deaths, nrisk float64
		for gi := range groups {
			r := g.at[gi][k]
			risk[gi] = float64(r.NRisk)
			deaths += float64(r.NEvent)
			nrisk += risk[gi]
			obs[gi] += float64(r.NEvent)
		}
		if deaths == 0 {
			continue
		}
		for gi := range groups {
			exp[gi] += deaths * risk[gi] / nrisk
		}
		if nrisk == 1 {
			continue // a single subject: no variance
		}
		for i := range groups {
			tmp := deaths * risk[i] * (nrisk - deaths) / (nrisk * (nrisk - 1))
			v[i][i] += tmp
			for j := range groups {
				v[i][j] -= tmp * risk[j] / nrisk
			}
		}
	}
	var keep []int
	for gi := range groups {
		if exp[gi] > 0 {
			keep = append(keep, gi)
		}
	}
	t := Test{Method: "logrank", DF: len(keep) - 1}
	if len(keep) >= 2 {
		keep = keep[1:]
		diff := make([]float64, len(keep))
		vv := newMatrix(len(keep))
		for a, i := range keep {
			diff[a] = obs[i] - exp[i]
			for b, j := range keep {
				vv[a][b] = v[i][j]
			}
		}
		x, ok := solve(vv, diff)
		if !ok {
			return Test{}, ErrSingular
		}
		for a := range diff {
			t.Statistic += x[a] * diff[a]
		}
	}
	t.finish()
	return t, nil
}

// Gray is Gray's test (cmprsk::cuminc, rho = 0, one stratum) comparing the
// cumulative incidence of the event of interest (NEvent; NCompete is the
// competing cause, NCensor censoring) across groups, each given as its risk
// table. The score and its variance are the Fortran routine crstm's, which
// walks the distinct times of the pooled data with per-group counts at each
// time, so the aggregated tables give the same numbers. Statistic is
// sᵀ V⁻¹ s with V inverted through R's qr() (LINPACK dqrdc2, tolerance
// 1e−7). Where that finds V rank-deficient cuminc reports statistic −1 and
// p 1, and where V is near-singular the quadratic form can come out
// negative (a 20,000-transplant registry gave −3911.6): both are not
// computable, Statistic and PValue NaN (see Test). DF is (non-empty
// groups) − 1 as cuminc reports it, and PValue = 1 − pchisq(Statistic,
// DF). Errors: ErrTooFewGroups, ErrNoEvents, or a *TableError.
func Gray(groups [][]RiskRow) (Test, error) {
	groups, err := prepareGroups(groups)
	if err != nil {
		return Test{}, err
	}
	s, vs := crstm(groups)
	t := Test{Method: "gray", Statistic: -1, DF: len(groups) - 1}
	if inv, ok := qrInverse(vs, 1e-7); ok {
		t.Statistic = 0
		for i := range s {
			for j := range s {
				t.Statistic += s[i] * inv[i][j] * s[j]
			}
		}
	}
	t.finish()
	return t, nil
}

// crstm is cmprsk's crst for one stratum with rho = 0: the score s for the
// first ng−1 groups and its variance matrix. Variable names follow the
// Fortran: rs risk set sizes, skmm/skm all-cause KM left/right continuous,
// f1m/f1 cumulative incidence left/right continuous per group; fm/f the
// pooled incidence; a, c, v2, v3 and v the variance pieces.
func crstm(groups [][]RiskRow) (s []float64, vs [][]float64) {
	ng := len(groups)
	ng1 := ng - 1
	g := newGrid(groups)
	s = make([]float64, ng1)
	v := newMatrix(ng1) // lower triangle used, as the packed v(l)
	f1m := make([]float64, ng)
	f1 := make([]float64, ng)
	skmm := make([]float64, ng)
	skm := make([]float64, ng)
	v3 := make([]float64, ng)
	v2 := newMatrixRC(ng1, ng)
	c := newMatrix(ng)
	a := newMatrix(ng)
	rs := make([]float64, ng)
	d1 := make([]float64, ng)
	d2 := make([]float64, ng)
	m := make([]float64, ng1)
	for i := range skmm {
		skmm[i], skm[i] = 1, 1
	}
	fm, f := 0.0, 0.0
	const fb = 1.0 // (1 − fm)^rho with rho = 0
	for k := range g.times {
		var nd1, nd2 float64
		for i := range groups {
			r := g.at[i][k]
			rs[i], d1[i], d2[i] = float64(r.NRisk), float64(r.NEvent), float64(r.NCompete)
			nd1 += d1[i]
			nd2 += d2[i]
		}
		if nd1 == 0 && nd2 == 0 {
			continue
		}
		var tr, tq float64
		for i := range groups {
			if rs[i] <= 0 {
				continue
			}
			td := d1[i] + d2[i]
			skm[i] = skmm[i] * (rs[i] - td) / rs[i]
			f1[i] = f1m[i] + (skmm[i]*d1[i])/rs[i]
			tr += rs[i] / skmm[i]
			tq += rs[i] * (1 - f1m[i]) / skmm[i]
		}
		f = fm + nd1/tr
		for i := 0; i < ng; i++ {
			for j := i; j < ng; j++ {
				a[i][j] = 0
			}
			if rs[i] <= 0 {
				continue
			}
			t1 := rs[i] / skmm[i]
			a[i][i] = fb * t1 * (1 - t1/tr)
			c[i][i] += a[i][i] * nd1 / (tr * (1 - fm))
			for j := i + 1; j < ng; j++ {
				if rs[j] <= 0 {
					continue
				}
				a[i][j] = -fb * t1 * rs[j] / (skmm[j] * tr)
				c[i][j] += a[i][j] * nd1 / (tr * (1 - fm))
			}
		}
		for i := 1; i < ng; i++ {
			for j := 0; j < i; j++ {
				a[i][j] = a[j][i]
				c[i][j] = c[j][i]
			}
		}
		for i := 0; i < ng1; i++ {
			if rs[i] <= 0 {
				continue
			}
			s[i] += fb * (d1[i] - nd1*rs[i]*(1-f1m[i])/(skmm[i]*tq))
		}
		if nd1 > 0 {
			for kk := 0; kk < ng; kk++ {
				if rs[kk] <= 0 {
					continue
				}
				t4 := 1.0
				if skm[kk] > 0 {
					t4 = 1 - (1-f)/skm[kk]
				}
				t5 := 1.0
				if nd1 > 1 {
					t5 = 1 - (nd1-1)/(tr*skmm[kk]-1)
				}
				t3 := t5 * skmm[kk] * nd1 / (tr * rs[kk])
				v3[kk] += t4 * t4 * t3
				// m[i] = a[i][kk] − t4·c[i][kk], read along row kk (a and
				// c are symmetric, bit for bit): the same products as
				// crstm's, in the same order, without striding down
				// columns — O(groups³) per event time either way, but the
				// inner loop runs over contiguous memory.
				ak, ck := a[kk], c[kk]
				for i := 0; i < ng1; i++ {
					m[i] = ak[i] - t4*ck[i]
				}
				for i := 0; i < ng1; i++ {
					t1 := m[i]
					v2[i][kk] += t1 * t4 * t3
					vi := v[i][:i+1]
					for j := range vi {
						vi[j] += t1 * m[j] * t3
					}
				}
			}
		}
		if nd2 > 0 {
			for kk := 0; kk < ng; kk++ {
				if skm[kk] <= 0 || d2[kk] <= 0 {
					continue
				}
				t4 := (1 - f) / skm[kk]
				t5 := 1.0
				if d2[kk] > 1 {
					t5 = 1 - (d2[kk]-1)/(rs[kk]-1)
				}
				t3 := t5 * ((skmm[kk] * skmm[kk]) * d2[kk]) / (rs[kk] * rs[kk])
				v3[kk] += t4 * t4 * t3
				ck := c[kk]
				for i := 0; i < ng1; i++ {
					m[i] = t4 * ck[i]
				}
				for i := 0; i < ng1; i++ {
					t1 := m[i]
					v2[i][kk] -= t1 * t4 * t3
					vi := v[i][:i+1]
					for j := range vi {
						vi[j] += t1 * m[j] * t3
					}
				}
			}
		}
		// Move to the next time: left-continuous values become the current ones.
		fm = f
		copy(f1m, f1)
		copy(skmm, skm)
	}
	vs = newMatrix(ng1)
	for i := 0; i < ng1; i++ {
		for j := 0; j <= i; j++ {
			for kk := 0; kk < ng; kk++ {
				v[i][j] += c[i][kk] * c[j][kk] * v3[kk]
				v[i][j] += c[i][kk] * v2[j][kk]
				v[i][j] += c[j][kk] * v2[i][kk]
			}
			vs[i][j], vs[j][i] = v[i][j], v[i][j]
		}
	}
	return s, vs
}
