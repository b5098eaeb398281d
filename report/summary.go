package report

import (
	"html/template"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The first page (section "summary") answers "how are we doing": the
// cohort flow from rows read to transplants analysed, the main outcomes per
// transplant type, their trend over transplant years, the centres' funnel
// plots, and a data-quality verdict; then follow-up and the cohort's
// characteristics.

func init() { addSection(orderSummary, "summary", summarySection) }

type summaryView struct {
	Lead        string
	Warnings    []string // the run's warnings (Data.Warnings), first
	Flow        table
	FlowNote    string
	Outcomes    table
	Trend       template.HTML
	TrendNote   string
	Funnel      template.HTML
	Verdict     verdictView
	FollowUp    table
	Cohort      table
	Suppression string
}

// headlineRows are the first page's outcomes: endpoint and landmark day.
var headlineRows = []struct {
	ep  string
	day int
}{
	{"nrm", 100},
	{"os", 365}, {"os", 730}, {"os", 1825},
	{"lfs", 365}, {"lfs", 730}, {"lfs", 1825},
	{"relapse", 365}, {"relapse", 730}, {"relapse", 1825},
	{"nrm", 365}, {"nrm", 730}, {"nrm", 1825},
	{"grfs", 365}, {"grfs", 730}, {"grfs", 1825},
}

func summarySection(r *renderer) []Section {
	r.strataCells()
	v := summaryView{
		Lead:     r.lead(),
		Warnings: r.d.Warnings,
		Outcomes: r.outcomes(),
		FollowUp: r.followUpTable(),
		Cohort:   r.cohortTable(),
		Verdict:  r.verdict(),
	}
	v.Flow, v.FlowNote = r.flowTable()
	v.Trend, v.TrendNote = r.trend()
	if summaryFunnel != nil {
		v.Funnel = summaryFunnel(r)
	}
	if r.minCell() > 0 {
		m := strconv.Itoa(r.minCell())
		v.Suppression = "Counts from 1 to " + strconv.Itoa(r.minCell()-1) + " read \"<" + m + "\"; strata with fewer than " + m +
			" transplants are not plotted and their estimates not shown. Where a hidden count could be worked out from other numbers of the report, more are hidden (\"≥" + m + "\"); see Methods."
	} else {
		v.Suppression = "Small-cell suppression is disabled (min_cell = 0)."
	}
	md := r.summaryMarkdown(v)
	return []Section{{ID: "summary", Title: "Summary", Body: r.exec("summary", v), Markdown: md}}
}

// lead is the first sentence: cohort size, follow-up, cutoff.
func (r *renderer) lead() string {
	d := r.d
	_, n := allStrata(d)
	all := Stratum{"*", "*", "*"}
	var b strings.Builder
	if k, ok := n[all]; ok {
		b.WriteString(r.count("lead", stratumCell(all), k) + " transplants analysed")
		var parts []string
		for _, tt := range []string{"ALLO", "AUTO"} {
			st := Stratum{tt, "*", "*"}
			if k, ok := n[st]; ok {
				parts = append(parts, tt+" "+r.count("lead", stratumCell(st), k))
			}
		}
		if len(parts) > 0 {
			b.WriteString(" (" + strings.Join(parts, ", ") + ")")
		}
		b.WriteString("; ")
		for _, f := range d.FollowUp {
			if f.TransplantType == "*" && !r.stratumHidden("lead", all, k) && !empty(f.Median) {
				b.WriteString("median follow-up " + years(f.Median) + " years; ")
			}
		}
	}
	b.WriteString("data cutoff " + d.Cutoff + ".")
	s := b.String()
	c, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(c)) + s[size:]
}

// years formats days as years with one decimal.
func years(days float64) string {
	if empty(days) {
		return dash
	}
	return fixed(days/365.25, 1)
}

// rowsCell is the key of an ingest row count: status "*" = read,
// "accepted", "rejected"; reason "*" or "column: reason" of a rejected row.
func rowsCell(file, status, reason string) string {
	return cellKey("rows", "file", file, "status", status, "reason", reason)
}

