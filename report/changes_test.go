package report

import (
	"strings"
	"testing"
)

// changesData is smallData with a changes section: 3 transplants added
// (a small count), 12 removed, 2 rejected rows now; one landmark change in
// a shown stratum, one in a stratum too small in the previous output.
func changesData() *Data {
	d := smallData()
	d.Changes = &Changes{
		Settings: []SettingChange{{Name: "cutoff", Old: `"2024-12-31"`, New: `"2025-01-31"`}},
		Files: []FileChange{
			{File: "events.csv", InOld: true, InNew: true,
				Old: FileCount{RowsRead: 400, RowsAccepted: 400}, New: FileCount{RowsRead: 430, RowsAccepted: 430}},
			{File: "transplants.csv", InOld: true, InNew: true,
				Old: FileCount{RowsRead: 49, RowsAccepted: 49}, New: FileCount{RowsRead: 42, RowsAccepted: 40, RowsRejected: 2}},
		},
		Transplants: TransplantChanges{Added: 3, Removed: 12, Changed: 25, Hashed: true},
		NewFlags:    []FlagCount{{Flag: "two_deaths", Count: 4}, {Flag: "no_events", Count: 11}},
		Screened:    40,
		Landmarks: []LandmarkChange{
			{Endpoint: "os", Stratum: Stratum{"ALLO", "MUD", "*"}, Day: 100, OldN: 15, NewN: 13, Old: 0.9, New: 0.8, OldStdErr: 0.03, NewStdErr: 0.02},
			{Endpoint: "os", Stratum: Stratum{"ALLO", "MSD", "*"}, Day: 100, OldN: 7, NewN: 12, Old: 0.98765, New: 0.5, OldStdErr: 0.1, NewStdErr: 0.1},
		},
		StrataAppeared: []StratumChange{{"os", Stratum{"ALLO", "MSD", "*"}}, {"relapse", Stratum{"ALLO", "MSD", "*"}}},
		StrataVanished: []StratumChange{{"os", Stratum{"AUTO", "*", "HL"}}},
	}
	// This run's ingest is the "now" side.
	d.Ingest.Files[0].RowsRead, d.Ingest.Files[0].RowsAccepted, d.Ingest.Files[0].RowsRejected = 42, 40, 2
	d.Ingest.Files[1].RowsRead, d.Ingest.Files[1].RowsAccepted = 430, 430
	return d
}

// section returns the text of the changes section of html ("" if none).
func section(html, id string) string {
	i := strings.Index(html, `<section id="`+id+`">`)
	if i < 0 {
		return ""
	}
	j := strings.Index(html[i:], "</section>")
	return html[i : i+j]
}

func TestChangesSectionOnlyWithChanges(t *testing.T) {
	html, md := render(t, smallData())
	if strings.Contains(html, `id="changes"`) || strings.Contains(html, `href="#changes"`) || strings.Contains(md, "Changes since") {
		t.Error("a report without changes has a changes section")
	}
	html, md = render(t, changesData())
	sec := section(html, "changes")
	if sec == "" || !strings.Contains(html, `<a href="#changes">Changes since the previous output</a>`) {
		t.Fatal("no changes section or link")
	}
	if q, c, m := strings.Index(html, `id="quality"`), strings.Index(html, `id="changes"`), strings.Index(html, `id="methods"`); !(q < c && c < m) {
		t.Errorf("changes section at %d, want between quality (%d) and methods (%d)", c, q, m)
	}
	parseHTML(t, html)
	if !strings.Contains(md, "## Changes since the previous output") {
		t.Error("report.md lacks the section")
	}
}

func TestChangesSuppression(t *testing.T) {
	html, md := render(t, changesData())
	sec := section(html, "changes")
	for _, want := range []string{
		// 3 added is small; 12 removed is shown.
		"&lt;10 transplants added, 12 removed, 25 changed",
		// transplants.csv now: 2 rejected read <10, so the rows read are
		// hidden (≥10); 40 = 49 + 3 − 12 with 3 hidden hides the previous
		// output's 49 accepted (and so its rows read), never this run's.
		`<td>previous</td><td class="num">≥10</td><td class="num">≥10</td><td class="num">0</td>`,
		`<td>now</td><td class="num">≥10</td><td class="num">40</td><td class="num">&lt;10</td>`,
		// events.csv is bound by nothing hidden.
		`<td class="num">430</td><td class="num">430</td><td class="num">0</td>`,
		"<td>two_deaths</td><td class=\"num\">&lt;10</td>",
		"<td>no_events</td><td class=\"num\">11</td>",
		"<td>cutoff</td><td>2024-12-31</td><td>2025-01-31</td>",
		// The shown landmark, in percent, with its change and limit.
		`<td class="num">90.0</td><td class="num">80.0</td><td class="num">−10.0</td><td class="num">7.1</td>`,
		"1 more in strata the report does not show",
		"<td>stratum appeared</td><td>ALLO · MSD</td><td>os, relapse</td>",
		"<td>stratum vanished</td><td>AUTO · HL</td><td>os</td>",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("changes section lacks %q", want)
		}
	}
	// The hidden counts appear nowhere; nor does the landmark of the
	// stratum that was small in the previous output.
	for _, leak := range []string{">3<", ">49<", ">42<", ">2<", ">4<", "98.8", "50.0"} {
		if strings.Contains(sec, leak) {
			t.Errorf("changes section shows %q", leak)
		}
	}
	if !strings.Contains(md, `|  | now | ≥10 | 40 | \<10 |`) {
		t.Error("report.md does not suppress as index.html does")
	}

	d := changesData()
	d.Config.MinCell = 0
	html, _ = render(t, d)
	if sec := section(html, "changes"); !strings.Contains(sec, "3 transplants added") || !strings.Contains(sec, "98.8") {
		t.Error("min_cell = 0 still suppresses the changes section")
	}
}
