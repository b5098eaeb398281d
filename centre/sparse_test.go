package centre

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSparseDot: a sparse row's dot is the dense row's Σ x_k·b_k to the
// bit, finite or not (0·∞ is NaN), whatever the signs of the zeros.
func TestSparseDot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 3e-300, -7.25, 1e300}
	for trial := 0; trial < 2000; trial++ {
		p := 1 + r.IntN(12)
		x, b := make([]float64, p), make([]float64, p)
		for k := range x {
			if r.IntN(3) == 0 {
				x[k] = vals[r.IntN(len(vals))]
			}
			b[k] = vals[r.IntN(len(vals))]
		}
		if trial%5 == 0 {
			b[r.IntN(p)] = []float64{math.Inf(1), math.Inf(-1), math.NaN()}[r.IntN(3)]
		}
		var want float64
		for k := range x {
			want += x[k] * b[k]
		}
		sp := newSparseRows([]Pattern{{X: x}})
		got := sp.dot(0, b, allFinite(b))
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("x %v b %v: sparse dot %v, dense %v", x, b, got, want)
		}
	}
}