// flowTable is the cohort flow: rows read → rejected → accepted → not in
// the cohort (why) → analysed.
func (r *renderer) flowTable() (table, string) {
	d := r.d
	t := table{Head: []string{"Step", "Transplants"}, Right: []bool{false, true}, Class: "flow"}
	var tx *FileCount
	for i := range d.Ingest.Files {
		if d.Ingest.Files[i].File == "transplants.csv" {
			tx = &d.Ingest.Files[i]
		}
	}
	if tx == nil {
		return t, "Ingest counts not available."
	}
	read, acc, rej := rowsCell(tx.File, "*", "*"), rowsCell(tx.File, "accepted", "*"), rowsCell(tx.File, "rejected", "*")
	r.sum(read, acc, rej)
	t.Rows = append(t.Rows,
		row{Cells: []string{"Rows read from transplants.csv", r.count("flow", read, tx.RowsRead)}},
		row{Cells: []string{"Rejected at ingest (see Data quality)", r.count("flow", rej, tx.RowsRejected)}},
		row{Cells: []string{"Accepted", r.count("flow", acc, tx.RowsAccepted)}, Break: true})
	if !d.Flow.Known {
		return t, "The cohort's exclusions were not counted."
	}
	later, cut := cellKey("flow", "stage", "later"), cellKey("flow", "stage", "after_cutoff")
	all := stratumCell(Stratum{"*", "*", "*"})
	r.sum(acc, later, cut, all)
	t.Rows = append(t.Rows,
		row{Cells: []string{"Not in the cohort: a later transplant of the same type", r.count("flow", later, d.Flow.Later)}},
		row{Cells: []string{"Not in the cohort: dated after the cutoff", r.count("flow", cut, d.Flow.AfterCutoff)}},
		row{Cells: []string{"Analysed", r.count("flow", all, d.Flow.Analysed)}, Break: true})
	note := "The cohort is each patient's first transplant of each type dated on or before the cutoff (" + d.Cutoff + ")."
	if d.Config.Cohort == "all" {
		note = "The cohort is every transplant dated on or before the cutoff (" + d.Cutoff + ")."
	}
	return t, note
}

// landmarkAt returns endpoint ep's landmark of stratum st at day.
func landmarkAt(d *Data, ep string, st Stratum, day int) *Landmark {
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		if e.Name != ep {
			continue
		}
		for j := range e.Landmarks {
			if l := &e.Landmarks[j]; l.Stratum == st && l.Day == day {
				return l
			}
		}
	}
	return nil
}

func endpointByName(d *Data, name string) *Endpoint {
	for i := range d.Endpoints {
		if d.Endpoints[i].Name == name {
			return &d.Endpoints[i]
		}
	}
	return nil
}

// outcomes is the first page's table: rows endpoint × landmark, columns
// all types and each type.
func (r *renderer) outcomes() table {
	d := r.d
	_, n := allStrata(d)
	var cols []Stratum
	for _, tt := range []string{"*", "ALLO", "AUTO"} {
		if _, ok := n[Stratum{tt, "*", "*"}]; ok {
			cols = append(cols, Stratum{tt, "*", "*"})
		}
	}
	t := table{Head: []string{"Outcome"}, Right: []bool{false}, Class: "outcomes"}
	for _, st := range cols {
		t.Head = append(t.Head, typeLabel(st.TransplantType)+" (n = "+r.count("outcomes", stratumCell(st), n[st])+")")
		t.Right = append(t.Right, true)
	}
	prev := ""
	for _, h := range headlineRows {
		e := endpointByName(d, h.ep)
		if e == nil {
			continue
		}
		rw := row{Cells: []string{e.Label + ", " + dayLabel(h.day)}, Break: prev != "" && prev != h.ep}
		prev = h.ep
		anyValue := false
		for _, st := range cols {
			l := landmarkAt(d, h.ep, st, h.day)
			switch {
			case l == nil:
				if _, ok := n[st]; ok && e.allo() && st.TransplantType != "ALLO" {
					rw.Cells = append(rw.Cells, "not applicable")
				} else {
					rw.Cells = append(rw.Cells, dash)
				}
			case r.stratumHidden("outcomes", st, l.N):
				rw.Cells = append(rw.Cells, "suppressed")
			default:
				rw.Cells = append(rw.Cells, pctCI(l.Estimate, l.Lower, l.Upper))
				anyValue = true
			}
		}
		if anyValue || landmarkAt(d, h.ep, Stratum{"*", "*", "*"}, h.day) != nil || landmarkAt(d, h.ep, Stratum{"ALLO", "*", "*"}, h.day) != nil {
			t.Rows = append(t.Rows, rw)
		}
	}
	return t
}

