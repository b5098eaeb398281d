package report

import (
	"fmt"
	htmltemplate "html/template"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The Centres section (SPEC §6), last: funnel plots, flagged and
// not-assessed centres, completeness per centre, the risk models. Its
// counts go through the report's one rule (centreCell keys).

func init() {
	addSection(orderCentres, "centres", centresSection)
	summaryFunnel = firstPageFunnel
}

// firstPageFunnel is the first page's centre slot: each panel's flag
// counts and the first panel's funnel plot, the rest in the section.
func firstPageFunnel(r *renderer) htmltemplate.HTML {
	c := r.d.Centres
	if c == nil || len(c.Panels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<ul class="funnel-counts">`)
	for _, p := range c.Panels {
		counts := map[string]int{}
		for _, cr := range p.Rows {
			counts[cr.Flag]++
		}
		b.WriteString("<li>" + htmltemplate.HTMLEscapeString(p.TransplantType+" "+endpointTitle(p.Endpoint)+": "+flagCounts(counts)) + "</li>")
	}
	b.WriteString("</ul>\n")
	p := c.Panels[0]
	if svg := funnelSVG(p, c.Day); svg != "" {
		b.WriteString(`<p class="note">` + htmltemplate.HTMLEscapeString(p.TransplantType+" "+endpointTitle(p.Endpoint)) + `; every panel in <a href="#centres">Centres</a>.</p>` + "\n")
		b.WriteString(string(svg))
	}
	return htmltemplate.HTML(b.String())
}

// The tables of the centres section, as the disclosure tests name them.
const (
	ctrListed       = "centres-listed"
	ctrCompleteness = "centres-completeness"
	ctrModel        = "centres-model"
)

// centreCell is the key of a count of the centre benchmark: a centre's
// transplants of a type (q "n") or 1-year events of an endpoint, or a
// model level's transplants.
func centreCell(kv ...string) string { return cellKey("ctr", kv...) }

// Centres is the centre benchmark of SPEC §6 (results/centres and
// results/centre_model), one panel per transplant type and endpoint.
type Centres struct {
	Day       int // the landmark, 365
	MinCentre int // fewer transplants: not assessed
	Panels    []CentrePanel
}

// CentrePanel is one transplant type and endpoint.
type CentrePanel struct {
	TransplantType string // ALLO | AUTO
	Endpoint       string // os | nrm
	Registry       float64
	Rows           []CentreRow
	Model          []CentreTerm
}

// CentreRow is one centre of a panel. Centre ids are not patient
// identifiers (SPEC §6). NEff is the effective number of transplants of
// the observed estimate (the funnel's precision).
type CentreRow struct {
	Centre                                     string
	N, NEvents                                 int
	Observed, Expected                         float64
	Lower95, Upper95, Lower998, Upper998, NEff float64
	Completeness                               float64
	Flag, Reason                               string
}

// CentreTerm is one row of the risk model: a coefficient (Rule "") or a
// note on a level or covariate without one.
type CentreTerm struct {
	Covariate, Level   string
	N                  int
	Estimate, RobustSE float64
	Rule               string // the coding rule of a row without a coefficient: reference, merged into X, aliased, dropped
}

// centresView is what templates/centres.html.tmpl renders.
type centresView struct {
	Day, MinCentre int
	Panels         []centrePanelView
	Listed         table // flagged and not-assessed centres
	Small          []smallCentres
	Completeness   table
	Model          []modelView
}

type centrePanelView struct {
	Title  string
	SVG    htmltemplate.HTML
	Counts string
}

type smallCentres struct {
	Panel, Centres string
}

type modelView struct {
	Title string
	Table table
}

// centres builds the Centres section's view; nil when there is no
// benchmark.
func (r *renderer) centres(c *Centres) *centresView {
	if c == nil || len(c.Panels) == 0 {
		return nil
	}
	v := &centresView{Day: c.Day, MinCentre: c.MinCentre}
	v.Listed = table{Head: []string{"Centre", "Type", "Endpoint", "Transplants", "1-year events", "Observed", "Expected",
		"95% limits", "99.8% limits", "Completeness", "Result"}, Right: rightAt(11, 3, 4, 5, 6, 7, 8, 9)}
	v.Completeness = table{Head: []string{"Centre", "Type", "Transplants", "Completeness (Clark's C, first year)"}, Right: rightAt(4, 2, 3)}
	seen := map[string]bool{}
	for _, p := range c.Panels {
		title := p.TransplantType + " " + endpointTitle(p.Endpoint)
		counts := map[string]int{}
		var small []string
		for _, cr := range p.Rows {
			nKey := centreCell("c", cr.Centre, "tt", p.TransplantType, "q", "n")
			counts[cr.Flag]++
			if cr.Flag == "not_assessed" && strings.HasPrefix(cr.Reason, "fewer than") {
				small = append(small, cr.Centre)
			} else if cr.Flag != "as_expected" {
				res := flagText(cr.Flag)
				if cr.Flag == "not_assessed" {
					res = "not assessed: " + cr.Reason
				}
				v.Listed.Rows = append(v.Listed.Rows, row{Cells: []string{cr.Centre, p.TransplantType, p.Endpoint,
					r.count(ctrListed, nKey, cr.N),
					r.count(ctrListed, centreCell("c", cr.Centre, "tt", p.TransplantType, "ep", p.Endpoint, "q", "events"), cr.NEvents),
					centrePct(cr.Observed), centrePct(cr.Expected),
					centrePct(cr.Lower95) + "–" + centrePct(cr.Upper95), centrePct(cr.Lower998) + "–" + centrePct(cr.Upper998),
					centrePct(cr.Completeness), res}})
			}
			if k := cr.Centre + "/" + p.TransplantType; !seen[k] {
				seen[k] = true
				v.Completeness.Rows = append(v.Completeness.Rows, row{Cells: []string{cr.Centre, p.TransplantType,
					r.count(ctrCompleteness, nKey, cr.N), centrePct(cr.Completeness)}})
			}
		}
		if len(small) > 0 {
			v.Small = append(v.Small, smallCentres{title, strings.Join(small, ", ")})
		}
		v.Panels = append(v.Panels, centrePanelView{Title: title, SVG: funnelSVG(p, c.Day), Counts: flagCounts(counts)})
		mt := table{Head: []string{"Covariate", "Level", "Transplants", "Coefficient (logit)", "Robust SE", "Note"}, Right: rightAt(6, 2, 3, 4)}
		for _, t := range p.Model {
			n := ""
			if t.Rule == "" {
				n = r.count(ctrModel, centreCell("model", p.TransplantType+" "+p.Endpoint, "cov", t.Covariate, "lvl", t.Level), t.N)
			}
			mt.Rows = append(mt.Rows, row{Cells: []string{t.Covariate, t.Level, n, centreNum(t.Estimate, 3), centreNum(t.RobustSE, 3), t.Rule}})
		}
		v.Model = append(v.Model, modelView{title, mt})
	}
	r.centreSums(c)
	sort.SliceStable(v.Completeness.Rows, func(i, j int) bool {
		return v.Completeness.Rows[i].Cells[0] < v.Completeness.Rows[j].Cells[0]
	})
	return v
}

// centreRestCell is the key of the transplants of type tt counted in
// total but in no centre's row (no centre, or not in the benchmark
// cohort): never printed.
func centreRestCell(tt, total string) string { return centreCell("tt", tt, "q", "rest", "of", total) }

// centreTotals are the printed counts of type tt that the centres' n of
// that type add up to with the transplants in no centre's row: the
// benchmark cohort (the transplants of tt dated up to the cutoff minus
// 365 days, the completeness table's eligible count; each risk model's
// intercept row counts it too) and the type's cohort n, which holds it.
func centreTotals(tt string, has func(string) bool) []string {
	out := []string{followUpCell("eligible", tt), stratumCell(Stratum{tt, "*", "*"})}
	for _, ep := range []string{"os", "nrm"} {
		if k := centreCell("model", tt+" "+ep, "cov", "(intercept)", "lvl", ""); has(k) {
			out = append(out, k)
		}
	}
	return out
}

// centreSums declares, per transplant type, total = Σ centres' n + rest
// for each of centreTotals (SPEC §4): a reader who adds up a type's
// centres and compares with a printed total can otherwise recover a
// hidden count. Where the rest is 0 the sum is exact (a reader seeing the
// centres add up to a total takes it so); otherwise the rest is an
// unprinted count, which still bounds every centre by the total.
func (r *renderer) centreSums(c *Centres) {
	if !r.c.record {
		return
	}
	byType := map[string]map[string]int{}
	for _, p := range c.Panels {
		if byType[p.TransplantType] == nil {
			byType[p.TransplantType] = map[string]int{}
		}
		for _, cr := range p.Rows {
			byType[p.TransplantType][cr.Centre] = cr.N
		}
	}
	for _, tt := range sortedKeys(byType) {
		var keys []string
		sum := 0
		for _, id := range sortedKeys(byType[tt]) {
			keys = append(keys, centreCell("c", id, "tt", tt, "q", "n"))
			sum += byType[tt][id]
		}
		has := func(k string) bool { _, ok := r.c.value[k]; return ok }
		for _, total := range centreTotals(tt, has) {
			if !has(total) || r.c.value[total] < sum {
				continue // not printed, or not a superset (no such total)
			}
			if rest := r.c.value[total] - sum; rest == 0 {
				r.sum(total, keys...)
			} else {
				rk := centreRestCell(tt, total)
				r.note(rk, rest)
				r.sum(total, append(append([]string(nil), keys...), rk)...)
			}
		}
	}
}

// centresSection is the Centres section; none without a benchmark.
func centresSection(r *renderer) []Section {
	v := r.centres(r.d.Centres)
	if v == nil {
		return nil
	}
	var md strings.Builder
	md.WriteString("1-year overall survival and non-relapse mortality of each centre against its case mix (transplants dated up to the cutoff minus " +
		strconv.Itoa(v.Day) + " days; funnel plots, completeness and the risk models in index.html).\n\n")
	for _, p := range v.Panels {
		md.WriteString("- " + mdText(p.Title) + ": " + mdText(p.Counts) + "\n")
	}
	md.WriteString("\n### Flagged and not-assessed centres\n\n")
	if len(v.Listed.Rows) > 0 {
		md.WriteString(mdTable(v.Listed))
	} else {
		md.WriteString("None: every assessed centre is as expected.\n")
	}
	for _, sm := range v.Small {
		md.WriteString("\n" + mdText(sm.Panel) + " — fewer than " + strconv.Itoa(v.MinCentre) + " transplants, not assessed: " + mdText(sm.Centres) + ".\n")
	}
	return []Section{{ID: "centres", Title: "Centres", Body: r.exec("centres", v), Markdown: md.String()}}
}

func endpointTitle(ep string) string {
	switch ep {
	case "os":
		return "1-year overall survival"
	case "nrm":
		return "1-year non-relapse mortality"
	}
	return ep
}

func flagText(f string) string {
	switch f {
	case "better":
		return "better than expected (outside 99.8%)"
	case "worse":
		return "worse than expected (outside 99.8%)"
	case "better95":
		return "better than expected (outside 95% only)"
	case "worse95":
		return "worse than expected (outside 95% only)"
	case "as_expected":
		return "as expected"
	}
	return f
}

func flagCounts(c map[string]int) string {
	var parts []string
	for _, f := range []string{"worse", "worse95", "as_expected", "better95", "better", "not_assessed"} {
		if c[f] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[f], strings.ReplaceAll(f, "_", " ")))
		}
	}
	return strings.Join(parts, ", ") + " (centres)"
}

func centrePct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

func centreNum(x float64, digits int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', digits, 64)
}

// funnelSVG draws one panel's funnel plot. Each assessed centre is a
// point at (w, y): y = centreExpit(logit p + logit O − logit E) is its observed
// estimate adjusted to the registry's case mix (p the registry estimate,
// O observed, E expected: the odds ratio O/E applied to p), and w =
// nEff·E(1 − E)/(p(1 − p)) its precision in transplants at registry risk.
// The limits centreExpit(logit p ± z/sqrt(w·p(1 − p))) are then the same lines
// for every centre, and a point is outside them exactly when the centre's
// own limits (around E) flag it.
func funnelSVG(p CentrePanel, day int) htmltemplate.HTML {
	const (
		width, height          = 640.0, 360.0
		left, right, top, bott = 64.0, 600.0, 16.0, 312.0
	)
	reg := p.Registry
	if !(reg > 0 && reg < 1) {
		return ""
	}
	type pt struct {
		w, y float64
		flag string
		id   string
	}
	var pts []pt
	maxW := 1.0
	for _, r := range p.Rows {
		if r.Flag == "not_assessed" || !(r.Expected > 0 && r.Expected < 1) || !(r.NEff > 0) {
			continue
		}
		w := r.NEff * r.Expected * (1 - r.Expected) / (reg * (1 - reg))
		y := r.Observed
		if y > 0 && y < 1 {
			y = centreExpit(centreLogit(reg) + centreLogit(y) - centreLogit(r.Expected))
		}
		pts = append(pts, pt{w, y, r.Flag, r.Centre})
		maxW = math.Max(maxW, w)
	}
	maxW *= 1.05
	// y range: the 99.8% limits at w = 20 (the smallest assessed centre
	// without censoring) and every point.
	lo, hi := centreFunnelAt(reg, 20, -Z998c), centreFunnelAt(reg, 20, Z998c)
	for _, q := range pts {
		lo, hi = math.Min(lo, q.y), math.Max(hi, q.y)
	}
	lo, hi = math.Max(0, math.Floor(lo*20)/20), math.Min(1, math.Ceil(hi*20)/20)
	if hi-lo < 0.1 {
		hi = math.Min(1, lo+0.1)
	}
	sx := func(w float64) float64 { return left + (right-left)*w/maxW }
	sy := func(y float64) float64 { return bott - (bott-top)*(y-lo)/(hi-lo) }
	clampY := func(y float64) float64 { return math.Max(top, math.Min(bott, sy(y))) }
	var b strings.Builder
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	fmt.Fprintf(&b, `<svg class="funnel" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="funnel plot">`, f(width), f(height), f(width), f(height))
	b.WriteString("\n")
	// Axes and ticks.
	fmt.Fprintf(&b, `<g stroke="#999" fill="none"><path d="M%s %sH%sM%s %sV%s"/></g>`, f(left), f(bott), f(right), f(left), f(top), f(bott))
	b.WriteString("\n<g font-size=\"11\" fill=\"#444\">")
	for i := 0; i <= 4; i++ {
		y := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f(left-6), f(sy(y)+4), centrePct(y))
	}
	step := centreStep(maxW / 5)
	for w := 0.0; w <= maxW; w += step {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f(sx(w)), f(bott+16), strconv.FormatFloat(w, 'f', 0, 64))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">precision: effective transplants at registry risk</text>`, f((left+right)/2), f(bott+36))
	b.WriteString("</g>\n")
	// Limits and the registry line.
	for _, l := range []struct {
		z    float64
		dash string
		name string
	}{{-Z998c, "", "99.8%"}, {Z998c, "", "99.8%"}, {-Z95c, "5 3", "95%"}, {Z95c, "5 3", "95%"}} {
		var d strings.Builder
		for k := 0; k <= 80; k++ {
			w := math.Max(1, maxW*float64(k)/80)
			cmd := "L"
			if k == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s %s", cmd, f(sx(w)), f(clampY(centreFunnelAt(reg, w, l.z))))
		}
		fmt.Fprintf(&b, `<path class="limit" data-limit="%s" d="%s" fill="none" stroke="#888" stroke-dasharray="%s"/>`+"\n", l.name, d.String(), l.dash)
	}
	fmt.Fprintf(&b, `<path class="line reference" data-stratum="registry" d="M%s %sH%s" stroke="#333" stroke-width="1.5"/>`+"\n", f(left), f(sy(reg)), f(right))
	for _, q := range pts {
		colour := "#1f77b4"
		switch q.flag {
		case "worse", "worse95":
			colour = "#d62728"
		case "better", "better95":
			colour = "#2ca02c"
		}
		fmt.Fprintf(&b, `<circle class="centre" data-centre="%s" cx="%s" cy="%s" r="3.5" fill="%s" fill-opacity="0.8"><title>%s</title></circle>`+"\n",
			htmltemplate.HTMLEscapeString(q.id), f(sx(q.w)), f(clampY(q.y)), colour, htmltemplate.HTMLEscapeString(q.id+": "+flagText(q.flag)))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="#333">registry %s</text>`, f(right-90), f(sy(reg)-5), centrePct(reg))
	b.WriteString("</svg>")
	return htmltemplate.HTML(b.String())
}

// Z95c and Z998c are the two-sided 95% and 99.8% normal quantiles.
const (
	Z95c  = 1.959963984540054
	Z998c = 3.090232306167813
)

func centreFunnelAt(p, w, z float64) float64 {
	return centreExpit(centreLogit(p) + z/math.Sqrt(w*p*(1-p)))
}

func centreLogit(p float64) float64 { return math.Log(p / (1 - p)) }
func centreExpit(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func centreStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	m := math.Pow(10, math.Floor(math.Log10(x)))
	for _, k := range []float64{1, 2, 5, 10} {
		if k*m >= x {
			return k * m
		}
	}
	return 10 * m
}

// rightAt marks the numeric columns of an n-column table.
func rightAt(n int, cols ...int) []bool {
	r := make([]bool, n)
	for _, c := range cols {
		r[c] = true
	}
	return r
}
