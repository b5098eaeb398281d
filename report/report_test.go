package report

import (
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var nan = math.NaN()

func pt(t, nrisk, nevent int, est, lo, hi float64) Point {
	return Point{Time: t, NRisk: nrisk, NEvent: nevent, Estimate: est, Lower: lo, Upper: hi}
}

func lm(st Stratum, day, n, nrisk, nev int, est, se, lo, hi float64) Landmark {
	return Landmark{Stratum: st, Day: day, N: n, NRisk: nrisk, NEvents: nev, Estimate: est, StdErr: se, Lower: lo, Upper: hi}
}

// The suppressed stratum's numbers are chosen to appear nowhere else in
// the report, so finding any of them is a leak.
var (
	smallALL    = Stratum{"ALLO", "*", "ALL"}
	leakNumbers = []string{"43.2", "32.2", "54.4", "321.5"}
)

// smallData is a small fixed report: two endpoints, one stratum below
// MinCell, a test with p < 0.001, a median not reached.
func smallData() *Data {
	all := Stratum{"*", "*", "*"}
	allo := Stratum{"ALLO", "*", "*"}
	auto := Stratum{"AUTO", "*", "*"}
	aml := Stratum{"ALLO", "*", "AML"}
	mm := Stratum{"AUTO", "*", "MM"}
	msd := Stratum{"ALLO", "MSD", "*"}
	mud := Stratum{"ALLO", "MUD", "*"}
	os := Endpoint{
		Name: "os", Label: "Overall survival", Estimator: EstimatorKM,
		Definition: "Event: death from any cause. Population: all transplants.",
		Curves: []Curve{
			{Stratum: all, N: 40, Points: []Point{pt(0, 40, 0, 1, nan, nan), pt(30, 40, 4, 0.9, 0.76, 0.96), pt(200, 30, 6, 0.75, 0.58, 0.86), pt(500, 20, 0, 0.75, 0.58, 0.86)}},
			{Stratum: allo, N: 25, Points: []Point{pt(30, 25, 4, 0.84, 0.63, 0.94), pt(200, 18, 5, 0.6067, 0.38, 0.77), pt(480, 10, 0, 0.6067, 0.38, 0.77)}},
			{Stratum: auto, N: 15, Points: []Point{pt(200, 15, 1, 0.9333, 0.61, 0.99), pt(500, 9, 0, 0.9333, 0.61, 0.99)}},
			{Stratum: aml, N: 17, Points: []Point{pt(30, 17, 2, 0.8824, 0.61, 0.97), pt(200, 12, 3, 0.6618, 0.37, 0.84), pt(480, 6, 0, 0.6618, 0.37, 0.84)}},
			{Stratum: smallALL, N: 8, Points: []Point{pt(30, 8, 2, 0.75, 0.31, 0.93), pt(200, 6, 2, 0.4321, 0.3219, 0.5437)}},
			{Stratum: mm, N: 15, Points: []Point{pt(200, 15, 1, 0.9333, 0.61, 0.99), pt(500, 9, 0, 0.9333, 0.61, 0.99)}},
			{Stratum: msd, N: 12, Points: []Point{pt(30, 12, 1, 0.9167, 0.54, 0.99), pt(400, 7, 0, 0.9167, 0.54, 0.99)}},
			{Stratum: mud, N: 13, Points: []Point{pt(30, 13, 3, 0.7692, 0.44, 0.92), pt(200, 9, 4, 0.4274, 0.18, 0.66), pt(480, 4, 0, 0.4274, 0.18, 0.66)}},
		},
		Landmarks: []Landmark{
			lm(all, 100, 40, 36, 4, 0.9, 0.0474, 0.76, 0.96), lm(all, 365, 40, 24, 10, 0.75, 0.0685, 0.58, 0.86),
			lm(allo, 100, 25, 21, 4, 0.84, 0.0733, 0.63, 0.94), lm(allo, 365, 25, 12, 9, 0.6067, 0.1002, 0.38, 0.77),
			lm(auto, 100, 15, 15, 0, 1, 0, nan, nan), lm(auto, 365, 15, 12, 1, 0.9333, 0.0644, 0.61, 0.99),
			lm(aml, 100, 17, 15, 2, 0.8824, 0.0781, 0.61, 0.97), lm(aml, 365, 17, 8, 5, 0.6618, 0.1213, 0.37, 0.84),
			lm(smallALL, 100, 8, 6, 2, 0.75, 0.1531, 0.31, 0.93), lm(smallALL, 365, 8, 3, 4, 0.4321, 0.1755, 0.3219, 0.5437),
			lm(mm, 100, 15, 15, 0, 1, 0, nan, nan), lm(mm, 365, 15, 12, 1, 0.9333, 0.0644, 0.61, 0.99),
			lm(msd, 100, 12, 11, 1, 0.9167, 0.0798, 0.54, 0.99), lm(msd, 365, 12, 8, 1, 0.9167, 0.0798, 0.54, 0.99),
			lm(mud, 100, 13, 10, 3, 0.7692, 0.1169, 0.44, 0.92), lm(mud, 365, 13, 5, 7, 0.4274, 0.1448, 0.18, 0.66),
		},
		Medians: []Median{
			{Stratum: all, N: 40, Median: nan, Lower: nan, Upper: nan},
			{Stratum: allo, N: 25, Median: nan, Lower: 200, Upper: nan},
			{Stratum: smallALL, N: 8, Median: 321.5, Lower: 30, Upper: nan},
			{Stratum: mud, N: 13, Median: 200, Lower: 30, Upper: nan},
		},
		Tests: []Test{
			{Comparison: "indication", Within: "ALLO", Statistic: 3.8415, DF: 1, PValue: 0.05, Method: "logrank"},
			{Comparison: "transplant_type", Within: "AML", Statistic: 12.5, DF: 1, PValue: 0.0004, Method: "logrank"},
		},
	}
	relapse := Endpoint{
		Name: "relapse", Label: "Relapse incidence", Estimator: EstimatorCI,
		Definition: "Event: relapse (also on the day of death). Competing event: death without prior or same-day relapse. Population: all transplants.",
		Curves: []Curve{
			{Stratum: all, N: 40, Points: []Point{pt(0, 40, 0, 0, nan, nan), pt(90, 38, 3, 0.075, 0.019, 0.184), pt(300, 28, 2, 0.13, 0.046, 0.259), pt(500, 20, 0, 0.13, 0.046, 0.259)}},
			{Stratum: allo, N: 25, Points: []Point{pt(90, 25, 2, 0.08, 0.014, 0.226), pt(480, 10, 0, 0.08, 0.014, 0.226)}},
			{Stratum: auto, N: 15, Points: []Point{pt(300, 13, 1, 0.0667, 0.004, 0.269), pt(500, 9, 0, 0.0667, 0.004, 0.269)}},
		},
		Landmarks: []Landmark{
			lm(all, 100, 40, 37, 3, 0.075, 0.0417, 0.019, 0.184), lm(all, 365, 40, 24, 5, 0.13, 0.0548, 0.046, 0.259),
			lm(allo, 100, 25, 21, 2, 0.08, 0.0543, 0.014, 0.226), lm(allo, 365, 25, 12, 2, 0.08, 0.0543, 0.014, 0.226),
			lm(auto, 100, 15, 15, 0, 0, 0, nan, nan), lm(auto, 365, 15, 12, 1, 0.0667, 0.0644, 0.004, 0.269),
		},
		Tests: []Test{{Comparison: "transplant_type", Within: "AML", Statistic: 0.0123, DF: 1, PValue: 0.9117, Method: "gray"}},
	}
	return &Data{
		Title:         "marrow test report",
		Cutoff:        "2024-12-31",
		MarrowVersion: "0.0.0-test",
		DuckDBVersion: "v1.4.2",
		Config:        Config{Landmarks: []int{100, 365}, ConfType: "log-log", MinCell: 10, Cohort: "first", MaxRejectRate: 0.01},
		Ingest: Ingest{
			Files: []FileCount{
				{File: "transplants.csv", RowsRead: 41, RowsAccepted: 40, RowsRejected: 1, UnknownColumns: []string{"ward", "bed"}},
				{File: "events.csv", RowsRead: 120, RowsAccepted: 120},
			},
			Rejects: []RejectCount{{File: "transplants.csv", Column: "transplant_date", Reason: "invalid date", Count: 1}},
			Quality: []FlagCount{{Flag: "agvhd_without_grade", Count: 2}},
		},
		FollowUp: []FollowUp{
			{TransplantType: "*", N: 40, Median: 480, Lower: 400, Upper: 500, Eligible: 30, Complete: 27},
			{TransplantType: "ALLO", N: 25, Median: 470, Lower: 350, Upper: nan, Eligible: 20, Complete: 18},
			{TransplantType: "AUTO", N: 15, Median: 500, Lower: nan, Upper: nan, Eligible: 10, Complete: 9},
		},
		Summary: Summary{
			Columns: []string{"All", "ALLO", "AUTO"},
			N:       []int{40, 25, 15},
			Age:     []AgeSummary{{40, 54.5, 19, 72}, {25, 51, 19, 70}, {15, 61, 44, 72}},
			Variables: []Variable{
				{Name: "Indication", Levels: []Level{{"AML", []int{17, 17, 0}}, {"ALL", []int{8, 8, 0}}, {"MM", []int{15, 0, 15}}}},
				{Name: "Sex", Levels: []Level{{"F", []int{22, 14, 8}}, {"M", []int{18, 11, 7}}}},
			},
		},
		Endpoints: []Endpoint{os, relapse},
	}
}

func render(t testing.TB, d *Data) (html, md string) {
	t.Helper()
	h, m, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(h), string(m)
}

func TestGoldenMarkdown(t *testing.T) {
	_, md := render(t, smallData())
	path := filepath.Join("testdata", "report.md.golden")
	if *update {
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if md != string(want) {
		t.Errorf("report.md differs from %s (go test -update rewrites it); got:\n%s", path, md)
	}
}

// xmlNode is a generic element tree for checking the HTML, which the
// templates keep well-formed XML (void elements self-closed).
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *xmlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *xmlNode) walk(fn func(*xmlNode)) {
	fn(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(fn)
	}
}

func parseHTML(t testing.TB, s string) *xmlNode {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	var root xmlNode
	if err := dec.Decode(&root); err != nil {
		line := strings.Count(s[:min(int(dec.InputOffset()), len(s))], "\n") + 1
		t.Fatalf("index.html is not well-formed near line %d: %v", line, err)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if cd, ok := tok.(xml.CharData); !ok || strings.TrimSpace(string(cd)) != "" || err != nil {
			t.Fatalf("index.html: content after </html>: %v %v", tok, err)
		}
	}
	return &root
}

func TestHTMLSections(t *testing.T) {
	html, _ := render(t, smallData())
	root := parseHTML(t, html)
	ids := map[string]*xmlNode{}
	root.walk(func(n *xmlNode) {
		if id := n.attr("id"); id != "" {
			if ids[id] != nil {
				t.Errorf("duplicate id %q", id)
			}
			ids[id] = n
		}
	})
	for _, tc := range []struct{ id, heading string }{
		{"summary", "Summary"},
		{"ep-os", "Overall survival"},
		{"ep-relapse", "Relapse incidence"},
		{"quality", "Data quality"},
		{"methods", "Methods"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			n := ids[tc.id]
			if n == nil || n.XMLName.Local != "section" {
				t.Fatalf("no <section id=%q>", tc.id)
			}
			if len(n.Nodes) == 0 || n.Nodes[0].XMLName.Local != "h2" || !strings.HasPrefix(n.Nodes[0].Text, tc.heading) {
				t.Errorf("section %q does not start with <h2>%s", tc.id, tc.heading)
			}
		})
	}
	for _, want := range []string{"fig-os-type", "fig-os-ind-allo", "fig-os-ind-auto", "fig-os-donor-allo", "fig-relapse-type"} {
		if ids[want] == nil {
			t.Errorf("figure %s missing", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "url("} {
		clean := strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, "")
		if strings.Contains(clean, bad) {
			t.Errorf("index.html contains %q: not self-contained", bad)
		}
	}
}

func TestSuppression(t *testing.T) {
	for _, tc := range []struct {
		name    string
		minCell int
		hidden  bool
	}{
		{"min_cell 10 hides n=8", 10, true},
		{"min_cell 0 shows everything", 0, false},
		{"min_cell 8 shows n=8", 8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := smallData()
			d.Config.MinCell = tc.minCell
			html, md := render(t, d)
			for _, out := range []struct{ name, text string }{{"index.html", html}, {"report.md", md}} {
				leaks := leakNumbers
				if out.name == "index.html" {
					leaks = append(leaks, "(n=8)") // the figure legend
				}
				for _, num := range leaks {
					if got := strings.Contains(out.text, num); got == tc.hidden {
						t.Errorf("%s: contains %q = %v, want %v", out.name, num, got, !tc.hidden)
					}
				}
				label := "suppressed (n < 10)"
				if out.name == "index.html" {
					label = "suppressed (n &lt; 10)"
				}
				if got := strings.Contains(out.text, label); got != tc.hidden {
					t.Errorf("%s: contains %q = %v, want %v", out.name, label, got, tc.hidden)
				}
			}
			// The n=8 ALL level of the cohort table: "<10" when hidden.
			if got := strings.Contains(md, "| ALL | <10 | <10 | 0 |"); got != tc.hidden {
				t.Errorf("report.md: cohort ALL row shows <10 = %v, want %v", got, tc.hidden)
			}
			// The ALL curve is plotted only when shown.
			if got := strings.Contains(html, `data-stratum="ALL"`); got == tc.hidden {
				t.Errorf("index.html: ALL curve plotted = %v, want %v", got, !tc.hidden)
			}
		})
	}
}

