package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"marrow/queries"
	"marrow/transforms"
)

// TestCentreCohortOrder: readCentreCohorts, which reads the benchmark
// cohort unsorted and puts each row back at its position in cohort, gives
// every transplant type's transplants in transplant_id order, with the
// covariates banded as centreOrderReference (the SQL the bands were first
// written in) bands them, at 1, 2 and 4 DuckDB threads (at 4 read in
// slices of 7,919 rows). The transplants
// are loaded out of id order, with missing values, and the full case's
// cohort (300,000 rows) spans three row groups of 122,880 rows.
func TestCentreCohortOrder(t *testing.T) {
	n := 20000
	if !testing.Short() {
		n = 300000
	}
	ctx := context.Background()
	defer func(p int) { runtime.GOMAXPROCS(p) }(runtime.GOMAXPROCS(0))
	cutoff := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	var want map[string][]string
	defer func(n int64) { centreSlice = n }(centreSlice)
	for _, threads := range []int{2, 1, 4} {
		runtime.GOMAXPROCS(threads)
		// At 4 threads the cohort is read in many small slices.
		if threads == 4 {
			centreSlice = 7919
		}
		cfg := DefaultConfig()
		cfg.Threads = threads
		s, err := openSession(ctx, cfg, "", slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		centreOrderData(t, s.db, n, cutoff)
		if want == nil {
			want = centreOrderReference(t, s.db, cutoff)
			if len(want["ALLO"]) == 0 || len(want["AUTO"]) == 0 {
				t.Fatalf("reference cohort has %d ALLO and %d AUTO rows", len(want["ALLO"]), len(want["AUTO"]))
			}
		}
		cohorts, err := s.readCentreCohorts(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if len(cohorts) != len(want) {
			t.Errorf("threads %d: %d types, want %d", threads, len(cohorts), len(want))
		}
		for typ, rows := range want {
			c := cohorts[typ]
			if c == nil || len(c.centre) != len(rows) {
				t.Fatalf("threads %d: %s has %v, want %d rows", threads, typ, c, len(rows))
			}
			for i, w := range rows {
				got := []string{c.centre[i], fmt.Sprint(c.osTime[i], c.osStatus[i], c.nrmTime[i], c.nrmStatus[i])}
				for _, cv := range c.covariates {
					got = append(got, cv.Level(i))
				}
				if g := strings.Join(got, "|"); g != w {
					t.Fatalf("threads %d: %s row %d is %s, want %s", threads, typ, i, g, w)
				}
			}
		}
		s.close()
	}
}

// centreOrderData loads n transplants, ids in a scrambled order, with
// events, and derives the cohort.
func centreOrderData(t *testing.T, db *sql.DB, n int, cutoff time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, queries.Text("warehouse_schema")); err != nil {
		t.Fatal(err)
	}
	// j = i*7919 mod n is a permutation of 0..n-1; the values cycle with
	// periods prime to each other, some NULL.
	if _, err := db.ExecContext(ctx, `
INSERT INTO transplants (transplant_id, patient_id, center_id, transplant_date, transplant_type, donor_type,
    graft_source, indication, disease_status, conditioning, age_years, sex, karnofsky, hct_ci, source_line)
SELECT printf('T%08d', j), printf('P%08d', j),
       CASE WHEN j % 53 = 0 THEN NULL ELSE printf('C%03d', j % 37) END,
       DATE '2008-01-01' + CAST(j % 5900 AS INTEGER),
       CASE WHEN j % 3 = 0 THEN 'AUTO' ELSE 'ALLO' END,
       CASE WHEN j % 3 = 0 THEN NULL WHEN j % 11 = 0 THEN 'UNKNOWN' ELSE ['MSD', 'MUD', 'HAPLO', 'CORD'][1 + j % 4] END,
       CASE WHEN j % 13 = 0 THEN NULL ELSE ['BM', 'PB', 'CB'][1 + j % 3] END,
       ['AML', 'ALL', 'MDS', 'MM', 'NHL'][1 + j % 5],
       CASE WHEN j % 17 = 0 THEN NULL ELSE ['EARLY', 'INTERMEDIATE', 'ADVANCED'][1 + j % 3] END,
       CASE WHEN j % 19 = 0 THEN NULL ELSE ['MAC', 'RIC', 'NMA'][1 + j % 3] END,
       CASE WHEN j % 23 = 0 THEN NULL ELSE (j % 83) + 0.5 END,
       CASE WHEN j % 29 = 0 THEN NULL ELSE ['M', 'F'][1 + j % 2] END,
       CASE WHEN j % 31 = 0 THEN NULL ELSE 50 + j % 51 END,
       CASE WHEN j % 41 = 0 THEN NULL ELSE j % 6 END,
       i
FROM (SELECT i, (i * 7919) % $1 AS j FROM range(CAST($1 AS BIGINT)) AS r(i))`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
INSERT INTO events (transplant_id, event, event_date, source_line)
SELECT t.transplant_id, e.event, t.transplant_date + CAST(e.k * (1 + t.source_line % 401) AS INTEGER),
       t.source_line * 4 + e.k
FROM transplants AS t
JOIN (VALUES (1, 'relapse'), (2, 'death'), (3, 'last_contact')) AS e(k, event)
    ON t.source_line % (e.k + 1) = 0 OR e.event = 'last_contact'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := transforms.DeriveCohort(ctx, db, transforms.CohortOptions{Cutoff: cutoff}); err != nil {
		t.Fatal(err)
	}
}

// centreOrderReference is the benchmark cohort per type, sorted in SQL,
// each row as readCentreCohorts's columns joined by "|".
func centreOrderReference(t *testing.T, db *sql.DB, cutoff time.Time) map[string][]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `
SELECT c.transplant_type,
    concat_ws('|', COALESCE(t.center_id, ''), concat_ws(' ', c.os_time, c.os_status, c.nrm_time, c.nrm_status),
    CASE
        WHEN age_years IS NULL THEN 'MISSING'
        WHEN age_years < 18 THEN '<18'
        WHEN age_years < 40 THEN '18-39'
        WHEN age_years < 60 THEN '40-59'
        WHEN age_years < 70 THEN '60-69'
        ELSE '70+'
    END,
    c.indication,
    COALESCE(disease_status, 'MISSING'),
    CASE WHEN c.transplant_type = 'AUTO' THEN 'NONE' ELSE COALESCE(c.donor_type, 'MISSING') END,
    COALESCE(graft_source, 'MISSING'),
    COALESCE(conditioning, 'MISSING'),
    CASE
        WHEN karnofsky IS NULL THEN 'MISSING'
        WHEN karnofsky < 80 THEN '<80'
        WHEN karnofsky < 90 THEN '80-89'
        ELSE '90+'
    END,
    CASE
        WHEN hct_ci IS NULL THEN 'MISSING'
        WHEN hct_ci = 0 THEN '0'
        WHEN hct_ci <= 2 THEN '1-2'
        ELSE '3+'
    END,
    COALESCE(sex, 'MISSING'),
    CAST(YEAR(t.transplant_date) // 5 * 5 AS VARCHAR) || '-' || CAST(YEAR(t.transplant_date) // 5 * 5 + 4 AS VARCHAR))
FROM cohort AS c
JOIN transplants AS t ON t.transplant_id = c.transplant_id
WHERE t.transplant_date <= CAST($1 AS DATE) - INTERVAL 365 DAY
ORDER BY c.transplant_type, c.transplant_id`, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var typ, row string
		if err := rows.Scan(&typ, &row); err != nil {
			t.Fatal(err)
		}
		out[typ] = append(out[typ], row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
