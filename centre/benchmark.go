package centre

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"marrow/estimate"
)

// Endpoint is a benchmarked 1-year outcome.
type Endpoint struct {
	Name string
	// Incidence: the Aalen–Johansen incidence of status 1 with status 2
	// competing (lower is better); otherwise Kaplan–Meier survival of
	// status 1 (higher is better).
	Incidence bool
}

// The benchmarked endpoints of SPEC §6.
var (
	OS  = Endpoint{Name: "os"}
	NRM = Endpoint{Name: "nrm", Incidence: true}
)

// Cohort is the benchmark cohort of one transplant type: per transplant
// its centre, the endpoint's time (days) and status, the overall-survival
// time and status (for Clark's completeness) and the case-mix covariates.
// A transplant with centre "" is in the model but in no centre's row.
type Cohort struct {
	Centre     []string
	Time       []int64
	Status     []int8
	OSTime     []int64
	OSStatus   []int8
	Covariates []Covariate
	// Pattern is each transplant's covariate pattern (CovariatePatterns of
	// Covariates), if the caller has it; nil: Benchmark numbers them.
	Pattern []int32
}

// Options are the benchmark's settings.
type Options struct {
	Day       int64 // the landmark, 365
	MinCentre int   // fewer transplants: not_assessed (SPEC default 20)
}

// CentreRow is one row of results/centres (SPEC §6).
type CentreRow struct {
	Centre       string
	N            int64   // transplants in the benchmark cohort
	NEvents      int64   // events of interest on or before Day
	Observed     float64 // the centre's estimate at Day (NaN: not estimable)
	StdErr       float64 // its standard error (Greenwood; cmprsk's for incidence)
	Expected     float64 // mean model prediction over the centre's transplants
	Lower95      float64
	Upper95      float64
	Lower998     float64
	Upper998     float64
	Completeness float64 // Clark's C over [0, Day]
	Flag         string
	Reason       string // why not_assessed; "" otherwise
}

// Term is one row of results/centre_model: a coefficient with its robust
// standard error, or (Estimate NaN) a covariate or level that has none,
// with Note saying why.
type Term struct {
	Covariate, Level string
	N                int64 // transplants at this level (after merging)
	Estimate         float64
	RobustSE         float64
	Note             string
}

// Result is the benchmark of one transplant type and endpoint.
type Result struct {
	Centres []CentreRow
	Model   []Term
	Pseudo  []float64 // per transplant, in Cohort order
	Fit     *GEEFit   // nil when the registry has no 1-year events
	Coding  *Coding
}

// Flags of SPEC §6.
const (
	FlagBetter      = "better"
	FlagWorse       = "worse"
	FlagBetter95    = "better95"
	FlagWorse95     = "worse95"
	FlagAsExpected  = "as_expected"
	FlagNotAssessed = "not_assessed"
)

// MinCompleteness is CIBMTR's rule: a centre whose follow-up completeness
// is under it is not assessed.
const MinCompleteness = 0.9

// Normal quantiles: Φ⁻¹(0.975) and Φ⁻¹(0.999) (R's qnorm), the two-sided
// 95% and 99.8% limits.
const (
	Z95  = estimate.Z95
	Z998 = 3.090232306167813
)

// ModelError is a risk model that could not be fitted; the run fails.
type ModelError struct {
	Model string // e.g. "ALLO os"
	Err   error
}

func (e *ModelError) Error() string { return fmt.Sprintf("centre risk model %s: %v", e.Model, e.Err) }
func (e *ModelError) Unwrap() error { return e.Err }