func TestHeadlineSuppression(t *testing.T) {
	d := smallData()
	d.Config.MinCell = 20
	_, md := render(t, d)
	for _, want := range []string{
		// AUTO is below min_cell; all = ALLO + AUTO, so one more type
		// row goes, the pooled one by preference.
		"| All transplants | ≥20 | suppressed (complementary) | suppressed (complementary) |",
		"| ALLO | 25 | 60.7 (38.0–77.0) | 8.0 (1.4–22.6) |",
		"| AUTO | <20 | suppressed (n < 20) | suppressed (n < 20) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks the headline row %q", want)
		}
	}
}

// TestSingularGray: cuminc's mark of a singular Gray variance (statistic
// -1, p 1) is shown as not computable, not as a chi-square of -1.
func TestSingularGray(t *testing.T) {
	d := smallData()
	d.Endpoints[1].Tests = []Test{{Comparison: "indication", Within: "AUTO", Statistic: -1, DF: 3, PValue: 1, Method: "gray"}}
	html, md := render(t, d)
	if want := "| indication | AUTO | Gray | " + dash + " | 3 | not computable |"; !strings.Contains(md, want) {
		t.Errorf("report.md lacks %q", want)
	}
	for name, doc := range map[string]string{"report.md": md, "index.html": html} {
		if strings.Contains(doc, "-1.00") || strings.Contains(doc, "−1.00") {
			t.Errorf("%s shows the statistic -1", name)
		}
	}
}

