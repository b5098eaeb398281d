package report

import (
	"sort"
	"strconv"
	"strings"
)

// The data-quality section says what to do: each flag with its meaning,
// count, share of transplants against a documented threshold and the
// centres contributing most; where the rejected rows are and how to list
// them; follow-up completeness against its threshold.

func init() { addSection(orderQuality, "quality", qualitySection) }

// The documented thresholds of the verdict.
const (
	// flagThreshold: a flag whose records exceed this share of the accepted
	// transplants is a concern.
	flagThreshold = 0.01
	// completenessThreshold: one-year follow-up completeness below it is a
	// concern (the share SPEC §6 asks of a centre to be assessed).
	completenessThreshold = 0.9
	// topCentres is how many centres a flag names.
	topCentres = 3
)

// flagMeanings say what each quality flag of quality_flags.sql means.
var flagMeanings = map[string]string{
	"two_deaths":                "a second death recorded for a transplant (every death after the first)",
	"relapse_after_death":       "a relapse dated after the first death",
	"last_contact_after_death":  "a last contact dated after the first death",
	"event_after_death":         "another event dated after the first death",
	"agvhd_without_grade":       "acute GVHD without a grade (counts for no GVHD endpoint)",
	"cgvhd_without_grade":       "chronic GVHD without a grade (counts for cgvhd, not for GRFS)",
	"gvhd_in_auto":              "GVHD recorded for an autologous transplant",
	"last_contact_before_event": "the latest last contact is dated before the latest other event",
	"allo_without_donor_type":   "an allogeneic transplant with donor type UNKNOWN",
	"grade_on_other_event":      "a grade on an event other than GVHD",
	"unknown_grade":             "a GVHD grade outside 1–4 / MILD–SEVERE (never counted as graded)",
	"value_out_of_range":        "age, Karnofsky or HCT-CI outside its plausible range (treated as unknown)",
	"donor_type_on_auto":        "a donor type on an autologous transplant (ignored)",
	"no_events":                 "a transplant without any event row (0 days of follow-up)",
}

type verdictItem struct {
	Text    string
	Concern bool
}

type verdictView struct {
	Head  string
	Items []verdictItem
}

type qualityView struct {
	Verdict                         verdictView
	Files, Rejects, Flags, Complete table
	Query, FlagNote                 string
}

func qualitySection(r *renderer) []Section {
	v := qualityView{Verdict: r.verdict()}
	v.Files = r.filesTable()
	v.Rejects = r.rejectsTable()
	v.Flags = r.flagsTable()
	v.Complete = r.completenessTable()
	// The output directory is not named: the report's bytes must not depend
	// on where it was written.
	v.Query = "marrow query --warehouse OUT/warehouse 'SELECT * FROM rejects ORDER BY file, line'"

	v.FlagNote = "Share: records over the " + r.acceptedText() + " accepted transplants. A flag above " + fixed(100*flagThreshold, 0) +
		"% of transplants is a concern. Centres: the " + strconv.Itoa(topCentres) + " centres with most records of the flag. Quality flags are in warehouse/quality (one row per flagged record)."
	var md strings.Builder
	if len(v.Flags.Rows) > 0 {
		md.WriteString("### Quality flags\n\n" + mdTable(v.Flags) + "\n" + mdText(v.FlagNote) + "\n\n")
	}
	for _, f := range r.d.Ingest.Files {
		if len(f.UnknownColumns) > 0 {
			md.WriteString(mdText(f.File+": unknown columns ignored: "+strings.Join(f.UnknownColumns, ", ")+".") + "\n\n")
		}
	}
	md.WriteString("Rejected rows: warehouse/rejects; to list them: `" + strings.ReplaceAll(v.Query, "`", "'") + "` (OUT: the output directory)\n")
	return []Section{{ID: "quality", Title: "Data quality", Body: r.exec("quality", v), Markdown: md.String()}}
}

// acceptedTransplants is the number of accepted transplant rows, -1 if
// unknown.
func (r *renderer) acceptedTransplants() int {
	for _, f := range r.d.Ingest.Files {
		if f.File == "transplants.csv" {
			return f.RowsAccepted
		}
	}
	return -1
}

func (r *renderer) acceptedText() string {
	n := r.acceptedTransplants()
	if n < 0 {
		return dash
	}
	return r.count("quality", rowsCell("transplants.csv", "accepted", "*"), n)
}

