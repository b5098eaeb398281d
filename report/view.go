package report

import (
	"sort"
	"strconv"
	"strings"
)

// table is a rendered table: every number already formatted and every
// suppression applied, so the HTML and Markdown show the same. A row whose
// Span is set shows Cells[:Span] followed by one cell spanning the
// remaining columns.
type table struct {
	Head  []string
	Right []bool // per column: numbers, right-aligned in HTML
	Rows  []row
	Class string // extra class of the <table>
}

type row struct {
	Cells []string
	Sub   []string // optional second line per cell (numbers at risk)
	Group bool     // a heading row inside the table (variable name)
	Break bool     // first row of a new block
	Span  int      // >0: Cells[Span] spans the rest of the row
	Class string   // extra class of the <tr>, e.g. "concern"
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

// Flat is row r as plain cells for Markdown: a spanning cell repeated over
// the columns it spans, numbers at risk appended as "[n]", a group heading
// in bold.
func (t table) Flat(r row) []string {
	if r.Group {
		c := make([]string, len(t.Head))
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

func padCells(c []string, n int) []string {
	for len(c) < n {
		c = append(c, "")
	}
	return c
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

// typeLabel is how a transplant type reads: "All types" for the pooled
// "*", never a code that could be taken for one (ALL is an indication).
func typeLabel(tt string) string {
	if tt == "*" {
		return "All types"
	}
	return tt
}

// stratumName names a stratum in one line: "ALLO · MSD · AML",
// "All types · AML".
func stratumName(st Stratum) string {
	parts := []string{typeLabel(st.TransplantType)}
	if st.DonorType != "*" {
		parts = append(parts, st.DonorType)
	}
	if st.Indication != "*" {
		parts = append(parts, st.Indication)
	}
	return strings.Join(parts, " · ")
}

// strataSums declares the sums between strata of SPEC §3 for one quantity
// (keyOf gives a stratum's cell): the transplant types add up to all, the
// indications to their type (or to all), the donor types of ALLO to ALLO
// and, within an indication, to the (ALLO, indication) stratum.
func (r *renderer) strataSums(strata []Stratum, keyOf func(Stratum) string) {
	have := map[Stratum]bool{}
	for _, st := range strata {
		have[st] = true
	}
	type group struct {
		total Stratum
		kind  string
	}
	terms := map[group][]Stratum{}
	for _, st := range strata {
		add := func(total Stratum, kind string) { terms[group{total, kind}] = append(terms[group{total, kind}], st) }
		switch {
		case st.TransplantType == "*" && st.Indication == "*":
		case st.TransplantType == "*":
			add(Stratum{"*", "*", "*"}, "ind")
		case st.DonorType == "*" && st.Indication == "*":
			add(Stratum{"*", "*", "*"}, "tt")
		case st.DonorType == "*":
			add(Stratum{st.TransplantType, "*", "*"}, "ind")
			add(Stratum{"*", "*", st.Indication}, "tt")
		case st.Indication == "*":
			add(Stratum{st.TransplantType, "*", "*"}, "donor")
		default:
			add(Stratum{st.TransplantType, st.DonorType, "*"}, "ind")
			add(Stratum{st.TransplantType, "*", st.Indication}, "donor")
		}
	}
	gs := make([]group, 0, len(terms))
	for g := range terms {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].total != gs[j].total {
			return lessStratum(gs[i].total, gs[j].total)
		}
		return gs[i].kind < gs[j].kind
	})
	for _, g := range gs {
		if !have[g.total] {
			continue
		}
		var ks []string
		for _, st := range terms[g] {
			ks = append(ks, keyOf(st))
		}
		sort.Strings(ks)
		r.sum(keyOf(g.total), ks...)
	}
}

// allStrata returns every stratum of d's endpoints with its n, sorted.
func allStrata(d *Data) ([]Stratum, map[Stratum]int) {
	n := map[Stratum]int{}
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		for _, l := range e.Landmarks {
			n[l.Stratum] = l.N
		}
		for _, c := range e.Curves {
			n[c.Stratum] = c.N
		}
		for _, m := range e.Medians {
			n[m.Stratum] = m.N
		}
	}
	list := make([]Stratum, 0, len(n))
	for st := range n {
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return lessStratum(list[i], list[j]) })
	return list, n
}

// strataCells records every stratum's n and the sums between them; every
// table that prints a stratum's n uses the same cell.
func (r *renderer) strataCells() {
	list, n := allStrata(r.d)
	for _, st := range list {
		r.note(stratumCell(st), n[st])
	}
	r.strataSums(list, stratumCell)
}

// stratumHidden reports whether a stratum's numbers are withheld.
func (r *renderer) stratumHidden(table string, st Stratum, n int) bool {
	return r.hidden(table, stratumCell(st), n)
}

// hiddenLabel is what replaces a withheld stratum's numbers.
func (r *renderer) hiddenLabel(n int) string {
	if r.small(n) {
		return "suppressed (n < " + strconv.Itoa(r.minCell()) + ")"
	}
	return complementaryLabel
}

const complementaryLabel = "suppressed (complementary)"

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// dayLabel names a landmark day as readers say it: 100 d, 6 mo, 1 y.
func dayLabel(day int) string {
	switch {
	case day%365 == 0 && day > 0:
		return strconv.Itoa(day/365) + " y"
	case day == 180 || day == 182 || day == 183:
		return "6 mo"
	case day == 90 || day == 91:
		return "3 mo"
	case day == 270 || day == 273:
		return "9 mo"
	}
	return strconv.Itoa(day) + " d"
}