// TestComplementarySuppression: on simulated registries and several
// thresholds, every count from 1 to min_cell-1 is hidden, and no sum the
// report publishes has exactly one hidden term, so none can be recovered
// by subtraction. The sums are listed here independently of suppress.go.
func TestComplementarySuppression(t *testing.T) {
	for _, tc := range []struct {
		n       int
		seed    uint64
		minCell int
	}{{300, 1, 10}, {1500, 7, 10}, {1500, 7, 30}, {800, 3, 50}} {
		t.Run(fmt.Sprintf("n=%d seed=%d min=%d", tc.n, tc.seed, tc.minCell), func(t *testing.T) {
			d := simData(tc.n, tc.seed)
			d.Config.MinCell = tc.minCell
			sup := newSuppressor(d)

			n := map[Stratum]int{}
			for _, e := range d.Endpoints {
				for _, c := range e.Curves {
					n[c.Stratum] = c.N
				}
			}
			hidden := func(st Stratum) bool { return sup.stratumHidden(st, n[st]) }
			sums, complementary := 0, 0
			check := func(what string, total Stratum, terms []Stratum) {
				t.Helper()
				if _, ok := n[total]; !ok {
					return
				}
				sum, h := 0, 0
				for _, st := range terms {
					sum += n[st]
					if hidden(st) {
						h++
					}
				}
				if sum != n[total] {
					t.Fatalf("%s: terms add up to %d, total %v is %d: not a published sum", what, sum, total, n[total])
				}
				if hidden(total) {
					h++
				}
				sums++
				if h == 1 {
					t.Errorf("%s (total %v): exactly one hidden term, recoverable by subtraction", what, total)
				}
			}
			var types, inds, donors []string
			seen := map[string]bool{}
			for st := range n {
				for _, v := range []struct {
					list *[]string
					val  string
				}{{&types, st.TransplantType}, {&inds, st.Indication}, {&donors, st.DonorType}} {
					if v.val != "*" && !seen[v.val] {
						seen[v.val] = true
						*v.list = append(*v.list, v.val)
					}
				}
			}
			all := Stratum{"*", "*", "*"}
			var byType, byInd []Stratum
			for _, tt := range types {
				byType = append(byType, Stratum{tt, "*", "*"})
			}
			for _, ind := range inds {
				byInd = append(byInd, Stratum{"*", "*", ind})
			}
			check("types", all, byType)
			check("indications", all, byInd)
			for _, tt := range types {
				var terms []Stratum
				for _, ind := range inds {
					terms = append(terms, Stratum{tt, "*", ind})
				}
				check("indications of "+tt, Stratum{tt, "*", "*"}, terms)
			}
			for _, ind := range inds {
				var terms []Stratum
				for _, tt := range types {
					terms = append(terms, Stratum{tt, "*", ind})
				}
				check("types of "+ind, Stratum{"*", "*", ind}, terms)
				var dterms []Stratum
				for _, dn := range donors {
					dterms = append(dterms, Stratum{"ALLO", dn, ind})
				}
				check("donors of ALLO "+ind, Stratum{"ALLO", "*", ind}, dterms)
			}
			var dterms []Stratum
			for _, dn := range donors {
				dterms = append(dterms, Stratum{"ALLO", dn, "*"})
				var iterms []Stratum
				for _, ind := range inds {
					iterms = append(iterms, Stratum{"ALLO", dn, ind})
				}
				check("indications of ALLO "+dn, Stratum{"ALLO", dn, "*"}, iterms)
			}
			check("donors of ALLO", Stratum{"ALLO", "*", "*"}, dterms)

			// The cohort table: levels add up to the column, types to All.
			sm := &d.Summary
			cell := func(c int, v Variable, l Level) (string, int) {
				return summaryCell(sm.Columns[c], v.Name, l.Label), l.Counts[c]
			}
			for _, v := range sm.Variables {
				for c := range sm.Columns {
					h := 0
					if sup.cellHidden(summaryCell(sm.Columns[c], "", ""), sm.N[c]) {
						h++
					}
					for _, l := range v.Levels {
						key, k := cell(c, v, l)
						if sup.hides(k) && k > 0 && !sup.cellHidden(key, k) {
							t.Errorf("%s %s in %s: count %d shown", v.Name, l.Label, sm.Columns[c], k)
						}
						if sup.cellHidden(key, k) {
							h++
						}
					}
					sums++
					if h == 1 {
						t.Errorf("%s in column %s: exactly one hidden count", v.Name, sm.Columns[c])
					}
				}
				for _, l := range v.Levels {
					h := 0
					for c := range sm.Columns {
						if key, k := cell(c, v, l); sup.cellHidden(key, k) {
							h++
							if !sup.hides(k) {
								complementary++
							}
						}
					}
					sums++
					if h == 1 {
						t.Errorf("%s %s across the columns: exactly one hidden count", v.Name, l.Label)
					}
				}
			}
			for st, k := range n {
				if k > 0 && sup.hides(k) && !hidden(st) {
					t.Errorf("stratum %v of %d shown", st, k)
				}
				if hidden(st) && !sup.hides(k) {
					complementary++
				}
			}
			if complementary == 0 {
				t.Errorf("no complementary suppression in %d sums: the case tests nothing", sums)
			}
		})
	}
}

