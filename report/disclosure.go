package report

import (
	"math"
	"sort"
)

// The audit: what can a reader who knows every printed count, the bounds
// the labels give and every published sum derive exactly? It is the attack
// the suppressor defends against and the disclosure test runs on the
// published report.
//
// Two techniques, combined:
//   - linear algebra: the sums are linear equations in the hidden counts;
//     a hidden count is determined when its unit vector lies in the row
//     space (a row of the reduced row echelon form with one unknown);
//   - interval reasoning: each equation bounds each of its unknowns by the
//     others' bounds; repeated over the sums and the echelon rows to a fixed
//     point, with integer rounding, a count whose bounds meet is pinned.
//
// Interval reasoning on the echelon rows is not a complete integer
// program, but it finds what a reader with a spreadsheet finds: every
// subtraction, every chain of subtractions, and every bound squeezed by the
// labels.

var inf = math.Inf(1)

// linSystem is what a reader knows.
type linSystem struct {
	known  map[string]float64 // printed counts
	lo, hi map[string]float64 // bounds of the hidden counts
	rels   []sumRel
	truth  map[string]int // the true counts
	// protect are the counts that must not be pinned: every count from 1 to
	// min−1 (printed or not) and every count printed as hidden. A count the
	// report never prints and that is not small (the all-types number at
	// risk at a tick no figure of all types shows) may be derivable.
	protect map[string]bool
}

// audit returns the protected cells the reader can pin, sorted.
func audit(sys linSystem) []string {
	// Equations over the unknowns: Σ coef·x = rhs.
	type eq struct {
		coef map[string]float64
		rhs  float64
	}
	var eqs []eq
	for _, r := range sys.rels {
		e := eq{coef: map[string]float64{}}
		add := func(k string, c float64) {
			if v, ok := sys.known[k]; ok {
				e.rhs -= c * v
				return
			}
			if _, ok := sys.lo[k]; !ok { // a term never recorded: unknown, at least 0
				sys.lo[k], sys.hi[k] = 0, inf
			}
			e.coef[k] += c
		}
		for _, t := range r.terms {
			add(t, 1)
		}
		add(r.total, -1)
		for _, t := range r.minus {
			add(t, -1)
		}
		for k, c := range e.coef {
			if c == 0 {
				delete(e.coef, k)
			}
		}
		if len(e.coef) > 0 {
			eqs = append(eqs, e)
		}
	}
	if len(eqs) == 0 {
		return nil
	}
	// Connected components of unknowns, so each elimination is small.
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	for _, e := range eqs {
		first := ""
		for _, k := range sortedKeys(e.coef) {
			if first == "" {
				first = find(k)
				continue
			}
			parent[find(k)] = first
		}
	}
	comps := map[string][]int{}
	for i, e := range eqs {
		for k := range e.coef {
			comps[find(k)] = append(comps[find(k)], i)
			break
		}
	}
	lo, hi := map[string]float64{}, map[string]float64{}
	for k, v := range sys.lo {
		lo[k] = v
	}
	for k, v := range sys.hi {
		hi[k] = v
	}
	pinned := map[string]bool{}
	for _, root := range sortedKeys(comps) {
		idx := comps[root]
		// Unknowns of the component in a fixed order.
		set := map[string]bool{}
		for _, i := range idx {
			for k := range eqs[i].coef {
				set[k] = true
			}
		}
		vars := sortedKeys(set)
		col := map[string]int{}
		for j, k := range vars {
			col[k] = j
		}
		m := make([][]float64, len(idx)) // last column: rhs
		for r, i := range idx {
			m[r] = make([]float64, len(vars)+1)
			for k, c := range eqs[i].coef {
				m[r][col[k]] = c
			}
			m[r][len(vars)] = eqs[i].rhs
		}
		original := make([][]float64, len(m))
		for r := range m {
			original[r] = append([]float64(nil), m[r]...)
		}
		rref(m, len(vars))
		rows := append(original, m...)
		// The component's bounds by column (its unknowns are its own).
		clo, chi := make([]float64, len(vars)), make([]float64, len(vars))
		for j, k := range vars {
			clo[j], chi[j] = lo[k], hi[k]
		}
		// Interval propagation over the sums and the echelon rows.
		for pass := 0; pass < 200; pass++ {
			changed := false
			for _, row := range rows {
				for j, a := range row[:len(vars)] {
					if math.Abs(a) < 1e-9 {
						continue
					}
					// a·x_j = rhs − Σ_{i≠j} a_i x_i
					rlo, rhi := row[len(vars)], row[len(vars)]
					for i, b := range row[:len(vars)] {
						if i == j || math.Abs(b) < 1e-9 {
							continue
						}
						l, h := clo[i], chi[i]
						if b > 0 {
							rlo -= b * h
							rhi -= b * l
						} else {
							rlo -= b * l
							rhi -= b * h
						}
					}
					nlo, nhi := rlo/a, rhi/a
					if a < 0 {
						nlo, nhi = nhi, nlo
					}
					if !math.IsNaN(nlo) && nlo > clo[j]+1e-9 {
						clo[j] = math.Ceil(nlo - 1e-6)
						changed = true
					}
					if !math.IsNaN(nhi) && nhi < chi[j]-1e-9 {
						chi[j] = math.Floor(nhi + 1e-6)
						changed = true
					}
				}
			}
			if !changed {
				break
			}
		}
		for j, k := range vars {
			lo[k], hi[k] = clo[j], chi[j]
		}
		for r := range m {
			nz, at := 0, -1
			for j := range vars {
				if math.Abs(m[r][j]) > 1e-9 {
					nz++
					at = j
				}
			}
			if nz == 1 {
				pinned[vars[at]] = true
			}
		}
		for _, k := range vars {
			if hi[k]-lo[k] < 0.5 {
				pinned[k] = true
			}
		}
	}
	var out []string
	for k := range pinned {
		if sys.protect[k] && sys.truth[k] > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// rref brings m (rows of n coefficients and a right-hand side) to reduced
// row echelon form in place, with partial pivoting.
func rref(m [][]float64, n int) {
	r := 0
	for c := 0; c < n && r < len(m); c++ {
		p := r
		for i := r + 1; i < len(m); i++ {
			if math.Abs(m[i][c]) > math.Abs(m[p][c]) {
				p = i
			}
		}
		if math.Abs(m[p][c]) < 1e-9 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		piv := m[r][c]
		for j := c; j <= n; j++ {
			m[r][j] /= piv
		}
		for i := range m {
			if i == r || math.Abs(m[i][c]) < 1e-12 {
				continue
			}
			f := m[i][c]
			for j := c; j <= n; j++ {
				m[i][j] -= f * m[r][j]
			}
		}
		r++
	}
	for i := r; i < len(m); i++ {
		for j := range m[i] {
			m[i][j] = 0
		}
	}
}