// allo reports whether the endpoint is defined for allogeneic transplants
// only (no stratum of another type).
func (e *Endpoint) allo() bool {
	if len(e.Curves) == 0 && len(e.Landmarks) == 0 {
		return false
	}
	for _, c := range e.Curves {
		if c.TransplantType != "ALLO" {
			return false
		}
	}
	for _, l := range e.Landmarks {
		if l.TransplantType != "ALLO" {
			return false
		}
	}
	return true
}

// followUpTable is median follow-up in years with its interquartile range.
func (r *renderer) followUpTable() table {
	t := table{Head: []string{"Group", "n", "Median follow-up, years (IQR)"}, Right: []bool{false, true, true}}
	fs := append([]FollowUp(nil), r.d.FollowUp...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].TransplantType < fs[j].TransplantType })
	for _, f := range fs {
		st := Stratum{f.TransplantType, "*", "*"}
		g := typeLabel(f.TransplantType)
		if r.stratumHidden("followup", st, f.N) {
			t.Rows = append(t.Rows, row{Cells: []string{g, r.count("followup", stratumCell(st), f.N), r.hiddenLabel(f.N)}, Span: 2})
			continue
		}
		m := years(f.Median)
		if !empty(f.Median) && !empty(f.Q1) && !empty(f.Q3) {
			m += " (" + years(f.Q1) + "–" + years(f.Q3) + ")"
		}
		t.Rows = append(t.Rows, row{Cells: []string{g, r.count("followup", stratumCell(st), f.N), m}})
	}
	return t
}

// levelCell is the cell of a cohort-table count. A column's indication is
// the stratum (type, *, indication), a donor type the stratum (ALLO,
// donor, *) — in the All column too, as AUTO transplants have none — and
// the donor of AUTO ("not applicable") the AUTO stratum, so the cohort
// table and the strata hide the same numbers.
func levelCell(column, variable, level string, strata map[Stratum]int) string {
	tt := column
	if column == allColumn {
		tt = "*"
	}
	switch variable {
	case "Indication":
		return stratumCell(Stratum{tt, "*", level})
	case "Donor type":
		if level == "not applicable" && tt != "ALLO" {
			return stratumCell(Stratum{"AUTO", "*", "*"})
		}
		if _, ok := strata[Stratum{"ALLO", level, "*"}]; ok && tt != "AUTO" {
			return stratumCell(Stratum{"ALLO", level, "*"})
		}
	}
	return cellKey("level", "var", variable, "val", level, "tt", tt)
}

// allColumn is the cohort-table column of all transplants.
const allColumn = "All"

