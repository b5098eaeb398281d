package estimate

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// Textbook cases with values worked out by hand (fractions in the
// comments), R's printed output where noted, and properties that hold for
// any data.

const handTol = 1e-12

func assertClose(tb testing.TB, what string, got, want, tol float64) {
	tb.Helper()
	if d := floatDiff(got, want); d > tol {
		tb.Errorf("%s = %s, want %s", what, fmtNum(got), fmtNum(want))
	}
}

// llLimits is the log-log interval of SPEC §3 for hand-computed S and
// se(S): exp(−exp(log(−log S) ∓ z·(se/S)/log S)).
func llLimits(s, se float64) (float64, float64) {
	x := Z95 * (se / s) / math.Log(s)
	return math.Exp(-math.Exp(math.Log(-math.Log(s)) - x)), math.Exp(-math.Exp(math.Log(-math.Log(s)) + x))
}

func TestKaplanMeierHand(t *testing.T) {
	// Six subjects: day 1 one death and one censored (the censored one is
	// still at risk on day 1), day 2 two deaths, day 3 censored, day 4 death.
	tiesRows := []RiskRow{
		{Time: 1, NRisk: 6, NEvent: 1, NCensor: 1},
		{Time: 2, NRisk: 4, NEvent: 2},
		{Time: 3, NRisk: 2, NCensor: 1},
		{Time: 4, NRisk: 1, NEvent: 1},
	}
	// S = 5/6, 5/12, 5/12, 0; Greenwood Σ d/(n(n−d)) = 1/30, 1/30 + 1/4.
	s1, s2 := 5.0/6, 5.0/12
	se1, se2 := s1*math.Sqrt(1.0/30), s2*math.Sqrt(1.0/30+1.0/4)
	type pt struct{ s, se float64 }
	cases := []struct {
		name string
		rows []RiskRow
		want []pt
	}{
		{"ties of events and censoring", tiesRows, []pt{{s1, se1}, {s2, se2}, {s2, se2}, {0, math.NaN()}}},
		{"everyone dies", []RiskRow{{Time: 1, NRisk: 3, NEvent: 1}, {Time: 2, NRisk: 2, NEvent: 1}, {Time: 3, NRisk: 1, NEvent: 1}},
			// S = 2/3, 1/3, 0; Greenwood 1/6, 1/6 + 1/2.
			[]pt{{2.0 / 3, 2.0 / 3 * math.Sqrt(1.0/6)}, {1.0 / 3, 1.0 / 3 * math.Sqrt(2.0/3)}, {0, math.NaN()}}},
		{"single death", []RiskRow{{Time: 5, NRisk: 1, NEvent: 1}}, []pt{{0, math.NaN()}}},
		{"single censored", []RiskRow{{Time: 5, NRisk: 1, NCensor: 1}}, []pt{{1, 0}}},
		{"unsorted rows", []RiskRow{tiesRows[2], tiesRows[0], tiesRows[3], tiesRows[1]},
			[]pt{{s1, se1}, {s2, se2}, {s2, se2}, {0, math.NaN()}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewKaplanMeier(tc.rows, LogLog)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Points) != len(tc.want) {
				t.Fatalf("%d points, want %d", len(c.Points), len(tc.want))
			}
			for i, w := range tc.want {
				p := c.Points[i]
				assertClose(t, "surv", p.Estimate, w.s, handTol)
				assertClose(t, "std_err", p.StdErr, w.se, handTol)
				wl, wu := math.NaN(), math.NaN()
				if w.s > 0 && w.s < 1 {
					wl, wu = llLimits(w.s, w.se)
				}
				assertClose(t, "lower", p.Lower, wl, handTol)
				assertClose(t, "upper", p.Upper, wu, handTol)
				if i > 0 && p.Time <= c.Points[i-1].Time {
					t.Errorf("points not sorted by time")
				}
			}
		})
	}
}

