package centre

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// Covariate is one case-mix factor: its name and each subject's level
// (already banded; a missing value is the level Missing, its own level).
type Covariate struct {
	Name   string
	Levels []string
	// values and codes are Levels factorised (EncodeCovariates): the
	// distinct levels and each subject's index into them.
	values []string
	codes  []uint16
}

// NewCodedCovariate is a covariate given factorised: subject i's level is
// values[codes[i]].
func NewCodedCovariate(name string, values []string, codes []uint16) Covariate {
	return Covariate{Name: name, values: values, codes: codes}
}

// Level is subject i's level.
func (c Covariate) Level(i int) string {
	if c.codes != nil {
		return c.values[c.codes[i]]
	}
	return c.Levels[i]
}

// EncodeCovariates factorises each covariate's levels once, so that the
// models of several endpoints on the same cohort share the work. Benchmark
// encodes a copy itself when this was not done.
func EncodeCovariates(covs []Covariate) error {
	for k := range covs {
		cv := &covs[k]
		if cv.codes != nil {
			continue
		}
		idx := map[string]uint16{}
		codes := make([]uint16, len(cv.Levels))
		var values []string
		for i, l := range cv.Levels {
			c, ok := idx[l]
			if !ok {
				if len(values) == math.MaxUint16 {
					return fmt.Errorf("covariate %s has more than %d levels", cv.Name, math.MaxUint16)
				}
				c = uint16(len(values))
				idx[l] = c
				values = append(values, l)
			}
			codes[i] = c
		}
		cv.values, cv.codes = values, codes
	}
	return nil
}

// Missing is the level of a missing value.
const Missing = "MISSING"

// Pooled is the level that sparse levels are merged into.
const Pooled = "POOLED"

// MinLevel and MinLevelEvents are the fewest transplants and 1-year
// events a level needs to keep its own coefficient. Ten events per level
// is the events-per-variable rule of thumb of logistic models (Peduzzi et
// al. 1996, J Clin Epidemiol 49:1373); with fewer, a level's coefficient
// can run off to ±∞ (a level of 54 autologous transplants with one
// non-relapse death does in the demo registry).
const (
	MinLevel       = 20
	MinLevelEvents = 10
)

// Factor is how one covariate enters the model: Levels[0] is the reference
// (no coefficient), each other level one indicator column. Merged maps an
// original level to the level it was merged into (Pooled, or the
// reference when the pooled level is itself sparse).
type Factor struct {
	Name   string
	Levels []string
	Merged map[string]string
	input  int   // index of the covariate in the Cohort
	pos    []int // covariate code -> position in Levels
}

// Dropped is a covariate left out of the model, and why.
type Dropped struct {
	Name, Reason string
}

// Coding is the model's design: the factors kept, in input order, the
// covariates dropped, and the names of the design columns.
type Coding struct {
	Factors []Factor
	Dropped []Dropped
	Columns []Column // design columns, the intercept first
	Aliased []Column // columns dropped as linear combinations of earlier ones
}

// Column names one design column: Covariate "" is the intercept.
type Column struct {
	Covariate, Level string
	factor, level    int
}

// Code builds the design of a risk model (rules documented in doc.go):
//
//  1. a level with fewer than MinLevel transplants, or fewer than
//     MinLevelEvents 1-year events among them (event[i] is subject i's), is
//     sparse;
//  2. sparse levels are merged into one level named Pooled; if that
//     pooled level is itself sparse it is merged into the reference;
//  3. the reference level is the largest (ties: the first in byte order),
//     the others follow in byte order;
//  4. a covariate left with one level is dropped;
//  5. a design column that adds fewer than MinLevel transplants' worth of
//     information to the earlier columns (an exact linear combination of
//     them, or one differing from it on a few transplants, such as CB grafts
//     when all but one are cord-blood donors) is dropped as aliased.
func Code(covs []Covariate, event []bool) (*Coding, error) {
	c := &Coding{Columns: []Column{{factor: -1}}}
	if err := EncodeCovariates(covs); err != nil {
		return nil, err
	}
	for k, cv := range covs {
		if len(cv.codes) != len(event) {
			return nil, fmt.Errorf("covariate %s has %d values for %d subjects", cv.Name, len(cv.codes), len(event))
		}
		f, ok := codeFactor(cv, event)
		f.input = k
		if !ok {
			c.Dropped = append(c.Dropped, Dropped{cv.Name, "one level after pooling"})
			continue
		}
		c.Factors = append(c.Factors, f)
		for l := 1; l < len(f.Levels); l++ {
			c.Columns = append(c.Columns, Column{Covariate: f.Name, Level: f.Levels[l], factor: len(c.Factors) - 1, level: l})
		}
	}
	return c, nil
}

