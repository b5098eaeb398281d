package report

import (
	"html/template"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The view is the report with every number already formatted and every
// suppression already applied; the HTML and Markdown templates only lay it
// out, so both show the same tables.

type view struct {
	Title, Cutoff, MarrowVersion, DuckDBVersion, GeneratedAt string

	Lead        string // cohort size, follow-up and cutoff in one sentence
	Warnings    []string
	Suppression string // one sentence on the small-cell rule
	Headline    table
	FollowUp    table
	Summary     table
	Endpoints   []endpointView
	Files       table
	Rejects     table
	Flags       table
	Complete    table
	Methods     []methodItem
	Analyses    []analysisView // declared analyses (analysis.go)
	Changes     *changesView   // nil: no changes section (changes.go)
}

// table is a rendered table. A row whose Span is set shows Cells[:Span]
// followed by one cell spanning the remaining columns (suppressed rows).
type table struct {
	Head  []string
	Right []bool // per column: numbers, right-aligned in HTML
	Rows  []row
}

type row struct {
	Cells []string
	Sub   []string // optional second line per cell (numbers at risk)
	Group bool     // a heading row inside the table (variable name)
	Break bool     // first row of a new block (landmark strata: type or donor changes)
	Span  int      // >0: Cells[Span] spans the rest of the row
}

// SpanCols is the colspan of the spanning cell of r in t.
func (t table) SpanCols(r row) int { return len(t.Head) - r.Span }

// SpanText is the text of the spanning cell.
func (r row) SpanText() string { return r.Cells[r.Span] }

// Lead are the cells before the spanning one.
func (r row) Lead() []string {
	if r.Span > 0 {
		return r.Cells[:r.Span]
	}
	return r.Cells
}

// Sub2 returns the second line of cell i, "" when none.
func (r row) Sub2(i int) string {
	if i < len(r.Sub) {
		return r.Sub[i]
	}
	return ""
}

// RightAt reports whether column i is numeric.
func (t table) RightAt(i int) bool { return i < len(t.Right) && t.Right[i] }

type endpointView struct {
	ID, Name, Label, Estimator, Definition string
	Figures                                []figureView
	Landmarks                              table
	LandmarkNote                           string
	Tests                                  table
}

type figureView struct {
	ID, Title string
	SVG       template.HTML // hand-built, every text escaped by svgText
	Note      string        // strata not plotted
}

type methodItem struct{ Term, Text string }

// pooled is how a "*" stratum column reads in tables.
func pooled(s string) string {
	if s == "*" {
		return "all"
	}
	return s
}

func (s Stratum) key() string {
	return s.TransplantType + "\x00" + s.DonorType + "\x00" + s.Indication
}

// lessStratum orders strata as results/landmarks.csv: by transplant_type,
// donor_type, indication, byte-wise ("*" before letters).
func lessStratum(a, b Stratum) bool {
	if a.TransplantType != b.TransplantType {
		return a.TransplantType < b.TransplantType
	}
	if a.DonorType != b.DonorType {
		return a.DonorType < b.DonorType
	}
	return a.Indication < b.Indication
}

func buildView(d *Data) view {
	sup := newSuppressor(d)
	v := view{
		Title:         d.Title,
		Cutoff:        d.Cutoff,
		MarrowVersion: d.MarrowVersion,
		DuckDBVersion: d.DuckDBVersion,
		GeneratedAt:   d.GeneratedAt,
		Warnings:      d.Warnings,
	}
	if v.Title == "" {
		v.Title = "marrow report"
	}
	if sup.min > 0 {
		v.Suppression = "Strata with fewer than " + strconv.Itoa(sup.min) +
			" transplants are not plotted and their estimates are not shown: their cells read \"" + sup.label() +
			"\". Counts from 1 to " + strconv.Itoa(sup.min-1) + " in the cohort tables show as \"" + sup.count(1) + "\"." +
			" Where a hidden count could be recovered by subtracting shown counts from a shown total, another count is hidden too (\"≥" + strconv.Itoa(sup.min) + "\", \"" + complementaryLabel + "\"); see Methods."
	} else {
		v.Suppression = "Small-cell suppression is disabled (min_cell = 0): every stratum is shown."
	}
	v.Lead = lead(d, sup)
	v.Headline = headline(d, sup)
	v.FollowUp, v.Complete = followUp(d, sup)
	v.Summary = summary(d, sup)
	for i := range d.Endpoints {
		v.Endpoints = append(v.Endpoints, endpoint(d, &d.Endpoints[i], sup))
	}
	v.Files, v.Rejects, v.Flags = quality(d)
	v.Changes = changes(d, sup)
	v.Methods = methods(d, sup)
	v.Analyses = analysisViews(d, sup)
	return v
}

// headline is the summary's 1-year OS, NRM and relapse for all transplants
// and each transplant type, read from the landmark rows at day 365 of the
// strata (type, *, *).
func headline(d *Data, sup suppressor) table {
	const day = 365
	t := table{Head: []string{"Group", "n"}, Right: []bool{false, true}}
	var eps []*Endpoint
	for _, name := range []string{"os", "nrm", "relapse"} {
		for i := range d.Endpoints {
			if e := &d.Endpoints[i]; e.Name == name {
				eps = append(eps, e)
				t.Head = append(t.Head, e.Label)
				t.Right = append(t.Right, true)
				break
			}
		}
	}
	// cells[group][k] is endpoint k's landmark for the group.
	cells := map[string][]*Landmark{}
	var groups []string
	for k, e := range eps {
		for i := range e.Landmarks {
			lm := &e.Landmarks[i]
			if lm.Day != day || lm.DonorType != "*" || lm.Indication != "*" {
				continue
			}
			g := lm.TransplantType
			if cells[g] == nil {
				cells[g] = make([]*Landmark, len(eps))
				groups = append(groups, g)
			}
			cells[g][k] = lm
		}
	}
	sort.Strings(groups) // "*" (all) first, then ALLO, AUTO
	for _, g := range groups {
		n := 0
		for _, lm := range cells[g] {
			if lm != nil {
				n = lm.N
			}
		}
		st := Stratum{g, "*", "*"}
		r := row{Cells: []string{groupLabel(g), sup.stratumCount(st, n)}}
		if sup.stratumHidden(st, n) {
			r.Cells = append(r.Cells, sup.stratumLabel(n))
			r.Span = 2
			t.Rows = append(t.Rows, r)
			continue
		}
		for _, lm := range cells[g] {
			if lm == nil {
				r.Cells = append(r.Cells, dash)
				continue
			}
			r.Cells = append(r.Cells, pctCI(lm.Estimate, lm.Lower, lm.Upper))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// lead is the summary's first sentence: "1500 transplants (ALLO 838,
// AUTO 662); median follow-up 1210 days; data cutoff 2025-06-30."
func lead(d *Data, sup suppressor) string {
	s := &d.Summary
	var b strings.Builder
	if len(s.N) > 0 {
		b.WriteString(sup.cellCount(summaryCell(s.Columns[0], "", ""), s.N[0]) + " transplants")
		var parts []string
		for i := 1; i < len(s.N) && i < len(s.Columns); i++ {
			parts = append(parts, s.Columns[i]+" "+sup.cellCount(summaryCell(s.Columns[i], "", ""), s.N[i]))
		}
		if len(parts) > 0 {
			b.WriteString(" (" + strings.Join(parts, ", ") + ")")
		}
		b.WriteString("; ")
	}
	for _, f := range d.FollowUp {
		if f.TransplantType == "*" && !sup.stratumHidden(Stratum{"*", "*", "*"}, f.N) && !empty(f.Median) {
			b.WriteString("median follow-up " + days(f.Median) + " days; ")
		}
	}
	b.WriteString("data cutoff " + d.Cutoff + ".")
	// Capitalise the first letter; the sentence may start with "≥10".
	r, size := utf8.DecodeRuneInString(b.String())
	return string(unicode.ToUpper(r)) + b.String()[size:]
}

func groupLabel(tt string) string {
	if tt == "*" {
		return "All transplants"
	}
	return tt
}

// followUp renders median follow-up (summary) and follow-up completeness
// (data quality).
func followUp(d *Data, sup suppressor) (med, comp table) {
	med = table{Head: []string{"Group", "n", "Median follow-up, days (95% CI)"}, Right: []bool{false, true, true}}
	comp = table{Head: []string{"Group", "Transplanted ≥ 1 year before cutoff", "Followed ≥ 1 year", "Completeness"}, Right: []bool{false, true, true, true}}
	fs := append([]FollowUp(nil), d.FollowUp...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].TransplantType < fs[j].TransplantType })
	for _, f := range fs {
		g := groupLabel(f.TransplantType)
		if st := (Stratum{f.TransplantType, "*", "*"}); sup.stratumHidden(st, f.N) {
			med.Rows = append(med.Rows, row{Cells: []string{g, sup.stratumCount(st, f.N), sup.stratumLabel(f.N)}, Span: 2})
		} else {
			m := days(f.Median)
			if !empty(f.Median) && !empty(f.Lower) && !empty(f.Upper) {
				m += " (" + days(f.Lower) + "–" + days(f.Upper) + ")"
			}
			med.Rows = append(med.Rows, row{Cells: []string{g, strconv.Itoa(f.N), m}})
		}
		st := Stratum{f.TransplantType, "*", "*"}
		eKey, cKey := followUpCell("eligible", f.TransplantType), followUpCell("complete", f.TransplantType)
		switch {
		case sup.stratumHidden(st, f.N):
			comp.Rows = append(comp.Rows, row{Cells: []string{g, sup.stratumLabel(f.N)}, Span: 1})
		case sup.cellHidden(eKey, f.Eligible) || sup.cellHidden(cKey, f.Complete):
			comp.Rows = append(comp.Rows, row{Cells: []string{g, sup.cellCount(eKey, f.Eligible), sup.cellCount(cKey, f.Complete), dash}})
		default:
			comp.Rows = append(comp.Rows, row{Cells: []string{g, strconv.Itoa(f.Eligible), strconv.Itoa(f.Complete), share(f.Complete, f.Eligible)}})
		}
	}
	return med, comp
}

// summary renders the cohort characteristics: n, age, then each variable's
// levels as "count (percent of the column)".
func summary(d *Data, sup suppressor) table {
	s := &d.Summary
	t := table{Head: append([]string{"Characteristic"}, s.Columns...)}
	t.Right = make([]bool, len(t.Head))
	for i := 1; i < len(t.Right); i++ {
		t.Right[i] = true
	}
	colN := func(i int) int {
		if i < len(s.N) {
			return s.N[i]
		}
		return 0
	}
	colHidden := func(i int) bool { return sup.cellHidden(summaryCell(s.Columns[i], "", ""), colN(i)) }
	r := row{Cells: []string{"Transplants"}}
	for i, col := range s.Columns {
		r.Cells = append(r.Cells, sup.cellCount(summaryCell(col, "", ""), colN(i)))
	}
	t.Rows = append(t.Rows, r)
	if len(s.Age) > 0 {
		r := row{Cells: []string{"Age, years: median (range)"}}
		for i := range s.Columns {
			switch {
			case i >= len(s.Age) || s.Age[i].Known == 0:
				r.Cells = append(r.Cells, dash)
			case colHidden(i):
				r.Cells = append(r.Cells, "suppressed")
			default:
				a := s.Age[i]
				r.Cells = append(r.Cells, fixed(a.Median, 1)+" ("+fixed(a.Min, 1)+"–"+fixed(a.Max, 1)+")")
			}
		}
		t.Rows = append(t.Rows, r)
	}
	for _, vr := range s.Variables {
		t.Rows = append(t.Rows, row{Cells: padCells([]string{vr.Name}, len(t.Head)), Group: true})
		for _, lv := range vr.Levels {
			r := row{Cells: []string{lv.Label}}
			for i, col := range s.Columns {
				n := 0
				if i < len(lv.Counts) {
					n = lv.Counts[i]
				}
				key := summaryCell(col, vr.Name, lv.Label)
				c := sup.cellCount(key, n)
				if n > 0 && !sup.cellHidden(key, n) && colN(i) > 0 && !colHidden(i) {
					c += " (" + fixed(100*float64(n)/float64(colN(i)), 1) + "%)"
				}
				r.Cells = append(r.Cells, c)
			}
			t.Rows = append(t.Rows, r)
		}
	}
	return t
}

func padCells(c []string, n int) []string {
	for len(c) < n {
		c = append(c, "")
	}
	return c
}

// endpoint renders one endpoint: figures, the landmark table with medians,
// and the tests.
func endpoint(d *Data, e *Endpoint, sup suppressor) endpointView {
	ev := endpointView{
		ID:         "ep-" + e.Name,
		Name:       e.Name,
		Label:      e.Label,
		Estimator:  estimatorName(e.Estimator),
		Definition: e.Definition,
	}
	ev.Figures = figures(d, e, sup)
	ev.Landmarks, ev.LandmarkNote = landmarkTable(d, e, sup)
	ev.Tests = table{Head: []string{"Comparison", "Within", "Test", "Chi-square", "df", "p"}, Right: []bool{false, false, false, true, true, true}}
	for _, ts := range e.Tests {
		method := ts.Method
		switch ts.Method {
		case "logrank":
			method = "log-rank"
		case "gray":
			method = "Gray"
		}
		comp := strings.ReplaceAll(ts.Comparison, "_", " ")
		chi, p := stat(ts.Statistic), pvalue(ts.PValue)
		if !(ts.Statistic >= 0) {
			// Not computable: NaN (or cuminc's raw −1 for a singular variance).
			chi, p = dash, "not computable"
		}
		ev.Tests.Rows = append(ev.Tests.Rows, row{Cells: []string{comp, ts.Within, method, chi, strconv.Itoa(ts.DF), p}})
	}
	return ev
}

// landmarkTable has one row per stratum (sorted), one column per landmark
// day: estimate % (95% CI) with the number at risk below, and the median
// for Kaplan–Meier endpoints.
func landmarkTable(d *Data, e *Endpoint, sup suppressor) (table, string) {
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

	t := table{Head: []string{"Type", "Donor", "Indication", "n"}, Right: []bool{false, false, false, true}}
	for _, day := range dayList {
		t.Head = append(t.Head, "Day "+strconv.Itoa(day))
		t.Right = append(t.Right, true)
	}
	km := e.KaplanMeier() || len(e.Medians) > 0
	if km {
		t.Head = append(t.Head, "Median, days (95% CI)")
		t.Right = append(t.Right, true)
	}
	for i, a := range list {
		r := row{Cells: []string{pooled(a.st.TransplantType), pooled(a.st.DonorType), pooled(a.st.Indication), sup.stratumCount(a.st, a.n)}}
		r.Break = i > 0 && (a.st.TransplantType != list[i-1].st.TransplantType || a.st.DonorType != list[i-1].st.DonorType)
		if sup.stratumHidden(a.st, a.n) {
			r.Cells = append(r.Cells, sup.stratumLabel(a.n))
			r.Span = 4
			t.Rows = append(t.Rows, r)
			continue
		}
		r.Sub = make([]string, 4, len(t.Head))
		for _, day := range dayList {
			lm, ok := a.lms[day]
			if !ok {
				r.Cells = append(r.Cells, dash)
				r.Sub = append(r.Sub, "")
				continue
			}
			r.Cells = append(r.Cells, pctCI(lm.Estimate, lm.Lower, lm.Upper))
			r.Sub = append(r.Sub, strconv.Itoa(lm.NRisk))
		}
		if km {
			m := dash
			if a.med != nil {
				m = medianCI(a.med.Median, a.med.Lower, a.med.Upper)
			}
			r.Cells = append(r.Cells, m)
			r.Sub = append(r.Sub, "")
		}
		t.Rows = append(t.Rows, r)
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
	return t, note
}

// figures builds the endpoint's plots: by transplant type, by indication
// within each transplant type, and by donor type within ALLO.
func figures(d *Data, e *Endpoint, sup suppressor) []figureView {
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

	type spec struct {
		id, title string
		pick      func(c *Curve) (string, bool)
	}
	typeTitle := "By transplant type"
	if len(types) == 1 {
		typeTitle = "All " + types[0] + " transplants"
	}
	specs := []spec{{
		id:    "type",
		title: typeTitle,
		pick: func(c *Curve) (string, bool) {
			return c.TransplantType, c.TransplantType != "*" && c.DonorType == "*" && c.Indication == "*"
		},
	}}
	for _, tt := range types {
		tt := tt
		specs = append(specs, spec{
			id:    "ind-" + strings.ToLower(tt),
			title: "By indication, " + tt,
			pick: func(c *Curve) (string, bool) {
				return c.Indication, c.TransplantType == tt && c.DonorType == "*" && c.Indication != "*"
			},
		})
	}
	specs = append(specs, spec{
		id:    "donor-allo",
		title: "By donor type, ALLO",
		pick: func(c *Curve) (string, bool) {
			return c.DonorType, c.TransplantType == "ALLO" && c.DonorType != "*" && c.Indication == "*"
		},
	})

	// One horizon per endpoint, so its figures share the x axis.
	horizon := e.Horizon
	if horizon <= 0 {
		horizon = 1825
		if n := len(d.Config.Landmarks); n > 0 {
			horizon = d.Config.Landmarks[n-1]
		}
		longest := 0
		for _, c := range sorted {
			if sup.stratumHidden(c.Stratum, c.N) || len(c.Points) == 0 {
				continue
			}
			if t := c.Points[len(c.Points)-1].Time; t > longest {
				longest = t
			}
		}
		if longest > 0 && longest < horizon {
			horizon = longest
		}
	}

	var out []figureView
	for _, sp := range specs {
		f := figure{id: "fig-" + e.Name + "-" + sp.id, title: e.Label + ": " + strings.ToLower(sp.title[:1]) + sp.title[1:], km: e.KaplanMeier(), horizon: horizon}
		var small, protect []string
		any := false
		for _, c := range sorted {
			label, ok := sp.pick(c)
			if !ok {
				continue
			}
			any = true
			if sup.stratumHidden(c.Stratum, c.N) {
				if sup.hides(c.N) {
					small = append(small, label)
				} else {
					protect = append(protect, label)
				}
				continue
			}
			f.curves = append(f.curves, figCurve{label, c})
		}
		if !any {
			continue
		}
		fv := figureView{ID: f.id, Title: sp.title}
		var notes []string
		if len(small) > 0 {
			notes = append(notes, "Not plotted, fewer than "+strconv.Itoa(sup.min)+" transplants: "+strings.Join(small, ", ")+".")
		}
		if len(protect) > 0 {
			notes = append(notes, "Not plotted, so that a smaller stratum cannot be derived by subtraction: "+strings.Join(protect, ", ")+".")
		}
		fv.Note = strings.Join(notes, " ")
		// A curve with nothing to draw (no points) would be an empty figure.
		kept := f.curves[:0]
		for _, fc := range f.curves {
			if _, ok := f.scale(fc.curve); ok {
				kept = append(kept, fc)
			}
		}
		f.curves = kept
		if len(f.curves) > 0 {
			fv.SVG = template.HTML(f.svg())
		} else if fv.Note == "" {
			fv.Note = "No curve to plot."
		}
		out = append(out, fv)
	}
	return out
}

// quality renders the ingest tables.
func quality(d *Data) (files, rejects, flags table) {
	files = table{Head: []string{"File", "Rows read", "Accepted", "Rejected", "Rejected, %", "Unknown columns (ignored)"}, Right: []bool{false, true, true, true, true, false}}
	for _, f := range d.Ingest.Files {
		rate := dash
		if f.RowsRead > 0 {
			rate = fixed(100*float64(f.RowsRejected)/float64(f.RowsRead), 2)
		}
		unk := strings.Join(f.UnknownColumns, ", ")
		if unk == "" {
			unk = "none"
		}
		files.Rows = append(files.Rows, row{Cells: []string{f.File, strconv.Itoa(f.RowsRead), strconv.Itoa(f.RowsAccepted), strconv.Itoa(f.RowsRejected), rate, unk}})
	}
	rejects = table{Head: []string{"File", "Column", "Reason", "Rows"}, Right: []bool{false, false, false, true}}
	for _, r := range d.Ingest.Rejects {
		col := r.Column
		if col == "" {
			col = "(row)"
		}
		rejects.Rows = append(rejects.Rows, row{Cells: []string{r.File, col, r.Reason, strconv.Itoa(r.Count)}})
	}
	flags = table{Head: []string{"Flag", "Records"}, Right: []bool{false, true}}
	for _, f := range d.Ingest.Quality {
		flags.Rows = append(flags.Rows, row{Cells: []string{f.Flag, strconv.Itoa(f.Count)}})
	}
	return files, rejects, flags
}

// methods is the methods section, generated from the configuration.
func methods(d *Data, sup suppressor) []methodItem {
	c := d.Config
	var m []methodItem
	add := func(term, text string) { m = append(m, methodItem{term, text}) }

	add("Data cutoff", d.Cutoff+". Events after the cutoff are ignored, follow-up is censored at it, and transplants dated after it are left out.")
	switch c.Cohort {
	case "first":
		add("Cohort", "Each patient's first transplant of each type (ALLO, AUTO): the earliest transplant date, then the smallest transplant identifier.")
	case "all":
		add("Cohort", "All transplants in the extract dated on or before the cutoff.")
	default:
		add("Cohort", "Cohort rule \""+c.Cohort+"\".")
	}
	add("Time and follow-up", "Time origin is the transplant date; times are whole days. A transplant's follow-up ends at the latest of its event dates (any event, last contact included), capped at the cutoff; a transplant without events has 0 days of follow-up. Subjects without the event (or competing event) are censored at the end of follow-up. Only the first occurrence of an event counts; an event and a competing event on the same day count as the event of interest. A second transplant does not censor the first.")
	for _, e := range d.Endpoints {
		add(e.Label+" ("+e.Name+")", estimatorName(e.Estimator)+". "+e.Definition)
	}
	add("Kaplan–Meier", "Survival estimated as R survival::survfit, with the Greenwood standard error of the estimate and 95% confidence intervals on the "+confScale(c.ConfType)+". Medians and their confidence limits as survfit's quantile() under the same scale; \"not reached\" when the curve does not fall to 50%.")
	add("Cumulative incidence", "Aalen–Johansen estimate with the variance of R cmprsk::cuminc, competing events as defined per endpoint; 95% confidence intervals on the log(−log) scale, est^exp(±z·sd/(est·log est)).")
	add("Confidence intervals", "All intervals are 95% with z = Φ⁻¹(0.975) = 1.959963984540054.")
	add("Landmarks", "Estimates at days "+joinInts(c.Landmarks)+": the step function's value at that day. Past a stratum's last follow-up time the estimate is not estimable and is not carried forward. The number at risk counts transplants whose endpoint time is on or after the day.")
	add("Tests", "Log-rank test (survival::survdiff, rho = 0) for Kaplan–Meier endpoints and Gray's test (cmprsk::cuminc, rho = 0) for cumulative incidence: across indications within each transplant type, and ALLO against AUTO within each indication"+minGroupText(c.MinGroup)+", where at least two groups remain and at least one event of interest occurred among them. p is the upper chi-square tail. A test R cannot compute (cuminc's statistic −1 where the variance of Gray's statistic is singular, a group never at risk at an event time, or any negative statistic) is shown as \"not computable\"; its statistic and p are empty in results/tests.csv.")
	add("Strata", "Each endpoint is estimated overall, by transplant type, by indication, by transplant type and indication, and for ALLO by donor type and by donor type and indication. ALLO-only endpoints (GVHD, GRFS) are estimated for allogeneic transplants only.")
	add("Median follow-up", "Reverse Kaplan–Meier: follow-up time with the censoring indicator reversed (death censors follow-up). Completeness: the share of transplants dated at least one year before the cutoff that have at least one year of follow-up.")
	if sup.min > 0 {
		add("Small-cell suppression", "Strata with fewer than "+strconv.Itoa(sup.min)+" transplants (min_cell = "+strconv.Itoa(sup.min)+") are not plotted and their estimates, medians and at-risk numbers are replaced by \""+sup.label()+"\"; cohort counts from 1 to "+strconv.Itoa(sup.min-1)+" show as \""+sup.count(1)+"\". Complementary suppression: the report publishes sums — the transplant types add up to all transplants, the indications to their type or to all, the donor types of ALLO to ALLO, and in the cohort table a variable's levels to the column's n and the type columns to the All column. Wherever such a sum has exactly one hidden term (the total counts as a term), one more is hidden, preferring counts pooled over transplant types (the \"all\" strata, the All column), otherwise the smallest, until no sum has exactly one, so no hidden count is a shown total minus shown counts. Counts hidden this way show as \"≥"+strconv.Itoa(sup.min)+"\" and their strata as \""+complementaryLabel+"\". Ingest and quality counts (rows, flags) are not suppressed. The unsuppressed results are in results/ for analysts.")
	} else {
		add("Small-cell suppression", "Disabled (min_cell = 0).")
	}
	add("Ingest", "Rows with a missing required value, an unparseable date or number, an unknown code, a duplicate transplant, an event for an unknown transplant or an event before its transplant are rejected and counted; the run fails when more than "+fixed(100*c.MaxRejectRate, 2)+"% of a file's rows are rejected. Implausible but parseable records are kept and flagged.")
	add("Privacy", "The report contains no patient or transplant identifiers, dates of birth or free-text event details.")
	v := "marrow " + orDash(d.MarrowVersion) + ", DuckDB " + orDash(d.DuckDBVersion) + "."
	add("Software", v)
	return m
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
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

func confScale(t string) string {
	switch t {
	case "log":
		return "log scale (conf.type = \"log\")"
	case "plain":
		return "plain, linear scale (conf.type = \"plain\")"
	default:
		return "log(−log) scale (conf.type = \"log-log\")"
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// Flat is row r as plain cells for Markdown: a spanning cell repeated over
// the columns it spans, numbers at risk appended as "[n]", a group heading
// in bold.
func (t table) Flat(r row) []string {
	if r.Group {
		c := make([]string, len(r.Cells))
		c[0] = "**" + r.Cells[0] + "**"
		return c
	}
	if r.Span > 0 {
		c := append([]string(nil), r.Cells[:r.Span]...)
		for len(c) < len(t.Head) {
			c = append(c, r.Cells[r.Span])
		}
		return c
	}
	c := make([]string, len(r.Cells))
	for i, s := range r.Cells {
		if sub := r.Sub2(i); sub != "" {
			s += " [" + sub + "]"
		}
		c[i] = s
	}
	return c
}

// minGroupText says which groups the tests leave out.
func minGroupText(minGroup int) string {
	if minGroup <= 0 {
		return ""
	}
	return " (groups with fewer than " + strconv.Itoa(minGroup) + " transplants are left out and named in results/tests.csv)"
}
