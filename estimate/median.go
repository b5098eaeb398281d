package estimate

import (
	"math"
	"sort"
)

// Median is a Kaplan–Meier median survival time with its 95% confidence
// limits, in days (a midpoint can end in .5). NaN where not reached.
type Median struct {
	Median float64
	Lower  float64
	Upper  float64
}

// quantileTol is quantile.survfit's default tolerance, sqrt(.Machine$double.eps).
const quantileTol = 1.4901161193847656e-08

// Median returns the median as survival's quantile.survfit(fit, 0.5): the
// first time the curve drops to 0.5 or below, and where the curve is flat at
// exactly 0.5 (within 1.49e−8) the midpoint between the time it reached
// 0.5 and the next drop, or the last time if it never drops again. Lower is
// where the lower confidence curve crosses 0.5, Upper where the upper one
// does, by the same rule.
func (c *Curve) Median() (Median, error) {
	if c.Estimator != KaplanMeier {
		return Median{}, ErrNotKaplanMeier
	}
	x := make([]float64, len(c.Points)+1) // firstx = 0, then the times
	ys := [3][]float64{}                  // 1 − surv, 1 − lower, 1 − upper
	for k := range ys {
		ys[k] = make([]float64, len(c.Points)+1)
	}
	for i, p := range c.Points {
		x[i+1] = float64(p.Time)
		ys[0][i+1] = 1 - p.Estimate
		ys[1][i+1] = 1 - p.Lower
		ys[2][i+1] = 1 - p.Upper
	}
	// At S = 1 the limits are NaN here but 1 in R under log and plain;
	// 1 − 1 = 0 duplicates the leading 0 and is dropped by findq just as
	// the NaN is, so the quantiles are the same.
	return Median{
		Median: findq(x, ys[0], 0.5, quantileTol),
		Lower:  findq(x, ys[1], 0.5, quantileTol),
		Upper:  findq(x, ys[2], 0.5, quantileTol),
	}, nil
}

// findq is quantile.survfit's findq for one probability p: where a
// horizontal line at p meets the step function y (a CDF, NaN = missing)
// over x.
func findq(x, y []float64, p, tol float64) float64 {
	maxY := math.Inf(-1)
	for _, v := range y {
		if !math.IsNaN(v) && v > maxY {
			maxY = v
		}
	}
	if maxY < p {
		return nan
	}
	xmax := x[len(x)-1]
	// Drop repeated y values (censoring times), keeping the first of each,
	// NaN counting as one value (R's duplicated()).
	// Where y's values (NaN aside) never decrease, as 1 − S always and
	// the limits almost always do, a value was seen before exactly when
	// it equals the last one kept: no set is needed.
	var xs, yv []float64
	rising := nondecreasing(y)
	var seen map[float64]bool
	if !rising {
		seen = map[float64]bool{}
	}
	last, seenNaN := math.NaN(), false
	for i, v := range y {
		switch {
		case math.IsNaN(v):
			if seenNaN {
				continue
			}
			seenNaN = true
		case rising:
			if v == last {
				continue
			}
			last = v
		default:
			if seen[v] {
				continue
			}
			seen[v] = true
		}
		xs = append(xs, x[i])
		yv = append(yv, v)
	}
	n := len(yv)
	i1 := approxIndex(yv, tol, p)
	i2 := approxIndex(yv, -tol, p)
	q := nan
	if i1 >= 0 && i2 >= 0 {
		q = (xs[i1] + xs[i2]) / 2
	}
	if !math.IsNaN(yv[n-1]) && math.Abs(p-yv[n-1]) < tol {
		// The curve ends flat at p (then i2 is NA): the midpoint of where
		// it reached p and the last time.
		q = nan
		if i1 >= 0 {
			q = (xs[i1] + xmax) / 2
		}
	}
	return q
}

// approxIndex is R's approx(y+shift, seq_along(y), p, method = "constant",
// f = 1)$y − 1: pairs with NaN dropped and the rest ordered by y+shift, the
// index of the first value >= p; −1 (NA) when p is outside their range.
func approxIndex(y []float64, shift, p float64) int {
	type pt struct {
		v float64
		i int
	}
	pts := make([]pt, 0, len(y))
	sorted := true
	for i, v := range y {
		if !math.IsNaN(v) {
			if len(pts) > 0 && v+shift < pts[len(pts)-1].v {
				sorted = false
			}
			pts = append(pts, pt{v + shift, i})
		}
	}
	// In order already (the usual case), a stable sort would leave them
	// as they are.
	if !sorted {
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].v < pts[b].v })
	}
	if len(pts) == 0 || p < pts[0].v || p > pts[len(pts)-1].v {
		return -1
	}
	j := sort.Search(len(pts), func(j int) bool { return pts[j].v >= p })
	return pts[j].i
}

// nondecreasing reports whether y's values, NaN skipped, never decrease.
func nondecreasing(y []float64) bool {
	last, any := 0.0, false
	for _, v := range y {
		if math.IsNaN(v) {
			continue
		}
		if any && v < last {
			return false
		}
		last, any = v, true
	}
	return true
}
