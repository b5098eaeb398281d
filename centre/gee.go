package centre

import (
	"errors"
	"fmt"
	"math"
)

// Pattern is one covariate pattern of a GEE fit: its design row X
// (intercept first), the number of subjects N sharing it, and the sums of
// their responses and squared responses. With independence working
// correlation every estimating equation is a sum over subjects, and
// subjects with the same X enter it only through N, SumY and SumY2, so
// collapsing to patterns changes no number beyond rounding.
type Pattern struct {
	X           []float64
	N           float64
	SumY, SumY2 float64
}

// GEEFit is a fitted mean model E[Y] = expit(X·Coef).
type GEEFit struct {
	Coef     []float64
	RobustSE []float64 // sandwich standard errors
	Iter     int       // Fisher-scoring steps taken
}

// ErrNotConverged: Fisher scoring did not reach the tolerance.
var ErrNotConverged = errors.New("did not converge")

// ErrSingular: the design's information matrix is not positive definite.
var ErrSingular = errors.New("information matrix is singular")

// ErrSeparated: the estimates run off to infinity — some covariate
// pattern's predicted probability goes to 0 or 1 (quasi-separation, e.g.
// a combination of levels with no deaths) — so no finite solution exists.
var ErrSeparated = errors.New("no finite estimate: a covariate pattern's prediction runs to 0 or 1 (separation)")

// maxEta bounds |x·β| of any pattern: beyond it a prediction is within
// e⁻³⁰ of 0 or 1 and the fit is taken to be separating.
const maxEta = 30

const (
	geeTol     = 1e-10 // largest coefficient change accepted as converged
	geeMaxIter = 500
)

// FitLogitGEE solves the generalised estimating equations of
// geepack::geese(y ~ X, id = subject, family = gaussian, mean.link =
// "logit", corstr = "independence", scale.fix = TRUE), the pseudo-value
// regression of Klein, Gerster, Andersen, Tarima & Perme (2008):
//
//	U(β) = Σ_i D_i·(y_i − μ_i) = 0,  μ_i = expit(x_i·β),  D_i = μ_i(1 − μ_i)·x_i
//
// (gaussian variance, scale fixed at 1, each subject its own cluster). It
// takes Fisher-scoring steps β ← β + A⁻¹U with A = Σ D_i D_iᵀ, halving a
// step while it would increase Σ (y_i − μ_i)² (the equations are that sum's
// gradient, so this only guards against overshooting), until no
// coefficient moves by more than 1e-10 (geese stops at 1e-4 by default; a
// tighter tolerance gives the same root to more digits). The robust
// (sandwich) covariance is A⁻¹ B A⁻¹ with B = Σ D_i D_iᵀ (y_i − μ_i)²,
// geese's vbeta: with independence and a fixed scale there is no
// correlation or scale equation to correct for.
func FitLogitGEE(pats []Pattern) (*GEEFit, error) {
	if len(pats) == 0 {
		return nil, fmt.Errorf("no data")
	}
	p := len(pats[0].X)
	for _, pt := range pats {
		if len(pt.X) != p {
			return nil, fmt.Errorf("design rows of %d and %d columns", p, len(pt.X))
		}
	}
	return fitLogitGEE(pats, newSparseRows(pats), p)
}