// Benchmark computes pseudo-values of the registry-wide estimate at
// o.Day, fits the logit-link GEE on the case mix, and compares each
// centre's observed estimate with its expected value (package doc). name
// labels the model in errors.
func Benchmark(c Cohort, ep Endpoint, o Options, name string) (*Result, error) {
	n := len(c.Time)
	if len(c.Centre) != n || len(c.Status) != n || len(c.OSTime) != n || len(c.OSStatus) != n {
		return nil, fmt.Errorf("centre benchmark %s: columns of different lengths", name)
	}
	res := &Result{}
	// Encode a copy: the caller's covariates may be shared by goroutines.
	c.Covariates = append([]Covariate(nil), c.Covariates...)
	if err := EncodeCovariates(c.Covariates); err != nil {
		return nil, &ModelError{name, err}
	}
	if c.Pattern == nil {
		var err error
		if c.Pattern, err = CovariatePatterns(c.Covariates); err != nil {
			return nil, &ModelError{name, err}
		}
		if c.Pattern == nil { // no covariates: one pattern
			c.Pattern = make([]int32, n)
		}
	} else if len(c.Pattern) != n {
		return nil, fmt.Errorf("centre benchmark %s: columns of different lengths", name)
	}
	event := make([]bool, n)
	anyEvent := false
	for i := range event {
		event[i] = c.Status[i] == Event && c.Time[i] <= o.Day
		anyEvent = anyEvent || event[i]
	}
	mu := make([]float64, n) // each transplant's prediction
	for i := range mu {
		mu[i] = math.NaN()
	}
	unmodelled := "no 1-year events in the registry"
	if anyEvent {
		var err error
		if ep.Incidence {
			res.Pseudo, err = PseudoAJ(c.Time, c.Status, o.Day)
		} else {
			res.Pseudo, err = PseudoKM(c.Time, c.Status, o.Day)
		}
		if err != nil {
			return nil, &ModelError{name, err}
		}
		// The mean pseudo-value is the registry estimate itself.
		var sum float64
		for _, v := range res.Pseudo {
			sum += v
		}
		if m := sum / float64(n); m > 1e-12 && m < 1-1e-12 {
			unmodelled = ""
		} else {
			unmodelled = "registry 1-year estimate is 0 or 1"
		}
	}
	if unmodelled == "" {
		coding, err := Code(c.Covariates, event)
		if err != nil {
			return nil, &ModelError{name, err}
		}
		// Without a finite solution (separation) the last covariate is
		// removed and the model refitted, down to the intercept, which
		// always fits an estimate in (0, 1).
		var fit *GEEFit
		var pats []Pattern
		var sp *sparseRows
		var of []int
		for {
			if pats, sp, of, err = coding.patterns(c.Covariates, c.Pattern, res.Pseudo); err != nil {
				break
			}
			sp = coding.dropAliased(pats, sp)
			fit, err = fitLogitGEE(pats, sp, len(coding.Columns))
			if !errors.Is(err, ErrSeparated) || len(coding.Factors) == 0 {
				break
			}
			coding.removeLast("no finite estimate with it (separation): removed")
		}
		if err != nil {
			return nil, &ModelError{name, err}
		}
		res.Fit, res.Coding = fit, coding
		muPat := make([]float64, len(pats))
		finite := allFinite(fit.Coef)
		for k := range pats {
			muPat[k] = expit(sp.dot(k, fit.Coef, finite))
		}
		for i := range mu {
			mu[i] = muPat[of[i]]
		}
		res.Model = modelTerms(coding, fit, pats, sp)
	}
	res.Centres = centreRows(c, ep, o, mu, unmodelled)
	return res, nil
}

// modelTerms lists the coefficients and then, with notes, what has none.
func modelTerms(c *Coding, fit *GEEFit, pats []Pattern, sp *sparseRows) []Term {
	// Transplants per column: the zeros' N·0 = +0 change no count.
	count := make([]float64, len(c.Columns))
	for i, pt := range pats {
		lo, hi := sp.start[i], sp.start[i+1]
		for j, k := range sp.col[lo:hi] {
			count[k] += pt.N * sp.x[lo+j]
		}
	}
	var out []Term
	for j, col := range c.Columns {
		t := Term{Covariate: col.Covariate, Level: col.Level, N: int64(count[j]), Estimate: fit.Coef[j], RobustSE: fit.RobustSE[j]}
		if j == 0 {
			t.Covariate, t.Level = "(intercept)", ""
		}
		out = append(out, t)
	}
	nan := math.NaN()
	for _, f := range c.Factors {
		out = append(out, Term{Covariate: f.Name, Level: f.Levels[0], Estimate: nan, RobustSE: nan, Note: "reference"})
		var merged []string
		for l := range f.Merged {
			merged = append(merged, l)
		}
		sort.Strings(merged)
		for _, l := range merged {
			out = append(out, Term{Covariate: f.Name, Level: l, Estimate: nan, RobustSE: nan, Note: "merged into " + f.Merged[l]})
		}
	}
	for _, col := range c.Aliased {
		out = append(out, Term{Covariate: col.Covariate, Level: col.Level, Estimate: nan, RobustSE: nan, Note: "aliased with earlier terms"})
	}
	for _, d := range c.Dropped {
		out = append(out, Term{Covariate: d.Name, Estimate: nan, RobustSE: nan, Note: "dropped: " + d.Reason})
	}
	return out
}

