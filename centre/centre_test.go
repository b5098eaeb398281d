package centre

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(tb testing.TB, what string, got, want, tol float64) {
	tb.Helper()
	if math.IsNaN(got) != math.IsNaN(want) || math.Abs(got-want) > tol {
		tb.Errorf("%s = %.17g, want %.17g (tol %g)", what, got, want, tol)
	}
}

// Without censoring before t the pseudo-values are the indicators
// themselves: 1{T > t} for survival, 1{T <= t, cause 1} for incidence.
func TestPseudoUncensored(t *testing.T) {
	time := []int64{5, 5, 10, 20, 400, 400, 30, 365, 366, 0}
	status := []int8{1, 2, 1, 2, 0, 1, 1, 2, 0, 1}
	var km []float64
	aj, err := PseudoAJ(time, status, 365)
	if err != nil {
		t.Fatal(err)
	}
	// The KM counts status 2 as censored: check it on status 1 and 0 only.
	kmTime := []int64{5, 5, 10, 20, 400, 400, 30, 365, 366, 0}
	kmStatus := []int8{1, 1, 1, 1, 0, 1, 1, 1, 0, 1}
	km, err = PseudoKM(kmTime, kmStatus, 365)
	if err != nil {
		t.Fatal(err)
	}
	for i := range kmTime {
		alive := 0.0
		if kmTime[i] > 365 {
			alive = 1
		}
		near(t, "km", km[i], alive, 1e-12)
	}
	for i := range time {
		ev := 0.0
		if status[i] == Event && time[i] <= 365 {
			ev = 1
		}
		near(t, "aj", aj[i], ev, 1e-12)
	}
}

// The mean of the pseudo-values is the estimate itself (the influences sum
// to zero), with censoring too.
func TestPseudoMean(t *testing.T) {
	time := []int64{1, 3, 3, 4, 6, 6, 6, 9, 12, 12, 15, 400}
	status := []int8{1, 0, 2, 1, 0, 1, 2, 0, 1, 2, 0, 0}
	for _, tc := range []struct {
		name string
		f    func([]int64, []int8, int64) ([]float64, error)
		want float64
	}{
		// KM of status 1 (2 censored): steps at 1 (12 at risk), 4 (9),
		// 6 (8) and 12 (4).
		{"km", PseudoKM, (11.0 / 12) * (8.0 / 9) * (7.0 / 8) * (3.0 / 4)},
		// Aalen–Johansen: all-cause steps at 1, 3, 4, 6, 12 (12, 11, 9, 8, 4
		// at risk, 1, 1, 1, 2, 2 failures).
		{"aj", PseudoAJ, 1.0/12 + (11.0/12)*(10.0/11)/9 + (11.0/12)*(10.0/11)*(8.0/9)/8 +
			(11.0/12)*(10.0/11)*(8.0/9)*(6.0/8)/4},
	} {
		p, err := tc.f(time, status, 14)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range p {
			s += v
		}
		near(t, tc.name+" mean", s/float64(len(p)), tc.want, 1e-12)
	}
}

func TestPseudoErrors(t *testing.T) {
	if _, err := PseudoKM([]int64{1}, []int8{3}, 10); err == nil {
		t.Error("status 3 accepted")
	}
	if _, err := PseudoAJ([]int64{-1}, []int8{1}, 10); err == nil {
		t.Error("negative time accepted")
	}
}

