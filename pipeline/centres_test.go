package pipeline

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gunzipExtract writes the gzipped extract of a testdata/centres case into
// a temporary directory.
func gunzipExtract(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "extract")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"transplants.csv", "events.csv"} {
		f, err := os.Open(filepath.Join(src, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, z); err != nil {
			t.Fatal(err)
		}
		out.Close()
		f.Close()
	}
	return dst
}

func readRows(t testing.TB, path string) ([]string, [][]string) {
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
	return recs[0], recs[1:]
}

// centreTolerance: the §3 estimators to 1e-9, the model's numbers to 1e-6
// (SPEC §6 via testdata/r/centres.R); other columns exact.
var centreTolerance = map[string]float64{
	"observed": 1e-9, "std_err": 1e-9, "completeness": 1e-9,
	"expected": 1e-6, "lower95": 1e-6, "upper95": 1e-6, "lower998": 1e-6, "upper998": 1e-6,
	"estimate": 1e-6, "robust_se": 1e-6,
}

// compareCentreCSV compares a results/ file with R's, row by row in order
// (both are sorted by their key).
func compareCentreCSV(t *testing.T, got, want string) {
	t.Helper()
	gh, gr := readRows(t, got)
	wh, wr := readRows(t, want)
	if strings.Join(gh, ",") != strings.Join(wh, ",") {
		t.Fatalf("%s header %v, R has %v", got, gh, wh)
	}
	if len(gr) != len(wr) {
		t.Fatalf("%s: %d rows, R has %d", got, len(gr), len(wr))
	}
	bad := 0
	for i := range gr {
		for j, col := range gh {
			g, w := gr[i][j], wr[i][j]
			tol, isNum := centreTolerance[col]
			ok := g == w
			if isNum && !ok && g != "" && w != "" {
				gv, err1 := strconv.ParseFloat(g, 64)
				wv, err2 := strconv.ParseFloat(w, 64)
				ok = err1 == nil && err2 == nil && math.Abs(gv-wv) <= tol
			}
			if !ok && bad < 10 {
				t.Errorf("%s row %d (%s) %s = %q, R %q", filepath.Base(got), i+1, strings.Join(gr[i][:3], ","), col, g, w)
			}
			if !ok {
				bad++
			}
		}
	}
}

// TestCentresAgainstR runs the whole pipeline on the testdata/centres
// registries (a synthetic one and the EBMT ebmt2 cohort with centres and
// missing covariates) and compares results/centres and
// results/centre_model with R's answers, so the SQL cohort and banding are
// checked too.
func TestCentresAgainstR(t *testing.T) {
	for _, name := range []string{"synth", "ebmt2c"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "centres", name)
			out := filepath.Join(t.TempDir(), "out")
			if _, err := Run(context.Background(), RunOptions{Extract: gunzipExtract(t, filepath.Join(dir, "extract")), Out: out, Config: DefaultConfig()}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"centres.csv", "centre_model.csv"} {
				compareCentreCSV(t, filepath.Join(out, "results", f), filepath.Join(dir, "want", f))
			}
			html, err := os.ReadFile(filepath.Join(out, "report", "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`<section id="centres">`, `<svg class="funnel"`, `data-stratum="registry"`, "Appendix: risk models"} {
				if !strings.Contains(string(html), want) {
					t.Errorf("report lacks %s", want)
				}
			}
			for _, f := range []string{"centres.parquet", "centre_model.parquet"} {
				if _, err := os.Stat(filepath.Join(out, "results", f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestCentresOff: centres = false writes no centre tables; an extract
// without center_id values writes none either.
func TestCentresOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Centres = false
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, cfg)
	if _, err := os.Stat(filepath.Join(out, "results", "centres.csv")); !os.IsNotExist(err) {
		t.Errorf("centres = false: centres.csv exists (%v)", err)
	}
	out = filepath.Join(t.TempDir(), "out")
	if _, err := Run(context.Background(), RunOptions{Extract: "../testdata/refdata/ebmt4/extract", Out: out, Config: DefaultConfig()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "results", "centres.csv")); !os.IsNotExist(err) {
		t.Errorf("no center_id: centres.csv exists (%v)", err)
	}
}

// TestCentresSeparation: the adversarial synth cohort's AUTO os model has
// no finite solution with every covariate (a combination of levels without
// deaths); the run still succeeds, the last covariate is removed and the
// model table says so.
func TestCentresSeparation(t *testing.T) {
	cfg, err := LoadConfig("../testdata/adversarial/synth/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	cutoff, _ := time.Parse(time.DateOnly, "2021-12-31")
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Run(context.Background(), RunOptions{Extract: "../testdata/adversarial/synth/extract", Out: out, Cutoff: cutoff, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results", "centre_model.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "AUTO,os,32,transplant_year,,,,,dropped: no finite estimate with it (separation): removed") {
		t.Errorf("centre_model.csv lacks the separation note:\n%s", b)
	}
}
