package report

import (
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// One section per declared analysis (SPEC §5), after the methods: figures
// (one per dimension, the others pooled; at most six curves a plot, small
// multiples with the analysis's pooled curve as reference beyond), the
// landmark table of every stratum, the tests. Every count goes through the
// report's one rule under keys of its own (analysisCell), and the sums
// between an analysis's strata — a dimension's groups add up to the stratum
// pooled over it — are declared, so the suppression and the audit cover
// them with every other table's.

func init() { addSection(orderAnalyses, "analyses", analysisSections) }

// Analysis is one declared analysis of the config (SPEC §5) with its
// results: a section <section id="analysis-<name>"> after the methods.
type Analysis struct {
	Name, Title string
	// Subset is set when a where restricts the analysis's transplants: its
	// pooled strata are then not the default analysis's.
	Subset bool
	// Dims are the analysis's dimensions (its `by`), in order.
	Dims      []string
	Landmarks []int // its landmark days, ascending
	Endpoints []AnalysisEndpoint
	// Order, parallel to Dims, gives a dimension's groups in display order
	// (a band's, from its lowest edge up); groups not listed, and
	// dimensions without an order (nil), sort by byte value after the
	// listed ones.
	Order [][]string
}

// groupLess orders two groups of dimension d: "*" first, then as a.Order
// says, then byte order.
func (a *Analysis) groupLess(d int, x, y string) bool {
	if x == y {
		return false
	}
	if x == "*" || y == "*" {
		return x == "*"
	}
	var order []string
	if d < len(a.Order) {
		order = a.Order[d]
	}
	ix, iy := slices.Index(order, x), slices.Index(order, y)
	switch {
	case ix >= 0 && iy >= 0:
		return ix < iy
	case ix >= 0 || iy >= 0:
		return ix >= 0
	}
	return x < y
}

// strataLess orders strata dimension by dimension with groupLess.
func (a *Analysis) strataLess(x, y []string) bool {
	for d := range x {
		if x[d] != y[d] {
			return a.groupLess(d, x[d], y[d])
		}
	}
	return false
}

// AnalysisEndpoint is one endpoint of an analysis. Groups of every curve
// and landmark line up with Analysis.Dims; "*" is pooled.
type AnalysisEndpoint struct {
	Name, Label, Estimator string
	// Population is the transplant type the endpoint is defined for
	// (endpoints.PopulationAllo, …), "all" or "" for every transplant.
	Population string
	Horizon    int
	Curves     []AnalysisCurve
	Landmarks  []AnalysisLandmark
	Tests      []AnalysisTest
}

// AnalysisCurve is one stratum's curve.
type AnalysisCurve struct {
	Groups []string
	N      int
	Points []Point
}

// AnalysisLandmark is one stratum's estimate at one landmark day.
type AnalysisLandmark struct {
	Groups                 []string
	Day, N, NRisk, NEvents int
	Estimate, Lower, Upper float64
}

// AnalysisTest is one comparison of the groups of a dimension.
type AnalysisTest struct {
	Comparison, Within, Method, Excluded string
	Statistic, PValue                    float64
	DF                                   int
}

// The tables of the analysis sections, as the disclosure tests name them.
const (
	anFigures   = "analysis-figures"
	anAtRisk    = "analysis-atrisk"
	anLandmarks = "analysis-landmarks"
)

// analysisCell is the key of a count of an analysis's stratum groups: its
// transplants (q "n", or "risk" at day 0) or its number at risk at day. The
// transplants of a stratum depend on the endpoint's population only, so
// endpoints of one population share them. A stratum that is one of the
// default analysis's (no where, every other dimension pooled) has that
// stratum's key (canonicalCell), so it is hidden everywhere or nowhere.
func analysisCell(q string, a *Analysis, e *AnalysisEndpoint, day int, groups []string) string {
	of := "all"
	if a.Subset {
		of = "sub"
	}
	pop := e.Population
	if pop == "" {
		pop = "all"
	}
	var kv []string
	if q == "risk" && day > 0 {
		kv = []string{"an", a.Name, "ep", e.Name, "day", strconv.Itoa(day), "pop", pop, "of", of}
	} else {
		q, kv = "n", []string{"an", a.Name, "pop", pop, "of", of}
	}
	for i, dim := range a.Dims {
		kv = append(kv, dim, groups[i])
	}
	return canonicalCell(cellKey(q, kv...))
}

// canonicalCell maps the key of an analysis's count onto the default
// analysis's key of the same count where there is one: an analysis of
// every transplant ("of=all") whose dimensions other than transplant_type,
// donor_type and indication are all pooled, in a stratum the default
// analysis has (donor types within ALLO only). An endpoint of one
// transplant type counts that type's transplants. Any other key is
// returned as it is.
// The audit applies it to the totals it derives, so that an analysis's
// groups add up to the default stratum they split.
func canonicalCell(k string) string {
	p := parseKey(k)
	if p.q != "n" && p.q != "risk" {
		return k
	}
	st := Stratum{"*", "*", "*"}
	var an, pop, of, ep, day string
	for i, name := range p.names {
		v := p.vals[i]
		switch name {
		case "an":
			an = v
		case "pop":
			pop = v
		case "of":
			of = v
		case "ep":
			ep = v
		case "day":
			day = v
		case "transplant_type":
			st.TransplantType = v
		case "donor_type":
			st.DonorType = v
		case "indication":
			st.Indication = v
		default:
			if v != "*" {
				return k
			}
		}
	}
	if an == "" || of != "all" {
		return k
	}
	if pop != "all" && pop != "" && st.TransplantType == "*" {
		st.TransplantType = pop
	}
	if st.DonorType != "*" && st.TransplantType != "ALLO" {
		// The default analysis has donor types within ALLO only: a donor
		// type pooled over transplant types is the analysis's own count.
		return k
	}
	if p.q == "n" {
		return stratumCell(st)
	}
	d, err := strconv.Atoi(day)
	if err != nil {
		return k
	}
	return riskCell(ep, d, st)
}

type analysisView struct {
	Name, Dims string
	Endpoints  []analysisEndpointView
}

type analysisEndpointView struct {
	Name, Label  string
	Figures      []figureView
	Landmarks    table
	LandmarkNote string
	Tests        table
}

func groupsKey(g []string) string { return strings.Join(g, "\x00") }

func analysisSections(r *renderer) []Section {
	var out []Section
	for i := range r.d.Analyses {
		a := &r.d.Analyses[i]
		v := analysisView{Name: a.Name, Dims: strings.Join(a.Dims, " × ")}
		for j := range a.Endpoints {
			v.Endpoints = append(v.Endpoints, r.analysisEndpoint(a, &a.Endpoints[j]))
		}
		md := "Analysis " + mdText(a.Name) + " by " + mdText(v.Dims) + ": " + strconv.Itoa(len(a.Endpoints)) +
			" endpoint(s); figures and tables in index.html, every row in results/analyses/" + mdText(a.Name) + "/.\n"
		out = append(out, Section{ID: "analysis-" + a.Name, Title: a.Title, Class: "analysis", Body: r.exec("analysis", v), Markdown: md})
	}
	return out
}

// groupLabel names a stratum of the analysis: "transplant_type ALLO,
// transplant_year 2015", "all" for the pooled one.
func groupLabel(dims []string, g []string) string {
	var parts []string
	for i, x := range g {
		if x != "*" {
			parts = append(parts, dims[i]+" "+x)
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, ", ")
}

// analysisCurve is an analysis stratum's curve as the figures draw it.
func analysisCurve(c *AnalysisCurve) *Curve { return &Curve{N: c.N, Points: c.Points} }

func (r *renderer) analysisEndpoint(a *Analysis, e *AnalysisEndpoint) analysisEndpointView {
	ev := analysisEndpointView{Name: e.Name, Label: e.Label}
	km := e.Estimator == EstimatorKM
	nKey := func(g []string) string { return analysisCell("n", a, e, 0, g) }
	rKey := func(day int, g []string) string { return analysisCell("risk", a, e, day, g) }
	hidden := func(tb string, c *AnalysisCurve) bool { return r.hidden(tb, nKey(c.Groups), c.N) }

	// The x axis: the endpoint's horizon, else the largest landmark,
	// shortened to the longest curve shown.
	h := e.Horizon
	if h <= 0 {
		h = 1825
		if n := len(a.Landmarks); n > 0 {
			h = a.Landmarks[n-1]
		}
	}
	longest := 0
	for i := range e.Curves {
		c := &e.Curves[i]
		if !hidden(anFigures, c) && len(c.Points) > 0 {
			longest = max(longest, c.Points[len(c.Points)-1].Time)
		}
	}
	if longest > 0 && longest < h {
		h = longest
	}
	ax := xAxis(h)

	// Every stratum's counts, printed or not, and the sums between them at
	// day 0 (transplants), the ticks and the landmark days.
	lmDays := map[int]bool{}
	for _, lm := range e.Landmarks {
		lmDays[lm.Day] = true
		r.note(rKey(lm.Day, lm.Groups), lm.NRisk)
	}
	days := map[int]bool{0: true}
	for d := range lmDays {
		days[d] = true
	}
	for i := range e.Curves {
		c := &e.Curves[i]
		r.note(nKey(c.Groups), c.N)
		for _, t := range ax.ticks {
			days[t] = true
			if t > 0 && !lmDays[t] {
				r.note(rKey(t, c.Groups), atRisk(analysisCurve(c), t))
			}
		}
	}
	dayList := make([]int, 0, len(days))
	for d := range days {
		dayList = append(dayList, d)
	}
	sort.Ints(dayList)
	for _, day := range dayList {
		for _, tot := range e.Curves {
			for d := range a.Dims {
				if tot.Groups[d] != "*" {
					continue
				}
				var terms []string
				for _, m := range e.Curves {
					if m.Groups[d] == "*" {
						continue
					}
					same := true
					for o := range a.Dims {
						if o != d && m.Groups[o] != tot.Groups[o] {
							same = false
							break
						}
					}
					if same {
						terms = append(terms, rKey(day, m.Groups))
					}
				}
				if len(terms) > 0 {
					sort.Strings(terms)
					r.sum(rKey(day, tot.Groups), terms...)
				}
			}
		}
	}

	ev.Figures = r.analysisFigures(a, e, ax, km, nKey, rKey)

	// Landmark table: one row per stratum.
	head := append(slices.Clone(a.Dims), "n")
	right := make([]bool, len(a.Dims))
	right = append(right, true)
	for _, day := range a.Landmarks {
		head = append(head, dayLabel(day))
		right = append(right, true)
	}
	t := table{Head: head, Right: right, Class: "landmarks"}
	byStratum := map[string][]AnalysisLandmark{}
	var order [][]string
	for _, lm := range e.Landmarks {
		k := groupsKey(lm.Groups)
		if _, ok := byStratum[k]; !ok {
			order = append(order, lm.Groups)
		}
		byStratum[k] = append(byStratum[k], lm)
	}
	sort.SliceStable(order, func(i, j int) bool { return a.strataLess(order[i], order[j]) })
	for _, g := range order {
		lms := byStratum[groupsKey(g)]
		rw := row{}
		for _, x := range g {
			rw.Cells = append(rw.Cells, pooled(x))
		}
		if r.hidden(anLandmarks, nKey(g), lms[0].N) {
			rw.Cells = append(rw.Cells, r.hiddenLabel(lms[0].N))
			rw.Span = len(g)
			t.Rows = append(t.Rows, rw)
			continue
		}
		rw.Cells = append(rw.Cells, r.count(anLandmarks, nKey(g), lms[0].N))
		rw.Sub = make([]string, len(rw.Cells))
		for _, day := range a.Landmarks {
			cell, sub := dash, ""
			for _, lm := range lms {
				if lm.Day == day {
					cell, sub = pctCI(lm.Estimate, lm.Lower, lm.Upper), r.count(anLandmarks, rKey(day, g), lm.NRisk)
				}
			}
			rw.Cells = append(rw.Cells, cell)
			rw.Sub = append(rw.Sub, sub)
		}
		t.Rows = append(t.Rows, rw)
	}
	ev.Landmarks = t
	ev.LandmarkNote = "Cells: estimate in % with its 95% confidence interval, and the number at risk at that day; all = pooled; " +
		dash + " = not estimable."
	if m := r.minCell(); m > 0 {
		ev.LandmarkNote += " Counts below " + strconv.Itoa(m) + " read \"<" + strconv.Itoa(m) + "\"; \"≥" + strconv.Itoa(m) +
			"\" is one hidden so that a smaller one cannot be worked out; a stratum whose transplants are hidden is not shown."
	}

	tt := table{Head: []string{"Comparison", "Within", "Test", "Chi-square", "df", "p", "Left out (fewer than min_group)"},
		Right: []bool{false, false, false, true, true, true, false}}
	for _, x := range e.Tests {
		chi, p := "not computable", dash
		if !empty(x.Statistic) && x.Statistic >= 0 && !empty(x.PValue) {
			chi, p = stat(x.Statistic), pvalue(x.PValue)
		}
		tt.Rows = append(tt.Rows, row{Cells: []string{x.Comparison, orDash(x.Within), methodName(x.Method), chi, strconv.Itoa(x.DF), p,
			orDash(strings.ReplaceAll(x.Excluded, ";", ", "))}})
	}
	ev.Tests = tt
	return ev
}

// analysisFigures draws one figure per dimension: its groups with the other
// dimensions pooled. More than six groups are small multiples, each panel
// with the analysis's pooled curve as reference; without a pooled curve to
// show, the six largest groups are plotted.
func (r *renderer) analysisFigures(a *Analysis, e *AnalysisEndpoint, ax axis, km bool, nKey func([]string) string, rKey func(int, []string) string) []figureView {
	var pooledAll *AnalysisCurve
	for i := range e.Curves {
		c := &e.Curves[i]
		if !slices.ContainsFunc(c.Groups, func(g string) bool { return g != "*" }) {
			pooledAll = c
		}
	}
	yTop := 1.0
	if !km {
		m := 0.0
		for i := range e.Curves {
			c := &e.Curves[i]
			if !r.hidden(anFigures, nKey(c.Groups), c.N) {
				m = max(m, maxUpper(analysisCurve(c), ax.end))
			}
		}
		yTop = incidenceTop(m)
	}
	yTitle := e.Label + " (%)"
	fr := frame{plotLeft, plotRight, plotTop, plotBottom, ax.end, yTop}
	var out []figureView
	for di, dim := range a.Dims {
		var cs []*AnalysisCurve
		for i := range e.Curves {
			c := &e.Curves[i]
			ok := c.Groups[di] != "*"
			for o := range a.Dims {
				if o != di && c.Groups[o] != "*" {
					ok = false
				}
			}
			if ok {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool { return a.groupLess(di, cs[i].Groups[di], cs[j].Groups[di]) })
		f := figure{id: "fig-" + a.Name + "-" + e.Name + "-" + dim, title: e.Label + " by " + dim, km: km,
			horizon: ax.end, yTop: yTop, yTitle: yTitle, paths: r.paths}
		var small, protect []string
		var shown []*AnalysisCurve
		for _, c := range cs {
			label := c.Groups[di]
			if r.hidden(anFigures, nKey(c.Groups), c.N) {
				if r.small(c.N) {
					small = append(small, label)
				} else {
					protect = append(protect, label)
				}
				continue
			}
			if r.paths.drawable(fr, km, analysisCurve(c)) {
				shown = append(shown, c)
			}
		}
		var notes []string
		if len(shown) > maxCurves {
			if pooledAll != nil && !r.hidden(anFigures, nKey(pooledAll.Groups), pooledAll.N) {
				f.ref, f.refName = analysisCurve(pooledAll), "All ("+a.Name+")"
			} else {
				bySize := slices.Clone(shown)
				sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].N > bySize[j].N })
				keep := map[*AnalysisCurve]bool{}
				for _, c := range bySize[:maxCurves] {
					keep[c] = true
				}
				var kept []*AnalysisCurve
				var rest []string
				for _, c := range shown {
					if keep[c] {
						kept = append(kept, c)
					} else {
						rest = append(rest, c.Groups[di])
					}
				}
				shown = kept
				notes = append(notes, "Largest six plotted; "+strings.Join(rest, ", ")+" in the table below.")
			}
		}
		for _, c := range shown {
			fc := figCurve{label: c.Groups[di], curve: analysisCurve(c), n: r.count(anFigures, nKey(c.Groups), c.N)}
			for _, t := range ax.ticks {
				n := c.N
				if t > 0 {
					n = atRisk(fc.curve, t)
				}
				fc.risk = append(fc.risk, r.count(anAtRisk, rKey(t, c.Groups), n))
			}
			f.curves = append(f.curves, fc)
		}
		if len(small) > 0 {
			notes = append(notes, "Not plotted, fewer than "+strconv.Itoa(r.minCell())+" transplants: "+strings.Join(small, ", ")+".")
		}
		if len(protect) > 0 {
			notes = append(notes, "Not plotted, so that a smaller count cannot be worked out: "+strings.Join(protect, ", ")+".")
		}
		fv := figureView{ID: f.id, Title: "By " + dim, Note: strings.Join(notes, " ")}
		if len(f.curves) > 0 {
			if !r.c.record { // a recording pass's page is thrown away
				fv.SVG = template.HTML(f.svg())
			}
		} else if fv.Note == "" {
			fv.Note = "No curve to plot."
		}
		out = append(out, fv)
	}
	return out
}

// pooled shows a pooled group as "all".
func pooled(s string) string {
	if s == "*" {
		return "all"
	}
	return s
}