// TestKaplanMeierAML checks the log interval against survival's printed
// summary of the Maintained arm of the aml data (Miller 1981),
// summary(survfit(Surv(time, status) ~ 1, aml, subset = x == "Maintained",
// conf.type = "log")), given to 3–4 digits.
func TestKaplanMeierAML(t *testing.T) {
	// times 9, 13, 13+, 18, 23, 28+, 31, 34, 45+, 48, 161+
	rows := []RiskRow{
		{Time: 9, NRisk: 11, NEvent: 1}, {Time: 13, NRisk: 10, NEvent: 1, NCensor: 1},
		{Time: 18, NRisk: 8, NEvent: 1}, {Time: 23, NRisk: 7, NEvent: 1}, {Time: 28, NRisk: 6, NCensor: 1},
		{Time: 31, NRisk: 5, NEvent: 1}, {Time: 34, NRisk: 4, NEvent: 1}, {Time: 45, NRisk: 3, NCensor: 1},
		{Time: 48, NRisk: 2, NEvent: 1}, {Time: 161, NRisk: 1, NCensor: 1},
	}
	want := []struct {
		day                    int64
		surv, se, lower, upper float64
	}{
		{9, 0.909, 0.0867, 0.7541, 1.000},
		{13, 0.818, 0.1163, 0.6192, 1.000},
		{18, 0.716, 0.1397, 0.4884, 1.000},
		{23, 0.614, 0.1526, 0.3769, 0.999},
		{31, 0.491, 0.1642, 0.2549, 0.946},
		{34, 0.368, 0.1627, 0.1549, 0.875},
		{48, 0.184, 0.1535, 0.0359, 0.944},
	}
	c, err := NewKaplanMeier(rows, Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		l := c.At(w.day)
		assertClose(t, "surv", l.Estimate, w.surv, 5e-4)
		assertClose(t, "std_err", l.StdErr, w.se, 5e-5)
		assertClose(t, "lower", l.Lower, w.lower, 5e-5)
		assertClose(t, "upper", l.Upper, w.upper, 5e-4)
	}
	// print(fit): median 31, 0.95 LCL 18, UCL NA.
	m, err := c.Median()
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "median", m.Median, 31, 0)
	assertClose(t, "median lower", m.Lower, 18, 0)
	assertClose(t, "median upper", m.Upper, math.NaN(), 0)
}

func TestConfTypes(t *testing.T) {
	// One death among 4: S = 3/4, se(log S) = sqrt(1/12).
	rows := []RiskRow{{Time: 1, NRisk: 4, NEvent: 1}, {Time: 2, NRisk: 3, NCensor: 3}}
	s, seLog := 0.75, math.Sqrt(1.0/12)
	ll, lu := llLimits(s, s*seLog)
	cases := []struct {
		name         string
		conf         ConfType
		lower, upper float64
	}{
		{"log-log", LogLog, ll, lu},
		{"log", Log, s * math.Exp(-Z95*seLog), 1},                     // upper exp(...) > 1 is capped
		{"plain", Plain, s - Z95*s*seLog, math.Min(s+Z95*s*seLog, 1)}, // K&M (4.3.1)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfType(tc.name)
			if err != nil || got != tc.conf || got.String() != tc.name {
				t.Fatalf("ParseConfType(%q) = %v, %v", tc.name, got, err)
			}
			c, err := NewKaplanMeier(rows, tc.conf)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "lower", c.Points[0].Lower, tc.lower, handTol)
			assertClose(t, "upper", c.Points[0].Upper, tc.upper, handTol)
			// S = 1 before the first death and past it censoring only: empty limits.
			l := c.At(0)
			if l.Estimate != 1 || l.StdErr != 0 || !math.IsNaN(l.Lower) || !math.IsNaN(l.Upper) {
				t.Errorf("At(0) = %+v, want S 1, std_err 0, empty limits", l)
			}
		})
	}
	if _, err := ParseConfType("logit"); err == nil {
		t.Error("ParseConfType(logit): no error")
	}
}

