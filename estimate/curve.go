package estimate

import (
	"fmt"
	"math"
	"sort"
)

// Estimator names the estimator that produced a Curve.
type Estimator int

const (
	// KaplanMeier: Estimate is the survival S(t) (survfit's surv).
	KaplanMeier Estimator = iota
	// CumulativeIncidence: Estimate is the Aalen–Johansen incidence F(t)
	// of the event of interest (cmprsk's est).
	CumulativeIncidence
)

func (e Estimator) String() string {
	switch e {
	case KaplanMeier:
		return "kaplan-meier"
	case CumulativeIncidence:
		return "cumulative-incidence"
	}
	return fmt.Sprintf("Estimator(%d)", int(e))
}

// Curve is a right-continuous step function estimated from one stratum's
// risk table, with one Point per table row.
type Curve struct {
	Estimator Estimator
	Conf      ConfType // interval scale of a Kaplan–Meier curve; LogLog for incidence
	N         int64    // subjects in the stratum (NRisk of the first row)
	Points    []Point
}

// Point is a curve's value from Time until the next point's Time.
// StdErr, Lower and Upper are NaN where the value is not estimable
// (an empty field in results/landmarks.csv).
type Point struct {
	Time     int64 // days
	NRisk    int64
	NEvent   int64
	NCompete int64
	NCensor  int64
	Estimate float64 // S(t) for Kaplan–Meier, F(t) for cumulative incidence
	StdErr   float64 // standard error of Estimate itself
	Lower    float64 // 95% confidence limits
	Upper    float64
}

// Landmark is a curve read at one day, a row of results/landmarks.csv.
type Landmark struct {
	Day      int64
	N        int64 // subjects in the stratum
	NRisk    int64 // subjects whose time is >= Day
	NEvents  int64 // events of interest on or before Day
	Estimate float64
	StdErr   float64
	Lower    float64
	Upper    float64
}

// At reads the curve at day t: the value of the last point with Time <= t
// (S = 1 or F = 0 before the first point, std_err 0 and limits empty, as
// SPEC §3 fixes for S = 1 and F = 0). Past the largest Time the estimate,
// std_err and limits are NaN, never carried forward (summary.survfit with
// extend = FALSE, cmprsk::timepoints); N, NRisk (then 0) and NEvents (then
// the total) are always filled.
func (c *Curve) At(t int64) Landmark {
	l := Landmark{Day: t, N: c.N, Estimate: nan, StdErr: nan, Lower: nan, Upper: nan}
	// i = number of points with Time <= t.
	i := sort.Search(len(c.Points), func(i int) bool { return c.Points[i].Time > t })
	for _, p := range c.Points[:i] {
		l.NEvents += p.NEvent
	}
	// n_risk: the first point at or after t.
	if j := sort.Search(len(c.Points), func(j int) bool { return c.Points[j].Time >= t }); j < len(c.Points) {
		l.NRisk = c.Points[j].NRisk
	}
	switch {
	case len(c.Points) == 0 || t > c.Points[len(c.Points)-1].Time:
		// past the end: not estimable
	case i == 0:
		l.StdErr = 0
		if c.Estimator == KaplanMeier {
			l.Estimate = 1
		} else {
			l.Estimate = 0
		}
	default:
		p := c.Points[i-1]
		l.Estimate, l.StdErr, l.Lower, l.Upper = p.Estimate, p.StdErr, p.Lower, p.Upper
	}
	return l
}

// Landmarks reads the curve at each day (see At), in the order given.
func (c *Curve) Landmarks(days []int64) []Landmark {
	out := make([]Landmark, len(days))
	for i, d := range days {
		out[i] = c.At(d)
	}
	return out
}

// NewKaplanMeier estimates the survival curve of one stratum from its risk
// table (rows in any order), as survival::survfit with the defaults:
// S(t) = Π (1 − d/n) over event times ≤ t; StdErr is the Greenwood
// standard error of S itself, S·sqrt(Σ d/(n(n−d))) (summary.survfit's
// std.err); limits per conf as survfit_confint. Where S = 0 the Greenwood
// sum is infinite and StdErr and the limits are NaN (R's NA); where S = 1
// StdErr is 0 and the limits are NaN (see kmLimits). Competing events, if
// any, count as censored.
func NewKaplanMeier(rows []RiskRow, conf ConfType) (*Curve, error) {
	rows, err := prepare(rows)
	if err != nil {
		return nil, err
	}
	c := &Curve{Estimator: KaplanMeier, Conf: conf, Points: make([]Point, len(rows))}
	if len(rows) > 0 {
		c.N = rows[0].NRisk
	}
	km, greenwood := 1.0, 0.0
	for i, r := range rows {
		if r.NEvent > 0 {
			// Product-limit step and Greenwood's variance of log S, in
			// survfitkm.c's order of operations.
			n, d := float64(r.NRisk), float64(r.NEvent)
			km *= (n - d) / n
			greenwood += d / (n * (n - d))
		}
		seLog := math.Sqrt(greenwood)
		p := Point{Time: r.Time, NRisk: r.NRisk, NEvent: r.NEvent, NCompete: r.NCompete, NCensor: r.NCensor,
			Estimate: km, StdErr: seLog * km}
		if km == 0 {
			p.StdErr = nan // Inf·0 in R: NA
		}
		if i > 0 && r.NEvent == 0 {
			// S and its Greenwood sum are those of the point before, and
			// so are the limits (the same bits, without the logarithms).
			p.Lower, p.Upper = c.Points[i-1].Lower, c.Points[i-1].Upper
		} else {
			p.Lower, p.Upper = kmLimits(km, seLog, conf)
		}
		c.Points[i] = p
	}
	return c, nil
}