// TestCompletenessSuppression: follow-up completeness counts transplants,
// so a small one is hidden, and with it the All count it would be
// recovered from.
func TestCompletenessSuppression(t *testing.T) {
	d := smallData()
	d.Config.MinCell = 5
	d.FollowUp = []FollowUp{
		{TransplantType: "*", N: 40, Median: 480, Lower: 400, Upper: 500, Eligible: 24, Complete: 21},
		{TransplantType: "ALLO", N: 25, Median: 470, Lower: 400, Upper: 480, Eligible: 20, Complete: 18},
		{TransplantType: "AUTO", N: 15, Median: 500, Lower: 450, Upper: 510, Eligible: 4, Complete: 3},
	}
	_, md := render(t, d)
	for _, want := range []string{
		"| All transplants | ≥5 | ≥5 | " + dash + " |",
		"| ALLO | 20 | 18 | 90.0% (18/20) |",
		"| AUTO | <5 | <5 | " + dash + " |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks the completeness row %q", want)
		}
	}
}

// TestNoIdentifierFields guards SPEC §4's privacy rule at the type level:
// nothing reachable from Data can hold an identifier, a birth date, an
// event date or free-text event detail.
func TestNoIdentifierFields(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)patient|transplant_?id|birth|dob|detail|event_?date|center|centre|note`)
	seen := map[reflect.Type]bool{}
	var visit func(path string, ty reflect.Type)
	visit = func(path string, ty reflect.Type) {
		for ty.Kind() == reflect.Slice || ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Array {
			ty = ty.Elem()
		}
		if ty.Kind() == reflect.Map {
			t.Errorf("%s: a map in Data would make the report's order depend on iteration", path)
			return
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if forbidden.MatchString(f.Name) {
				t.Errorf("%s.%s: Data must not carry identifiers or free text", path, f.Name)
			}
			visit(path+"."+f.Name, f.Type)
		}
	}
	visit("Data", reflect.TypeOf(Data{}))
	if len(seen) < 10 {
		t.Errorf("visited %d struct types; the walk is broken", len(seen))
	}
}

func TestDeterministic(t *testing.T) {
	d := smallData()
	h1, m1 := render(t, d)
	h2, m2 := render(t, d)
	if h1 != h2 || m1 != m2 {
		t.Fatal("two renders of the same Data differ")
	}
	// Strata may arrive in any order: the report sorts them itself.
	r := smallData()
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		reverse(e.Curves)
		reverse(e.Landmarks)
		reverse(e.Medians)
	}
	reverse(r.FollowUp)
	h3, m3 := render(t, r)
	if h1 != h3 {
		t.Error("index.html depends on the order of strata in Data")
	}
	if m1 != m3 {
		t.Error("report.md depends on the order of strata in Data")
	}
	// Write gives the same bytes as Render.
	dir := t.TempDir()
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"index.html": h1, "report.md": m1} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("Write's %s differs from Render", name)
		}
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func TestGeneratedAt(t *testing.T) {
	d := smallData()
	html, md := render(t, d)
	if strings.Contains(html, "generated") || strings.Contains(md, "generated") {
		t.Error("GeneratedAt empty, but the report names a generation time")
	}
	d.GeneratedAt = "2025-01-02T03:04:05Z"
	html, md = render(t, d)
	for name, s := range map[string]string{"index.html": html, "report.md": md} {
		if !strings.Contains(s, "generated 2025-01-02T03:04:05Z") {
			t.Errorf("%s: GeneratedAt not shown", name)
		}
	}
}

func TestMarkdownTables(t *testing.T) {
	d := smallData()
	d.Ingest.Rejects[0].Reason = "bad | pipe"
	_, md := render(t, d)
	// Every table row has the column count of its header.
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		cols := cellCount(lines[i])
		for i++; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			if got := cellCount(lines[i]); got != cols {
				t.Errorf("line %d: %d cells, header has %d: %s", i+1, got, cols, lines[i])
			}
		}
	}
	if !strings.Contains(md, `bad \| pipe`) {
		t.Error("a | in a cell is not escaped")
	}
}

func cellCount(line string) int {
	return strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") - 1
}

// svgPath is a parsed path of M, H, V and Z commands (all the figures use).
type svgPath struct {
	x, y   []float64 // every pen position
	closed bool
}

func parsePath(t testing.TB, d string) svgPath {
	t.Helper()
	var p svgPath
	tok := regexp.MustCompile(`[MHVZ]|-?[0-9]+(\.[0-9]+)?`).FindAllString(d, -1)
	if strings.Join(tok, "") != strings.ReplaceAll(d, " ", "") {
		t.Fatalf("path %q has commands other than M, H, V, Z", d)
	}
	num := func(i int) float64 {
		if i >= len(tok) {
			t.Fatalf("path %q ends early", d)
		}
		v, err := strconv.ParseFloat(tok[i], 64)
		if err != nil {
			t.Fatalf("path %q: %v", d, err)
		}
		return v
	}
	var x, y float64
	for i := 0; i < len(tok); i++ {
		switch tok[i] {
		case "M":
			x, y = num(i+1), num(i+2)
			i += 2
		case "H":
			x = num(i + 1)
			i++
		case "V":
			y = num(i + 1)
			i++
		case "Z":
			p.closed = true
			continue
		default:
			t.Fatalf("path %q: stray number %s", d, tok[i])
		}
		p.x, p.y = append(p.x, x), append(p.y, y)
	}
	return p
}

// checkFigures parses every <svg class="curve"> and checks that each has
// as many bands as lines and legend entries, and that every path is
// non-empty with finite coordinates inside the plot area.
func checkFigures(t *testing.T, html string) int {
	t.Helper()
	root := parseHTML(t, html)
	figs := 0
	root.walk(func(n *xmlNode) {
		if n.XMLName.Local != "svg" || n.attr("class") != "curve" {
			return
		}
		figs++
		id := n.attr("id")
		var lines, bands, legend int
		n.walk(func(c *xmlNode) {
			cls := c.attr("class")
			if c.XMLName.Local == "g" && cls == "legend" {
				for _, e := range c.Nodes {
					if e.XMLName.Local == "text" {
						legend++
					}
				}
			}
			if c.XMLName.Local != "path" || (cls != "line" && cls != "band") {
				return
			}
			p := parsePath(t, c.attr("d"))
			if len(p.x) < 2 {
				t.Errorf("%s %s %s: empty path %q", id, cls, c.attr("data-stratum"), c.attr("d"))
			}
			for i := range p.x {
				if math.IsNaN(p.x[i]) || p.x[i] < plotLeft || p.x[i] > plotRight || p.y[i] < plotTop || p.y[i] > plotBottom {
					t.Errorf("%s %s: point (%v, %v) outside the plot area", id, cls, p.x[i], p.y[i])
					break
				}
			}
			if cls == "band" {
				bands++
				if !p.closed {
					t.Errorf("%s band: not closed", id)
				}
			} else {
				lines++
				if p.x[0] != plotLeft {
					t.Errorf("%s line: starts at x=%v, not day 0", id, p.x[0])
				}
			}
		})
		if lines == 0 || lines != bands || lines != legend {
			t.Errorf("%s: %d lines, %d bands, %d legend entries", id, lines, bands, legend)
		}
	})
	return figs
}

func TestFigures(t *testing.T) {
	t.Run("small", func(t *testing.T) {
		d := smallData()
		d.Config.MinCell = 0 // every stratum drawn
		html, _ := render(t, d)
		if got := checkFigures(t, html); got != 5 {
			t.Errorf("%d figures, want 5 (os: type, ALLO and AUTO by indication, donor; relapse: type)", got)
		}
	})
	t.Run("every stratum suppressed", func(t *testing.T) {
		d := smallData()
		d.Config.MinCell = 100
		html, _ := render(t, d)
		if got := checkFigures(t, html); got != 0 {
			t.Errorf("%d figures, want none", got)
		}
		if !strings.Contains(html, "Not plotted, fewer than 100 transplants: ALLO, AUTO.") {
			t.Error("the by-type figure does not say which strata it leaves out")
		}
	})
	t.Run("curve at day 0 only", func(t *testing.T) {
		d := smallData()
		d.Config.MinCell = 0
		d.Endpoints = d.Endpoints[1:2]
		for i := range d.Endpoints[0].Curves {
			d.Endpoints[0].Curves[i].Points = []Point{pt(0, 40, 0, 0, nan, nan)}
		}
		html, _ := render(t, d)
		if got := checkFigures(t, html); got != 0 {
			t.Errorf("%d figures, want none: nothing to draw", got)
		}
		if !strings.Contains(html, "No curve to plot.") {
			t.Error("an undrawable figure is not explained")
		}
	})
	t.Run("simulated", func(t *testing.T) {
		html, _ := render(t, simData(1500, 7))
		if got := checkFigures(t, html); got < 15 {
			t.Errorf("%d figures, want at least 15", got)
		}
	})
}

// TestStepPath checks a curve's drawing against coordinates worked out by
// hand from the figure geometry: horizon 400 days over 370 px from x=100,
// 0–100 % over 280 px up from y=294.
func TestStepPath(t *testing.T) {
	c := &Curve{N: 10, Points: []Point{
		pt(100, 10, 2, 0.8, 0.6, 0.9),
		pt(200, 8, 3, 0.5, nan, nan),
		pt(500, 2, 0, 0.5, nan, nan), // past the horizon: cut at 400
	}}
	for _, tc := range []struct {
		name       string
		km         bool
		line, band string
	}{
		{"km", true,
			"M100.0 14.0H192.5V70.0H285.0V154.0H470.0",
			"M100.0 14.0H192.5V42.0H285.0V154.0H470.0H285.0V126.0H192.5V14.0H100.0Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := figure{km: tc.km, horizon: 400}
			s, ok := f.scale(c)
			if !ok {
				t.Fatal("nothing to draw")
			}
			if got := s.linePath(); got != tc.line {
				t.Errorf("line\n got %s\nwant %s", got, tc.line)
			}
			if got := s.bandPath(); got != tc.band {
				t.Errorf("band\n got %s\nwant %s", got, tc.band)
			}
		})
	}
}

func TestAtRisk(t *testing.T) {
	c := &Curve{N: 10, Points: []Point{pt(0, 10, 1, .9, nan, nan), pt(5, 9, 1, .8, nan, nan), pt(12, 6, 2, .5, nan, nan), pt(30, 2, 0, .5, nan, nan)}}
	for _, tc := range []struct{ day, want int }{{0, 10}, {3, 9}, {5, 9}, {6, 6}, {12, 6}, {13, 2}, {30, 2}, {31, 0}} {
		if got := atRisk(c, tc.day); got != tc.want {
			t.Errorf("atRisk(day %d) = %d, want %d", tc.day, got, tc.want)
		}
	}
}

func TestXAxis(t *testing.T) {
	for _, tc := range []struct {
		horizon int
		end     int
		labels  string
	}{
		{100, 100, "0 20 40 60 80 100"},
		{180, 180, "0 30 60 90 120 150 180"},
		{37, 40, "0 5 10 15 20 25 30 35 40"},
		{365, 400, "0 50 100 150 200 250 300 350 400"},
		{1825, 1825, "0 1 2 3 4 5"},
		{1100, 1460, "0 1 2 3 4"},
		{7300, 7300, "0 2 4 6 8 10 12 14 16 18 20"},
		{0, 5, "0 5"},
	} {
		a := xAxis(tc.horizon)
		if a.end != tc.end || strings.Join(a.labels, " ") != tc.labels {
			t.Errorf("xAxis(%d) = end %d, labels %q; want %d, %q", tc.horizon, a.end, strings.Join(a.labels, " "), tc.end, tc.labels)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"pct", pct(0.63249), "63.2"},
		{"pct rounds", pct(0.99951), "100.0"},
		{"pct empty", pct(nan), dash},
		{"pct tiny negative", pct(-1e-12), "0.0"},
		{"ci", pctCI(0.6321, 0.551, 0.703), "63.2 (55.1–70.3)"},
		{"ci without limits", pctCI(1, nan, nan), "100.0"},
		{"ci inf", pctCI(math.Inf(1), 0, 1), dash},
		{"p small", pvalue(0.000999), "<0.001"},
		{"p edge", pvalue(0.001), "0.001"},
		{"p", pvalue(0.04567), "0.046"},
		{"p one", pvalue(1), "1.000"},
		{"p empty", pvalue(nan), dash},
		{"median", medianCI(412, 300, nan), "412 (300–NR)"},
		{"median half day", medianCI(412.5, 300, 500), "412.5 (300–500)"},
		{"median not reached", medianCI(nan, 300, nan), "not reached"},
		{"share", share(27, 30), "90.0% (27/30)"},
		{"share none", share(0, 0), dash},
		{"count hidden", suppressor{min: 10}.count(3), "<10"},
		{"count zero", suppressor{min: 10}.count(0), "0"},
		{"count at min", suppressor{min: 10}.count(10), "10"},
		{"count disabled", suppressor{min: 0}.count(3), "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(file, "sub"), smallData()); err == nil {
		t.Error("Write under a regular file succeeded")
	}
}
