package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// The changes section: what changed since the output this run replaced
// (results/changes). Kept in this file and in templates/changes.*.tmpl;
// the shared files only carry Data.Changes, view.Changes, the template
// files' names in report.go and one {{template "changes" .Changes}} per
// template.

// Changes is what changed since the output a run replaced, as
// results/changes holds it; nil for a first run (no section). Counts are
// of rows, transplants and flags: no field can hold an identifier.
type Changes struct {
	// Settings that differ: cutoff, versions, config keys; Old and New as
	// recorded in manifest.json (JSON text), "absent" when missing.
	Settings []SettingChange
	// Files are the rows read, accepted and rejected of each input file.
	Files []FileChange
	// Transplants added, removed and changed, by transplant_id and the
	// warehouse's row_hash.
	Transplants TransplantChanges
	// NewFlags counts the quality flags of each kind not in the previous
	// output (only kinds with new flags).
	NewFlags []FlagCount
	// Screened is the number of landmark estimates both outputs have with
	// a standard error; Landmarks are those of them beyond the screening
	// limit, in results/changes order.
	Screened  int
	Landmarks []LandmarkChange
	// Endpoints and strata in only one of the two outputs. A stratum of an
	// endpoint that appeared or vanished as a whole is not listed again.
	EndpointsAppeared, EndpointsVanished []string
	StrataAppeared, StrataVanished       []StratumChange
}

// SettingChange is one setting whose value differs.
type SettingChange struct{ Name, Old, New string }

// FileChange compares one input file's counts; InOld/InNew say which
// outputs have the file.
type FileChange struct {
	File         string
	InOld, InNew bool
	Old, New     FileCount
}

// TransplantChanges counts transplants by what happened to them. Hashed is
// false when the previous output has no row hashes (an older marrow):
// Changed is then unknown.
type TransplantChanges struct {
	Added, Removed, Changed int
	Hashed                  bool
}

// LandmarkChange is one landmark estimate that moved beyond the screening
// limit z·√(OldStdErr² + NewStdErr²); OldN and NewN are the stratum's
// transplants in each output.
type LandmarkChange struct {
	Endpoint string
	Stratum
	Day                  int
	OldN, NewN           int
	Old, New             float64
	OldStdErr, NewStdErr float64
}

// StratumChange is one endpoint × stratum in one output only.
type StratumChange struct {
	Endpoint string
	Stratum
}

func init() { addSection(orderChanges, "changes", changesSection) }

// changesView is the rendered section.
type changesView struct {
	Lead         string
	Settings     table
	Files        table
	FilesNote    string
	Transplants  table
	Flags        table
	Landmarks    table
	LandmarkNote string
	Coverage     table // endpoints and strata that appeared or vanished
	Rule         string
}

// screeningZ is the z of the screening rule, as in every 95% interval.
const screeningZ = 1.959963984540054

// changeCell is the key of a count of the previous output's files, or of
// the transplants added, removed or changed. This run's file counts are the
// ingest's own cells (rowsCell), so every table hides them alike.
func changeCell(kv ...string) string { return cellKey("chg", kv...) }

// fileCell is the key of a file count of one side ("previous" or "now").
func fileCell(file, side, status string) string {
	if side == "now" {
		if status == "read" {
			status = "*"
		}
		return rowsCell(file, status, "*")
	}
	if status == "read" {
		status = "*"
	}
	return changeCell("file", file, "side", "previous", "status", status)
}

