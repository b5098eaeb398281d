package centre

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
)

// Status codes of a subject's endpoint, as the warehouse cohort table has
// them: 0 censored at Time, 1 the event of interest at Time, 2 a competing
// event at Time.
const (
	Censored  = 0
	Event     = 1
	Competing = 2
)

// eventTimes is one pass over subjects sorted by time: the distinct times
// with at least one event (of any cause), with n at risk and the events of
// interest (d1) and competing events (d2) there, and for each subject the
// number of event times on or before its own time (survival's yindex).
type eventTimes struct {
	t         []int64   // the event times, index 1..J; index 0 unused
	n, d1, d2 []float64 // at risk, events, competing events there
	m         []int     // per subject: event times <= its Time
}

func newEventTimes(time []int64, status []int8) (*eventTimes, error) {
	if len(time) != len(status) {
		return nil, fmt.Errorf("pseudo-values: %d times but %d statuses", len(time), len(status))
	}
	for i := range time {
		if status[i] < Censored || status[i] > Competing {
			return nil, fmt.Errorf("pseudo-values: subject %d has status %d (want 0, 1 or 2)", i, status[i])
		}
		if time[i] < 0 {
			return nil, fmt.Errorf("pseudo-values: subject %d has negative time %d", i, time[i])
		}
	}
	ord := byTime(time)
	et := &eventTimes{t: []int64{-1}, n: []float64{0}, d1: []float64{0}, d2: []float64{0}, m: make([]int, len(time))}
	for lo := 0; lo < len(ord); {
		hi := lo
		var d1, d2 float64
		for hi < len(ord) && time[ord[hi]] == time[ord[lo]] {
			switch status[ord[hi]] {
			case Event:
				d1++
			case Competing:
				d2++
			}
			hi++
		}
		if d1+d2 > 0 {
			et.t = append(et.t, time[ord[lo]])
			et.n = append(et.n, float64(len(ord)-lo))
			et.d1 = append(et.d1, d1)
			et.d2 = append(et.d2, d2)
		}
		for _, i := range ord[lo:hi] {
			et.m[i] = len(et.n) - 1
		}
		lo = hi
	}
	return et, nil
}

// byTime returns the subjects' indices ordered by time, ties in index
// order. Times are days, so it is a counting sort, O(n + range); a range
// far wider than the subjects falls back to a comparison sort (the same
// order).
func byTime(time []int64) []int {
	ord := make([]int, len(time))
	if len(time) == 0 {
		return ord
	}
	lo, hi := slices.Min(time), slices.Max(time)
	if uint64(hi-lo) > uint64(4*len(time)+1<<16) {
		for i := range ord {
			ord[i] = i
		}
		slices.SortFunc(ord, func(a, b int) int { return cmp.Or(cmp.Compare(time[a], time[b]), cmp.Compare(a, b)) })
		return ord
	}
	next := make([]int, hi-lo+2) // next[t-lo]: where the next subject of time t goes
	for _, t := range time {
		next[t-lo+1]++
	}
	for k := 1; k < len(next); k++ {
		next[k] += next[k-1]
	}
	for i, t := range time {
		ord[next[t-lo]] = i
		next[t-lo]++
	}
	return ord
}

// tau is the number of event times on or before day t.
func (et *eventTimes) tau(t int64) int {
	return sort.Search(len(et.t), func(j int) bool { return et.t[j] > t }) - 1
}

// PseudoKM returns the infinitesimal-jackknife pseudo-values of the
// Kaplan–Meier survival at day t, one per subject, as
// survival::pseudo(survfit(Surv(time, status == 1) ~ 1), times = t):
//
//	pseudo_i = S(t) + n·D_i,   D_i = ∂S(t)/∂w_i = −S(t)·A_i,
//	A_i = [event_i, y_i ≤ t]/(n_m − d_m) − Σ_{t_j ≤ min(y_i, t)} d_j/(n_j(n_j − d_j))
//
// with m the last event time on or before y_i and 1/(n − d) taken as 0
// where n = d (rsurvpart1 in survival's R/residuals.survfit.R). Status 2
// counts as censored. The cost is one sort, O(n log n).
func PseudoKM(time []int64, status []int8, t int64) ([]float64, error) {
	st := make([]int8, len(status))
	for i, s := range status {
		if s < Censored || s > Competing {
			return nil, fmt.Errorf("pseudo-values: subject %d has status %d (want 0, 1 or 2)", i, s)
		}
		if s == Event {
			st[i] = Event
		}
	}
	et, err := newEventTimes(time, st)
	if err != nil {
		return nil, err
	}
	p := et.prefix()
	tau := et.tau(t)
	nn := float64(len(time))
	out := make([]float64, len(time))
	for i := range time {
		a := p.a(et, i, st[i] != Censored, tau)
		d := -p.s[tau] * a
		out[i] = p.s[tau] + nn*d
	}
	return out, nil
}

