package report

import (
	"strings"
	"testing"
)

// TestAnalysisHidden: a group under min_cell is hidden, and so is one more
// term of every sum it would otherwise be recoverable from.
func TestAnalysisHidden(t *testing.T) {
	sup := suppressor{min: 10}
	c := func(n int, g ...string) AnalysisCurve { return AnalysisCurve{Groups: g, N: n} }
	curves := []AnalysisCurve{
		c(100, "*"), c(60, "A"), c(35, "B"), c(5, "C"),
	}
	hidden, compl := analysisHidden(curves, 1, sup)
	if !hidden["C"] || compl["C"] {
		t.Errorf("C (n=5) should be hidden as small: %v %v", hidden, compl)
	}
	if !hidden["B"] || !compl["B"] {
		t.Errorf("B (the smallest shown group) should be hidden as complementary: %v %v", hidden, compl)
	}
	if hidden["A"] || hidden["*"] {
		t.Errorf("A and the total should stay: %v", hidden)
	}
	// Two dimensions: hiding spreads until no sum has exactly one hidden term.
	curves = []AnalysisCurve{
		c(100, "*", "*"), c(50, "X", "*"), c(50, "Y", "*"), c(70, "*", "P"), c(30, "*", "Q"),
		c(45, "X", "P"), c(5, "X", "Q"), c(25, "Y", "P"), c(25, "Y", "Q"),
	}
	hidden, _ = analysisHidden(curves, 2, sup)
	var fams [][]string
	for _, tot := range curves {
		for d := 0; d < 2; d++ {
			if tot.Groups[d] != "*" {
				continue
			}
			f := []string{groupsKey(tot.Groups)}
			for _, m := range curves {
				if m.Groups[d] != "*" && m.Groups[1-d] == tot.Groups[1-d] {
					f = append(f, groupsKey(m.Groups))
				}
			}
			fams = append(fams, f)
		}
	}
	for _, f := range fams {
		n := 0
		for _, k := range f {
			if hidden[k] {
				n++
			}
		}
		if n == 1 {
			t.Errorf("sum %q has exactly one hidden term", f)
		}
	}
	if hidden, _ := analysisHidden(curves, 2, suppressor{}); len(hidden) != 0 {
		t.Errorf("min_cell 0 hides %v", hidden)
	}
}

// TestAnalysisSection: a declared analysis is its own section after the
// methods, with at most six curves per figure.
func TestAnalysisSection(t *testing.T) {
	d := &Data{Config: Config{Landmarks: []int{365}, MinCell: 10}}
	e := AnalysisEndpoint{Name: "os", Label: "Overall survival", Estimator: EstimatorKM}
	groups := []string{"*", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"}
	for i, g := range groups {
		n := 100 + i
		if g == "*" {
			n = 1000
		}
		e.Curves = append(e.Curves, AnalysisCurve{Groups: []string{g}, N: n, Points: []Point{{Time: 0, NRisk: n, Estimate: 1}, {Time: 400, NRisk: n, NEvent: 10, Estimate: 0.9, Lower: 0.85, Upper: 0.95}}})
		e.Landmarks = append(e.Landmarks, AnalysisLandmark{Groups: []string{g}, Day: 365, N: n, NRisk: n, Estimate: 1})
	}
	d.Analyses = []Analysis{{Name: "centre", Title: "By centre", Dims: []string{"center_id"}, Landmarks: []int{365}, Endpoints: []AnalysisEndpoint{e}}}
	html, md, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	i, j := strings.Index(h, `<section id="methods">`), strings.Index(h, `<section class="analysis" id="analysis-centre">`)
	if i < 0 || j < i {
		t.Fatalf("analysis section missing or before methods (%d, %d)", i, j)
	}
	if n := strings.Count(h[j:], `<path class="line"`); n != maxCurves {
		t.Errorf("%d curves in the figure, want %d", n, maxCurves)
	}
	if !strings.Contains(string(md), "## By centre (analysis centre: by center_id)") {
		t.Error("report.md lacks the analysis")
	}
}
