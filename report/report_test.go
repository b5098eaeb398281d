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
	return consistentRisk(&Data{
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
			Quality: []FlagCount{{Flag: "agvhd_without_grade", Count: 2, Centres: []CentreCount{{"C01", 2}}}},
		},
		FollowUp: []FollowUp{
			{TransplantType: "*", N: 40, Median: 480, Lower: 400, Upper: 500, Q1: 200, Q3: 650, Eligible: 30, Complete: 27},
			{TransplantType: "ALLO", N: 25, Median: 470, Lower: 350, Upper: nan, Q1: 190, Q3: 640, Eligible: 20, Complete: 18},
			{TransplantType: "AUTO", N: 15, Median: 500, Lower: nan, Upper: nan, Q1: 210, Q3: nan, Eligible: 10, Complete: 9},
		},
		Summary: Summary{
			Columns: []string{"All", "ALLO", "AUTO"},
			N:       []int{40, 25, 15},
			Age:     []AgeSummary{{40, 54.5, 19, 72, 41, 63}, {25, 51, 19, 70, 40, 60}, {15, 61, 44, 72, 52, 66}},
			Variables: []Variable{
				{Name: "Indication", Levels: []Level{{"AML", []int{17, 17, 0}}, {"ALL", []int{8, 8, 0}}, {"MM", []int{15, 0, 15}}}},
				{Name: "Sex", Levels: []Level{{"F", []int{22, 14, 8}}, {"M", []int{18, 11, 7}}}},
			},
		},
		Endpoints: []Endpoint{os, relapse},
	})
}

// consistentRisk sets every landmark's number at risk to its curve's, as
// the pipeline's are (one risk set gives both).
func consistentRisk(d *Data) *Data {
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		for j := range e.Landmarks {
			l := &e.Landmarks[j]
			for k := range e.Curves {
				if e.Curves[k].Stratum == l.Stratum {
					l.NRisk = atRisk(&e.Curves[k], l.Day)
				}
			}
		}
	}
	return d
}

func render(t testing.TB, d *Data) (html, md string) {
	t.Helper()
	h, m, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(h), string(m)
}