func TestLandmarks(t *testing.T) {
	rows := []RiskRow{
		{Time: 10, NRisk: 5, NEvent: 1},
		{Time: 20, NRisk: 4, NEvent: 1, NCensor: 1},
		{Time: 30, NRisk: 2, NCensor: 2},
	}
	c, err := NewKaplanMeier(rows, LogLog)
	if err != nil {
		t.Fatal(err)
	}
	s20 := 4.0 / 5 * 3.0 / 4
	cases := []struct {
		day            int64
		nrisk, nevents int64
		est            float64
	}{
		{5, 5, 0, 1},           // before the first time
		{10, 5, 1, 4.0 / 5},    // at an event time: its own n_risk, the step taken
		{15, 4, 1, 4.0 / 5},    // between times: n_risk of the next time
		{20, 4, 2, s20},        //
		{30, 2, 2, s20},        // the last time: still estimable
		{31, 0, 2, math.NaN()}, // past it: empty, n_risk 0, all events
	}
	for _, tc := range cases {
		l := c.At(tc.day)
		if l.N != 5 || l.NRisk != tc.nrisk || l.NEvents != tc.nevents || l.Day != tc.day {
			t.Errorf("At(%d) counts = n %d n_risk %d n_events %d, want 5 %d %d", tc.day, l.N, l.NRisk, l.NEvents, tc.nrisk, tc.nevents)
		}
		assertClose(t, "estimate", l.Estimate, tc.est, handTol)
		if math.IsNaN(tc.est) && !(math.IsNaN(l.StdErr) && math.IsNaN(l.Lower) && math.IsNaN(l.Upper)) {
			t.Errorf("At(%d) past the end: %+v, want everything empty", tc.day, l)
		}
	}
	if got := c.Landmarks([]int64{31, 5}); len(got) != 2 || got[0].Day != 31 || got[1].Day != 5 {
		t.Errorf("Landmarks kept neither order nor days: %+v", got)
	}
}

func TestEmptyStratum(t *testing.T) {
	for _, mk := range []func([]RiskRow) (*Curve, error){
		func(r []RiskRow) (*Curve, error) { return NewKaplanMeier(r, LogLog) },
		NewCumulativeIncidence,
	} {
		c, err := mk(nil)
		if err != nil {
			t.Fatal(err)
		}
		l := c.At(100)
		if c.N != 0 || len(c.Points) != 0 || l.N != 0 || l.NRisk != 0 || l.NEvents != 0 ||
			!math.IsNaN(l.Estimate) || !math.IsNaN(l.StdErr) {
			t.Errorf("%v: empty stratum gives %+v at day 100", c.Estimator, l)
		}
	}
	c, _ := NewKaplanMeier(nil, LogLog)
	m, err := c.Median()
	if err != nil || !math.IsNaN(m.Median) || !math.IsNaN(m.Lower) || !math.IsNaN(m.Upper) {
		t.Errorf("median of an empty curve = %+v, %v", m, err)
	}
}

