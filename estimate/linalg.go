package estimate

import "math"

func newMatrix(n int) [][]float64 { return newMatrixRC(n, n) }

func newMatrixRC(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// solve returns A⁻¹b by Gaussian elimination with partial pivoting, as R's
// solve() (LAPACK dgesv); ok is false where solve() stops: an exactly zero
// pivot, or a reciprocal condition number (1-norm) below machine epsilon.
func solve(a [][]float64, b []float64) (x []float64, ok bool) {
	n := len(a)
	inv := newMatrix(n)
	lu := newMatrix(n)
	for i := range a {
		copy(lu[i], a[i])
		inv[i][i] = 1
	}
	x = append([]float64(nil), b...)
	for col := 0; col < n; col++ {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(lu[r][col]) > math.Abs(lu[p][col]) {
				p = r
			}
		}
		if lu[p][col] == 0 {
			return nil, false
		}
		lu[p], lu[col] = lu[col], lu[p]
		inv[p], inv[col] = inv[col], inv[p]
		x[p], x[col] = x[col], x[p]
		for r := col + 1; r < n; r++ {
			m := lu[r][col] / lu[col][col]
			if m == 0 {
				continue
			}
			for c := col; c < n; c++ {
				lu[r][c] -= m * lu[col][c]
			}
			for c := 0; c < n; c++ {
				inv[r][c] -= m * inv[col][c]
			}
			x[r] -= m * x[col]
		}
	}
	for col := n - 1; col >= 0; col-- {
		for r := col + 1; r < n; r++ {
			x[col] -= lu[col][r] * x[r]
			for c := 0; c < n; c++ {
				inv[col][c] -= lu[col][r] * inv[r][c]
			}
		}
		x[col] /= lu[col][col]
		for c := 0; c < n; c++ {
			inv[col][c] /= lu[col][col]
		}
	}
	if 1/(norm1(a)*norm1(inv)) < 0x1p-52 {
		return nil, false
	}
	return x, true
}

// norm1 is the maximum absolute column sum.
func norm1(a [][]float64) float64 {
	m := 0.0
	for c := range a {
		s := 0.0
		for r := range a {
			s += math.Abs(a[r][c])
		}
		m = math.Max(m, s)
	}
	return m
}

// qrInverse inverts the square matrix a as cuminc does, qr.coef(qr(a),
// diag(n)), after R's qr() (LINPACK dqrdc2 with limited column pivoting)
// has judged its rank with tolerance tol; ok is false when the rank is
// below n (cuminc then reports a statistic of −1).
func qrInverse(a [][]float64, tol float64) (inv [][]float64, ok bool) {
	n := len(a)
	x := newMatrix(n)
	for i := range a {
		copy(x[i], a[i])
	}
	qraux, rank := dqrdc2(x, tol)
	if rank < n {
		return nil, false
	}
	inv = newMatrix(n)
	for col := 0; col < n; col++ {
		y := make([]float64, n)
		y[col] = 1
		b, ok := dqrslCoef(x, qraux, y)
		if !ok {
			return nil, false
		}
		for r := 0; r < n; r++ {
			inv[r][col] = b[r]
		}
	}
	return inv, true
}

// colNorm is the 2-norm of x[from:][j].
func colNorm(x [][]float64, from, j int) float64 {
	s := 0.0
	for i := from; i < len(x); i++ {
		s += x[i][j] * x[i][j]
	}
	return math.Sqrt(s)
}

