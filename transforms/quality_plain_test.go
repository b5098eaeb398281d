package transforms

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"marrow/synth"
)

// denseFlagsExtract writes n transplants with up to 9 events each, drawn so
// that every quality flag is common: events a few days apart (same-day rows,
// rows after a death), several deaths, GVHD on AUTO transplants, grades
// missing, unknown or on other events, values out of range.
func denseFlagsExtract(tb testing.TB, n int, seed uint64) string {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	var tx, ev []string
	for i := range n {
		id := fmt.Sprintf("Q%05d", i)
		typ := pick("ALLO", "AUTO")
		tx = append(tx, fmt.Sprintf("%s,P%d,C%d,2020-01-%02d,%s,%s,,AML,,,%s,,%s,%s", id, i, i%7, 1+r.IntN(9), typ,
			pick("", "MSD", "MUD"), pick("", "40", "-1", "101"), pick("", "90", "5"), pick("", "2", "-1")))
		for range r.IntN(10) {
			grade := ""
			if r.IntN(2) == 0 {
				grade = pick("1", "II", "4", "5", "0", "MILD", "severe", "EXTENSIVE")
			}
			ev = append(ev, fmt.Sprintf("%s,%s,2020-02-%02d,%s,", id,
				pick("death", "death", "relapse", "last_contact", "last_contact", "agvhd", "cgvhd", "infection", "organ_toxicity"),
				1+r.IntN(12), grade))
		}
	}
	// Shuffle the events: their order must not matter.
	r.Shuffle(len(ev), func(i, j int) { ev[i], ev[j] = ev[j], ev[i] })
	return writeExtract(tb, extract(txHeader, tx, evHeader, ev))
}

// TestQualityFlagsPlain: the quality table and the row hashes ingest makes
// (in Go from the validators and the event tally, the death flags in SQL
// joined only to the transplants that can carry one) equal those of the
// plain statements in
// testdata/plainsql, one CTE per flag and each its own GROUP BY, on dense
// random extracts and on a synthetic one.
func TestQualityFlagsPlain(t *testing.T) {
	plain := func(name string) string {
		b, err := os.ReadFile("testdata/plainsql/" + name + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	synthDir := t.TempDir()
	if _, err := synth.Write(context.Background(), synthDir, synth.Options{Transplants: 3000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"synth": synthDir, "dense1": denseFlagsExtract(t, 3000, 1), "dense2": denseFlagsExtract(t, 3000, 2)}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			db := ingestDB(t, 2)
			sum, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1})
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "dense") {
				for _, f := range QualityFlagNames {
					if sum.QualityFlags[f] == 0 {
						t.Errorf("flag %s not exercised", f)
					}
				}
			}
			for _, q := range []string{
				"CREATE TABLE quality_ingest AS FROM quality",
				"DELETE FROM quality",
				plain("quality_flags"),
				"CREATE TABLE hash_ingest AS SELECT transplant_id, row_hash FROM transplants",
				"UPDATE transplants SET row_hash = NULL",
				plain("transplant_row_hash"),
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%.60s: %v", q, err)
				}
			}
			for _, q := range []string{
				"FROM quality_ingest EXCEPT ALL FROM quality",
				"FROM quality EXCEPT ALL FROM quality_ingest",
				"FROM hash_ingest EXCEPT ALL SELECT transplant_id, row_hash FROM transplants",
				"SELECT transplant_id, row_hash FROM transplants EXCEPT ALL FROM hash_ingest",
			} {
				if diff := queryStrings(t, db, q+" ORDER BY ALL LIMIT 5"); len(diff) > 0 {
					t.Errorf("%s:\n%s", q, strings.Join(diff, "\n"))
				}
			}
			if n := queryStrings(t, db, "SELECT count(*) FROM transplants WHERE row_hash IS NULL"); n[0] != "0" {
				t.Errorf("%s transplants without a row hash", n[0])
			}
		})
	}
}
