package pipeline

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"marrow/endpoints"
	"marrow/internal/duck"
)

// TestNewBuiltinEndpoint: one registry entry is all a new endpoint needs —
// it reaches the cohort, the results, the report and every analysis.
func TestNewBuiltinEndpoint(t *testing.T) {
	undo := endpoints.Register(endpoints.Endpoint{Name: "throwaway", Estimator: endpoints.CumulativeIncidence,
		Event: []endpoints.Term{{Code: "graft_failure"}}, Competing: []endpoints.Term{{Code: "death"}},
		SameDay: endpoints.SameDayEvent, Population: endpoints.PopulationAllo,
		Label: "Throwaway endpoint", Definition: "Event: graft failure. Test only.", Horizon: 365})
	defer undo()
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, DefaultConfig())
	cols := queryStrings(t, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet("+
		duck.Literal(filepath.Join(out, "warehouse", "cohort.parquet"))+"))")
	if !slices.Contains(cols, "throwaway_time") || !slices.Contains(cols, "throwaway_status") {
		t.Errorf("cohort columns %v lack throwaway_time/status", cols)
	}
	lm, _ := readCSVMap(t, filepath.Join(out, "results", "landmarks.csv"), []string{"endpoint", "transplant_type", "donor_type", "indication", "day"})
	if _, ok := lm["throwaway,ALLO,*,*,365"]; !ok {
		t.Error("results/landmarks.csv has no throwaway,ALLO,*,*,365 row")
	}
	if _, ok := lm["throwaway,*,*,*,365"]; ok {
		t.Error("an ALLO-only endpoint has a pooled-type stratum")
	}
	md, err := os.ReadFile(filepath.Join(out, "report", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Throwaway endpoint") {
		t.Error("report.md has no section for the throwaway endpoint")
	}
	for _, f := range []string{"results/DICTIONARY.md", "warehouse/DICTIONARY.md"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "| throwaway | Throwaway endpoint | cumulative_incidence | graft_failure | death | event | ALLO |") {
			t.Errorf("%s does not define the throwaway endpoint", f)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(out, "warehouse", "DICTIONARY.md")); !strings.Contains(string(b), "| throwaway_time | BIGINT | days |") {
		t.Error("warehouse/DICTIONARY.md lacks the cohort's throwaway_time column")
	}
}

// queryStrings runs a one-column query in a fresh DuckDB session.
func queryStrings(t testing.TB, q string) []string {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return out
}

// TestDeclaredAnalysis: a declared analysis writes its tables with one
// column per dimension; its strata partition the pooled one; where selects
// exactly the matching cohort transplants (counted here in SQL over the
// published warehouse, independently of the analysis's own SQL); the
// declared endpoints are in the default results too.
func TestDeclaredAnalysis(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, `
[[endpoint]]
name = "graft_failure"
estimator = "cumulative_incidence"
event = ["graft_failure"]
competing = ["death"]
population = "ALLO"

[[analysis]]
name = "era"
by = ["era", "transplant_type"]
bands = { era = { from = "transplant_year", edges = [2014, 2018, 2022] } }
where = { indication = ["AML", "ALL"], age_years = [18, 75] }
endpoints = ["os", "graft_failure"]
landmarks = [365]
`))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, cfg)
	dir := filepath.Join(out, "results", "analyses", "era")
	for _, f := range []string{"landmarks.csv", "landmarks.parquet", "medians.csv", "medians.parquet",
		"tests.csv", "tests.parquet", "curves.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	key := []string{"endpoint", "era", "transplant_type", "day"}
	lm, _ := readCSVMap(t, filepath.Join(dir, "landmarks.csv"), key)
	n := func(k string) int {
		row, ok := lm[k]
		if !ok {
			t.Errorf("no landmarks row %s", k)
			return 0
		}
		v, _ := strconv.Atoi(row["n"])
		return v
	}
	wh := filepath.Join(out, "warehouse")
	want := queryStrings(t, `SELECT CAST(COUNT(*) AS VARCHAR) FROM read_parquet(`+duck.Literal(filepath.Join(wh, "cohort.parquet"))+`) AS c
		JOIN read_parquet(`+duck.Literal(filepath.Join(wh, "transplants.parquet"))+`) AS t USING (transplant_id)
		WHERE t.indication IN ('AML', 'ALL') AND t.age_years >= 18 AND t.age_years <= 75`)
	if got := strconv.Itoa(n("os,*,*,365")); got != want[0] {
		t.Errorf("os pooled n = %s, want %s transplants matching where", got, want[0])
	}
	sum := 0
	for _, era := range []string{"<2014", "2014-2017", "2018-2021", "2022+"} {
		if _, ok := lm["os,"+era+",*,365"]; ok {
			sum += n("os," + era + ",*,365")
		}
	}
	if sum != n("os,*,*,365") {
		t.Errorf("eras add up to %d, pooled %d", sum, n("os,*,*,365"))
	}
	for k := range lm {
		if strings.HasPrefix(k, "graft_failure,") && !strings.Contains(k, ",ALLO,") {
			t.Errorf("ALLO-only endpoint in stratum %s", k)
		}
	}
	tests, _ := readCSVMap(t, filepath.Join(dir, "tests.csv"), []string{"endpoint", "comparison", "within"})
	if _, ok := tests["os,era,transplant_type=ALLO"]; !ok {
		t.Errorf("no test of era within ALLO; tests %v", keys(tests))
	}
	html, err := os.ReadFile(filepath.Join(out, "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<section id="analysis-era" class="analysis">`) {
		t.Error("report has no section analysis-era")
	}
	def, _ := readCSVMap(t, filepath.Join(out, "results", "landmarks.csv"), []string{"endpoint", "transplant_type", "donor_type", "indication", "day"})
	if _, ok := def["graft_failure,ALLO,*,*,365"]; !ok {
		t.Error("the declared endpoint is not in the default analysis")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