func codeFactor(cv Covariate, event []bool) (Factor, bool) {
	nc, evc := make([]int, len(cv.values)), make([]int, len(cv.values))
	for i, code := range cv.codes {
		nc[code]++
		if event[i] {
			evc[code]++
		}
	}
	n, ev := map[string]int{}, map[string]int{}
	for code, l := range cv.values {
		n[l], ev[l] = nc[code], evc[code]
	}
	sparse := func(l string) bool { return n[l] < MinLevel || ev[l] < MinLevelEvents }
	f := Factor{Name: cv.Name, Merged: map[string]string{}}
	var kept, merged []string
	for l := range n {
		if sparse(l) {
			merged = append(merged, l)
		} else {
			kept = append(kept, l)
		}
	}
	sort.Strings(kept)
	sort.Strings(merged)
	if len(merged) > 0 {
		for _, l := range merged {
			n[Pooled] += n[l]
			ev[Pooled] += ev[l]
			if l != Pooled {
				delete(n, l)
			}
		}
	}
	// The reference: the largest kept level.
	ref := ""
	for _, l := range kept {
		if ref == "" || n[l] > n[ref] {
			ref = l
		}
	}
	if len(merged) > 0 {
		if sparse(Pooled) || ref == "" {
			if ref == "" {
				return f, false // every level sparse: nothing to contrast
			}
			for _, l := range merged {
				f.Merged[l] = ref
			}
		} else {
			for _, l := range merged {
				f.Merged[l] = Pooled
			}
			if !slices.Contains(kept, Pooled) {
				kept = append(kept, Pooled)
				sort.Strings(kept)
			}
		}
	}
	f.Levels = []string{ref}
	for _, l := range kept {
		if l != ref {
			f.Levels = append(f.Levels, l)
		}
	}
	if len(f.Levels) < 2 {
		return f, false
	}
	at := map[string]int{}
	for i, l := range f.Levels {
		at[l] = i
	}
	for l, to := range f.Merged {
		at[l] = at[to]
	}
	f.pos = make([]int, len(cv.values))
	for code, l := range cv.values {
		f.pos[code] = at[l]
	}
	return f, true
}

// CovariatePatterns numbers the subjects' covariate patterns: subjects
// with the same level of every covariate share a number, numbered in
// order of first appearance. Benchmark groups subjects by pattern (Cohort
// Pattern); computed once, the patterns serve the models of several
// endpoints on the same cohort.
func CovariatePatterns(covs []Covariate) ([]int32, error) {
	if err := EncodeCovariates(covs); err != nil {
		return nil, err
	}
	if len(covs) == 0 {
		return nil, nil
	}
	n := len(covs[0].codes)
	radix := make([]uint64, len(covs))
	r := uint64(1)
	for k, cv := range covs {
		if len(cv.codes) != n {
			return nil, fmt.Errorf("covariate %s has %d values for %d subjects", cv.Name, len(cv.codes), n)
		}
		radix[k] = r
		hi, lo := bits.Mul64(r, uint64(max(len(cv.values), 1)))
		if hi != 0 {
			return nil, fmt.Errorf("more than 2^64 possible covariate patterns")
		}
		r = lo
	}
	of := make([]int32, n)
	var dense []int32 // key -> pattern + 1 (0: not seen)
	var index map[uint64]int32
	if r <= 1<<22 {
		dense = make([]int32, r)
	} else {
		index = map[uint64]int32{}
	}
	next := int32(0)
	for i := range of {
		var key uint64
		for k := range covs {
			key += uint64(covs[k].codes[i]) * radix[k]
		}
		if dense != nil {
			p := dense[key]
			if p == 0 {
				next++
				p, dense[key] = next, next
			}
			of[i] = p - 1
			continue
		}
		p, ok := index[key]
		if !ok {
			p = next
			next++
			index[key] = p
		}
		of[i] = p
	}
	return of, nil
}

