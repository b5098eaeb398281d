package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marrow/transforms"
)

// TestAnalysisConfigErrors: every mistake in [[endpoint]] or [[analysis]]
// is caught by LoadConfig, before any work, in one line naming the config
// file, the key and the reason.
func TestAnalysisConfigErrors(t *testing.T) {
	const gf = `[[endpoint]]
name = "graft_failure"
estimator = "cumulative_incidence"
event = ["graft_failure"]
competing = ["death"]
`
	for _, tc := range []struct{ name, text, want string }{
		{"unknown dimension", `[[analysis]]
name = "a"
by = ["centre"]`, `analysis "a": by: unknown dimension "centre"`},
		{"unknown filter column", `[[analysis]]
name = "a"
by = ["sex"]
where = { weight = [1, 2] }`, `analysis "a": where.weight: unknown filter column "weight"`},
		{"unknown endpoint", `[[analysis]]
name = "a"
by = ["sex"]
endpoints = ["os", "efs"]`, `analysis "a": endpoints: unknown endpoint "efs"`},
		{"unknown event code", `[[endpoint]]
name = "x"
estimator = "kaplan_meier"
event = ["deaht"]`, `endpoint "x": event: unknown event code "deaht"`},
		{"unknown grade", `[[endpoint]]
name = "x"
estimator = "kaplan_meier"
event = ["agvhd:5"]`, `endpoint "x": event: unknown agvhd grade "5"`},
		{"unknown where code", `[[analysis]]
name = "a"
by = ["sex"]
where = { indication = ["AMLL"] }`, `analysis "a": where.indication: unknown code "AMLL"`},
		{"duplicate endpoint", gf + gf, `endpoint "graft_failure": name: declared twice`},
		{"built-in endpoint name", `[[endpoint]]
name = "os"
estimator = "kaplan_meier"
event = ["death"]`, `endpoint "os": name: "os" is a built-in endpoint`},
		{"duplicate analysis", `[[analysis]]
name = "a"
by = ["sex"]
[[analysis]]
name = "a"
by = ["sex"]`, `analysis "a": name: declared twice`},
		{"reserved default", `[[analysis]]
name = "default"
by = ["sex"]`, `analysis "default": name: "default" is reserved`},
		{"reserved by_year", `[[analysis]]
name = "by_year"
by = ["sex"]`, `analysis "by_year": name: "by_year" is reserved`},
		{"unsorted band edges", `[[analysis]]
name = "a"
by = ["age_group"]
bands = { age_group = { from = "age_years", edges = [18, 60, 40] } }`, `analysis "a": bands.age_group.edges: not strictly ascending (40 after 60)`},
		{"where min > max", `[[analysis]]
name = "a"
by = ["sex"]
where = { transplant_year = [2024, 2010] }`, `analysis "a": where.transplant_year: min 2024 > max 2010`},
		{"no dimension", `[[analysis]]
name = "a"
by = []`, `analysis "a": by: want 1 to 4 dimensions, got 0`},
		{"five dimensions", `[[analysis]]
name = "a"
by = ["sex", "center_id", "indication", "conditioning", "graft_source"]`, `by: want 1 to 4 dimensions, got 5`},
		{"bad analysis name", `[[analysis]]
name = "Centre"
by = ["sex"]`, `analysis "Centre": name "Centre": want [a-z][a-z0-9_]*`},
		{"band from unknown column", `[[analysis]]
name = "a"
by = ["w"]
bands = { w = { from = "weight", edges = [1] } }`, `analysis "a": bands.w.from: "weight"`},
		{"competing in kaplan_meier", `[[endpoint]]
name = "x"
estimator = "kaplan_meier"
event = ["relapse"]
competing = ["death"]`, `endpoint "x": competing: a kaplan_meier endpoint has no competing event`},
		{"bad population", `[[endpoint]]
name = "x"
estimator = "kaplan_meier"
event = ["relapse"]
population = "allo"`, `endpoint "x": population "allo"`},
		{"unknown key in analysis", `[[analysis]]
name = "a"
by = ["sex"]
filter = { sex = ["M"] }`, `unknown key(s) analysis.filter`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "config "+path+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line starting with %q and containing %q", msg, "config "+path+": ", tc.want)
			}
		})
	}
}

// TestAnalysisConfigValid: the example configs load, and an analysis's
// defaults are filled in.
func TestAnalysisConfigValid(t *testing.T) {
	for _, name := range []string{"centre", "era", "endpoints"} {
		cfg, err := LoadConfig(filepath.Join("..", "examples", name+".toml"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cfg.Analyses) == 0 {
			t.Errorf("%s: no analysis", name)
		}
	}
	cfg, err := LoadConfig(writeConfig(t, `[[analysis]]
name = "a"
by = ["sex"]`))
	if err != nil {
		t.Fatal(err)
	}
	as := cfg.declaredAnalyses()
	if len(as) != 1 || as[0].title != "a" || len(as[0].eps) != 12 || len(as[0].landmarks) != 6 {
		t.Errorf("defaults not filled: %+v", as)
	}
}

func TestBandLabels(t *testing.T) {
	for _, tc := range []struct {
		edges []float64
		want  string
	}{
		{[]float64{18, 40, 60}, "<18 18-39 40-59 60+"},
		{[]float64{2014, 2018}, "<2014 2014-2017 2018+"},
		{[]float64{50}, "<50 50+"},
		{[]float64{17.5, 40}, "<17.5 17.5-<40 40+"},
	} {
		if got := strings.Join(bandLabels(tc.edges), " "); got != tc.want {
			t.Errorf("bandLabels(%v) = %q, want %q", tc.edges, got, tc.want)
		}
	}
}

// TestAnalysisSQLGolden: the risk-count SQL of examples/era.toml's
// analyses (a join to transplants, bands, where filters) is kept as plain
// SQL under testdata/, so a change to how a declared analysis becomes SQL
// shows in a diff. go test -update rewrites it.
func TestAnalysisSQLGolden(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "examples", "era.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, a := range cfg.declaredAnalyses() {
		got.WriteString("-- analysis " + a.name + "\n" + transforms.RiskCountsSQL(a.spec) + "\n")
	}
	golden := filepath.Join("testdata", "era.risk_counts.sql.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("rendered SQL differs from %s; rerun with -update if intended and review the diff", golden)
	}
}
