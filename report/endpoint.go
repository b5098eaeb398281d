package report

import (
	"html/template"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// One section per endpoint: figures (at most six curves a plot, small
// multiples beyond), the landmark table of the strata shown, the tests.

func init() { addSection(orderEndpoints, "endpoints", endpointSections) }

type endpointView struct {
	ID, Name, Label, Estimator, Definition string
	Figures                                []figureView
	Landmarks                              table
	LandmarkNote, HiddenNote               string
	Tests                                  table
	TestNote                               string
}

type figureView struct {
	ID, Title string
	SVG       template.HTML // hand-built, every text escaped by svgText
	Note      string        // strata not plotted, groups left out of the test
}

func endpointSections(r *renderer) []Section {
	var out []Section
	for i := range r.d.Endpoints {
		e := &r.d.Endpoints[i]
		v := r.endpoint(e)
		out = append(out, Section{ID: v.ID, Title: v.Label, Class: "endpoint", Body: r.exec("endpoint", v)})
	}
	return out
}

// axisTitle names the endpoint on the y axis: "Overall survival (%)",
// "Cumulative incidence of relapse (%)".
func axisTitle(e *Endpoint) string {
	if e.KaplanMeier() || e.Name == "nrm" || strings.Contains(strings.ToLower(e.Label), "mortality") {
		return e.Label + " (%)"
	}
	l := strings.TrimSuffix(e.Label, " incidence")
	if c, size := utf8.DecodeRuneInString(l); size < len(l) {
		if n, _ := utf8.DecodeRuneInString(l[size:]); unicode.IsLower(n) {
			l = string(unicode.ToLower(c)) + l[size:]
		}
	}
	return "Cumulative incidence of " + l + " (%)"
}

func estimatorName(e string) string {
	switch e {
	case EstimatorKM:
		return "Kaplan–Meier"
	case EstimatorCI:
		return "Cumulative incidence (Aalen–Johansen)"
	}
	return e
}

// horizon is the x-axis end of the endpoint's figures in days: the
// endpoint's own, else the largest landmark, shortened to the longest
// plotted curve.
func (r *renderer) horizon(e *Endpoint) int {
	if e.Horizon > 0 {
		return e.Horizon
	}
	h := 1825
	if n := len(r.d.Config.Landmarks); n > 0 {
		h = r.d.Config.Landmarks[n-1]
	}
	longest := 0
	for i := range e.Curves {
		c := &e.Curves[i]
		if r.stratumHidden("figures", c.Stratum, c.N) || len(c.Points) == 0 {
			continue
		}
		if t := c.Points[len(c.Points)-1].Time; t > longest {
			longest = t
		}
	}
	if longest > 0 && longest < h {
		h = longest
	}
	return h
}

func (r *renderer) endpoint(e *Endpoint) endpointView {
	ev := endpointView{ID: "ep-" + e.Name, Name: e.Name, Label: e.Label, Estimator: estimatorName(e.Estimator), Definition: e.Definition}
	ax := xAxis(r.horizon(e))
	r.riskCells(e, ax.ticks)
	ev.Figures = r.figures(e, ax)
	ev.Landmarks, ev.LandmarkNote, ev.HiddenNote = r.landmarkTable(e)
	ev.Tests, ev.TestNote = r.testsTable(e)
	return ev
}

// riskCells records the numbers at risk of every stratum of e at the x
// ticks and landmark days, with the sums between strata at each day.
func (r *renderer) riskCells(e *Endpoint, ticks []int) {
	days := map[int]bool{}
	var strata []Stratum
	seen := map[Stratum]bool{}
	for _, l := range e.Landmarks {
		days[l.Day] = true
		r.note(riskCell(e.Name, l.Day, l.Stratum), l.NRisk)
		if !seen[l.Stratum] {
			seen[l.Stratum] = true
			strata = append(strata, l.Stratum)
		}
	}
	for i := range e.Curves {
		c := &e.Curves[i]
		for _, t := range ticks {
			if t > 0 && !days[t] {
				r.note(riskCell(e.Name, t, c.Stratum), atRisk(c, t))
			}
		}
		if !seen[c.Stratum] {
			seen[c.Stratum] = true
			strata = append(strata, c.Stratum)
		}
	}
	for _, t := range ticks {
		days[t] = true
	}
	delete(days, 0)
	var ds []int
	for d := range days {
		ds = append(ds, d)
	}
	sort.Ints(ds)
	sort.Slice(strata, func(i, j int) bool { return lessStratum(strata[i], strata[j]) })
	for _, d := range ds {
		r.strataSums(strata, func(st Stratum) string { return riskCell(e.Name, d, st) })
	}
}

// testFor returns e's test of comparison within, or nil.
func testFor(e *Endpoint, comparison, within string) *Test {
	for i := range e.Tests {
		if t := &e.Tests[i]; t.Comparison == comparison && t.Within == within {
			return t
		}
	}
	return nil
}

// computable reports whether a test has a statistic (SPEC §3: a negative
// or empty one is "not computable").
func computable(t *Test) bool { return !empty(t.Statistic) && t.Statistic >= 0 && !empty(t.PValue) }

func methodName(m string) string {
	switch m {
	case "logrank":
		return "Log-rank"
	case "gray":
		return "Gray's test"
	}
	return m
}

// testText is a test's result as printed on a figure.
func testText(t *Test) string {
	if !computable(t) {
		return methodName(t.Method) + ": not computable"
	}
	p := pvalue(t.PValue)
	if strings.HasPrefix(p, "<") {
		return methodName(t.Method) + " p " + p
	}
	return methodName(t.Method) + " p = " + p
}

// figures builds the endpoint's plots: by transplant type, by indication
// within each transplant type, by donor type within ALLO.
func (r *renderer) figures(e *Endpoint, ax axis) []figureView {
	var types []string
	for i := range e.Curves {
		c := &e.Curves[i]
		if c.TransplantType != "*" && c.DonorType == "*" && c.Indication == "*" {
			types = append(types, c.TransplantType)
		}
	}
	sort.Strings(types)
	sorted := make([]*Curve, 0, len(e.Curves))
	for i := range e.Curves {
		sorted = append(sorted, &e.Curves[i])
	}
	sort.SliceStable(sorted, func(i, j int) bool { return lessStratum(sorted[i].Stratum, sorted[j].Stratum) })
	find := func(st Stratum) *Curve {
		for _, c := range sorted {
			if c.Stratum == st {
				return c
			}
		}
		return nil
	}
	type spec struct {
		id, title string
		ref       Stratum
		test      *Test
		pick      func(c *Curve) (string, bool)
	}
	typeTitle := "By transplant type"
	if len(types) == 1 {
		typeTitle = "All " + types[0] + " transplants"
	}
	specs := []spec{{id: "type", title: typeTitle, ref: Stratum{"*", "*", "*"},
		pick: func(c *Curve) (string, bool) {
			return c.TransplantType, c.TransplantType != "*" && c.DonorType == "*" && c.Indication == "*"
		}}}
	for _, tt := range types {
		tt := tt
		specs = append(specs, spec{id: "ind-" + strings.ToLower(tt), title: "By indication, " + tt, ref: Stratum{tt, "*", "*"},
			test: testFor(e, "indication", tt),
			pick: func(c *Curve) (string, bool) {
				return c.Indication, c.TransplantType == tt && c.DonorType == "*" && c.Indication != "*"
			}})
	}
	specs = append(specs, spec{id: "donor-allo", title: "By donor type, ALLO", ref: Stratum{"ALLO", "*", "*"},
		pick: func(c *Curve) (string, bool) {
			return c.DonorType, c.TransplantType == "ALLO" && c.DonorType != "*" && c.Indication == "*"
		}})

	// Shared y axis of the endpoint's figures.
	yTop := 1.0
	if !e.KaplanMeier() {
		m := 0.0
		for _, c := range sorted {
			if !r.stratumHidden("figures", c.Stratum, c.N) {
				m = max(m, maxUpper(c, ax.end))
			}
		}
		yTop = incidenceTop(m)
	}
	var out []figureView
	for _, sp := range specs {
		f := figure{id: "fig-" + e.Name + "-" + sp.id, title: e.Label + ": " + strings.ToLower(sp.title[:1]) + sp.title[1:],
			km: e.KaplanMeier(), horizon: ax.end, yTop: yTop, yTitle: axisTitle(e), paths: r.paths}
		var small, protect []string
		any := false
		for _, c := range sorted {
			label, ok := sp.pick(c)
			if !ok {
				continue
			}
			any = true
			if r.stratumHidden("figures", c.Stratum, c.N) {
				if r.small(c.N) {
					small = append(small, label)
				} else {
					protect = append(protect, label)
				}
				continue
			}
			fc := figCurve{label: label, curve: c, n: r.count("figures", stratumCell(c.Stratum), c.N)}
			for _, t := range ax.ticks {
				n := atRisk(c, t)
				if t == 0 {
					n = c.N // every time is >= 0
				}
				fc.risk = append(fc.risk, r.count("atrisk", riskCell(e.Name, t, c.Stratum), n))
			}
			f.curves = append(f.curves, fc)
		}
		if !any {
			continue
		}
		fv := figureView{ID: f.id, Title: sp.title}
		var notes []string
		if len(small) > 0 {
			notes = append(notes, "Not plotted, fewer than "+strconv.Itoa(r.minCell())+" transplants: "+strings.Join(small, ", ")+".")
		}
		if len(protect) > 0 {
			notes = append(notes, "Not plotted, so that a smaller count cannot be worked out: "+strings.Join(protect, ", ")+".")
		}
		if sp.test != nil {
			f.test = testText(sp.test) + " (" + strings.ReplaceAll(sp.test.Comparison, "_", " ") + "s compared)"
			if len(sp.test.Excluded) > 0 {
				notes = append(notes, "Left out of the test, fewer than "+strconv.Itoa(r.d.Config.MinGroup)+" transplants: "+strings.Join(sp.test.Excluded, ", ")+".")
			}
		}
		kept := f.curves[:0]
		fr := frame{plotLeft, plotRight, plotTop, plotBottom, ax.end, yTop}
		for _, fc := range f.curves {
			if r.paths.drawable(fr, f.km, fc.curve) {
				kept = append(kept, fc)
			}
		}
		f.curves = kept
		if len(f.curves) > maxCurves {
			if ref := find(sp.ref); ref != nil && !r.stratumHidden("figures", ref.Stratum, ref.N) {
				f.ref = ref
				f.refName = stratumName(ref.Stratum)
				if sp.ref.TransplantType == "*" {
					f.refName = "All types"
				}
			} else {
				// No pooled curve to show: the largest six, the rest in the
				// landmark table.
				sort.SliceStable(f.curves, func(i, j int) bool { return f.curves[i].curve.N > f.curves[j].curve.N })
				var rest []string
				for _, fc := range f.curves[maxCurves:] {
					rest = append(rest, fc.label)
				}
				f.curves = f.curves[:maxCurves]
				notes = append(notes, "Largest six plotted; "+strings.Join(rest, ", ")+" in the table below.")
			}
		}
		fv.Note = strings.Join(notes, " ")
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

// landmarkTable has one row per shown stratum, one column per landmark
// day: estimate % (95% CI) with the number at risk below, and the median
// for Kaplan–Meier endpoints. The withheld strata are named in one line.
func (r *renderer) landmarkTable(e *Endpoint) (table, string, string) {
	type acc struct {
		st  Stratum
		n   int
		lms map[int]Landmark
		med *Median
	}
	strata := map[string]*acc{}
	get := func(s Stratum) *acc {
		a, ok := strata[s.key()]
		if !ok {
			a = &acc{st: s, lms: map[int]Landmark{}}
			strata[s.key()] = a
		}
		return a
	}
	dayset := map[int]bool{}
	for _, lm := range e.Landmarks {
		a := get(lm.Stratum)
		a.n = lm.N
		a.lms[lm.Day] = lm
		dayset[lm.Day] = true
	}
	for i := range e.Medians {
		m := &e.Medians[i]
		a := get(m.Stratum)
		a.n = m.N
		a.med = m
	}
	var dayList []int
	for day := range dayset {
		dayList = append(dayList, day)
	}
	sort.Ints(dayList)
	list := make([]*acc, 0, len(strata))
	for _, a := range strata {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return lessStratum(list[i].st, list[j].st) })

	t := table{Head: []string{"Group", "n"}, Right: []bool{false, true}, Class: "landmarks"}
	for _, day := range dayList {
		t.Head = append(t.Head, dayLabel(day))
		t.Right = append(t.Right, true)
	}
	km := e.KaplanMeier() || len(e.Medians) > 0
	if km {
		t.Head = append(t.Head, "Median, days (95% CI)")
		t.Right = append(t.Right, true)
	}
	var small, protect []string
	var prev *acc
	for _, a := range list {
		if r.stratumHidden("landmarks", a.st, a.n) {
			if r.small(a.n) {
				small = append(small, stratumName(a.st))
			} else {
				protect = append(protect, stratumName(a.st))
			}
			continue
		}
		rw := row{Cells: []string{stratumName(a.st), r.count("landmarks", stratumCell(a.st), a.n)}}
		rw.Break = prev != nil && (a.st.TransplantType != prev.st.TransplantType || a.st.DonorType != prev.st.DonorType)
		prev = a
		rw.Sub = make([]string, 2, len(t.Head))
		for _, day := range dayList {
			lm, ok := a.lms[day]
			if !ok {
				rw.Cells = append(rw.Cells, dash)
				rw.Sub = append(rw.Sub, "")
				continue
			}
			rw.Cells = append(rw.Cells, pctCI(lm.Estimate, lm.Lower, lm.Upper))
			rw.Sub = append(rw.Sub, r.count("landmarks", riskCell(e.Name, day, a.st), lm.NRisk))
		}
		if km {
			m := dash
			if a.med != nil {
				m = medianCI(a.med.Median, a.med.Lower, a.med.Upper)
			}
			rw.Cells = append(rw.Cells, m)
			rw.Sub = append(rw.Sub, "")
		}
		t.Rows = append(t.Rows, rw)
	}
	what := "survival"
	if !e.KaplanMeier() {
		what = "cumulative incidence"
	}
	note := "Cells: " + what + " in % with its 95% confidence interval, and the number at risk at that day. " +
		dash + " = not estimable (past the stratum's last follow-up)."
	if km {
		note += " NR = limit not reached."
	}
	if m := r.minCell(); m > 0 {
		note += " At-risk numbers below " + strconv.Itoa(m) + " read \"<" + strconv.Itoa(m) + "\"; \"≥" + strconv.Itoa(m) + "\" is one hidden so that a smaller one cannot be worked out."
	}
	var hidden []string
	if len(small) > 0 {
		hidden = append(hidden, "Not shown, fewer than "+strconv.Itoa(r.minCell())+" transplants: "+strings.Join(small, ", ")+".")
	}
	if len(protect) > 0 {
		hidden = append(hidden, "Not shown, so that a smaller count cannot be worked out: "+strings.Join(protect, ", ")+".")
	}
	return t, note, strings.Join(hidden, " ")
}

// testsTable lists the endpoint's tests; a negative or empty statistic is
// "not computable", never a chi-square below 0.
func (r *renderer) testsTable(e *Endpoint) (table, string) {
	t := table{Head: []string{"Comparison", "Within", "Test", "Chi-square", "df", "p", "Left out"}, Right: []bool{false, false, false, true, true, true, false}}
	anyExcluded := false
	for _, ts := range e.Tests {
		comp := "indications"
		if ts.Comparison == "transplant_type" {
			comp = "ALLO vs AUTO"
		} else if ts.Comparison != "indication" {
			comp = strings.ReplaceAll(ts.Comparison, "_", " ")
		}
		chi, p := stat(ts.Statistic), pvalue(ts.PValue)
		if !computable(&ts) {
			chi, p = "not computable", dash
		}
		left := dash
		if len(ts.Excluded) > 0 {
			left = strings.Join(ts.Excluded, ", ")
			anyExcluded = true
		}
		t.Rows = append(t.Rows, row{Cells: []string{comp, ts.Within, methodName(ts.Method), chi, strconv.Itoa(ts.DF), p, left}})
	}
	note := ""
	if anyExcluded {
		note = "Left out: groups with fewer than " + strconv.Itoa(r.d.Config.MinGroup) + " transplants in the endpoint's population (min_group), which cannot carry a test."
	}
	return t, note
}