// verdict is the data-quality verdict: the reject rate of each file, the
// follow-up completeness, the flags above the threshold.
func (r *renderer) verdict() verdictView {
	d := r.d
	var v verdictView
	concerns := 0
	add := func(text string, concern bool) {
		v.Items = append(v.Items, verdictItem{text, concern})
		if concern {
			concerns++
		}
	}
	for _, f := range d.Ingest.Files {
		rej := rowsCell(f.File, "rejected", "*")
		text := f.File + ": " + r.count("verdict", rej, f.RowsRejected) + " of " + r.count("verdict", rowsCell(f.File, "*", "*"), f.RowsRead) + " rows rejected"
		if f.RowsRead > 0 && !r.hidden("verdict", rej, f.RowsRejected) && !r.hidden("verdict", rowsCell(f.File, "*", "*"), f.RowsRead) {
			text += " (" + fixed(100*float64(f.RowsRejected)/float64(f.RowsRead), 2) + "%)"
		}
		text += ", limit " + fixed(100*d.Config.MaxRejectRate, 2) + "%."
		add(text, f.RowsRead > 0 && float64(f.RowsRejected) > d.Config.MaxRejectRate*float64(f.RowsRead)/2)
	}
	for _, f := range d.FollowUp {
		if f.TransplantType != "*" || f.Eligible == 0 {
			continue
		}
		if r.hidden("verdict", followUpCell("eligible", "*"), f.Eligible) || r.hidden("verdict", followUpCell("complete", "*"), f.Complete) {
			add("One-year follow-up completeness: suppressed (small counts).", false)
			continue
		}
		c := float64(f.Complete) / float64(f.Eligible)
		add("One-year follow-up completeness "+fixed(100*c, 1)+"% (threshold "+fixed(100*completenessThreshold, 0)+"%).", c < completenessThreshold)
	}
	accepted := r.acceptedTransplants()
	var above []string
	for _, f := range d.Ingest.Quality {
		if accepted > 0 && float64(f.Count) > flagThreshold*float64(accepted) {
			above = append(above, f.Flag)
		}
	}
	if len(above) > 0 {
		add("Quality flags above "+fixed(100*flagThreshold, 0)+"% of transplants: "+strings.Join(above, ", ")+".", true)
	} else if len(d.Ingest.Quality) > 0 {
		add("No quality flag above "+fixed(100*flagThreshold, 0)+"% of transplants.", false)
	} else {
		add("No quality flags.", false)
	}
	if concerns == 0 {
		v.Head = "No concern: every check is within its threshold."
	} else {
		v.Head = "1 concern to look at:"
		if concerns > 1 {
			v.Head = strconv.Itoa(concerns) + " concerns to look at:"
		}
	}
	return v
}

// filesTable is the ingest by file: read = accepted + rejected.
func (r *renderer) filesTable() table {
	t := table{Head: []string{"File", "Rows read", "Accepted", "Rejected", "Rejected, %", "Unknown columns (ignored)"}, Right: []bool{false, true, true, true, true, false}}
	for _, f := range r.d.Ingest.Files {
		read, acc, rej := rowsCell(f.File, "*", "*"), rowsCell(f.File, "accepted", "*"), rowsCell(f.File, "rejected", "*")
		r.sum(read, acc, rej)
		rate := dash
		if f.RowsRead > 0 && !r.hidden("files", rej, f.RowsRejected) && !r.hidden("files", read, f.RowsRead) {
			rate = fixed(100*float64(f.RowsRejected)/float64(f.RowsRead), 2)
		}
		unk := strings.Join(f.UnknownColumns, ", ")
		if unk == "" {
			unk = "none"
		}
		t.Rows = append(t.Rows, row{Cells: []string{f.File, r.count("files", read, f.RowsRead), r.count("files", acc, f.RowsAccepted), r.count("files", rej, f.RowsRejected), rate, unk}})
	}
	return t
}

// rejectsTable counts rejected rows by file, column and reason; the
// reasons of a file add up to its rejected rows.
func (r *renderer) rejectsTable() table {
	t := table{Head: []string{"File", "Column", "Reason", "Rows"}, Right: []bool{false, false, false, true}}
	terms := map[string][]string{}
	var files []string
	for _, x := range r.d.Ingest.Rejects {
		col := x.Column
		if col == "" {
			col = "(row)"
		}
		key := rowsCell(x.File, "rejected", col+": "+x.Reason)
		if terms[x.File] == nil {
			files = append(files, x.File)
		}
		terms[x.File] = append(terms[x.File], key)
		t.Rows = append(t.Rows, row{Cells: []string{x.File, col, x.Reason, r.count("rejects", key, x.Count)}})
	}
	for _, f := range files {
		r.sum(rowsCell(f, "rejected", "*"), terms[f]...)
	}
	return t
}