// cohortTable is the cohort's characteristics: n, age median (IQR), then
// each variable's levels as "count (percent of the column)".
func (r *renderer) cohortTable() table {
	s := &r.d.Summary
	_, strata := allStrata(r.d)
	t := table{Head: []string{"Characteristic"}, Class: "cohort"}
	t.Right = []bool{false}
	for _, c := range s.Columns {
		h := c
		if c == allColumn {
			h = "All types"
		}
		t.Head = append(t.Head, h)
		t.Right = append(t.Right, true)
	}
	colN := func(i int) int {
		if i < len(s.N) {
			return s.N[i]
		}
		return 0
	}
	colKey := func(i int) string {
		if s.Columns[i] == allColumn {
			return stratumCell(Stratum{"*", "*", "*"})
		}
		return stratumCell(Stratum{s.Columns[i], "*", "*"})
	}
	byType := len(s.Columns) > 1 && s.Columns[0] == allColumn
	rw := row{Cells: []string{"Transplants"}}
	var typeKeys []string
	for i := range s.Columns {
		r.note(colKey(i), colN(i))
		rw.Cells = append(rw.Cells, r.count("cohort", colKey(i), colN(i)))
		if i > 0 {
			typeKeys = append(typeKeys, colKey(i))
		}
	}
	if byType {
		r.sum(colKey(0), typeKeys...)
	}
	t.Rows = append(t.Rows, rw)
	if len(s.Age) > 0 {
		rw := row{Cells: []string{"Age, years: median (IQR)"}}
		for i := range s.Columns {
			switch {
			case i >= len(s.Age) || s.Age[i].Known == 0:
				rw.Cells = append(rw.Cells, dash)
			case r.hidden("cohort", colKey(i), colN(i)):
				rw.Cells = append(rw.Cells, "suppressed")
			default:
				a := s.Age[i]
				c := fixed(a.Median, 1)
				if !empty(a.Q1) && !empty(a.Q3) {
					c += " (" + fixed(a.Q1, 1) + "–" + fixed(a.Q3, 1) + ")"
				}
				rw.Cells = append(rw.Cells, c)
			}
		}
		t.Rows = append(t.Rows, rw)
	}
	for _, vr := range s.Variables {
		t.Rows = append(t.Rows, row{Cells: padCells([]string{vr.Name}, len(t.Head)), Group: true})
		colTerms := make([][]string, len(s.Columns))
		for _, lv := range vr.Levels {
			rw := row{Cells: []string{lv.Label}}
			var keys []string
			for i, col := range s.Columns {
				n := 0
				if i < len(lv.Counts) {
					n = lv.Counts[i]
				}
				key := levelCell(col, vr.Name, lv.Label, strata)
				keys = append(keys, key)
				colTerms[i] = append(colTerms[i], key)
				c := r.count("cohort", key, n)
				if n > 0 && !r.hidden("cohort", key, n) && colN(i) > 0 && !r.hidden("cohort", colKey(i), colN(i)) {
					c += " (" + fixed(100*float64(n)/float64(colN(i)), 1) + "%)"
				}
				rw.Cells = append(rw.Cells, c)
			}
			if byType && keys[0] != keys[1] {
				r.sum(keys[0], keys[1:]...)
			}
			t.Rows = append(t.Rows, rw)
		}
		for i := range s.Columns {
			r.sum(colKey(i), colTerms[i]...)
		}
	}
	return t
}

// trend is the first page's figure of 1-year OS and NRM per transplant
// year per type (Data.Trend, from the built-in by_year analysis), or the
// slot's note without it.
func (r *renderer) trend() (template.HTML, string) {
	if len(r.d.Trend) == 0 {
		return "", "Slot: 1-year overall survival and non-relapse mortality per year of transplant and transplant type appear here once the built-in analysis by_year is estimated."
	}
	svg, note := trendSVG(r, r.d.Trend)
	return template.HTML(svg), note
}

// summaryMarkdown is report.md: the first page and the quality flags.
func (r *renderer) summaryMarkdown(v summaryView) string {
	var b strings.Builder
	b.WriteString(mdText(v.Lead) + "\n\n")
	for _, w := range v.Warnings {
		b.WriteString("**Warning:** " + mdText(w) + "\n\n")
	}
	b.WriteString("### Cohort flow\n\n" + mdTable(v.Flow) + "\n")
	if v.FlowNote != "" {
		b.WriteString(mdText(v.FlowNote) + "\n\n")
	}
	b.WriteString("### Outcomes\n\nEstimates in % with 95% confidence intervals.\n\n" + mdTable(v.Outcomes) + "\n")
	b.WriteString("### Follow-up\n\n" + mdTable(v.FollowUp) + "\n")
	b.WriteString("### Data quality\n\n" + mdText(v.Verdict.Head) + "\n\n")
	for _, it := range v.Verdict.Items {
		b.WriteString("- " + mdText(it.Text) + "\n")
	}
	b.WriteString("\n" + mdText(v.Suppression) + "\n")
	return b.String()
}