// changesSection builds the section (none for a first run). Its counts go
// through the report's one rule; the sums binding them — in each output
// read = accepted + rejected, and this run's accepted transplants are the
// previous output's + added − removed — are declared with the others, so
// the complementary step covers them too. Landmark estimates are shown only
// for strata the report shows in both outputs (this run's by the report's
// own suppression, the previous by min_cell).
func changesSection(r *renderer) []Section {
	d := r.d
	c := d.Changes
	if c == nil {
		return nil
	}
	v := changesView{}
	labels := map[string]string{}
	for _, e := range d.Endpoints {
		labels[e.Name] = e.Label
	}
	label := func(ep string) string {
		if l, ok := labels[ep]; ok {
			return l + " (" + ep + ")"
		}
		return ep
	}
	const tb = "changes"
	tc := c.Transplants
	files := append([]FileChange(nil), c.Files...)
	sort.SliceStable(files, func(i, j int) bool { return fileRank(files[i].File) < fileRank(files[j].File) })
	added, removed, changed := changeCell("what", "added"), changeCell("what", "removed"), changeCell("what", "changed")

	v.Lead = "Compared with the output this run replaced: " + r.count(tb, added, tc.Added) + " transplants added, " +
		r.count(tb, removed, tc.Removed) + " removed"
	if tc.Hashed {
		v.Lead += ", " + r.count(tb, changed, tc.Changed) + " changed (their own values or their events)"
	}
	v.Lead += "; " + strconv.Itoa(len(c.Landmarks)) + " of " + strconv.Itoa(c.Screened) +
		" landmark estimates moved beyond the screening limit."

	v.Settings = table{Head: []string{"Setting", "Previous", "Now"}}
	for _, s := range c.Settings {
		v.Settings.Rows = append(v.Settings.Rows, row{Cells: []string{s.Name, unquote(s.Old), unquote(s.New)}})
	}

	v.Files = table{Head: []string{"File", "Output", "Rows read", "Accepted", "Rejected"}, Right: []bool{false, false, true, true, true}}
	present := map[string]bool{}
	for _, f := range files {
		for k, side := range []struct {
			name    string
			present bool
			fc      FileCount
		}{{"previous", f.InOld, f.Old}, {"now", f.InNew, f.New}} {
			rw := row{Cells: []string{f.File, side.name}, Break: k == 0}
			if k == 1 {
				rw.Cells[0] = ""
			}
			if !side.present {
				rw.Cells = append(rw.Cells, "not in the extract")
				rw.Span = 2
			} else {
				read, acc, rej := fileCell(f.File, side.name, "read"), fileCell(f.File, side.name, "accepted"), fileCell(f.File, side.name, "rejected")
				r.sum(read, acc, rej)
				present[f.File+"|"+side.name] = true
				rw.Cells = append(rw.Cells, r.count(tb, read, side.fc.RowsRead), r.count(tb, acc, side.fc.RowsAccepted), r.count(tb, rej, side.fc.RowsRejected))
			}
			v.Files.Rows = append(v.Files.Rows, rw)
		}
	}
	if present["transplants.csv|previous"] && present["transplants.csv|now"] {
		// now = previous + added − removed, i.e. now + removed = previous + added.
		r.c.sumSigned(fileCell("transplants.csv", "now", "accepted"), []string{fileCell("transplants.csv", "previous", "accepted"), added}, []string{removed})
	}

	v.Transplants = table{Head: []string{"Transplants", "Count"}, Right: []bool{false, true}}
	v.Transplants.Rows = append(v.Transplants.Rows,
		row{Cells: []string{"added (transplant_id not in the previous output)", r.count(tb, added, tc.Added)}},
		row{Cells: []string{"removed (transplant_id no longer in the extract)", r.count(tb, removed, tc.Removed)}})
	if tc.Hashed {
		v.Transplants.Rows = append(v.Transplants.Rows,
			row{Cells: []string{"changed (a value or an event differs)", r.count(tb, changed, tc.Changed)}})
	} else {
		v.Transplants.Rows = append(v.Transplants.Rows,
			row{Cells: []string{"changed", "not known (the previous output has no row hashes)"}})
	}

	v.Flags = table{Head: []string{"Flag", "New since the previous output"}, Right: []bool{false, true}}
	for _, f := range c.NewFlags {
		v.Flags.Rows = append(v.Flags.Rows, row{Cells: []string{f.Flag, r.count(tb, changeCell("newflag", f.Flag), f.Count)}})
	}

	v.Landmarks = table{Head: []string{"Endpoint", "Group", "Day", "Previous, %", "Now, %", "Change, points", "Limit, points"},
		Right: []bool{false, false, true, true, true, true, true}}
	hidden := 0
	for _, l := range c.Landmarks {
		if r.small(l.OldN) || r.stratumHidden(tb, l.Stratum, l.NewN) {
			hidden++
			continue
		}
		limit := screeningZ * math.Sqrt(l.OldStdErr*l.OldStdErr+l.NewStdErr*l.NewStdErr)
		v.Landmarks.Rows = append(v.Landmarks.Rows, row{Cells: []string{label(l.Endpoint), stratumName(l.Stratum),
			dayLabel(l.Day), pct(l.Old), pct(l.New), signed(100 * (l.New - l.Old)), fixed(100*limit, 1)}})
	}
	if hidden > 0 {
		v.LandmarkNote = strconv.Itoa(hidden) + " more in strata the report does not show (fewer than " +
			strconv.Itoa(r.minCell()) + " transplants, or suppressed); results/changes lists them."
	}

	// Endpoints, then strata grouped with the endpoints they concern.
	v.Coverage = table{Head: []string{"Change", "Group", "Endpoints"}}
	for _, e := range []struct {
		what string
		eps  []string
	}{{"endpoint appeared", c.EndpointsAppeared}, {"endpoint vanished", c.EndpointsVanished}} {
		for _, ep := range e.eps {
			v.Coverage.Rows = append(v.Coverage.Rows, row{Cells: []string{e.what, "all strata", label(ep)}})
		}
	}
	for _, s := range []struct {
		what   string
		strata []StratumChange
	}{{"stratum appeared", c.StrataAppeared}, {"stratum vanished", c.StrataVanished}} {
		byStratum := map[Stratum][]string{}
		var order []Stratum
		for _, st := range s.strata {
			if byStratum[st.Stratum] == nil {
				order = append(order, st.Stratum)
			}
			byStratum[st.Stratum] = append(byStratum[st.Stratum], st.Endpoint)
		}
		sort.Slice(order, func(i, j int) bool { return lessStratum(order[i], order[j]) })
		for _, st := range order {
			v.Coverage.Rows = append(v.Coverage.Rows, row{Cells: []string{s.what, stratumName(st), strings.Join(byStratum[st], ", ")}})
		}
	}

	v.Rule = "A landmark estimate is listed when it moved by more than z·√(se₁² + se₂²) with z = 1.96 " +
		"(Φ⁻¹(0.975)), se₁ and se₂ its standard errors in the two outputs: a screening rule, not a test. " +
		"The two runs share most transplants, so the estimates are correlated and the rule is conservative; " +
		"among thousands of estimates some are listed by chance. Transplants are matched by identifier and " +
		"compared by a hash of their values and events kept in the warehouse; no identifier is shown. " +
		"results/changes has every row, unsuppressed."

	var md strings.Builder
	md.WriteString(mdText(v.Lead) + "\n\n### Rows per file\n\n" + mdTable(v.Files) + "\n### Transplants\n\n" + mdTable(v.Transplants))
	if len(v.Flags.Rows) > 0 {
		md.WriteString("\n### New quality flags\n\n" + mdTable(v.Flags))
	}
	return []Section{{ID: "changes", Title: "Changes since the previous output", Body: r.exec("changes", v), Markdown: md.String()}}
}

// unquote shows a JSON string value without its quotes ("2025-01-31");
// other JSON (numbers, lists) is shown as it is.
func unquote(v string) string {
	if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
		return u
	}
	return v
}

// fileRank puts transplants.csv before events.csv, as the ingest table.
func fileRank(f string) int {
	switch f {
	case "transplants.csv":
		return 0
	case "events.csv":
		return 1
	}
	return 2
}

// signed formats a change with its sign and one decimal: "+4.2", "−3.1".
func signed(x float64) string {
	s := fixed(x, 1)
	switch {
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	case s == fixed(0, 1):
		return s
	}
	return "+" + s
}