// flagCell is the key of a flag's records, over all centres ("*") or one.
func flagCell(flag, centre string) string { return cellKey("flag", "flag", flag, "centre", centre) }

// flagsTable lists each flag with its meaning, records, share, threshold
// and top centres.
func (r *renderer) flagsTable() table {
	t := table{Head: []string{"Flag", "Meaning", "Records", "Share of transplants", "Above " + fixed(100*flagThreshold, 0) + "%?", "Centres with most records"},
		Right: []bool{false, false, true, true, false, false}}
	accepted := r.acceptedTransplants()
	for _, f := range r.d.Ingest.Quality {
		total := flagCell(f.Flag, "*")
		share := dash
		if accepted > 0 && !r.hidden("flags", total, f.Count) {
			share = fixed(100*float64(f.Count)/float64(accepted), 2) + "%"
		}
		above := "no"
		rw := row{}
		if accepted > 0 && float64(f.Count) > flagThreshold*float64(accepted) {
			above = "yes"
			rw.Class = "concern"
		}
		var keys, top []string
		cs := append([]CentreCount(nil), f.Centres...)
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].Count != cs[j].Count {
				return cs[i].Count > cs[j].Count
			}
			return cs[i].Centre < cs[j].Centre
		})
		for i, c := range cs {
			key := flagCell(f.Flag, c.Centre)
			keys = append(keys, key)
			if i < topCentres {
				top = append(top, c.Centre+" ("+r.count("flags", key, c.Count)+")")
			} else {
				r.note(key, c.Count)
			}
		}
		if len(keys) > 0 {
			sort.Strings(keys)
			r.sum(total, keys...)
		}
		meaning := flagMeanings[f.Flag]
		if meaning == "" {
			meaning = dash
		}
		centres := strings.Join(top, ", ")
		if centres == "" {
			centres = dash
		}
		rw.Cells = []string{f.Flag, meaning, r.count("flags", total, f.Count), share, above, centres}
		t.Rows = append(t.Rows, rw)
	}
	return t
}

// followUpCell is the key of a follow-up completeness count ("eligible"
// or "complete") of transplant type tt ("*" for all).
func followUpCell(what, tt string) string { return cellKey("fu", "what", what, "tt", tt) }

// completenessTable is the one-year follow-up completeness per group.
func (r *renderer) completenessTable() table {
	t := table{Head: []string{"Group", "Transplanted ≥ 1 year before cutoff", "Followed ≥ 1 year", "Completeness", "Below " + fixed(100*completenessThreshold, 0) + "%?"},
		Right: []bool{false, true, true, true, false}}
	fs := append([]FollowUp(nil), r.d.FollowUp...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].TransplantType < fs[j].TransplantType })
	var el, co []string
	hasAll := false
	for _, f := range fs {
		e, c := followUpCell("eligible", f.TransplantType), followUpCell("complete", f.TransplantType)
		if f.TransplantType == "*" {
			hasAll = true
		} else {
			el, co = append(el, e), append(co, c)
		}
		g := typeLabel(f.TransplantType)
		st := Stratum{f.TransplantType, "*", "*"}
		if r.stratumHidden("completeness", st, f.N) {
			r.note(e, f.Eligible)
			r.note(c, f.Complete)
			t.Rows = append(t.Rows, row{Cells: []string{g, r.hiddenLabel(f.N)}, Span: 1})
			continue
		}
		comp, below := dash, dash
		if f.Eligible > 0 && !r.hidden("completeness", e, f.Eligible) && !r.hidden("completeness", c, f.Complete) {
			comp = fixed(100*float64(f.Complete)/float64(f.Eligible), 1) + "%"
			below = "no"
			if float64(f.Complete) < completenessThreshold*float64(f.Eligible) {
				below = "yes"
			}
		}
		t.Rows = append(t.Rows, row{Cells: []string{g, r.count("completeness", e, f.Eligible), r.count("completeness", c, f.Complete), comp, below}})
	}
	if hasAll && len(el) > 0 {
		r.sum(followUpCell("eligible", "*"), el...)
		r.sum(followUpCell("complete", "*"), co...)
	}
	return t
}