// centreRows computes each centre's observed estimate, expected value,
// limits, completeness and flag, in centre order.
func centreRows(c Cohort, ep Endpoint, o Options, mu []float64, unmodelled string) []CentreRow {
	// Each transplant's centre as a number (-1: none), then the centres in
	// id order with their transplants in index order and in time order
	// (for the centre's own estimate: one counting sort of the cohort
	// instead of one sort per centre).
	seen := map[string]int{}
	var ids []string
	of := make([]int, len(c.Centre))
	for i, id := range c.Centre {
		if id == "" {
			of[i] = -1
			continue
		}
		k, ok := seen[id]
		if !ok {
			k = len(ids)
			seen[id] = k
			ids = append(ids, id)
		}
		of[i] = k
	}
	rank := make([]int, len(ids)) // first-seen number -> position in id order
	{
		order := make([]int, len(ids))
		for k := range order {
			order[k] = k
		}
		sort.Slice(order, func(a, b int) bool { return ids[order[a]] < ids[order[b]] })
		sorted := make([]string, len(ids))
		for r, k := range order {
			rank[k], sorted[r] = r, ids[k]
		}
		ids = sorted
	}
	members, inTime := make([][]int, len(ids)), make([][]int, len(ids))
	size := make([]int, len(ids))
	for i, k := range of {
		if k >= 0 {
			of[i] = rank[k]
			size[rank[k]]++
		}
	}
	for k := range members {
		members[k], inTime[k] = make([]int, 0, size[k]), make([]int, 0, size[k])
	}
	for i, k := range of {
		if k >= 0 {
			members[k] = append(members[k], i)
		}
	}
	for _, i := range byTime(c.Time) {
		if k := of[i]; k >= 0 {
			inTime[k] = append(inTime[k], i)
		}
	}
	out := make([]CentreRow, 0, len(ids))
	for k, id := range ids {
		idx := members[k]
		r := CentreRow{Centre: id, N: int64(len(idx))}
		var sumMu, obs, pot float64
		for _, i := range idx {
			sumMu += mu[i]
			if c.Status[i] == Event && c.Time[i] <= o.Day {
				r.NEvents++
			}
			o1, p1 := clark(c.OSTime[i], c.OSStatus[i], o.Day)
			obs += o1
			pot += p1
		}
		r.Expected = sumMu / float64(len(idx))
		r.Completeness = 1
		if pot > 0 {
			r.Completeness = obs / pot
		}
		r.Observed, r.StdErr = observed(c, inTime[k], ep, o.Day)
		r.Lower95, r.Upper95, r.Lower998, r.Upper998 = Limits(r.Expected, r.Observed, r.StdErr, r.N)
		r.Flag, r.Reason = flag(r, ep, o, unmodelled)
		out = append(out, r)
	}
	return out
}

// clark is one transplant's share of Clark's completeness index over
// [0, day]: the days observed (follow-up, up to day) and the days that
// could have been observed (up to death or day, whichever is first).
func clark(osTime int64, osStatus int8, day int64) (observed, potential float64) {
	observed = float64(min(osTime, day))
	potential = float64(day)
	if osStatus == Event && osTime <= day {
		potential = float64(osTime)
	}
	return observed, potential
}

// observed is the centre's own §3 estimate at day and its standard error;
// idx are the centre's transplants in time order.
func observed(c Cohort, idx []int, ep Endpoint, day int64) (est, se float64) {
	type tk struct {
		t  int64
		st int8
	}
	subj := make([]tk, len(idx))
	for k, i := range idx {
		subj[k] = tk{c.Time[i], c.Status[i]}
	}
	// The estimate and its standard error at day depend on the rows up to
	// day only; At needs a later time to tell day from past the end. So
	// the table stops at the first time after day, with everyone left
	// censored there (a consistent table, one point after day).
	var rows []estimate.RiskRow
	for lo := 0; lo < len(subj); {
		if subj[lo].t > day {
			left := int64(len(subj) - lo)
			rows = append(rows, estimate.RiskRow{Time: subj[lo].t, NRisk: left, NCensor: left})
			break
		}
		r := estimate.RiskRow{Time: subj[lo].t, NRisk: int64(len(subj) - lo)}
		hi := lo
		for ; hi < len(subj) && subj[hi].t == subj[lo].t; hi++ {
			switch subj[hi].st {
			case Event:
				r.NEvent++
			case Competing:
				r.NCompete++
			default:
				r.NCensor++
			}
		}
		rows = append(rows, r)
		lo = hi
	}
	var curve *estimate.Curve
	var err error
	if ep.Incidence {
		curve, err = estimate.NewCumulativeIncidence(rows)
	} else {
		curve, err = estimate.NewKaplanMeier(rows, estimate.LogLog)
	}
	if err != nil {
		return math.NaN(), math.NaN() // cannot happen: the table is built above
	}
	l := curve.At(day)
	return l.Estimate, l.StdErr
}

