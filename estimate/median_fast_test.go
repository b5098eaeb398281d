package estimate

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// findqSets is findq as it was before its in-order shortcuts: R's
// duplicated() as a set and approx()'s ordering as a stable sort, for
// every input. findq must give the same answer on every input.
func findqSets(x, y []float64, p, tol float64) float64 {
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
	var xs, yv []float64
	seen := map[float64]bool{}
	seenNaN := false
	for i, v := range y {
		if math.IsNaN(v) {
			if seenNaN {
				continue
			}
			seenNaN = true
		} else {
			if seen[v] {
				continue
			}
			seen[v] = true
		}
		xs = append(xs, x[i])
		yv = append(yv, v)
	}
	index := func(shift float64) int {
		type pt struct {
			v float64
			i int
		}
		var pts []pt
		for i, v := range yv {
			if !math.IsNaN(v) {
				pts = append(pts, pt{v + shift, i})
			}
		}
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].v < pts[b].v })
		if len(pts) == 0 || p < pts[0].v || p > pts[len(pts)-1].v {
			return -1
		}
		j := sort.Search(len(pts), func(j int) bool { return pts[j].v >= p })
		return pts[j].i
	}
	n := len(yv)
	i1, i2 := index(tol), index(-tol)
	q := nan
	if i1 >= 0 && i2 >= 0 {
		q = (xs[i1] + xs[i2]) / 2
	}
	if !math.IsNaN(yv[n-1]) && math.Abs(p-yv[n-1]) < tol {
		q = nan
		if i1 >= 0 {
			q = (xs[i1] + xmax) / 2
		}
	}
	return q
}

// TestFindqShortcuts holds findq to findqSets on step functions that rise
// (1 − S), that dip (a confidence limit), with NaN runs, repeated values,
// flats at exactly p and values within the tolerance of it.
func TestFindqShortcuts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 14))
	levels := []float64{0, 0.1, 0.25, 0.5 - quantileTol/2, 0.5, 0.5 + quantileTol/2, 0.5 + 2*quantileTol, 0.6, 0.75, 1}
	var monotone, other int
	for trial := 0; trial < 20000; trial++ {
		n := 1 + r.IntN(12)
		x := make([]float64, n+1)
		y := make([]float64, n+1)
		for i := 1; i <= n; i++ {
			x[i] = x[i-1] + float64(1+r.IntN(30))
			switch k := r.IntN(10); {
			case k == 0:
				y[i] = nan
			case trial%2 == 0: // rising, with repeats
				y[i] = y[i-1]
				if math.IsNaN(y[i]) {
					y[i] = levels[r.IntN(len(levels))]
				}
				if k > 4 {
					for _, l := range levels {
						if l > y[i] {
							y[i] = l
							break
						}
					}
				}
			default: // anywhere
				y[i] = levels[r.IntN(len(levels))]
			}
		}
		if nondecreasing(y) {
			monotone++
		} else {
			other++
		}
		got, want := findq(x, y, 0.5, quantileTol), findqSets(x, y, 0.5, quantileTol)
		if !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("x %v y %v: findq %v, without the shortcuts %v", x, y, got, want)
		}
	}
	if monotone < 1000 || other < 1000 {
		t.Fatalf("cases: %d nondecreasing, %d not: both kinds are needed", monotone, other)
	}
}