func TestMedianRules(t *testing.T) {
	cases := []struct {
		name string
		rows []RiskRow
		want float64
	}{
		// S = 3/4, 1/2, 1/4, 0: S is exactly 1/2 from day 2 until day 3,
		// so the median is the midpoint 2.5.
		{"flat at one half", []RiskRow{{Time: 1, NRisk: 4, NEvent: 1}, {Time: 2, NRisk: 3, NEvent: 1},
			{Time: 3, NRisk: 2, NEvent: 1}, {Time: 4, NRisk: 1, NEvent: 1}}, 2.5},
		// S = 3/4, 1/2, then censoring to day 9: flat at 1/2 to the end,
		// the midpoint of day 2 and the last time, 5.5.
		{"ends at one half", []RiskRow{{Time: 1, NRisk: 4, NEvent: 1}, {Time: 2, NRisk: 3, NEvent: 1},
			{Time: 3, NRisk: 2, NCensor: 1}, {Time: 9, NRisk: 1, NCensor: 1}}, 5.5},
		// S = 2/3, 1/3, 0: crosses 1/2 on day 2.
		{"crossing", []RiskRow{{Time: 1, NRisk: 3, NEvent: 1}, {Time: 2, NRisk: 2, NEvent: 1},
			{Time: 3, NRisk: 1, NEvent: 1}}, 2},
		// S = 3/4 at the end: not reached.
		{"not reached", []RiskRow{{Time: 1, NRisk: 4, NEvent: 1}, {Time: 2, NRisk: 3, NCensor: 3}}, math.NaN()},
		{"single death", []RiskRow{{Time: 7, NRisk: 1, NEvent: 1}}, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewKaplanMeier(tc.rows, LogLog)
			if err != nil {
				t.Fatal(err)
			}
			m, err := c.Median()
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "median", m.Median, tc.want, 0)
			// The lower curve lies below S, so it reaches 1/2 no later (it
			// is NA where S = 0, and so may never reach it).
			if !math.IsNaN(m.Lower) && !math.IsNaN(m.Median) && m.Lower > m.Median {
				t.Errorf("lower %v after median %v", m.Lower, m.Median)
			}
			if !math.IsNaN(m.Upper) && !math.IsNaN(m.Median) && m.Upper < m.Median {
				t.Errorf("upper %v before median %v", m.Upper, m.Median)
			}
		})
	}
	ci, _ := NewCumulativeIncidence([]RiskRow{{Time: 1, NRisk: 1, NEvent: 1}})
	if _, err := ci.Median(); !errors.Is(err, ErrNotKaplanMeier) {
		t.Errorf("median of an incidence curve: err %v", err)
	}
}

func TestCumulativeIncidenceHand(t *testing.T) {
	type pt struct{ f, v float64 }
	cases := []struct {
		name string
		rows []RiskRow
		want []pt
	}{
		{
			// Day 1: 2 of 4 have the event (tie factor 1 − 1/3), day 2 a
			// competing event, day 3 the last subject has the event.
			// F = 1/2, 1/2, 3/4. Var F(1) = (2/16)(2/3)(1)² = 1/12, unchanged
			// by the competing event on day 2 (variance steps only at
			// events); Var F(3) = 1/48 + 3/48 + 3/48 = 7/48 (terms
			// [1 − (F(3)−F(1))/S(1)]²·S⁻²d/r²·c, [(F(2)−F(3))/S(2)]²·S⁻²d/r²,
			// S⁻²d/r² with S⁻ = 1, 1/2, 1/4).
			"ties and a competing event",
			[]RiskRow{{Time: 1, NRisk: 4, NEvent: 2}, {Time: 2, NRisk: 2, NCompete: 1}, {Time: 3, NRisk: 1, NEvent: 1}},
			[]pt{{0.5, 1.0 / 12}, {0.5, 1.0 / 12}, {0.75, 7.0 / 48}},
		},
		{
			// Everyone has the event: F = 1/2, 1; Var = 1/4 both times.
			"reaching one",
			[]RiskRow{{Time: 1, NRisk: 2, NEvent: 1}, {Time: 2, NRisk: 1, NEvent: 1}},
			[]pt{{0.5, 0.25}, {1, 0.25}},
		},
		{
			"no events of interest",
			[]RiskRow{{Time: 1, NRisk: 3, NCompete: 1}, {Time: 2, NRisk: 2, NCensor: 1, NCompete: 1}},
			[]pt{{0, 0}, {0, 0}},
		},
		{
			// Event and competing event on the same day among 2: S drops to
			// 0, F = 1/2, Var = (1/4)·1 (a = 0 once S = 0).
			"all leave at once",
			[]RiskRow{{Time: 4, NRisk: 2, NEvent: 1, NCompete: 1}},
			[]pt{{0.5, 0.25}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCumulativeIncidence(tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				p := c.Points[i]
				sd := math.Sqrt(w.v)
				assertClose(t, "estimate", p.Estimate, w.f, handTol)
				assertClose(t, "std_err", p.StdErr, sd, handTol)
				wl, wu := math.NaN(), math.NaN()
				switch {
				case w.f == 1:
					wl, wu = 1, 1
				case w.f > 0:
					x := Z95 * sd / (w.f * math.Log(w.f))
					wl, wu = math.Pow(w.f, math.Exp(-x)), math.Pow(w.f, math.Exp(x))
				}
				assertClose(t, "lower", p.Lower, wl, handTol)
				assertClose(t, "upper", p.Upper, wu, handTol)
			}
			if l := c.At(0); l.Estimate != 0 || l.StdErr != 0 || !math.IsNaN(l.Lower) {
				t.Errorf("At(0) = %+v, want F 0, std_err 0, empty limits", l)
			}
		})
	}
}