// Limits are the funnel-plot control limits (Spiegelhalter 2005) at 95%
// and 99.8% around expected for a centre of n transplants whose observed
// estimate has standard error se: the estimate is taken as normal on the
// logit scale with the binomial variance of a proportion expected on
// nEff transplants, var(logit) = 1/(nEff·E(1 − E)), so
//
//	limits = expit(logit E ± z/sqrt(nEff·E(1 − E))).
//
// nEff is the effective sample size of the centre's own estimate,
// O(1 − O)/se² (n when there is no censoring: Greenwood's variance is then
// O(1 − O)/n), at most n; where it is undefined (O is 0 or 1, or se 0 or
// missing) nEff = n (EffectiveN).
//
// The logit scale never reaches 0 or 1, but an estimate can: a centre
// with no event at all. So a lower limit is 0 where a centre of that
// precision would see no event with at least the limit's tail probability,
// (1 − E)^nEff ≥ 0.025 (95%) or 0.001 (99.8%) — the exact binomial
// probability of the boundary — and an upper limit is 1 where E^nEff is.
// A centre at the boundary is then flagged only when that is improbable.
// Limits are NaN when expected is not in (0, 1).
func Limits(expected, obs, se float64, n int64) (lo95, hi95, lo998, hi998 float64) {
	nan := math.NaN()
	if !(expected > 0 && expected < 1) || n <= 0 {
		return nan, nan, nan, nan
	}
	nEff := EffectiveN(obs, se, n)
	lg := math.Log(expected / (1 - expected))
	sd := 1 / math.Sqrt(nEff*expected*(1-expected))
	lo95, hi95, lo998, hi998 = expit(lg-Z95*sd), expit(lg+Z95*sd), expit(lg-Z998*sd), expit(lg+Z998*sd)
	p0, p1 := math.Pow(1-expected, nEff), math.Pow(expected, nEff)
	if p0 >= 0.025 {
		lo95 = 0
	}
	if p0 >= 0.001 {
		lo998 = 0
	}
	if p1 >= 0.025 {
		hi95 = 1
	}
	if p1 >= 0.001 {
		hi998 = 1
	}
	return lo95, hi95, lo998, hi998
}

// EffectiveN is the effective number of transplants of an estimate obs
// with standard error se from n transplants (see Limits).
func EffectiveN(obs, se float64, n int64) float64 {
	nEff := float64(n)
	if obs > 0 && obs < 1 && se > 0 {
		nEff = math.Min(nEff, obs*(1-obs)/(se*se))
	}
	return nEff
}

// flag is SPEC §6's flag of an assessed centre, or not_assessed with the
// reason; unmodelled is why the registry has no risk model ("" if it has).
func flag(r CentreRow, ep Endpoint, o Options, unmodelled string) (string, string) {
	switch {
	case unmodelled != "":
		return FlagNotAssessed, unmodelled
	case r.N < int64(o.MinCentre):
		return FlagNotAssessed, fmt.Sprintf("fewer than %d transplants", o.MinCentre)
	case r.Completeness < MinCompleteness:
		return FlagNotAssessed, fmt.Sprintf("follow-up completeness under %g", MinCompleteness)
	case math.IsNaN(r.Observed):
		return FlagNotAssessed, fmt.Sprintf("no estimate at day %d", o.Day)
	case math.IsNaN(r.Lower998):
		return FlagNotAssessed, "no limits"
	}
	high, low := FlagBetter, FlagWorse
	high95, low95 := FlagBetter95, FlagWorse95
	if ep.Incidence {
		high, low, high95, low95 = FlagWorse, FlagBetter, FlagWorse95, FlagBetter95
	}
	switch {
	case r.Observed > r.Upper998:
		return high, ""
	case r.Observed < r.Lower998:
		return low, ""
	case r.Observed > r.Upper95:
		return high95, ""
	case r.Observed < r.Lower95:
		return low95, ""
	}
	return FlagAsExpected, ""
}
