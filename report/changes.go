package report

import (
	"math"
	"slices"
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

// changesView is the rendered section; nil = no section.
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

// changes builds the section. Counts follow the small-cell rule: 1 to
// min−1 read "<min". The section's counts are bound by sums — in each
// output read = accepted + rejected, and this run's accepted transplants
// are the previous output's + added − removed — so complementary
// suppression runs over those sums as the report's does over its own:
// wherever a sum has exactly one hidden term another is hidden ("≥min"),
// the previous output's totals first, then this run's, never an added or
// removed count unless nothing else is left. Landmark estimates are shown
// only for strata the report shows in both outputs (this run's by the
// report's own suppression, the previous by min_cell).
func changes(d *Data, sup suppressor) *changesView {
	c := d.Changes
	if c == nil {
		return nil
	}
	v := &changesView{}
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

	tc := c.Transplants
	files := append([]FileChange(nil), c.Files...)
	sort.SliceStable(files, func(i, j int) bool { return fileRank(files[i].File) < fileRank(files[j].File) })
	cs := changeCounts(files, tc, sup)

	v.Lead = "Compared with the output this run replaced: " + cs.text("added") + " transplants added, " +
		cs.text("removed") + " removed"
	if tc.Hashed {
		v.Lead += ", " + sup.count(tc.Changed) + " changed (their own values or their events)"
	}
	v.Lead += "; " + strconv.Itoa(len(c.Landmarks)) + " of " + strconv.Itoa(c.Screened) +
		" landmark estimates moved beyond the screening limit."

	v.Settings = table{Head: []string{"Setting", "Previous", "Now"}}
	for _, s := range c.Settings {
		v.Settings.Rows = append(v.Settings.Rows, row{Cells: []string{s.Name, unquote(s.Old), unquote(s.New)}})
	}

	v.Files = table{Head: []string{"File", "Output", "Rows read", "Accepted", "Rejected"}, Right: []bool{false, false, true, true, true}}
	for _, f := range files {
		for k, side := range []struct {
			name    string
			present bool
		}{{"previous", f.InOld}, {"now", f.InNew}} {
			r := row{Cells: []string{f.File, side.name}, Break: k == 0}
			if k == 1 {
				r.Cells[0] = ""
			}
			if !side.present {
				r.Cells = append(r.Cells, "not in the extract")
				r.Span = 2
			} else {
				p := f.File + "|" + side.name + "|"
				r.Cells = append(r.Cells, cs.text(p+"read"), cs.text(p+"accepted"), cs.text(p+"rejected"))
			}
			v.Files.Rows = append(v.Files.Rows, r)
		}
	}

	v.Transplants = table{Head: []string{"Transplants", "Count"}, Right: []bool{false, true}}
	v.Transplants.Rows = append(v.Transplants.Rows,
		row{Cells: []string{"added (transplant_id not in the previous output)", cs.text("added")}},
		row{Cells: []string{"removed (transplant_id no longer in the extract)", cs.text("removed")}})
	if tc.Hashed {
		v.Transplants.Rows = append(v.Transplants.Rows,
			row{Cells: []string{"changed (a value or an event differs)", sup.count(tc.Changed)}})
	} else {
		v.Transplants.Rows = append(v.Transplants.Rows,
			row{Cells: []string{"changed", "not known (the previous output has no row hashes)"}})
	}

	v.Flags = table{Head: []string{"Flag", "New since the previous output"}, Right: []bool{false, true}}
	for _, f := range c.NewFlags {
		v.Flags.Rows = append(v.Flags.Rows, row{Cells: []string{f.Flag, sup.count(f.Count)}})
	}

	v.Landmarks = table{Head: []string{"Endpoint", "Type", "Donor", "Indication", "Day", "Previous, %", "Now, %", "Change, points", "Limit, points"},
		Right: []bool{false, false, false, false, true, true, true, true, true}}
	hidden := 0
	for _, l := range c.Landmarks {
		if sup.hides(l.OldN) || sup.stratumHidden(l.Stratum, l.NewN) {
			hidden++
			continue
		}
		limit := screeningZ * math.Sqrt(l.OldStdErr*l.OldStdErr+l.NewStdErr*l.NewStdErr)
		v.Landmarks.Rows = append(v.Landmarks.Rows, row{Cells: []string{label(l.Endpoint),
			pooled(l.TransplantType), pooled(l.DonorType), pooled(l.Indication), strconv.Itoa(l.Day),
			pct(l.Old), pct(l.New), signed(100 * (l.New - l.Old)), fixed(100*limit, 1)}})
	}
	if hidden > 0 {
		v.LandmarkNote = strconv.Itoa(hidden) + " more in strata the report does not show (fewer than " +
			strconv.Itoa(sup.min) + " transplants, or suppressed); results/changes lists them."
	}

	// Endpoints, then strata grouped with the endpoints they concern.
	v.Coverage = table{Head: []string{"Change", "Stratum (type · donor · indication)", "Endpoints"}}
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
			v.Coverage.Rows = append(v.Coverage.Rows, row{Cells: []string{s.what,
				pooled(st.TransplantType) + " · " + pooled(st.DonorType) + " · " + pooled(st.Indication),
				strings.Join(byStratum[st], ", ")}})
		}
	}

	v.Rule = "A landmark estimate is listed when it moved by more than z·√(se₁² + se₂²) with z = 1.96 " +
		"(Φ⁻¹(0.975)), se₁ and se₂ its standard errors in the two outputs: a screening rule, not a test. " +
		"The two runs share most transplants, so the estimates are correlated and the rule is conservative; " +
		"among thousands of estimates some are listed by chance. Transplants are matched by identifier and " +
		"compared by a hash of their values and events kept in the warehouse; no identifier is shown. " +
		"results/changes has every row, unsuppressed."
	return v
}