// NewCumulativeIncidence estimates the Aalen–Johansen cumulative incidence
// of the event of interest in one stratum from its risk table (rows in any
// order), with the variance of cmprsk::cuminc (Fortran routine cinc; see
// the package documentation for the recursion and its tie factors) and the
// log(−log) interval F^exp(±z·sd/(F·log F)) of SPEC §3. Where F = 0 StdErr
// is 0 and the limits NaN; where F ≥ 1 both limits are 1 (the sum can land
// one unit in the last place above 1 when every subject has the event, as
// cmprsk's does; SPEC §3). The variance
// changes only at times with events of interest, as in cinc.
func NewCumulativeIncidence(rows []RiskRow) (*Curve, error) {
	rows, err := prepare(rows)
	if err != nil {
		return nil, err
	}
	c := &Curve{Estimator: CumulativeIncidence, Conf: LogLog, Points: make([]Point, len(rows))}
	if len(rows) > 0 {
		c.N = rows[0].NRisk
	}
	// fk: all-cause KM just before the current time; f: incidence;
	// v1, v2, v3: cinc's running sums; v: the variance at the last event.
	fk, f := 1.0, 0.0
	var v1, v2, v3, v float64
	for i, r := range rows {
		rs, nd1, nd2 := float64(r.NRisk), float64(r.NEvent), float64(r.NCompete)
		if nd := nd1 + nd2; nd > 0 {
			fkn := fk * (rs - nd) / rs
			if nd1 > 0 {
				f = f + fk*nd1/rs
			}
			if nd2 > 0 && fkn > 0 {
				t6 := fk * fk * tieFactor(nd2, rs) * nd2 / (rs * rs)
				t3 := 1 / fkn
				t4 := f / fkn
				v1 += t4 * t4 * t6
				v2 += t3 * t4 * t6
				v3 += t3 * t3 * t6
			}
			if nd1 > 0 {
				t6 := fk * fk * tieFactor(nd1, rs) * nd1 / (rs * rs)
				t3 := 0.0
				if fkn > 0 {
					t3 = 1 / fkn
				}
				t4 := 1 + t3*f
				v1 += t4 * t4 * t6
				v2 += t3 * t4 * t6
				v3 += t3 * t3 * t6
				v = v1 + f*f*v3 - 2*f*v2
			}
			fk = fkn
		}
		p := Point{Time: r.Time, NRisk: r.NRisk, NEvent: r.NEvent, NCompete: r.NCompete, NCensor: r.NCensor,
			Estimate: f, StdErr: math.Sqrt(v)}
		if i > 0 && r.NEvent == 0 {
			// f and v change only at events of interest: the limits are
			// the point before's (the same bits, without the powers; at 1M
			// transplants ciLimits was 0.82 s of analyze's CPU).
			p.Lower, p.Upper = c.Points[i-1].Lower, c.Points[i-1].Upper
		} else {
			p.Lower, p.Upper = ciLimits(f, p.StdErr)
		}
		if f == 0 {
			p.StdErr = 0
		}
		c.Points[i] = p
	}
	return c, nil
}

// tieFactor is cinc's correction for k tied events among r at risk:
// 1 − (k−1)/(r−1), or 1 for a single event.
func tieFactor(k, r float64) float64 {
	if k > 1 {
		return 1 - (k-1)/(r-1)
	}
	return 1
}

// ciLimits is the 95% log(−log) interval of a cumulative incidence f with
// standard error sd (SPEC §3): f^exp(∓z·sd/(f·log f)); 1, 1 where f ≥ 1.
func ciLimits(f, sd float64) (lower, upper float64) {
	switch {
	case f == 0:
		return nan, nan
	case f >= 1:
		return 1, 1
	}
	x := Z95 * sd / (f * math.Log(f))
	return math.Pow(f, math.Exp(-x)), math.Pow(f, math.Exp(x))
}
