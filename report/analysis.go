package report

import (
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Analysis is one declared analysis of the config (SPEC §5) with its
// results: a section <section id="analysis-<name>"> after the methods.
type Analysis struct {
	Name, Title string
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
	Horizon                int
	Curves                 []AnalysisCurve
	Landmarks              []AnalysisLandmark
	Tests                  []AnalysisTest
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

// maxCurves is the most curves one figure shows (SPEC §4).
const maxCurves = 6

type analysisView struct {
	ID, Name, Title string
	Dims            string
	Endpoints       []analysisEndpointView
}

type analysisEndpointView struct {
	Name, Label string
	Figures     []figureView
	Landmarks   table
	Tests       table
}

func groupsKey(g []string) string { return strings.Join(g, "\x00") }

// analysisHidden decides which strata of one endpoint the report hides:
// those with fewer than min_cell transplants, and, because the groups of a
// dimension add up to its pooled stratum (within each combination of the
// other dimensions), one more stratum of any such sum with exactly one
// hidden term — the smallest shown group, else the total — until none has
// (complementary suppression, as the default analysis's strata).
func analysisHidden(curves []AnalysisCurve, dims int, sup suppressor) (hidden map[string]bool, complementary map[string]bool) {
	n := map[string]int{}
	for _, c := range curves {
		n[groupsKey(c.Groups)] = c.N
	}
	hidden, complementary = map[string]bool{}, map[string]bool{}
	if sup.min <= 0 {
		return hidden, complementary
	}
	for _, c := range curves {
		if c.N < sup.min {
			hidden[groupsKey(c.Groups)] = true
		}
	}
	type family struct {
		total   string
		members []string
	}
	var fams []family
	for _, c := range curves {
		for d := range dims {
			if c.Groups[d] != "*" {
				continue
			}
			f := family{total: groupsKey(c.Groups)}
			for _, m := range curves {
				if m.Groups[d] == "*" {
					continue
				}
				same := true
				for o := range dims {
					if o != d && m.Groups[o] != c.Groups[o] {
						same = false
						break
					}
				}
				if same {
					f.members = append(f.members, groupsKey(m.Groups))
				}
			}
			sort.Strings(f.members)
			if len(f.members) > 0 {
				fams = append(fams, f)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, f := range fams {
			terms := append([]string{f.total}, f.members...)
			count := 0
			for _, t := range terms {
				if hidden[t] {
					count++
				}
			}
			if count != 1 {
				continue
			}
			pick := ""
			for _, m := range f.members {
				if !hidden[m] && (pick == "" || n[m] < n[pick]) {
					pick = m
				}
			}
			if pick == "" {
				pick = f.total
			}
			hidden[pick], complementary[pick] = true, true
			changed = true
		}
	}
	return hidden, complementary
}

func analysisViews(d *Data, sup suppressor) []analysisView {
	var out []analysisView
	for _, a := range d.Analyses {
		v := analysisView{ID: "analysis-" + a.Name, Name: a.Name, Title: a.Title, Dims: strings.Join(a.Dims, " × ")}
		for _, e := range a.Endpoints {
			v.Endpoints = append(v.Endpoints, analysisEndpoint(d, &a, &e, sup))
		}
		out = append(out, v)
	}
	return out
}

func groupLabelOf(dims []string, g []string) string {
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

func analysisEndpoint(d *Data, a *Analysis, e *AnalysisEndpoint, sup suppressor) analysisEndpointView {
	ev := analysisEndpointView{Name: e.Name, Label: e.Label}
	km := e.Estimator == EstimatorKM
	hidden, compl := analysisHidden(e.Curves, len(a.Dims), sup)
	hideText := func(k string) string {
		if compl[k] {
			return complementaryLabel
		}
		return sup.label()
	}

	// Figures: one per dimension, its groups with the others pooled, the
	// largest six shown.
	horizon := e.Horizon
	if horizon <= 0 {
		horizon = 1825
		if n := len(a.Landmarks); n > 0 {
			horizon = a.Landmarks[n-1]
		}
	}
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
		f := figure{id: "fig-" + a.Name + "-" + e.Name + "-" + dim, title: e.Label + " by " + dim, km: km, horizon: horizon}
		var shown []*AnalysisCurve
		var small, protect []string
		for _, c := range cs {
			k := groupsKey(c.Groups)
			switch {
			case hidden[k] && compl[k]:
				protect = append(protect, c.Groups[di])
			case hidden[k]:
				small = append(small, c.Groups[di])
			default:
				shown = append(shown, c)
			}
		}
		var rest []string
		if len(shown) > maxCurves {
			bySize := slices.Clone(shown)
			sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].N > bySize[j].N })
			keep := map[*AnalysisCurve]bool{}
			for _, c := range bySize[:maxCurves] {
				keep[c] = true
			}
			var kept []*AnalysisCurve
			for _, c := range shown {
				if keep[c] {
					kept = append(kept, c)
				} else {
					rest = append(rest, c.Groups[di])
				}
			}
			shown = kept
		}
		for _, c := range shown {
			rc := &Curve{N: c.N, Points: c.Points}
			if _, ok := f.scale(rc); ok {
				f.curves = append(f.curves, figCurve{c.Groups[di], rc})
			}
		}
		fv := figureView{ID: f.id, Title: "By " + dim}
		var notes []string
		if len(rest) > 0 {
			notes = append(notes, "The "+strconv.Itoa(maxCurves)+" largest groups are plotted; not plotted (see the table): "+strings.Join(rest, ", ")+".")
		}
		if len(small) > 0 {
			notes = append(notes, "Not plotted, fewer than "+strconv.Itoa(sup.min)+" transplants: "+strings.Join(small, ", ")+".")
		}
		if len(protect) > 0 {
			notes = append(notes, "Not plotted, so that a smaller group cannot be derived by subtraction: "+strings.Join(protect, ", ")+".")
		}
		fv.Note = strings.Join(notes, " ")
		if len(f.curves) > 0 {
			fv.SVG = template.HTML(f.svg())
		} else if fv.Note == "" {
			fv.Note = "No curve to plot."
		}
		ev.Figures = append(ev.Figures, fv)
	}

	// Landmark table: one row per stratum.
	head := append(slices.Clone(a.Dims), "n")
	right := make([]bool, len(a.Dims))
	right = append(right, true)
	for _, day := range a.Landmarks {
		head = append(head, "Day "+strconv.Itoa(day))
		right = append(right, true)
	}
	t := table{Head: head, Right: right}
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
		k := groupsKey(g)
		r := row{}
		for _, x := range g {
			r.Cells = append(r.Cells, pooled(x))
		}
		lms := byStratum[k]
		if hidden[k] {
			r.Cells = append(r.Cells, hideText(k))
			r.Span = len(g)
			t.Rows = append(t.Rows, r)
			continue
		}
		r.Cells = append(r.Cells, strconv.Itoa(lms[0].N))
		r.Sub = make([]string, len(r.Cells))
		for _, day := range a.Landmarks {
			cell, sub := dash, ""
			for _, lm := range lms {
				if lm.Day == day {
					cell, sub = pctCI(lm.Estimate, lm.Lower, lm.Upper), strconv.Itoa(lm.NRisk)
				}
			}
			r.Cells = append(r.Cells, cell)
			r.Sub = append(r.Sub, sub)
		}
		t.Rows = append(t.Rows, r)
	}
	ev.Landmarks = t

	tt := table{Head: []string{"Comparison", "Within", "Statistic", "df", "p", "Method", "Left out (fewer than min_group)"},
		Right: []bool{false, false, true, true, true, false, false}}
	for _, x := range e.Tests {
		stat, p := "not computable", ""
		if !empty(x.Statistic) {
			stat, p = fixed(x.Statistic, 2), pvalue(x.PValue)
		}
		tt.Rows = append(tt.Rows, row{Cells: []string{x.Comparison, x.Within, stat, strconv.Itoa(x.DF), p, x.Method, orDash(strings.ReplaceAll(x.Excluded, ";", ", "))}})
	}
	ev.Tests = tt
	return ev
}
