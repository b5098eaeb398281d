package pipeline

import (
	"context"
	"database/sql"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"marrow/internal/duck"
)

// refCase is one end-to-end reference case: an extract and R's answers.
type refCase struct {
	name    string
	extract string
	want    string // folder with landmarks.csv, medians.csv, tests.csv (cohort.csv)
	cutoff  time.Time
	config  string // TOML config file, "" = defaults
}

// refCases lists the public reference cohorts (testdata/refdata/*) and the
// R-generated adversarial cases (testdata/adversarial/*).
func refCases(t testing.TB) []refCase {
	t.Helper()
	var cases []refCase
	for _, pat := range []struct{ glob, want string }{
		{"../testdata/refdata/*/extract", "expected"},
		{"../testdata/adversarial/*/extract", "want"},
	} {
		dirs, _ := filepath.Glob(pat.glob)
		for _, ex := range dirs {
			dir := filepath.Dir(ex)
			c := refCase{name: filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir), extract: ex,
				want: filepath.Join(dir, pat.want)}
			if args, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				f := strings.Fields(string(args))
				for i := 0; i+1 < len(f); i++ {
					if f[i] == "--cutoff" {
						c.cutoff, err = time.Parse(time.DateOnly, f[i+1])
						if err != nil {
							t.Fatalf("%s/args: %v", dir, err)
						}
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "config.toml")); err == nil {
				c.config = filepath.Join(dir, "config.toml")
			}
			cases = append(cases, c)
		}
	}
	// Every public cohort of ../shared/refdata and every adversarial case
	// must be here: a case lost from the glob would pass silently.
	names := map[string]bool{}
	for _, c := range cases {
		names[c.name] = true
	}
	for _, set := range []string{"bmt", "bmtcrr", "ebmt2", "ebmt3", "ebmt4"} {
		if !names["refdata/"+set] {
			t.Fatalf("reference case refdata/%s not found", set)
		}
	}
	adv, _ := os.ReadDir("../testdata/adversarial")
	for _, e := range adv {
		if e.IsDir() && !names["adversarial/"+e.Name()] {
			t.Fatalf("adversarial case %s has no extract/", e.Name())
		}
	}
	return cases
}

// TestReferenceCases runs marrow on every reference case and compares the
// results with R's answers as ../shared/tools/compare.py does: same keys,
// counts exact, estimates within 1e-9 (tests within 1e-6), empty only where
// R is empty.
func TestReferenceCases(t *testing.T) {
	for _, c := range refCases(t) {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(c.config)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			_, err = Run(context.Background(), RunOptions{Extract: c.extract, Out: out, Cutoff: c.cutoff, Config: cfg})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			res := filepath.Join(out, "results")
			compareCSV(t, filepath.Join(c.want, "landmarks.csv"), filepath.Join(res, "landmarks.csv"),
				[]string{"endpoint", "transplant_type", "donor_type", "indication", "day"},
				[]string{"n", "n_risk", "n_events"}, []string{"estimate", "std_err", "lower", "upper"}, 1e-9)
			compareCSV(t, filepath.Join(c.want, "medians.csv"), filepath.Join(res, "medians.csv"),
				[]string{"endpoint", "transplant_type", "donor_type", "indication"},
				[]string{"n"}, []string{"median", "lower", "upper"}, 1e-9)
			compareCSV(t, filepath.Join(c.want, "tests.csv"), filepath.Join(res, "tests.csv"),
				[]string{"endpoint", "comparison", "within"},
				[]string{"df", "method", "excluded"}, []string{"statistic", "p_value"}, 1e-6)
		})
	}
}

// readCSVMap reads a CSV file into rows keyed by the key columns, and
// returns its header.
func readCSVMap(t testing.TB, path string, key []string) (map[string]map[string]string, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]map[string]string{}
	for _, r := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = r[i]
		}
		var k []string
		for _, c := range key {
			k = append(k, row[c])
		}
		ks := strings.Join(k, ",")
		if _, dup := out[ks]; dup {
			t.Errorf("%s: duplicate key %s", path, ks)
		}
		out[ks] = row
	}
	return out, recs[0]
}