// dqrdc2 is R's modified LINPACK Householder QR of the square matrix x
// (overwritten with the factorisation) with its rule for negligible
// columns: a column whose norm falls below tol times its original norm is
// moved to the right edge and does not count towards the rank. Only the
// rank and, for full rank (no column moved), the factorisation are used.
func dqrdc2(x [][]float64, tol float64) (qraux []float64, rank int) {
	n := len(x)
	p := n
	qraux = make([]float64, p)
	work1 := make([]float64, p)
	work2 := make([]float64, p)
	for j := 0; j < p; j++ {
		qraux[j] = colNorm(x, 0, j)
		work1[j] = qraux[j]
		work2[j] = qraux[j]
		if work2[j] == 0 {
			work2[j] = 1
		}
	}
	k := p + 1 // 1-based as in the Fortran
	for l := 1; l <= p; l++ {
		for l < k && qraux[l-1] < work2[l-1]*tol {
			// rotate column l to the end
			for i := 0; i < n; i++ {
				t := x[i][l-1]
				copy(x[i][l-1:p-1], x[i][l:p])
				x[i][p-1] = t
			}
			t, tt, ttt := qraux[l-1], work1[l-1], work2[l-1]
			copy(qraux[l-1:p-1], qraux[l:p])
			copy(work1[l-1:p-1], work1[l:p])
			copy(work2[l-1:p-1], work2[l:p])
			qraux[p-1], work1[p-1], work2[p-1] = t, tt, ttt
			k--
		}
		if l == n {
			continue
		}
		c := l - 1 // 0-based column and row of the pivot
		nrmxl := colNorm(x, c, c)
		if nrmxl == 0 {
			continue
		}
		if x[c][c] != 0 {
			nrmxl = math.Copysign(nrmxl, x[c][c])
		}
		for i := c; i < n; i++ {
			x[i][c] *= 1 / nrmxl
		}
		x[c][c] = 1 + x[c][c]
		for j := c + 1; j < p; j++ {
			dot := 0.0
			for i := c; i < n; i++ {
				dot += x[i][c] * x[i][j]
			}
			t := -dot / x[c][c]
			for i := c; i < n; i++ {
				x[i][j] += t * x[i][c]
			}
			if qraux[j] != 0 {
				tt := 1 - math.Pow(math.Abs(x[c][j])/qraux[j], 2)
				tt = math.Max(tt, 0)
				if math.Abs(tt) >= 1e-6 {
					qraux[j] *= math.Sqrt(tt)
				} else {
					qraux[j] = colNorm(x, c+1, j)
					work1[j] = qraux[j]
				}
			}
		}
		qraux[c] = x[c][c]
		x[c][c] = -nrmxl
	}
	return qraux, min(k-1, n)
}

// dqrslCoef is LINPACK dqrsl with job 100 for a full-rank square
// factorisation: Qᵀy, then the back substitution R b = Qᵀy.
func dqrslCoef(x [][]float64, qraux, y []float64) (b []float64, ok bool) {
	n := len(x)
	qty := append([]float64(nil), y...)
	for j := 0; j < n-1; j++ {
		if qraux[j] == 0 {
			continue
		}
		diag := x[j][j]
		x[j][j] = qraux[j]
		dot := 0.0
		for i := j; i < n; i++ {
			dot += x[i][j] * qty[i]
		}
		t := -dot / x[j][j]
		for i := j; i < n; i++ {
			qty[i] += t * x[i][j]
		}
		x[j][j] = diag
	}
	b = qty
	for j := n - 1; j >= 0; j-- {
		if x[j][j] == 0 {
			return nil, false
		}
		b[j] /= x[j][j]
		for i := 0; i < j; i++ {
			b[i] -= b[j] * x[i][j]
		}
	}
	return b, true
}

// chisqUpper is the upper tail P(X > x) of a chi-square distribution with
// df degrees of freedom (R's pchisq(x, df, lower.tail = FALSE)), in closed
// form for integer df: for even df, exp(−x/2) Σ_{i<df/2} (x/2)^i/i!; for
// odd df, erfc(sqrt(x/2)) + exp(−x/2) Σ_{i=1}^{(df−1)/2} (x/2)^(i−1/2)/Γ(i+1/2)
// (Abramowitz & Stegun 26.4.4, 26.4.5). df = 0 is the point mass at 0 and
// x <= 0 gives 1.
func chisqUpper(x float64, df int) float64 {
	switch {
	case math.IsNaN(x) || df < 0:
		return nan
	case x <= 0:
		return 1
	case df == 0:
		return 0
	}
	h := x / 2
	if df%2 == 0 {
		term := math.Exp(-h)
		sum := term
		for i := 1; i < df/2; i++ {
			term *= h / float64(i)
			sum += term
		}
		return sum
	}
	sum := math.Erfc(math.Sqrt(h))
	if df > 1 {
		term := math.Exp(-h+0.5*math.Log(h)) / math.Gamma(1.5) // i = 1
		sum += term
		for i := 2; i <= (df-1)/2; i++ {
			term *= h / (float64(i) - 0.5)
			sum += term
		}
	}
	return sum
}
