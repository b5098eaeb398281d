package transforms

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"marrow/endpoints"
	"marrow/synth"
)

// TestEventSummaryPlain: the table event_summary that Ingest counts in Go
// as it validates the events equals the SQL over the loaded events table:
// testdata/plainsql/event_summary.sql for the quality-flag columns and
// event_dates.sql.tmpl (what DeriveCohort runs on a loaded warehouse) for
// the last date and the term dates, on extracts with shuffled events,
// unknown and missing grades, several deaths, rejected rows, read in small
// chunks by 4 validators so that a transplant's events span batches.
func TestEventSummaryPlain(t *testing.T) {
	synthDir := t.TempDir()
	if _, err := synth.Write(context.Background(), synthDir, synth.Options{Transplants: 3000, Seed: 4, BadRows: 0.02}); err != nil {
		t.Fatal(err)
	}
	defer func(r int, p int) { readSize = r; runtime.GOMAXPROCS(p); fullSummary = false }(readSize, runtime.GOMAXPROCS(0))
	readSize = 16 << 10
	fullSummary = true // the counts too, not only the dates Ingest keeps
	runtime.GOMAXPROCS(4)
	// A declared endpoint set with a grade list no built-in has, and one
	// code named twice with different grades.
	declared := append(endpoints.Default(), endpoints.Endpoint{
		Name: "odd", Estimator: endpoints.KaplanMeier,
		Event: []endpoints.Term{{Code: "agvhd", Grades: []string{"1"}}, {Code: "cgvhd", Grades: []string{"MILD"}}, {Code: "relapse"}}, SameDay: endpoints.SameDayEvent, Population: endpoints.PopulationAll,
	})
	plain := strings.Replace(readPlain(t, "event_summary"), "CREATE TEMP TABLE event_summary", "CREATE TABLE plain_summary", 1)
	dirs := map[string]string{"synth": synthDir, "dense": denseFlagsExtract(t, 3000, 7)}
	for name, dir := range dirs {
		for _, eps := range []endpoints.Set{endpoints.Default(), declared} {
			t.Run(name, func(t *testing.T) {
				db := ingestDB(t, 2)
				if _, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1, Endpoints: eps}); err != nil {
					t.Fatal(err)
				}
				// Ingest's summary has every accepted transplant; those
				// without events have no dates. first_of_type is the
				// window of cohort.sql.tmpl's unmarked form.
				firsts := `SELECT transplant_id, ROW_NUMBER() OVER (
					PARTITION BY patient_id, transplant_type ORDER BY transplant_date, transplant_id) = 1 FROM transplants`
				for _, q := range []string{
					"(SELECT transplant_id, first_of_type FROM event_summary EXCEPT ALL " + firsts + ") UNION ALL (" + firsts + " EXCEPT ALL SELECT transplant_id, first_of_type FROM event_summary)",
					"SELECT transplant_id FROM event_summary WHERE n_events = 0 AND (last_date IS NOT NULL OR first_death IS NOT NULL)",
				} {
					if diff := queryStrings(t, db, q+" ORDER BY ALL LIMIT 5"); len(diff) > 0 {
						t.Errorf("%.60s:\n%s", q, strings.Join(diff, "\n"))
					}
				}
				if n := queryStrings(t, db, "SELECT count(*) = count(DISTINCT transplant_id) AND count(*) = (SELECT count(*) FROM transplants) FROM event_summary"); name == "synth" && n[0] != "true" {
					t.Errorf("event_summary is not one row per accepted transplant")
				}
				if n := queryStrings(t, db, "SELECT count(*) FILTER (WHERE first_of_type) > 0 AND count(*) FILTER (WHERE NOT first_of_type) > 0 FROM event_summary"); name == "synth" && n[0] != "true" {
					t.Errorf("first_of_type is all true or all false: the extract does not test it")
				}
				for _, q := range []string{"CREATE TABLE tally AS SELECT * EXCLUDE (first_of_type) FROM event_summary WHERE n_events > 0", plain, EventDatesSQL(eps)} {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%.60s: %v", q, err)
					}
				}
				sqlSide := `SELECT p.transplant_id, p.n_events, CAST(p.hash_sum % 18446744073709551616 AS UBIGINT), CAST(p.hash_sum // 18446744073709551616 AS UBIGINT), p.n_deaths, p.n_gvhd, p.first_death, p.last_contact, p.latest_other,
					d.* EXCLUDE (transplant_id) FROM plain_summary AS p JOIN event_summary AS d ON d.transplant_id = p.transplant_id`
				if n := queryStrings(t, db, "SELECT count(*) FROM tally"); n[0] == "0" {
					t.Fatal("empty event_summary")
				}
				for _, q := range []string{"FROM tally EXCEPT ALL " + sqlSide, sqlSide + " EXCEPT ALL FROM tally"} {
					if diff := queryStrings(t, db, q+" ORDER BY ALL LIMIT 5"); len(diff) > 0 {
						t.Errorf("%.40s:\n%s", q, strings.Join(diff, "\n"))
					}
				}
			})
		}
	}
}

// readPlain returns testdata/plainsql/name.sql.
func readPlain(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/plainsql/" + name + ".sql")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestEventHashDuckDB: eventHash is DuckDB's hash(event, event_date,
// grade, detail) on strings of every length around the 8-byte words,
// multi-byte text, NULLs and dates before 1970.
func TestEventHashDuckDB(t *testing.T) {
	db := ingestDB(t, 1)
	texts := []string{"", " ", "a", "death", "1234567", "12345678", "123456789", "last_contact", "123456789012",
		"1234567890123", "1234567890123456", "12345678901234567", "CMV, reactivation", "Übelkeit, Grad ≥ 3 — “akut”", "  padded  "}
	for i, ev := range texts[1:] {
		for j, detail := range texts {
			grade := texts[(i+j)%len(texts)]
			date := int32(-25567 + 977*(i+j))
			var want uint64
			if err := db.QueryRow("SELECT hash($1::VARCHAR, DATE '1970-01-01' + CAST($2 AS INTEGER), NULLIF($3, ''), NULLIF($4, ''))",
				ev, date, grade, detail).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if got := eventHash(ev, date, grade, detail); got != want {
				t.Errorf("eventHash(%q, %d, %q, %q) = %x, DuckDB %x", ev, date, grade, detail, got, want)
			}
		}
	}
}