// patterns groups subjects by their coded levels. It returns the distinct
// patterns (with sums of y filled) and each subject's pattern. raw is each
// subject's covariate pattern (CovariatePatterns): subjects of one raw
// pattern share their coded levels, so the levels are looked up once per
// raw pattern.
//
// The patterns' rows are returned as sparseRows (their X is nil): the
// intercept and one indicator a factor not at its reference level.
func (c *Coding) patterns(covs []Covariate, raw []int32, y []float64) ([]Pattern, *sparseRows, []int, error) {
	// A pattern's key is its level positions in mixed radix.
	radix := make([]uint64, len(c.Factors))
	r := uint64(1)
	for k, f := range c.Factors {
		radix[k] = r
		hi, lo := bits.Mul64(r, uint64(len(f.Levels)))
		if hi != 0 {
			return nil, nil, nil, fmt.Errorf("more than 2^64 possible covariate patterns")
		}
		r = lo
	}
	nraw := int32(0)
	for _, p := range raw {
		nraw = max(nraw, p+1)
	}
	// Patterns are numbered in order of first appearance. Keys are looked
	// up once per raw pattern: in a table (dense, one int32 per possible
	// pattern) when the key space is small next to the raw patterns, else
	// in a map (a large table costs more to clear and to touch at random
	// than the lookups it saves).
	var dense []int32 // key -> pattern + 1 (0: not seen)
	var index map[uint64]int
	if r <= 1<<16 || r <= 4*uint64(nraw) {
		dense = make([]int32, r)
	} else {
		index = make(map[uint64]int, nraw)
	}
	// At most one pattern a raw pattern. Sums are kept apart from the
	// patterns while the subjects come (24 bytes a pattern, touched at
	// random, instead of a whole Pattern).
	type sums struct{ n, sy, sy2 float64 }
	acc := make([]sums, 0, nraw)
	keys := make([]uint64, 0, nraw)
	of := make([]int, len(y))
	pos := make([][]int, len(c.Factors)) // per factor: subject code -> position
	codes := make([][]uint16, len(c.Factors))
	for k, f := range c.Factors {
		pos[k], codes[k] = f.pos, covs[f.input].codes
	}
	coded := make([]int32, nraw) // raw pattern -> pattern + 1 (0: not seen)
	for i := range y {
		p := int(coded[raw[i]]) - 1
		if p < 0 {
			// The first subject of its raw pattern: the first of its
			// pattern too, if that is new.
			var key uint64
			for k := range pos {
				key += uint64(pos[k][codes[k][i]]) * radix[k]
			}
			var ok bool
			if dense != nil {
				p, ok = int(dense[key])-1, dense[key] != 0
			} else {
				p, ok = index[key]
			}
			if !ok {
				p = len(acc)
				if dense != nil {
					dense[key] = int32(p + 1)
				} else {
					index[key] = p
				}
				acc = append(acc, sums{})
				keys = append(keys, key)
			}
			coded[raw[i]] = int32(p + 1)
		}
		a := &acc[p]
		a.n++
		a.sy += y[i]
		a.sy2 += y[i] * y[i]
		of[i] = p
	}
	pats := make([]Pattern, len(acc))
	for p, a := range acc {
		pats[p] = Pattern{N: a.n, SumY: a.sy, SumY2: a.sy2}
	}
	// Per factor and level position: the design column (0: the reference,
	// which has none).
	colOf := make([][]int, len(c.Factors))
	for k, f := range c.Factors {
		colOf[k] = make([]int, len(f.Levels))
	}
	for j, col := range c.Columns[1:] {
		colOf[col.factor][col.level] = j + 1
	}
	sp := newSparseCap(len(pats), len(pats)*(1+len(c.Factors)))
	lv := make([]int, len(c.Factors))
	for p := range pats {
		key := keys[p]
		for k := len(c.Factors) - 1; k >= 0; k-- {
			lv[k] = int(key / radix[k])
			key %= radix[k]
		}
		sp.add(0, 1)
		for k, l := range lv {
			if j := colOf[k][l]; j > 0 {
				sp.add(j, 1)
			}
		}
		sp.end()
	}
	return pats, sp, of, nil
}

