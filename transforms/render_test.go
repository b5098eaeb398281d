package transforms

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marrow/endpoints"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestRenderedSQLGolden: the SQL of the default analysis, rendered from the
// templates and the endpoint registry, is kept as plain SQL under testdata/
// so every change to it shows in a diff. go test -update rewrites it.
func TestRenderedSQLGolden(t *testing.T) {
	for name, sql := range map[string]string{
		"cohort.sql":        CohortSQL(endpoints.Default()),
		"cohort_marked.sql": cohortSQL(endpoints.Default(), true),
		"event_dates.sql":   EventDatesSQL(endpoints.Default()),
		"risk_counts.sql":   RiskCountsSQL(DefaultRiskSpec(endpoints.Default(), DefaultStrata)),
		"risk_combos.sql":   RiskCombosSQL(DefaultRiskSpec(endpoints.Default(), DefaultStrata)),
		"risk_rows.sql":     RiskRowsSQL(DefaultRiskSpec(endpoints.Default(), DefaultStrata), 16),
	} {
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(sql), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if sql != string(want) {
			t.Errorf("rendered %s differs from %s; rerun with -update if intended and review the diff", name, golden)
		}
	}
}

// TestRenderedSQLNewEndpoint: an endpoint added to the registry gets its
// columns in the cohort SQL and its risk counts, without touching a
// template.
func TestRenderedSQLNewEndpoint(t *testing.T) {
	gf := endpoints.Endpoint{Name: "graft_fail", Estimator: endpoints.CumulativeIncidence,
		Event: []endpoints.Term{{Code: "graft_failure"}}, Competing: []endpoints.Term{{Code: "death"}},
		SameDay: endpoints.SameDayEvent, Population: endpoints.PopulationAllo}
	eps := append(endpoints.Default(), gf)
	if dates := EventDatesSQL(eps); !strings.Contains(dates, "MIN(CASE WHEN event = 'graft_failure' THEN event_date END) AS graft_failure_date") {
		t.Errorf("event dates SQL lacks graft_failure_date")
	}
	cohort := CohortSQL(eps)
	for _, want := range []string{
		"CASE WHEN s.graft_failure_date <= p.cutoff THEN s.graft_failure_date END AS graft_failure_date",
		"CAST(CASE WHEN is_allo THEN COALESCE(LEAST(graft_failure, death), followup_days) END AS INTEGER) AS graft_fail_time",
		"CASE WHEN graft_failure <= COALESCE(death, graft_failure) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END END AS UTINYINT) AS graft_fail_status",
	} {
		if !strings.Contains(cohort, want) {
			t.Errorf("cohort SQL lacks %q", want)
		}
	}
	risk := RiskCountsSQL(DefaultRiskSpec(eps, DefaultStrata))
	if !strings.Contains(risk, "graft_fail_status AS status\n    FROM base WHERE graft_fail_time IS NOT NULL") {
		t.Errorf("risk counts SQL lacks graft_fail")
	}
}