// TestGoldenFirstPage holds the first page's tables (report.md is the
// first page and the quality flags).
func TestGoldenFirstPage(t *testing.T) {
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

// TestNoIdentifierFields guards SPEC §4's privacy rule at the type level:
// nothing reachable from Data can hold an identifier, a birth date, an
// event date or free-text event detail.
func TestNoIdentifierFields(t *testing.T) {
	// Centre ids may appear (SPEC §6: not patient identifiers).
	forbidden := regexp.MustCompile(`(?i)patient|transplant_?id|birth|dob|detail|event_?date|note`)
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
	d.Ingest.Quality[0].Centres = []CentreCount{{"bad | pipe", 2}}
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

// checkFigures parses every <svg class="curve"> and checks that each
// path is non-empty with finite coordinates inside the figure, that a plot
// has as many bands as lines and legend entries, that a figure of small
// multiples has one curve and one grey reference in each panel, and that no
// plot or panel shows more than six curves besides its reference (SPEC §4).
// It returns the number of figures and of those drawn as small multiples.
func checkFigures(t *testing.T, html string) (figs, multiples int) {
	t.Helper()
	root := parseHTML(t, html)
	root.walk(func(n *xmlNode) {
		if n.XMLName.Local != "svg" || n.attr("class") != "curve" {
			return
		}
		figs++
		id := n.attr("id")
		var vb [4]float64
		fmt.Sscan(n.attr("viewBox"), &vb[0], &vb[1], &vb[2], &vb[3])
		count := func(g *xmlNode) (lines, refs, bands, legend int) {
			g.walk(func(c *xmlNode) {
				cls := c.attr("class")
				if c.XMLName.Local == "g" && cls == "legend" {
					for _, e := range c.Nodes {
						if e.XMLName.Local == "text" && !strings.Contains(e.attr("class"), "pvalue") {
							legend++
						}
					}
				}
				if c.XMLName.Local != "path" || (cls != "line" && cls != "band" && cls != "line reference") {
					return
				}
				p := parsePath(t, c.attr("d"))
				if len(p.x) < 2 {
					t.Errorf("%s %s %s: empty path %q", id, cls, c.attr("data-stratum"), c.attr("d"))
				}
				for i := range p.x {
					if math.IsNaN(p.x[i]) || p.x[i] < 0 || p.x[i] > vb[2] || p.y[i] < 0 || p.y[i] > vb[3] {
						t.Errorf("%s %s: point (%v, %v) outside the figure", id, cls, p.x[i], p.y[i])
						break
					}
				}
				switch cls {
				case "band":
					bands++
					if !p.closed {
						t.Errorf("%s band: not closed", id)
					}
				case "line":
					lines++
				default:
					refs++
				}
			})
			return
		}
		var panels []*xmlNode
		n.walk(func(c *xmlNode) {
			if c.XMLName.Local == "g" && c.attr("class") == "panel" {
				panels = append(panels, c)
			}
		})
		if len(panels) == 0 {
			lines, refs, bands, legend := count(n)
			if lines == 0 || lines != bands || lines != legend || refs != 0 {
				t.Errorf("%s: %d lines, %d bands, %d legend entries, %d references", id, lines, bands, legend, refs)
			}
			if lines > maxCurves {
				t.Errorf("%s: %d curves in one plot, at most %d", id, lines, maxCurves)
			}
			return
		}
		multiples++
		for _, p := range panels {
			lines, refs, bands, _ := count(p)
			if lines != 1 || bands != 1 || refs != 1 {
				t.Errorf("%s panel %s: %d lines, %d bands, %d references; want one curve over the grey pooled one", id, p.attr("data-stratum"), lines, bands, refs)
			}
		}
	})
	return figs, multiples
}

func TestFigures(t *testing.T) {
	t.Run("small", func(t *testing.T) {
		d := smallData()
		d.Config.MinCell = 0 // every stratum drawn
		html, _ := render(t, d)
		if got, _ := checkFigures(t, html); got != 5 {
			t.Errorf("%d figures, want 5 (os: type, ALLO and AUTO by indication, donor; relapse: type)", got)
		}
	})
	t.Run("every stratum suppressed", func(t *testing.T) {
		d := smallData()
		d.Config.MinCell = 100
		html, _ := render(t, d)
		if got, _ := checkFigures(t, html); got != 0 {
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
		if got, _ := checkFigures(t, html); got != 0 {
			t.Errorf("%d figures, want none: nothing to draw", got)
		}
		if !strings.Contains(html, "No curve to plot.") {
			t.Error("an undrawable figure is not explained")
		}
	})
	t.Run("simulated", func(t *testing.T) {
		html, _ := render(t, simData(1500, 7))
		if got, _ := checkFigures(t, html); got < 15 {
			t.Errorf("%d figures, want at least 15", got)
		}
	})
}

// TestNoFigureOverSixCurves: with up to 15 groups a figure, no plot or
// panel draws more than six curves; the figures with more groups are small
// multiples with the pooled curve behind every panel.
func TestNoFigureOverSixCurves(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *Data
	}{
		{"simulated 1500", simData(1500, 7)},
		{"simulated 20000, 15 indications", simWide(20000, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html, _ := render(t, tc.d)
			figs, multiples := checkFigures(t, html)
			if figs == 0 || multiples == 0 {
				t.Fatalf("%d figures, %d of small multiples: the case tests nothing", figs, multiples)
			}
		})
	}
}

// TestIncidenceAxis: an incidence axis ends 10 points above the largest
// upper limit, rounded up to 10; survival axes run to 100%.
func TestIncidenceAxis(t *testing.T) {
	for _, tc := range []struct{ upper, top float64 }{{0.234, 0.4}, {0.2, 0.3}, {0.0, 0.1}, {0.95, 1}, {0.899, 1}, {0.05, 0.2}} {
		if got := incidenceTop(tc.upper); math.Abs(got-tc.top) > 1e-12 {
			t.Errorf("incidenceTop(%v) = %v, want %v", tc.upper, got, tc.top)
		}
	}
	d := smallData()
	d.Config.MinCell = 0
	html, _ := render(t, d)
	// relapse: largest upper limit 25.9% → axis to 40%, ticks every 10.
	i := strings.Index(html, `id="plot-relapse-type"`)
	if i < 0 {
		t.Fatal("no relapse figure")
	}
	fig := html[i:]
	fig = fig[:strings.Index(fig, "</svg>")]
	y := fig[strings.Index(fig, `<g class="yaxis"`):]
	y = y[:strings.Index(y, "</g>")]
	if !strings.Contains(y, ">40</text>") || strings.Contains(y, ">50</text>") || strings.Contains(y, ">100</text>") {
		t.Error("relapse y axis does not end at 40%")
	}
	if !strings.Contains(fig, "Cumulative incidence of relapse (%)") {
		t.Error("relapse y axis does not name the endpoint")
	}
}

// TestTestOnFigure: the indication figure prints its test's p-value and
// the groups the test left out; a negative statistic is not computable.
func TestTestOnFigure(t *testing.T) {
	d := smallData()
	d.Config.MinCell = 0
	d.Config.MinGroup = 10
	d.Endpoints[0].Tests[0].Excluded = []string{"CML", "SAA"}
	html, _ := render(t, d)
	for _, want := range []string{`class="pvalue"`, "Log-rank p = 0.050", "Left out of the test, fewer than 10 transplants: CML, SAA."} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
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
			fr := frame{plotLeft, plotRight, plotTop, plotBottom, 400, 1}
			s, ok := scale(fr, tc.km, c)
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
		{"count hidden", newCounter(10).show("t", "k", 3), "<10"},
		{"count zero", newCounter(10).show("t", "k", 0), "0"},
		{"count at min", newCounter(10).show("t", "k", 10), "10"},
		{"count grouped", newCounter(10).show("t", "k", 1234567), "1,234,567"},
		{"count hundreds", newCounter(10).show("t", "k", 999), "999"},
		{"count disabled", newCounter(0).show("t", "k", 3), "3"},
		{"day 100", dayLabel(100), "100 d"},
		{"day 180", dayLabel(180), "6 mo"},
		{"day 365", dayLabel(365), "1 y"},
		{"day 1825", dayLabel(1825), "5 y"},
		{"axis os", axisTitle(&Endpoint{Name: "os", Label: "Overall survival", Estimator: EstimatorKM}), "Overall survival (%)"},
		{"axis relapse", axisTitle(&Endpoint{Name: "relapse", Label: "Relapse incidence", Estimator: EstimatorCI}), "Cumulative incidence of relapse (%)"},
		{"axis nrm", axisTitle(&Endpoint{Name: "nrm", Label: "Non-relapse mortality", Estimator: EstimatorCI}), "Non-relapse mortality (%)"},
		{"axis agvhd", axisTitle(&Endpoint{Name: "agvhd24", Label: "Acute GVHD grade II–IV", Estimator: EstimatorCI}), "Cumulative incidence of acute GVHD grade II–IV (%)"},
		{"axis GVHD kept", axisTitle(&Endpoint{Name: "x", Label: "GVHD", Estimator: EstimatorCI}), "Cumulative incidence of GVHD (%)"},
		{"markdown", mdText("<img src=x onerror=alert(1)>"), `\<img src=x onerror=alert(1)\>`},
		{"markdown code", mdText("a_b*c`d|e"), "a\\_b\\*c\\`d\\|e"},
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

// TestMarkdownEscapesExtractText: text from the extract (an unknown
// header, a centre id) reaches report.md escaped, never as raw markup, and
// index.html as escaped text.
func TestMarkdownEscapesExtractText(t *testing.T) {
	const evil = "<img src=x onerror=alert(1)>"
	d := smallData()
	d.Ingest.Files[0].UnknownColumns = []string{evil}
	d.Ingest.Quality[0].Centres = []CentreCount{{"*C1*" + evil, 12}}
	html, md := render(t, d)
	if regexp.MustCompile(`(^|[^\\])<img`).MatchString(md) || strings.Contains(html, "<img") {
		t.Error("raw <img> from the extract in the report")
	}
	if !strings.Contains(md, `\<img src=x onerror=alert(1)\>`) || !strings.Contains(md, `\*C1\*`) {
		t.Errorf("report.md does not carry the escaped text:\n%s", md)
	}
	if !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("index.html does not carry the escaped text")
	}
}

// TestTrendFigure: the first page draws 1-year OS and NRM by year of
// transplant, one panel each, one line per type; years of a type with
// fewer than min_cell transplants are left out; without data, the slot.
func TestTrendFigure(t *testing.T) {
	d := simData(1500, 7)
	d.Trend = append(d.Trend, TrendPoint{Endpoint: "os", TransplantType: "ALLO", Year: 2030, Day: 365, N: 3, Estimate: 0.5, Lower: 0.1, Upper: 0.9})
	html, _ := render(t, d)
	i := strings.Index(html, `<svg class="trend"`)
	if i < 0 {
		t.Fatal("no trend figure")
	}
	fig := html[i : i+strings.Index(html[i:], "</svg>")]
	if got := strings.Count(fig, `<g class="panel"`); got != 2 {
		t.Errorf("%d trend panels, want 2", got)
	}
	if got := strings.Count(fig, `class="line"`); got != 4 {
		t.Errorf("%d trend lines, want 4 (two types, two panels)", got)
	}
	if strings.Contains(fig, ">2030<") {
		t.Error("a year with 3 transplants is plotted")
	}
	d.Trend = nil
	html, _ = render(t, d)
	if !strings.Contains(html, `id="slot-trend"`) || strings.Contains(html, `class="trend"`) {
		t.Error("without trend data the first page does not keep the marked slot")
	}
}