func TestTableErrors(t *testing.T) {
	cases := []struct {
		name string
		rows []RiskRow
		row  int
	}{
		{"duplicate time", []RiskRow{{Time: 1, NRisk: 2, NEvent: 1}, {Time: 1, NRisk: 1, NEvent: 1}}, 1},
		{"risk set jumps", []RiskRow{{Time: 1, NRisk: 3, NEvent: 1}, {Time: 2, NRisk: 1, NEvent: 1}}, 1},
		{"subjects left over", []RiskRow{{Time: 1, NRisk: 3, NEvent: 1}}, 0},
		{"nothing happens", []RiskRow{{Time: 1, NRisk: 1}, {Time: 2, NRisk: 1, NCensor: 1}}, 0},
		{"negative", []RiskRow{{Time: 1, NRisk: 1, NEvent: 2, NCensor: -1}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCumulativeIncidence(tc.rows)
			var te *TableError
			if !errors.As(err, &te) || te.Row != tc.row {
				t.Fatalf("err = %v, want a TableError at row %d", err, tc.row)
			}
			if _, err := LogRank([][]RiskRow{tc.rows, {{Time: 1, NRisk: 1, NEvent: 1}}}); !errors.As(err, &te) {
				t.Errorf("LogRank: err = %v, want a TableError", err)
			}
		})
	}
}

func TestChisqUpper(t *testing.T) {
	// Chi-square table quantiles: qchisq(1 − p, df).
	cases := []struct {
		x    float64
		df   int
		want float64
	}{
		{3.841458820694124, 1, 0.05},
		{6.6348966010212145, 1, 0.01},
		{5.991464547107979, 2, 0.05},
		{7.814727903251178, 3, 0.05},
		{13.276704135987622, 4, 0.01},
		{11.070497693516351, 5, 0.05},
		{0, 3, 1},
		{-1, 2, 1}, // cuminc's −1 for a singular variance: 1 − pchisq(−1) = 1
		{0, 0, 1},
	}
	for _, tc := range cases {
		assertClose(t, "p", chisqUpper(tc.x, tc.df), tc.want, 1e-14)
	}
}

func TestLogRankHand(t *testing.T) {
	// A: deaths on days 1 and 2; B: death on day 3, censored day 4.
	// O_A = 2, E_A = 2/4 + 1/3 = 5/6, V = 1/4 + 2/9 = 17/36:
	// chi = (7/6)² / (17/36) = 49/17 on 1 df.
	a := []RiskRow{{Time: 1, NRisk: 2, NEvent: 1}, {Time: 2, NRisk: 1, NEvent: 1}}
	b := []RiskRow{{Time: 3, NRisk: 2, NEvent: 1}, {Time: 4, NRisk: 1, NCensor: 1}}
	for _, groups := range [][][]RiskRow{{a, b}, {b, a}, {a, nil, b}} {
		got, err := LogRank(groups)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "statistic", got.Statistic, 49.0/17, handTol)
		assertClose(t, "p", got.PValue, math.Erfc(math.Sqrt(49.0/34)), handTol)
		if got.DF != 1 || got.Method != "logrank" {
			t.Errorf("df %d method %s, want 1 logrank", got.DF, got.Method)
		}
	}
	// A group whose subjects all leave before the first death has no
	// expected deaths: survdiff leaves it out of the statistic and df.
	early := []RiskRow{{Time: 0, NRisk: 2, NCensor: 2}}
	got, err := LogRank([][]RiskRow{a, b, early})
	if err != nil || got.DF != 1 || math.Abs(got.Statistic-49.0/17) > handTol {
		t.Errorf("with an early-censored group: %+v, %v", got, err)
	}
	if _, err := LogRank([][]RiskRow{a}); !errors.Is(err, ErrTooFewGroups) {
		t.Errorf("one group: err %v", err)
	}
	cens := []RiskRow{{Time: 3, NRisk: 1, NCensor: 1}}
	if _, err := LogRank([][]RiskRow{cens, cens}); !errors.Is(err, ErrNoEvents) {
		t.Errorf("no events: err %v", err)
	}
}

