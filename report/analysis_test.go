package report

import (
	"strings"
	"testing"
)

// analysisData is a registry of one analysis by centre: groups of the
// given sizes, one curve and one landmark each, and the pooled stratum.
func analysisData(sizes ...int) *Data {
	d := &Data{Config: Config{Landmarks: []int{365}, MinCell: 10}}
	e := AnalysisEndpoint{Name: "os", Label: "Overall survival", Estimator: EstimatorKM}
	total := 0
	for _, n := range sizes {
		total += n
	}
	add := func(g string, n int) {
		e.Curves = append(e.Curves, AnalysisCurve{Groups: []string{g}, N: n, Points: []Point{{Time: 0, NRisk: n, Estimate: 1}, {Time: 400, NRisk: n, NEvent: 1, Estimate: 0.9, Lower: 0.85, Upper: 0.95}}})
		e.Landmarks = append(e.Landmarks, AnalysisLandmark{Groups: []string{g}, Day: 365, N: n, NRisk: n, Estimate: 1})
	}
	add("*", total)
	for i, n := range sizes {
		add("C"+string(rune('1'+i)), n)
	}
	d.Analyses = []Analysis{{Name: "centre", Title: "By centre", Subset: true, Dims: []string{"center_id"}, Landmarks: []int{365}, Endpoints: []AnalysisEndpoint{e}}}
	return d
}

// TestAnalysisSuppression: a group under min_cell is hidden, and so is one
// more group, since the groups add up to the pooled stratum; the audit
// finds nothing to derive, and finds something when the analysis's
// landmark table ignores the rule.
func TestAnalysisSuppression(t *testing.T) {
	d := analysisData(60, 35, 5)
	shown, _, _, _, err := published(d)
	if err != nil {
		t.Fatal(err)
	}
	key := func(g string) string {
		return analysisCell("n", &d.Analyses[0], &d.Analyses[0].Endpoints[0], 0, []string{g})
	}
	if got := shown[key("C3")]; got != "" && got != "<10" {
		t.Errorf("C3 (n=5) printed as %q", got)
	}
	if got := shown[key("C2")]; got == "35" {
		t.Errorf("C2 printed as 35: with the total printed, C3 = total − C1 − C2")
	}
	if found := findDisclosures(t, d); len(found) > 0 {
		t.Errorf("audit: %v", found)
	}
	for _, tb := range []string{anLandmarks, anFigures} {
		bypassComplementary = tb
		found := findDisclosures(t, d)
		bypassComplementary = ""
		if len(found) == 0 {
			t.Errorf("table %s without the complementary step, yet the audit finds nothing", tb)
		}
	}
}

// TestAnalysisCanonicalCells: an analysis of every transplant shares the
// default strata's cells where its other dimensions are pooled; a subset
// analysis does not.
func TestAnalysisCanonicalCells(t *testing.T) {
	a := &Analysis{Name: "by_year", Dims: []string{"transplant_type", "transplant_year"}}
	e := &AnalysisEndpoint{Name: "os", Population: "all"}
	if got, want := analysisCell("n", a, e, 0, []string{"ALLO", "*"}), stratumCell(Stratum{"ALLO", "*", "*"}); got != want {
		t.Errorf("pooled year: %s, want %s", got, want)
	}
	if got, want := analysisCell("risk", a, e, 365, []string{"*", "*"}), riskCell("os", 365, Stratum{"*", "*", "*"}); got != want {
		t.Errorf("pooled at risk: %s, want %s", got, want)
	}
	if got := analysisCell("n", a, e, 0, []string{"ALLO", "2015"}); got == stratumCell(Stratum{"ALLO", "*", "*"}) || !strings.Contains(got, "an=by_year") {
		t.Errorf("a year's stratum: %s", got)
	}
	allo := &AnalysisEndpoint{Name: "agvhd24", Population: "ALLO"}
	if got, want := analysisCell("n", &Analysis{Name: "d", Dims: []string{"donor_type"}}, allo, 0, []string{"*"}), stratumCell(Stratum{"ALLO", "*", "*"}); got != want {
		t.Errorf("ALLO endpoint pooled: %s, want %s", got, want)
	}
	// Donor types exist within ALLO only in the default analysis: a donor
	// type of every transplant is not one of its strata.
	donor := &Analysis{Name: "donor", Dims: []string{"donor_type", "conditioning"}}
	if got := analysisCell("n", donor, e, 0, []string{"HAPLO", "*"}); !strings.Contains(got, "an=donor") {
		t.Errorf("donor type over every transplant type: %s", got)
	}
	if got, want := analysisCell("n", donor, allo, 0, []string{"HAPLO", "*"}), stratumCell(Stratum{"ALLO", "HAPLO", "*"}); got != want {
		t.Errorf("donor type of an ALLO endpoint: %s, want %s", got, want)
	}
	a.Subset = true
	if got := analysisCell("n", a, e, 0, []string{"ALLO", "*"}); got == stratumCell(Stratum{"ALLO", "*", "*"}) {
		t.Errorf("a subset analysis shares the default stratum's cell %s", got)
	}
}

// TestAnalysisSection: a declared analysis is its own section after the
// methods; nine groups are small multiples of one curve each over the
// pooled reference, never more than six curves in one plot.
func TestAnalysisSection(t *testing.T) {
	d := analysisData(100, 101, 102, 103, 104, 105, 106, 107)
	html, md, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	i, j := strings.Index(h, `<section id="methods">`), strings.Index(h, `<section id="analysis-centre" class="analysis">`)
	if i < 0 || j < i {
		t.Fatalf("analysis section missing or before methods (%d, %d)", i, j)
	}
	sec := h[j:]
	if n := strings.Count(sec, `<g class="panel"`); n != 8 {
		t.Errorf("%d panels, want 8", n)
	}
	if n := strings.Count(sec, `<path class="line reference"`); n != 8 {
		t.Errorf("%d reference curves, want one per panel", n)
	}
	if n := strings.Count(sec, `<path class="line"`); n != 8 {
		t.Errorf("%d group curves over 8 panels, want one a panel", n)
	}
	if !strings.Contains(string(md), "## By centre") || !strings.Contains(string(md), "results/analyses/centre/") {
		t.Error("report.md lacks the analysis")
	}
}
