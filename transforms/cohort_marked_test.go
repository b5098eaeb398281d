package transforms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"marrow/endpoints"
	"marrow/synth"
)

// TestCohortMarked: the cohort derived from ingest's event_summary (a row
// per transplant, each patient's first transplant of a type marked in Go)
// is the cohort derived from the events table with the window, row for row
// and in the same order, for either cohort choice and cutoffs before and
// after the extract's end. The extract has rejected rows, second
// transplants, transplants out of id order, ties on the date (the smaller
// id is the first) and a patient whose first transplant is after the early
// cutoff.
func TestCohortMarked(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.Write(context.Background(), dir, synth.Options{Transplants: 4000, Seed: 11, BadRows: 0.02}); err != nil {
		t.Fatal(err)
	}
	extra := strings.Join([]string{
		"TZ-B,PZ1,C001,2015-03-01,ALLO,MUD,PB,AML,EARLY,MAC,40.0,F,90,0",
		"TZ-A,PZ1,C001,2015-03-01,ALLO,MUD,PB,AML,EARLY,MAC,40.0,F,90,0",
		"TZ-C,PZ1,C001,2014-01-01,AUTO,,PB,AML,EARLY,MAC,40.0,F,90,0",
		"TZ-0,PZ1,C001,2016-01-01,ALLO,MSD,PB,AML,EARLY,MAC,40.0,F,90,0",
		"TA-9,PZ2,C002,2021-06-01,ALLO,MUD,BM,ALL,EARLY,RIC,30.0,M,80,1",
		"TA-1,PZ2,C002,2022-06-01,ALLO,MUD,BM,ALL,EARLY,RIC,30.0,M,80,1",
	}, "\n") + "\n"
	events := strings.Join([]string{
		"TZ-A,relapse,2015-06-01,,", "TZ-B,death,2015-04-01,,", "TZ-C,last_contact,2015-01-01,,",
		"TA-9,death,2021-09-01,,", "TA-1,relapse,2022-07-01,,",
	}, "\n") + "\n"
	for name, text := range map[string]string{synth.TransplantsFile: extra, synth.EventsFile: events} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	ctx := context.Background()
	eps := endpoints.Default()
	for _, threads := range []int{1, 2} {
		for _, all := range []bool{false, true} {
			for _, cutoff := range []time.Time{{}, time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC)} {
				db := ingestDB(t, threads)
				if _, err := Ingest(ctx, db, dir, IngestOptions{MaxRejectRate: 1, Endpoints: eps}); err != nil {
					t.Fatal(err)
				}
				opts := CohortOptions{Cutoff: cutoff, AllTransplants: all, Endpoints: eps, Summarized: true}
				if _, _, err := DeriveCohort(ctx, db, opts); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec("CREATE TABLE marked AS FROM cohort_wide"); err != nil {
					t.Fatal(err)
				}
				opts.Summarized = false
				if _, _, err := DeriveCohort(ctx, db, opts); err != nil {
					t.Fatal(err)
				}
				for _, q := range []string{
					"SELECT count(*) FROM marked AS m POSITIONAL JOIN cohort_wide AS c WHERE m.transplant_id IS DISTINCT FROM c.transplant_id",
					"SELECT count(*) FROM (FROM marked EXCEPT ALL FROM cohort_wide)",
					"SELECT count(*) FROM (FROM cohort_wide EXCEPT ALL FROM marked)",
					"SELECT (SELECT count(*) FROM marked) - (SELECT count(*) FROM cohort_wide)",
				} {
					if n := queryStrings(t, db, q); n[0] != "0" {
						t.Errorf("threads %d, all %v, cutoff %v: %s: %s", threads, all, cutoff, q, n[0])
					}
				}
				// The hand-made patients: PZ1's first ALLO is TZ-A (same
				// date as TZ-B, smaller id); at the early cutoff PZ2 has TA-9.
				got := strings.Join(queryStrings(t, db, "SELECT transplant_id FROM marked WHERE patient_id IN ('PZ1', 'PZ2') ORDER BY ALL"), " ")
				want := map[bool]string{false: "TA-9 TZ-A TZ-C", true: "TA-1 TA-9 TZ-0 TZ-A TZ-B TZ-C"}[all]
				if !cutoff.IsZero() && all {
					want = "TA-9 TZ-0 TZ-A TZ-B TZ-C"
				}
				if got != want {
					t.Errorf("threads %d, all %v, cutoff %v: PZ1/PZ2 transplants %q, want %q", threads, all, cutoff, got, want)
				}
			}
		}
	}
}
