package pipeline

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAnalysisReferenceCases runs marrow on every case of
// testdata/analyses/ (an extract and a config.toml with [[endpoint]] and
// [[analysis]] tables) and compares each results/analyses/<name>/ table
// with the answers of testdata/r/analyses.R (R's survfit, survdiff and
// cuminc over a cohort, dimensions, filters and groups derived in R) under
// compare.py's rules: same keys, counts exact, estimates within 1e-9, tests
// within 1e-6, empty only where R is empty.
func TestAnalysisReferenceCases(t *testing.T) {
	cases, _ := filepath.Glob("../testdata/analyses/*/config.toml")
	if len(cases) < 3 {
		t.Fatalf("found %d analysis reference cases, want at least 3", len(cases))
	}
	for _, cfgPath := range cases {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, err := LoadConfig(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if _, err := Run(context.Background(), RunOptions{Extract: filepath.Join(dir, "extract"), Out: out, Config: cfg}); err != nil {
				t.Fatal(err)
			}
			// Declared endpoints are in the default analysis too: R's rows
			// for them against marrow's rows of those endpoints.
			if want := filepath.Join(dir, "want", "default"); len(cfg.Endpoints) > 0 {
				declared := map[string]bool{}
				for _, e := range cfg.Endpoints {
					declared[e.Name] = true
				}
				for _, f := range []struct {
					name       string
					key, exact []string
					approx     []string
				}{
					{"landmarks.csv", []string{"endpoint", "transplant_type", "donor_type", "indication", "day"},
						[]string{"n", "n_risk", "n_events"}, []string{"estimate", "std_err", "lower", "upper"}},
					{"medians.csv", []string{"endpoint", "transplant_type", "donor_type", "indication"},
						[]string{"n"}, []string{"median", "lower", "upper"}},
				} {
					got := filterCSV(t, filepath.Join(out, "results", f.name), declared)
					compareCSV(t, filepath.Join(want, f.name), got, f.key, f.exact, f.approx, 1e-9)
				}
			}
			for _, a := range cfg.Analyses {
				want := filepath.Join(dir, "want", "analyses", a.Name)
				got := filepath.Join(out, "results", "analyses", a.Name)
				dims := slices.Clone(a.By)
				if h := csvHeader(t, filepath.Join(want, "landmarks.csv")); !slices.Equal(h[1:1+len(dims)], dims) {
					t.Fatalf("%s: want/landmarks.csv header %v, want dimensions %v", a.Name, h, dims)
				}
				key := append([]string{"endpoint"}, dims...)
				compareCSV(t, filepath.Join(want, "landmarks.csv"), filepath.Join(got, "landmarks.csv"),
					append(slices.Clone(key), "day"), []string{"n", "n_risk", "n_events"},
					[]string{"estimate", "std_err", "lower", "upper"}, 1e-9)
				compareCSV(t, filepath.Join(want, "medians.csv"), filepath.Join(got, "medians.csv"),
					key, []string{"n"}, []string{"median", "lower", "upper"}, 1e-9)
				compareCSV(t, filepath.Join(want, "tests.csv"), filepath.Join(got, "tests.csv"),
					[]string{"endpoint", "comparison", "within"}, []string{"df", "method", "excluded"},
					[]string{"statistic", "p_value"}, 1e-6)
			}
		})
	}
}

func csvHeader(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := csv.NewReader(f).Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h
}

// filterCSV writes the rows of path whose endpoint is in keep to a
// temporary file and returns its path.
func filterCSV(t testing.TB, path string, keep map[string]bool) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	g, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(g)
	kept := 0
	for i, r := range recs {
		if i == 0 || keep[r[0]] {
			w.Write(r)
			kept++
		}
	}
	w.Flush()
	if err := g.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
	if kept < 2 {
		t.Fatalf("%s has no rows of %v", path, keep)
	}
	return out
}