// PseudoAJ returns the infinitesimal-jackknife pseudo-values of the
// Aalen–Johansen cumulative incidence of the event of interest (status 1,
// status 2 competing) at day t, as the state-"1" column of
// survival::pseudo(survfit(Surv(time, factor(status)) ~ 1), times = t).
//
// The influence of subject i on F(t) = Σ_{t_j ≤ t} S(t_j−)·d1_j/n_j, with
// S the all-cause Kaplan–Meier, is the derivative of the Aalen–Johansen
// product with respect to i's case weight (survival's survfitresid.c walks
// U ← U·H + p·∂H; for one transient state it reduces to):
//
//	U_i = Σ_{t_j ≤ t} [ ∂S(t_j−)/∂w_i · d1_j/n_j + S(t_j−)·(dN1_ij − Y_ij·d1_j/n_j)/n_j ]
//
// where ∂S(t_j−)/∂w_i is PseudoKM's D_i of the all-cause curve at t_j−.
// Split at i's own time this is a handful of prefix sums, so the cost is
// one sort: pseudo_i = F(t) + n·U_i.
func PseudoAJ(time []int64, status []int8, t int64) ([]float64, error) {
	et, err := newEventTimes(time, status)
	if err != nil {
		return nil, err
	}
	p := et.prefix()
	tau := et.tau(t)
	nn := float64(len(time))
	out := make([]float64, len(time))
	for i := range time {
		m := et.m[i]
		mm := min(m, tau)
		a := p.a(et, i, status[i] != Censored, tau)
		// Before and at i's own time i is at risk without an event:
		// ∂S(t_j−)/∂w_i = S(t_j−)·C_{j−1} (prefix P). After it,
		// ∂S(t_j−)/∂w_i = −S(t_j−)·A_i, which sums to −A_i·(F(t) − F(y_i)).
		u := p.p[mm] - a*(p.f[tau]-p.f[mm]) - p.q[mm]
		if status[i] == Event && m <= tau {
			u += p.s[m-1] / et.n[m]
		}
		out[i] = p.f[tau] + nn*u
	}
	return out, nil
}

// prefixes holds, at index j = 0..J (after the j-th event time):
// s all-cause survival, f incidence of the event of interest, c = Σ d/(n(n−d))
// (Greenwood's sum, 0 where n = d), dt = 1/(n − d) (0 where n = d),
// p = Σ S(t_k−)·c_{k−1}·d1_k/n_k and q = Σ S(t_k−)·d1_k/n_k².
type prefixes struct {
	s, f, c, dt, p, q []float64
}

func (et *eventTimes) prefix() *prefixes {
	J := len(et.n) - 1
	p := &prefixes{
		s: make([]float64, J+1), f: make([]float64, J+1), c: make([]float64, J+1),
		dt: make([]float64, J+1), p: make([]float64, J+1), q: make([]float64, J+1),
	}
	p.s[0] = 1
	for j := 1; j <= J; j++ {
		n, d1, d := et.n[j], et.d1[j], et.d1[j]+et.d2[j]
		if n > d {
			p.dt[j] = 1 / (n - d)
		}
		sPrev := p.s[j-1]
		p.s[j] = sPrev * (n - d) / n
		p.f[j] = p.f[j-1] + sPrev*d1/n
		p.c[j] = p.c[j-1] + p.dt[j]*d/n
		p.p[j] = p.p[j-1] + sPrev*p.c[j-1]*d1/n
		p.q[j] = p.q[j-1] + sPrev*d1/(n*n)
	}
	return p
}

// a is A_i of PseudoKM for the all-cause curve at the tau-th event time:
// i's own event term (if it failed on or before then) minus the Greenwood
// sum up to the earlier of its time and tau.
func (p *prefixes) a(et *eventTimes, i int, failed bool, tau int) float64 {
	m := et.m[i]
	var add1 float64
	if failed && m <= tau {
		add1 = p.dt[m]
	}
	return add1 - p.c[min(m, tau)]
}