// fitLogitGEE is FitLogitGEE of patterns whose rows of p columns are sp's
// (their X is not read).
func fitLogitGEE(pats []Pattern, sp *sparseRows, p int) (*GEEFit, error) {
	if len(pats) == 0 {
		return nil, fmt.Errorf("no data")
	}
	var n, sy float64
	for _, pt := range pats {
		n += pt.N
		sy += pt.SumY
	}
	mean := sy / n
	if !(mean > 0 && mean < 1) {
		return nil, fmt.Errorf("mean response %v is outside (0, 1): a logit mean cannot fit it", mean)
	}
	beta := make([]float64, p)
	beta[0] = math.Log(mean / (1 - mean)) // an intercept-only start
	// Each pattern's x·β and μ at beta, and at the step tried (the
	// accepted step's become beta's): computed once per β tried.
	eta, mu := make([]float64, len(pats)), make([]float64, len(pats))
	etaNext, muNext := make([]float64, len(pats)), make([]float64, len(pats))
	q := sumSquares(pats, sp, beta, eta, mu)
	for iter := 1; iter <= geeMaxIter; iter++ {
		a, u, _ := information(pats, sp, p, mu, false)
		step, err := cholSolve(a, u)
		if err != nil {
			return nil, err
		}
		next := make([]float64, p)
		h := 1.0
		for halving := 0; ; halving++ {
			for k := range beta {
				next[k] = beta[k] + h*step[k]
			}
			// Near the root Q changes below its rounding: a relative
			// slack keeps rounding noise from halving good steps.
			if qn := sumSquares(pats, sp, next, etaNext, muNext); qn <= q*(1+1e-9) || halving == 30 {
				q = qn
				break
			}
			h /= 2
		}
		// Converged when the full Fisher step is negligible: a halved
		// step is small without the root being near.
		moved := 0.0
		for k := range beta {
			moved = math.Max(moved, math.Abs(step[k]))
		}
		beta = next
		eta, etaNext, mu, muNext = etaNext, eta, muNext, mu
		for k := range pats {
			if math.Abs(eta[k]) > maxEta {
				return nil, ErrSeparated
			}
		}
		if moved <= geeTol {
			a, _, b := information(pats, sp, p, mu, true)
			inv, err := cholInverse(a)
			if err != nil {
				return nil, err
			}
			v := sandwich(inv, b)
			se := make([]float64, p)
			for k := range se {
				se[k] = math.Sqrt(v[k][k])
			}
			return &GEEFit{Coef: beta, RobustSE: se, Iter: iter}, nil
		}
		if math.IsNaN(moved) || math.IsInf(moved, 0) {
			break
		}
	}
	return nil, ErrNotConverged
}

func expit(eta float64) float64 { return 1 / (1 + math.Exp(-eta)) }

// sparseRows are the patterns' design rows without their zeros
// (indicator designs are sparse: a handful of ones in tens of columns):
// pattern i's non-zero columns are col[start[i]:start[i+1]], their values
// x[start[i]:start[i+1]], in column order. Found once per fit (or made so
// by Coding.patterns) instead of scanning every column of every pattern
// in every step.
type sparseRows struct {
	start []int
	col   []int
	x     []float64
}

func newSparseRows(pats []Pattern) *sparseRows {
	sp := &sparseRows{start: make([]int, 1, len(pats)+1)}
	for _, pt := range pats {
		for k, x := range pt.X {
			if x != 0 {
				sp.add(k, x)
			}
		}
		sp.end()
	}
	return sp
}

// newSparseCap is an empty sparseRows with room for rows rows and nz
// non-zero entries.
func newSparseCap(rows, nz int) *sparseRows {
	return &sparseRows{start: make([]int, 1, rows+1), col: make([]int, 0, nz), x: make([]float64, 0, nz)}
}

// add appends column k with value x to the row being made; end closes it.
func (sp *sparseRows) add(k int, x float64) {
	sp.col = append(sp.col, k)
	sp.x = append(sp.x, x)
}

func (sp *sparseRows) end() { sp.start = append(sp.start, len(sp.col)) }

// dot is row i's x·b, the same number as Σ_k x_k·b_k over the dense row
// in column order: over the non-zero columns
// only, in column order, when every b_k is finite (finite: the terms left
// out are 0·b_k = ±0, which change no sum, and a sum that starts at +0 is
// never −0), else over every column of b (0·∞ is NaN).
func (sp *sparseRows) dot(i int, b []float64, finite bool) float64 {
	lo, hi := sp.start[i], sp.start[i+1]
	var s float64
	if finite {
		xs := sp.x[lo:hi]
		for j, c := range sp.col[lo:hi] {
			s += xs[j] * b[c]
		}
		return s
	}
	j := lo
	for k := range b {
		var x float64
		if j < hi && sp.col[j] == k {
			x = sp.x[j]
			j++
		}
		s += x * b[k]
	}
	return s
}