func TestGrayProperties(t *testing.T) {
	a := []RiskRow{{Time: 1, NRisk: 5, NEvent: 1}, {Time: 2, NRisk: 4, NCompete: 1}, {Time: 3, NRisk: 3, NEvent: 2},
		{Time: 5, NRisk: 1, NCensor: 1}}
	b := []RiskRow{{Time: 1, NRisk: 4, NCompete: 1}, {Time: 2, NRisk: 3, NEvent: 1, NCensor: 1}, {Time: 4, NRisk: 1, NCensor: 1}}
	c := []RiskRow{{Time: 2, NRisk: 3, NEvent: 1}, {Time: 3, NRisk: 2, NEvent: 1, NCompete: 1}}
	t.Run("identical groups", func(t *testing.T) {
		got, err := Gray([][]RiskRow{a, a})
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "statistic", got.Statistic, 0, 1e-12)
		assertClose(t, "p", got.PValue, 1, 1e-12)
	})
	t.Run("group order", func(t *testing.T) {
		abc, err1 := Gray([][]RiskRow{a, b, c})
		cab, err2 := Gray([][]RiskRow{c, nil, a, b})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if abc.Statistic <= 0 || abc.DF != 2 || cab.DF != 2 || abc.Method != "gray" {
			t.Errorf("got %+v", abc)
		}
		assertClose(t, "statistic", cab.Statistic, abc.Statistic, 1e-10)
		assertClose(t, "p", abc.PValue, math.Exp(-abc.Statistic/2), 1e-12) // 2 df
	})
	t.Run("singular", func(t *testing.T) {
		// The third group has left before anything happens: its score and
		// variance row are 0, qr() finds rank 1 < 2 and cuminc reports −1.
		early := []RiskRow{{Time: 0, NRisk: 1, NCensor: 1}}
		got, err := Gray([][]RiskRow{a, early, b})
		if err != nil {
			t.Fatal(err)
		}
		// cuminc reports statistic −1, p 1: not computable, df 2 as R.
		if got.Computable() || !math.IsNaN(got.PValue) || got.DF != 2 {
			t.Errorf("got %+v, want statistic and p NaN (not computable), df 2", got)
		}
	})
	if _, err := Gray([][]RiskRow{{{Time: 1, NRisk: 1, NCompete: 1}}, {{Time: 2, NRisk: 1, NCensor: 1}}}); !errors.Is(err, ErrNoEvents) {
		t.Errorf("no events: err %v", err)
	}
}

// TestNotComputable: no chi-square below 0 is reported. A negative
// statistic — cuminc's −1 for a singular variance, or a quadratic form that
// rounding took below 0 (a 20,000-transplant registry gave −3911.6) — has
// Statistic and PValue NaN, df kept; 0 itself is a statistic (p 1).
func TestNotComputable(t *testing.T) {
	for _, c := range []struct {
		stat float64
		ok   bool
	}{{-1, false}, {-3911.6, false}, {-1e-300, false}, {math.NaN(), false}, {0, true}, {2.5, true}} {
		tt := Test{Method: "gray", Statistic: c.stat, DF: 3}
		tt.finish()
		if tt.Computable() != c.ok || tt.DF != 3 {
			t.Errorf("statistic %v: %+v, computable %v, want %v", c.stat, tt, tt.Computable(), c.ok)
		}
		if c.ok && tt.PValue != chisqUpper(c.stat, 3) {
			t.Errorf("statistic %v: p %v", c.stat, tt.PValue)
		}
		if !c.ok && !math.IsNaN(tt.PValue) {
			t.Errorf("statistic %v: p %v, want NaN", c.stat, tt.PValue)
		}
	}
}