func TestCodeRules(t *testing.T) {
	var lv, one []string
	var ev []bool
	// add appends k subjects of level l, the first events of them with a
	// 1-year event.
	add := func(l string, k, events int) {
		for i := 0; i < k; i++ {
			lv = append(lv, l)
			one = append(one, "X")
			ev = append(ev, i < events)
		}
	}
	// A 50 (25 events), B 25 (13), C 15 (12: too few transplants), D 30
	// (9: too few events): C and D pool (45, 21 events). The covariate g
	// has a single level: dropped.
	add("A", 50, 25)
	add("B", 25, 13)
	add("C", 15, 12)
	add("D", 30, 9)
	c, err := Code([]Covariate{{Name: "f", Levels: lv}, {Name: "g", Levels: one}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Factors) != 1 || strings.Join(c.Factors[0].Levels, ",") != "A,B,POOLED" {
		t.Fatalf("factors %+v", c.Factors)
	}
	if c.Factors[0].Merged["C"] != Pooled || c.Factors[0].Merged["D"] != Pooled || len(c.Factors[0].Merged) != 2 {
		t.Errorf("merged %v", c.Factors[0].Merged)
	}
	if len(c.Dropped) != 1 || c.Dropped[0].Name != "g" {
		t.Errorf("dropped %v", c.Dropped)
	}
	// A pooled level that is itself sparse joins the reference (the
	// largest level, B here).
	lv, one, ev = nil, nil, nil
	add("A", 30, 15)
	add("B", 40, 20)
	add("C", 25, 5)
	c, _ = Code([]Covariate{{Name: "f", Levels: lv}}, ev)
	if got := strings.Join(c.Factors[0].Levels, ","); got != "B,A" || c.Factors[0].Merged["C"] != "B" {
		t.Errorf("levels %s merged %v", got, c.Factors[0].Merged)
	}
	// Every level sparse, or one level left: dropped.
	for _, sizes := range [][2]int{{10, 5}, {19, 19}} {
		lv, one, ev = nil, nil, nil
		add("A", sizes[0], sizes[0])
		add("B", sizes[1], 0)
		c, _ = Code([]Covariate{{Name: "f", Levels: lv}}, ev)
		if len(c.Factors) != 0 || len(c.Dropped) != 1 || c.Dropped[0].Reason != "one level after pooling" {
			t.Errorf("%v: factors %+v dropped %v", sizes, c.Factors, c.Dropped)
		}
	}
}

// An intercept-only model's coefficient is the logit of the mean, and its
// robust SE the delta-method SE of that mean's logit.
func TestGEEInterceptOnly(t *testing.T) {
	y := []float64{1, 0, 1, 1, 0.5, -0.2, 1.1, 0, 1, 1}
	var s, s2 float64
	for _, v := range y {
		s += v
		s2 += v * v
	}
	n := float64(len(y))
	fit, err := FitLogitGEE([]Pattern{{X: []float64{1}, N: n, SumY: s, SumY2: s2}})
	if err != nil {
		t.Fatal(err)
	}
	m := s / n
	near(t, "coef", fit.Coef[0], math.Log(m/(1-m)), 1e-12)
	rss := s2 - 2*m*s + n*m*m
	near(t, "se", fit.RobustSE[0], math.Sqrt(rss)/(n*m*(1-m)), 1e-12)
}

func TestGEEFails(t *testing.T) {
	// Two columns, identical: singular.
	_, err := FitLogitGEE([]Pattern{{X: []float64{1, 1}, N: 5, SumY: 2, SumY2: 2}})
	if !errors.Is(err, ErrSingular) {
		t.Errorf("err %v, want ErrSingular", err)
	}
	if _, err := FitLogitGEE([]Pattern{{X: []float64{1}, N: 5, SumY: 0, SumY2: 0}}); err == nil {
		t.Error("mean 0 fitted")
	}
}

func TestLimitsOrdered(t *testing.T) {
	for _, tc := range []struct {
		e, o, se float64
		n        int64
	}{{0.7, 0.6, 0.05, 40}, {0.05, 0, 0, 25}, {0.95, 1, 0, 200}, {0.3, math.NaN(), math.NaN(), 20}} {
		l95, u95, l998, u998 := Limits(tc.e, tc.o, tc.se, tc.n)
		if !(l998 <= l95 && l95 <= tc.e && tc.e <= u95 && u95 <= u998) || l998 < 0 || u998 > 1 {
			t.Errorf("%+v: limits %v %v %v %v", tc, l998, l95, u95, u998)
		}
	}
	// The boundary: with E = 3%, 30 transplants see no event with
	// probability 0.97^30 = 40%, so both lower limits are 0; with 300
	// (0.97^300 = 1e-4) neither is. With E = 99% and 100 transplants,
	// 0.99^100 = 37%: both upper limits are 1.
	if l95, _, l998, _ := Limits(0.03, 0, 0, 30); l95 != 0 || l998 != 0 {
		t.Errorf("E 3%%, n 30: lower limits %v %v, want 0", l95, l998)
	}
	if l95, _, l998, _ := Limits(0.03, 0, 0, 300); !(l998 > 0 && l95 > l998) {
		t.Errorf("E 3%%, n 300: lower limits %v %v, want > 0", l95, l998)
	}
	if _, u95, _, u998 := Limits(0.99, 1, 0, 100); u95 != 1 || u998 != 1 {
		t.Errorf("E 99%%, n 100: upper limits %v %v, want 1", u95, u998)
	}
	// Uncensored: nEff = n, so the 95% half-width on the logit scale is
	// 1.96/sqrt(n E(1-E)).
	l95, _, _, _ := Limits(0.5, 0.6, math.Sqrt(0.6*0.4/100), 100)
	near(t, "lower95", l95, expit(-Z95/math.Sqrt(25)), 1e-12)
}

func TestFlags(t *testing.T) {
	o := Options{Day: 365, MinCentre: 20}
	base := CentreRow{N: 30, Completeness: 1, Expected: 0.5, Lower998: 0.3, Lower95: 0.4, Upper95: 0.6, Upper998: 0.7}
	for _, tc := range []struct {
		obs   float64
		ep    Endpoint
		want  string
		tweak func(*CentreRow)
	}{
		{0.75, OS, FlagBetter, nil},
		{0.65, OS, FlagBetter95, nil},
		{0.5, OS, FlagAsExpected, nil},
		{0.35, OS, FlagWorse95, nil},
		{0.2, OS, FlagWorse, nil},
		{0.75, NRM, FlagWorse, nil},
		{0.35, NRM, FlagBetter95, nil},
		{0.5, OS, FlagNotAssessed, func(r *CentreRow) { r.N = 19 }},
		{0.5, OS, FlagNotAssessed, func(r *CentreRow) { r.Completeness = 0.89 }},
		{math.NaN(), OS, FlagNotAssessed, nil},
	} {
		r := base
		r.Observed = tc.obs
		if tc.tweak != nil {
			tc.tweak(&r)
		}
		got, reason := flag(r, tc.ep, o, "")
		if got != tc.want || (got == FlagNotAssessed) != (reason != "") {
			t.Errorf("obs %v %s: %s (%q), want %s", tc.obs, tc.ep.Name, got, reason, tc.want)
		}
	}
}

func TestClark(t *testing.T) {
	for _, tc := range []struct {
		time     int64
		status   int8
		obs, pot float64
	}{{100, 1, 100, 100}, {100, 0, 100, 365}, {500, 0, 365, 365}, {500, 1, 365, 365}, {0, 0, 0, 365}} {
		o, p := clark(tc.time, tc.status, 365)
		if o != tc.obs || p != tc.pot {
			t.Errorf("%+v: %v/%v", tc, o, p)
		}
	}
}