// changeCountSet is the section's counts with their suppression.
type changeCountSet struct {
	sup    suppressor
	n      map[string]int
	hidden map[string]bool
}

// text formats count key: "<min" when small, "≥min" when hidden to
// protect another, the number otherwise.
func (cs changeCountSet) text(key string) string {
	n := cs.n[key]
	if cs.hidden[key] && !cs.sup.hides(n) {
		return "≥" + strconv.Itoa(cs.sup.min)
	}
	return cs.sup.count(n)
}

// changeCounts collects the counts of the files table and the transplant
// counts, with the sums binding them, and suppresses them.
func changeCounts(files []FileChange, tc TransplantChanges, sup suppressor) changeCountSet {
	cs := changeCountSet{sup: sup, n: map[string]int{"added": tc.Added, "removed": tc.Removed}, hidden: map[string]bool{}}
	var sums [][]string // each: terms..., total
	var order []string  // which to hide first
	for _, side := range []string{"previous", "now"} {
		for _, f := range files {
			fc, present := f.Old, f.InOld
			if side == "now" {
				fc, present = f.New, f.InNew
			}
			if !present {
				continue
			}
			p := f.File + "|" + side + "|"
			cs.n[p+"read"], cs.n[p+"accepted"], cs.n[p+"rejected"] = fc.RowsRead, fc.RowsAccepted, fc.RowsRejected
			sums = append(sums, []string{p + "accepted", p + "rejected", p + "read"})
			order = append(order, p+"accepted", p+"read", p+"rejected")
		}
	}
	const tx = "transplants.csv|"
	if _, ok := cs.n[tx+"previous|accepted"]; ok {
		if _, ok := cs.n[tx+"now|accepted"]; ok {
			// now = previous + added − removed: the same rule as a sum,
			// with now + removed as the total.
			sums = append(sums, []string{tx + "previous|accepted", "added", "removed", tx + "now|accepted"})
		}
	}
	order = append(order, "removed", "added")
	for k, n := range cs.n {
		if n > 0 && sup.hides(n) {
			cs.hidden[k] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, sum := range sums {
			hidden := 0
			for _, k := range sum {
				if cs.hidden[k] {
					hidden++
				}
			}
			if hidden != 1 {
				continue
			}
			for _, k := range order {
				if slices.Contains(sum, k) && !cs.hidden[k] && cs.n[k] > 0 {
					cs.hidden[k], changed = true, true
					break
				}
			}
		}
	}
	return cs
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
