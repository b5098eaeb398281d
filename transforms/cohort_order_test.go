package transforms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"marrow/internal/duck"
	"marrow/queries"
)

// TestCohortOrder: cohort.parquet, written without a sort (the cohort is
// in inKeyOrder: cohort.sql.tmpl creates it in transplant_id order), is
// byte-identical at 1, 2 and 4 DuckDB threads and equal to the file written
// with ORDER BY transplant_id. The transplants are loaded out of id order,
// and the full case's cohort (300,000 rows) spans three Parquet row groups
// of 122,880 rows.
func TestCohortOrder(t *testing.T) {
	n := 20000
	if !testing.Short() {
		n = 300000
	}
	ctx := context.Background()
	defer func(p int) { runtime.GOMAXPROCS(p) }(runtime.GOMAXPROCS(0))
	cutoff := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	write := func(threads int, sorted bool) []byte {
		t.Helper()
		runtime.GOMAXPROCS(threads)
		db, err := duck.Open(ctx, duck.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, queries.Text("warehouse_schema")); err != nil {
			t.Fatal(err)
		}
		// One patient per transplant, ids in a scrambled order (i*7919 mod
		// n is a permutation: 7919 is prime and does not divide n), and a
		// few events each: death, relapse, agvhd with grades, last_contact.
		if _, err := db.ExecContext(ctx, `
INSERT INTO transplants (transplant_id, patient_id, transplant_date, transplant_type, donor_type, indication, source_line)
SELECT printf('T%08d', (i * 7919) % $1), printf('P%08d', (i * 7919) % $1),
       DATE '2010-01-01' + CAST(((i * 7919) % $1) % 4000 AS INTEGER),
       CASE WHEN i % 3 = 0 THEN 'AUTO' ELSE 'ALLO' END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'MUD' END, 'AML', i
FROM range(CAST($1 AS BIGINT)) AS r(i)`, n); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `
INSERT INTO events (transplant_id, event, event_date, grade, source_line)
SELECT t.transplant_id, e.event, t.transplant_date + CAST(e.k * (1 + t.source_line % 97) AS INTEGER),
       CASE WHEN e.event = 'agvhd' THEN ['I', 'II', 'III', 'IV'][1 + t.source_line % 4] END,
       t.source_line * 4 + e.k
FROM transplants AS t
JOIN (VALUES (0, 'agvhd'), (1, 'relapse'), (2, 'death'), (3, 'last_contact')) AS e(k, event)
    ON t.source_line % (e.k + 2) = 0 OR e.event = 'last_contact'`); err != nil {
			t.Fatal(err)
		}
		if _, m, err := DeriveCohort(ctx, db, CohortOptions{Cutoff: cutoff}); err != nil {
			t.Fatal(err)
		} else if m != int64(n) {
			t.Fatalf("%d cohort rows, want %d", m, n)
		}
		out := t.TempDir()
		sortAll = sorted
		defer func() { sortAll = false }()
		if err := WriteWarehouse(ctx, db, out, "cohort"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "cohort.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := write(2, true)
	for _, threads := range []int{1, 2, 4} {
		if got := write(threads, false); !bytes.Equal(got, want) {
			t.Errorf("threads %d: cohort.parquet differs from the one written sorted", threads)
		}
	}
}