// TestIncidenceAtOne: where the Aalen–Johansen sum reaches 1 or lands one
// unit in the last place above it (five subjects all having the event on
// distinct days gives 1.0000000000000002, as cmprsk), both limits are 1.
func TestIncidenceAtOne(t *testing.T) {
	var rows []RiskRow
	for i := range int64(5) {
		rows = append(rows, RiskRow{Time: 10 * (i + 1), NRisk: 5 - i, NEvent: 1})
	}
	c, err := NewCumulativeIncidence(rows)
	if err != nil {
		t.Fatal(err)
	}
	last := c.Points[len(c.Points)-1]
	if last.Estimate != math.Nextafter(1, 2) {
		t.Fatalf("estimate %v, want 1.0000000000000002 (cmprsk's sum)", last.Estimate)
	}
	if last.Lower != 1 || last.Upper != 1 {
		t.Errorf("limits %v, %v, want 1, 1", last.Lower, last.Upper)
	}
	for _, f := range []float64{1, math.Nextafter(1, 2)} {
		if lo, up := ciLimits(f, 0.2); lo != 1 || up != 1 {
			t.Errorf("ciLimits(%v) = %v, %v, want 1, 1", f, lo, up)
		}
	}
}

// TestLimitsCarried: the curves carry a point's limits over from the one
// before where nothing of interest happened (no event of interest); they
// must be the limits computed afresh from that point's estimate and
// standard error, at competing-only and censor-only times too.
func TestLimitsCarried(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	for trial := range 200 {
		var rows []RiskRow
		n := int64(20 + r.IntN(200))
		for day := int64(0); n > 0; day++ {
			row := RiskRow{Time: day, NRisk: n}
			for range r.IntN(4) {
				switch r.IntN(4) {
				case 0:
					row.NEvent++
				case 1:
					row.NCompete++
				default:
					row.NCensor++
				}
			}
			if row.removed() > n {
				row = RiskRow{Time: day, NRisk: n, NCensor: n}
			}
			if row.removed() == 0 {
				continue // no row where nothing happens
			}
			n -= row.removed()
			rows = append(rows, row)
		}
		ci, err := NewCumulativeIncidence(rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, conf := range []ConfType{LogLog, Log, Plain} {
			km, err := NewKaplanMeier(rows, conf)
			if err != nil {
				t.Fatal(err)
			}
			s, greenwood := 1.0, 0.0 // survfitkm.c's order, as NewKaplanMeier
			for i, p := range km.Points {
				if r := rows[i]; r.NEvent > 0 {
					n, d := float64(r.NRisk), float64(r.NEvent)
					s *= (n - d) / n
					greenwood += d / (n * (n - d))
				}
				lo, hi := kmLimits(s, math.Sqrt(greenwood), conf)
				if !sameFloat(p.Lower, lo) || !sameFloat(p.Upper, hi) {
					t.Fatalf("trial %d %s point %d: KM limits %v %v, afresh %v %v", trial, conf, i, p.Lower, p.Upper, lo, hi)
				}
			}
		}
		for i, p := range ci.Points {
			lo, hi := ciLimits(p.Estimate, p.StdErr)
			if !sameFloat(p.Lower, lo) || !sameFloat(p.Upper, hi) {
				t.Fatalf("trial %d point %d: incidence limits %v %v, afresh %v %v", trial, i, p.Lower, p.Upper, lo, hi)
			}
		}
	}
}

// sameFloat: equal, or both NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