func compareCSV(t *testing.T, wantPath, gotPath string, key, exact, approx []string, tol float64) {
	t.Helper()
	want, wantCols := readCSVMap(t, wantPath, key)
	got, gotCols := readCSVMap(t, gotPath, key)
	name := filepath.Base(wantPath)
	if !slices.Equal(wantCols, gotCols) {
		t.Errorf("%s: columns %q, want %q", name, gotCols, wantCols)
	}
	bad := 0
	report := func(format string, a ...any) {
		if bad++; bad <= 10 {
			t.Errorf(name+": "+format, a...)
		}
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			report("missing row %s", k)
			continue
		}
		for _, c := range exact {
			if !sameNumberText(w[c], g[c]) {
				report("%s %s = %q, want %q", k, c, g[c], w[c])
			}
		}
		for _, c := range approx {
			if d := numDiff(w[c], g[c]); d > tol {
				report("%s %s = %q, want %q (|diff| %.3g)", k, c, g[c], w[c], d)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			report("extra row %s", k)
		}
	}
	if bad > 10 {
		t.Errorf("%s: %d differences in all", name, bad)
	}
}

func sameNumberText(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && x == y
}

// numDiff is |a-b|, 0 when both are empty, +Inf when only one is.
func numDiff(a, b string) float64 {
	if a == "" && b == "" {
		return 0
	}
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return math.Inf(1)
	}
	if math.IsNaN(x) && math.IsNaN(y) {
		return 0
	}
	return math.Abs(x - y)
}

// TestTestsParquet: results/tests.parquet holds what tests.csv holds, with
// a not-computable statistic and p as NULL and excluded as text, empty when
// no group was left out (never NULL).
func TestTestsParquet(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"mingroup", "notcomputable"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("../testdata/adversarial", name)
			cfg, err := LoadConfig(filepath.Join(dir, "config.toml"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if _, err := Run(ctx, RunOptions{Extract: filepath.Join(dir, "extract"), Out: out, Config: cfg}); err != nil {
				t.Fatal(err)
			}
			csvRows, _ := readCSVMap(t, filepath.Join(out, "results", "tests.csv"), []string{"endpoint", "comparison", "within"})
			db, err := duck.Open(ctx, duck.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.QueryContext(ctx, "SELECT endpoint, comparison, within, statistic, p_value, excluded FROM read_parquet(?) ORDER BY ALL",
				filepath.Join(out, "results", "tests.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n, nulls, excluded := 0, 0, 0
			for rows.Next() {
				var ep, comp, within string
				var stat, p sql.NullFloat64
				var exc sql.NullString
				if err := rows.Scan(&ep, &comp, &within, &stat, &p, &exc); err != nil {
					t.Fatal(err)
				}
				n++
				c := csvRows[ep+","+comp+","+within]
				if c == nil {
					t.Fatalf("%s %s %s: in tests.parquet, not in tests.csv", ep, comp, within)
				}
				if stat.Valid != p.Valid || stat.Valid != (c["statistic"] != "") {
					t.Errorf("%s %s %s: statistic %v, p %v in Parquet; %q, %q in CSV", ep, comp, within, stat, p, c["statistic"], c["p_value"])
				}
				if !stat.Valid {
					nulls++
				}
				if !exc.Valid || exc.String != c["excluded"] {
					t.Errorf("%s %s %s: excluded %v in Parquet, %q in CSV", ep, comp, within, exc, c["excluded"])
				}
				if exc.String != "" {
					excluded++
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != len(csvRows) {
				t.Errorf("%d rows in tests.parquet, %d in tests.csv", n, len(csvRows))
			}
			// mingroup leaves groups out; notcomputable has three NULL statistics.
			if name == "mingroup" && excluded == 0 || name == "notcomputable" && nulls != 3 {
				t.Errorf("%s: %d rows with excluded groups, %d NULL statistics", name, excluded, nulls)
			}
		})
	}
}