// sumSquares is Σ (y − μ)² = Σ_patterns SumY2 − 2μ·SumY + N·μ² at beta;
// it leaves each pattern's x·β in eta and μ in mu.
func sumSquares(pats []Pattern, sp *sparseRows, beta, eta, mu []float64) float64 {
	finite := allFinite(beta)
	var q float64
	for k, pt := range pats {
		e := sp.dot(k, beta, finite)
		m := expit(e)
		eta[k], mu[k] = e, m
		q += pt.SumY2 - 2*m*pt.SumY + pt.N*m*m
	}
	return q
}

func allFinite(b []float64) bool {
	for _, v := range b {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return false
		}
	}
	return true
}

// information returns A = Σ D Dᵀ, U = Σ D (y − μ) and, if meat, B =
// Σ D Dᵀ (y − μ)², each summed over patterns, given each pattern's μ.
func information(pats []Pattern, sp *sparseRows, p int, mus []float64, meat bool) (a [][]float64, u []float64, b [][]float64) {
	a, u = newMatrix(p), make([]float64, p)
	if meat {
		b = newMatrix(p)
	}
	d := make([]float64, p)
	for i, pt := range pats {
		mu := mus[i]
		g := mu * (1 - mu)
		lo, hi := sp.start[i], sp.start[i+1]
		nz, xs := sp.col[lo:hi], sp.x[lo:hi]
		for j, k := range nz {
			d[k] = g * xs[j]
		}
		res := pt.SumY - pt.N*mu
		rss := pt.SumY2 - 2*mu*pt.SumY + pt.N*mu*mu
		for ai, k := range nz {
			u[k] += d[k] * res
			// pt.N * d[k] * d[l] is (pt.N * d[k]) * d[l]: hoisted, the
			// same products.
			ak, nd := a[k], pt.N*d[k]
			if meat {
				bk, rd := b[k], rss*d[k]
				for _, l := range nz[:ai+1] {
					ak[l] += nd * d[l]
					bk[l] += rd * d[l]
				}
				continue
			}
			for _, l := range nz[:ai+1] {
				ak[l] += nd * d[l]
			}
		}
	}
	for k := range p {
		for l := 0; l < k; l++ {
			a[l][k] = a[k][l]
			if meat {
				b[l][k] = b[k][l]
			}
		}
	}
	return a, u, b
}

func newMatrix(p int) [][]float64 {
	m := make([][]float64, p)
	for i := range m {
		m[i] = make([]float64, p)
	}
	return m
}

// cholesky returns the lower-triangular L with L·Lᵀ = a.
func cholesky(a [][]float64) ([][]float64, error) {
	p := len(a)
	l := newMatrix(p)
	for j := range p {
		s := a[j][j]
		for k := range j {
			s -= l[j][k] * l[j][k]
		}
		if !(s > 0) || s <= 1e-13*a[j][j] {
			return nil, ErrSingular
		}
		l[j][j] = math.Sqrt(s)
		for i := j + 1; i < p; i++ {
			s := a[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			l[i][j] = s / l[j][j]
		}
	}
	return l, nil
}

func cholSolve(a [][]float64, b []float64) ([]float64, error) {
	l, err := cholesky(a)
	if err != nil {
		return nil, err
	}
	p := len(b)
	y := make([]float64, p)
	for i := range p {
		s := b[i]
		for k := range i {
			s -= l[i][k] * y[k]
		}
		y[i] = s / l[i][i]
	}
	x := make([]float64, p)
	for i := p - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < p; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x, nil
}

func cholInverse(a [][]float64) ([][]float64, error) {
	p := len(a)
	inv := newMatrix(p)
	e := make([]float64, p)
	for j := range p {
		clear(e)
		e[j] = 1
		col, err := cholSolve(a, e)
		if err != nil {
			return nil, err
		}
		for i := range p {
			inv[i][j] = col[i]
		}
	}
	return inv, nil
}

// sandwich is inv·b·inv.
func sandwich(inv, b [][]float64) [][]float64 {
	p := len(inv)
	t := newMatrix(p)
	for i := range p {
		for j := range p {
			var s float64
			for k := range p {
				s += inv[i][k] * b[k][j]
			}
			t[i][j] = s
		}
	}
	v := newMatrix(p)
	for i := range p {
		for j := range p {
			var s float64
			for k := range p {
				s += t[i][k] * inv[k][j]
			}
			v[i][j] = s
		}
	}
	return v
}