// dropAliased removes design columns that carry the information of fewer
// than MinLevel transplants beyond the earlier columns: column j is dropped
// when its residual sum of squares after regressing it on the kept earlier
// columns (the pivot of a Cholesky factorisation of XᵀX in column order,
// a count of transplants for 0/1 columns) is under MinLevel. An exactly
// aliased column (residual 0: lm() gives it NA) is one case; a column that
// differs from a combination of others on a handful of transplants (CB
// grafts that are all cord-blood donors but one) is the other, whose
// coefficient would run off to ±∞ as a level of < 20 transplants can.
func (c *Coding) dropAliased(pats []Pattern, sp *sparseRows) *sparseRows {
	p := len(c.Columns)
	xtx := newMatrix(p)
	for i, pt := range pats {
		lo, hi := sp.start[i], sp.start[i+1]
		nz, xs := sp.col[lo:hi], sp.x[lo:hi]
		for a, k := range nz {
			for b, l := range nz {
				xtx[k][l] += pt.N * xs[a] * xs[b]
			}
		}
	}
	var keep []int
	l := newMatrix(p) // rows of the kept columns' factor
	for j := range p {
		// Residual squared norm of column j against the kept columns.
		r := make([]float64, len(keep))
		for a, ka := range keep {
			s := xtx[j][ka]
			for b := range a {
				s -= r[b] * l[a][b]
			}
			r[a] = s / l[a][a]
		}
		d := xtx[j][j]
		for _, v := range r {
			d -= v * v
		}
		if j > 0 && d < MinLevel {
			continue
		}
		row := len(keep)
		copy(l[row], r)
		l[row][row] = math.Sqrt(d)
		keep = append(keep, j)
	}
	if len(keep) == p {
		return sp
	}
	cols := make([]Column, len(keep))
	to := make([]int, p) // column -> kept position + 1 (0: dropped)
	for a, j := range keep {
		cols[a] = c.Columns[j]
		to[j] = a + 1
	}
	c.Aliased = nil
	for j := range p {
		if to[j] == 0 {
			c.Aliased = append(c.Aliased, c.Columns[j])
		}
	}
	c.Columns = cols
	out := newSparseCap(len(pats), len(sp.col))
	for i := range pats {
		lo, hi := sp.start[i], sp.start[i+1]
		for j, k := range sp.col[lo:hi] {
			if to[k] > 0 {
				out.add(to[k]-1, sp.x[lo+j])
			}
		}
		out.end()
	}
	return out
}

// removeLast takes the last factor out of the model (recording why) and
// rebuilds the design columns.
func (c *Coding) removeLast(reason string) {
	f := c.Factors[len(c.Factors)-1]
	c.Factors = c.Factors[:len(c.Factors)-1]
	c.Dropped = append(c.Dropped, Dropped{f.Name, reason})
	c.Aliased = nil
	c.Columns = c.Columns[:1]
	for k, f := range c.Factors {
		for l := 1; l < len(f.Levels); l++ {
			c.Columns = append(c.Columns, Column{Covariate: f.Name, Level: f.Levels[l], factor: k, level: l})
		}
	}
}
