package report

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func centresData() *Centres {
	return &Centres{Day: 365, MinCentre: 20, Panels: []CentrePanel{{
		TransplantType: "ALLO", Endpoint: "os", Registry: 0.7,
		Rows: []CentreRow{
			{Centre: "C001", N: 200, NEvents: 60, Observed: 0.69, Expected: 0.7, Lower95: 0.63, Upper95: 0.76,
				Lower998: 0.6, Upper998: 0.79, NEff: 190, Completeness: 0.98, Flag: "as_expected"},
			{Centre: "C002", N: 40, NEvents: 7, Observed: 0.5, Expected: 0.72, Lower95: 0.57, Upper95: 0.84,
				Lower998: 0.5, Upper998: 0.88, NEff: 35, Completeness: 0.95, Flag: "worse95"},
			{Centre: "C003", N: 5, NEvents: 1, Observed: 0.8, Expected: 0.7, Lower95: 0.3, Upper95: 0.95,
				Lower998: 0.2, Upper998: 0.98, NEff: 5, Completeness: 1, Flag: "not_assessed", Reason: "fewer than 20 transplants"},
			{Centre: "C004", N: 30, NEvents: 12, Observed: 0.6, Expected: 0.7, Lower95: 0.5, Upper95: 0.85,
				Lower998: 0.4, Upper998: 0.9, NEff: 20, Completeness: 0.8, Flag: "not_assessed", Reason: "follow-up completeness under 0.9"},
		},
		Model: []CentreTerm{
			{Covariate: "(intercept)", N: 275, Estimate: 0.85, RobustSE: 0.1},
			{Covariate: "age", Level: "60-69", N: 8, Estimate: -0.3, RobustSE: 0.2},
			{Covariate: "age", Level: "18-39", N: -1, Estimate: math.NaN(), RobustSE: math.NaN(), Rule: "reference"},
		},
	}}}
}

// TestCentresSection: the section is there with one funnel per panel,
// the flagged and not-assessed centres with reasons, small centres named
// but not listed, counts under min_cell as <10, and every dot inside the
// plot area.
func TestCentresSection(t *testing.T) {
	d := smallData()
	d.Centres = centresData()
	html, _ := render(t, d)
	i := strings.Index(html, `<section id="centres">`)
	if i < 0 {
		t.Fatal("no centres section")
	}
	sec := html[i:]
	for _, want := range []string{
		`<svg class="funnel"`, `data-stratum="registry"`, `data-centre="C001"`, `data-centre="C002"`,
		"worse than expected (outside 95% only)", "not assessed: follow-up completeness under 0.9",
		"fewer than 20 transplants, not assessed: C003", `<td class="num">&lt;10</td>`, "Appendix: risk models",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("centres section lacks %q", want)
		}
	}
	// Not assessed centres are not plotted; the counts 7 and 8 never show.
	for _, bad := range []string{`data-centre="C003"`, `data-centre="C004"`, `<td class="num">7</td>`, `<td class="num">8</td>`} {
		if strings.Contains(sec, bad) {
			t.Errorf("centres section has %q", bad)
		}
	}
	num := regexp.MustCompile(`<circle class="centre" data-centre="[^"]*" cx="([0-9.]+)" cy="([0-9.]+)"`)
	for _, m := range num.FindAllStringSubmatch(sec, -1) {
		x, y := atofT(t, m[1]), atofT(t, m[2])
		if x < 64 || x > 600 || y < 16 || y > 312 {
			t.Errorf("dot at %v,%v outside the plot", x, y)
		}
	}
	if d.Centres = nil; strings.Contains(func() string { h, _ := render(t, d); return h }(), `id="centres"`) {
		t.Error("a report without a benchmark has a centres section")
	}
}

func atofT(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
