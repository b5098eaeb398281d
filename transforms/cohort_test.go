package transforms

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"marrow/endpoints"
	"marrow/internal/duck"
	"marrow/queries"
)

// cohortRefdataDir holds the public reference cohorts with R's answers.
const cohortRefdataDir = "../testdata/refdata"

// cohortEndpoint is one endpoint in the column order of the cohort table;
// allo marks the ALLO-only ones; km the Kaplan–Meier ones (no competing
// event).
type cohortEndpoint struct {
	name     string
	allo, km bool
}

// cohortEndpoints are the built-in endpoints, read from the registry.
var cohortEndpoints = func() []cohortEndpoint {
	var out []cohortEndpoint
	for _, e := range endpoints.Default().Sorted() {
		out = append(out, cohortEndpoint{e.Name, e.Population == endpoints.PopulationAllo, e.KM()})
	}
	return out
}()

// cohortHeader is the header of expected/cohort.csv and the columns of the
// cohort table.
func cohortHeader() []string {
	h := []string{"transplant_id", "patient_id", "transplant_type", "donor_type", "indication", "followup_days"}
	for _, ep := range cohortEndpoints {
		h = append(h, ep.name+"_time", ep.name+"_status")
	}
	return h
}

// openCohortWarehouse returns a fresh in-memory DuckDB with the empty warehouse
// tables of queries/warehouse_schema.sql.
func openCohortWarehouse(tb testing.TB) *sql.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{Threads: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, queries.Text("warehouse_schema")); err != nil {
		tb.Fatalf("warehouse schema: %v", err)
	}
	return db
}

// Test fixture, not the ingest: loads a clean refdata extract straight into
// the warehouse tables (codes upper-cased, events lower-cased, ALLO without
// donor as UNKNOWN). The real validation lives in Ingest.
const (
	cohortFixtureTransplants = `INSERT INTO transplants (
    transplant_id, patient_id, center_id, transplant_date, transplant_type, donor_type,
    graft_source, indication, disease_status, conditioning, age_years, sex, karnofsky, hct_ci,
    source_line
)
SELECT
    transplant_id,
    patient_id,
    center_id,
    CAST(transplant_date AS DATE),
    upper(transplant_type),
    CASE WHEN upper(transplant_type) = 'ALLO' THEN COALESCE(upper(donor_type), 'UNKNOWN') END,
    upper(graft_source),
    upper(indication),
    upper(disease_status),
    upper(conditioning),
    CAST(age_years AS DOUBLE),
    upper(sex),
    CAST(karnofsky AS INTEGER),
    CAST(hct_ci AS INTEGER),
    ROW_NUMBER() OVER () + 1
FROM read_csv($1, header = true, all_varchar = true)`
	cohortFixtureEvents = `INSERT INTO events (transplant_id, event, event_date, grade, detail, source_line)
SELECT
    transplant_id,
    lower(event),
    CAST(event_date AS DATE),
    upper(grade),
    detail,
    ROW_NUMBER() OVER () + 1
FROM read_csv($1, header = true, all_varchar = true)`
)

func loadCohortFixture(tb testing.TB, db *sql.DB, dir string) {
	tb.Helper()
	ctx := context.Background()
	for _, f := range []struct{ file, sql string }{
		{"transplants.csv", cohortFixtureTransplants},
		{"events.csv", cohortFixtureEvents},
	} {
		if _, err := db.ExecContext(ctx, f.sql, filepath.Join(dir, f.file)); err != nil {
			tb.Fatalf("load %s: %v", f.file, err)
		}
	}
}

// readRefInfo reads expected/info.txt (key=value lines).
func readRefInfo(tb testing.TB, path string) map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	info := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			info[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return info
}

// readRefCSV reads a whole CSV file with encoding/csv, independently of
// the ingest's reader: its header and its records.
func readRefCSV(tb testing.TB, path string) (header []string, rows [][]string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		tb.Fatalf("%s: empty", path)
	}
	return recs[0], recs[1:]
}

// readCohortTable returns the cohort table as text records, NULL as "" (as
// in cohort.csv), in transplant_id order, and checks that every column is
// VARCHAR or BIGINT.
func readCohortTable(tb testing.TB, db *sql.DB) (header []string, rows [][]string) {
	tb.Helper()
	rs, err := db.QueryContext(context.Background(), "SELECT * FROM cohort ORDER BY transplant_id")
	if err != nil {
		tb.Fatal(err)
	}
	defer rs.Close()
	cts, err := rs.ColumnTypes()
	if err != nil {
		tb.Fatal(err)
	}
	for i, ct := range cts {
		header = append(header, ct.Name())
		want := "BIGINT"
		if i < 5 {
			want = "VARCHAR"
		}
		if got := ct.DatabaseTypeName(); got != want {
			tb.Errorf("cohort column %s is %s, want %s", ct.Name(), got, want)
		}
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		rec := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
			case string:
				rec[i] = x
			case int64:
				rec[i] = strconv.FormatInt(x, 10)
			default:
				tb.Fatalf("cohort column %s: unexpected %T", header[i], v)
			}
		}
		rows = append(rows, rec)
	}
	if err := rs.Err(); err != nil {
		tb.Fatal(err)
	}
	return header, rows
}

// diffCohortRecords reports every differing row and column of two record lists
// keyed by their first column.
func diffCohortRecords(tb testing.TB, header []string, got, want [][]string) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%d rows, want %d", len(got), len(want))
	}
	wantByID := map[string][]string{}
	for _, w := range want {
		wantByID[w[0]] = w
	}
	gotIDs := map[string]bool{}
	bad := 0
	for _, g := range got {
		gotIDs[g[0]] = true
		w, ok := wantByID[g[0]]
		if !ok {
			tb.Errorf("extra row %v", g)
			continue
		}
		for i := range header {
			if g[i] != w[i] {
				if bad++; bad <= 20 {
					tb.Errorf("%s %s = %q, want %q", g[0], header[i], g[i], w[i])
				}
			}
		}
	}
	for _, w := range want {
		if !gotIDs[w[0]] {
			tb.Errorf("missing row %v", w)
		}
	}
	if bad > 20 {
		tb.Errorf("... %d differing values in all", bad)
	}
	if len(got) == len(want) && bad == 0 && !slices.EqualFunc(got, want, slices.Equal) {
		tb.Errorf("rows not in transplant_id order")
	}
}

func TestCohortRefdata(t *testing.T) {
	for _, name := range []string{"bmt", "bmtcrr", "ebmt2", "ebmt3", "ebmt4"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(cohortRefdataDir, name)
			info := readRefInfo(t, filepath.Join(dir, "expected", "info.txt"))
			wantCutoff, err := time.Parse(time.DateOnly, info["cutoff"])
			if err != nil {
				t.Fatalf("info.txt cutoff: %v", err)
			}
			wantN, err := strconv.ParseInt(info["cohort_transplants"], 10, 64)
			if err != nil {
				t.Fatalf("info.txt cohort_transplants: %v", err)
			}
			db := openCohortWarehouse(t)
			loadCohortFixture(t, db, filepath.Join(dir, "extract"))

			// R's cutoff is the default one (the latest event date), so
			// deriving with the zero cutoff must find it.
			for _, opt := range []struct {
				name   string
				cutoff time.Time
			}{{"explicit cutoff", wantCutoff}, {"default cutoff", time.Time{}}} {
				t.Run(opt.name, func(t *testing.T) {
					cutoff, n, err := DeriveCohort(context.Background(), db, CohortOptions{Cutoff: opt.cutoff})
					if err != nil {
						t.Fatal(err)
					}
					if !cutoff.Equal(wantCutoff) {
						t.Errorf("cutoff %s, want %s", cutoff.Format(time.DateOnly), info["cutoff"])
					}
					if n != wantN {
						t.Errorf("%d cohort rows, want %d", n, wantN)
					}
					wantHeader, want := readRefCSV(t, filepath.Join(dir, "expected", "cohort.csv"))
					header, got := readCohortTable(t, db)
					if !slices.Equal(header, wantHeader) {
						t.Fatalf("columns\n%v\nwant\n%v", header, wantHeader)
					}
					diffCohortRecords(t, header, got, want)
				})
			}
		})
	}
}

// Hand-made warehouse for the rules of SPEC §3. Transplants are on
// 2020-01-01 unless stated; event days are days since their transplant.
type handTransplant struct {
	id, patient, date, ttype, donor, indication string // donor "" = NULL
}

type handEvent struct {
	id, event string
	day       int
	grade     string // "" = NULL
}

const handCutoff = "2020-12-31"

var handTransplants = []handTransplant{
	{"T01", "P01", "2020-01-01", "ALLO", "MSD", "AML"},
	{"T02", "P02", "2020-01-01", "ALLO", "MUD", "AML"},
	{"T03", "P03", "2020-06-01", "ALLO", "HAPLO", "ALL"},
	{"T04", "P04", "2021-01-15", "ALLO", "MSD", "AML"},  // after the cutoff
	{"T05A", "P05", "2020-02-01", "ALLO", "MSD", "AML"}, // first ALLO of P05
	{"T05B", "P05", "2020-08-01", "ALLO", "MUD", "AML"}, // second ALLO
	{"T05C", "P05", "2019-10-01", "AUTO", "", "MM"},     // first AUTO
	{"T06B", "P06", "2020-01-01", "ALLO", "MSD", "ALL"}, // same day: T06A first
	{"T06A", "P06", "2020-01-01", "ALLO", "MSD", "ALL"},
	{"T07", "P07", "2020-01-01", "ALLO", "MSD", "AML"},
	{"T07B", "P07B", "2020-01-01", "ALLO", "MMUD", "AML"},
	{"T08", "P08", "2020-01-01", "ALLO", "MSD", "AML"},
	{"T09", "P09", "2020-05-01", "ALLO", "UNKNOWN", "AML"},
	{"T10", "P10", "2020-12-01", "ALLO", "MSD", "AML"},
	{"T11", "P11", "2020-01-01", "AUTO", "", "MM"},
	{"T12", "P12", "2020-01-01", "ALLO", "CORD", "ALL"},
	{"T13", "P13", "2020-12-31", "ALLO", "MSD", "AML"}, // on the cutoff day
}

var handEvents = []handEvent{
	// Same-day relapse and death: a relapse, for relapse and for nrm
	// (its competing event), SPEC §3 and R's reference rule.
	{"T01", "relapse", 60, ""}, {"T01", "death", 60, ""}, {"T01", "last_contact", 60, ""},
	// Day-0 events; agvhd and neutrophil engraftment on the day of death.
	{"T02", "agvhd", 0, "3"}, {"T02", "neutrophil_engraftment", 0, ""}, {"T02", "death", 0, ""},
	// Relapse on day 183 (2020-12-01); death and last contact after the cutoff.
	{"T03", "relapse", 183, ""}, {"T03", "death", 245, ""}, {"T03", "last_contact", 245, ""},
	{"T04", "death", 17, ""},
	// The second ALLO transplant does not censor the first.
	{"T05A", "agvhd", 30, "2"}, {"T05A", "second_transplant", 182, ""}, {"T05A", "death", 222, ""},
	{"T05B", "death", 40, ""},
	{"T05C", "relapse", 101, ""}, {"T05C", "second_transplant", 123, ""}, {"T05C", "last_contact", 123, ""},
	{"T06A", "last_contact", 10, ""},
	{"T06B", "death", 5, ""},
	// Ungraded GVHD.
	{"T07", "agvhd", 10, ""}, {"T07", "agvhd", 20, "2"}, {"T07", "cgvhd", 150, ""},
	{"T07", "cgvhd", 200, "MILD"}, {"T07", "cgvhd", 300, "SEVERE"}, {"T07", "last_contact", 350, ""},
	{"T07B", "agvhd", 10, ""}, {"T07B", "last_contact", 50, ""},
	// cgvhd and platelet engraftment after death.
	{"T08", "death", 100, ""}, {"T08", "last_contact", 100, ""}, {"T08", "platelet_engraftment", 110, ""},
	{"T08", "cgvhd", 120, "MODERATE"},
	// T09 has no events. T10 has only an event after the cutoff (day 30 is 2020-12-31).
	{"T10", "death", 40, ""},
	// AUTO with agvhd, two deaths, relapse after death.
	{"T11", "agvhd", 15, "3"}, {"T11", "death", 50, ""}, {"T11", "death", 60, ""},
	{"T11", "relapse", 70, ""}, {"T11", "last_contact", 70, ""},
	// Every kind of event; repeated agvhd and infection.
	{"T12", "neutrophil_engraftment", 14, ""}, {"T12", "organ_toxicity", 20, ""},
	{"T12", "platelet_engraftment", 30, ""}, {"T12", "agvhd", 41, "2"}, {"T12", "infection", 45, ""},
	{"T12", "infection", 60, ""}, {"T12", "agvhd", 61, "3"}, {"T12", "graft_failure", 90, ""},
	{"T12", "cgvhd", 150, "MILD"}, {"T12", "relapse", 200, ""}, {"T12", "death", 250, ""},
	{"T12", "last_contact", 250, ""},
	{"T13", "last_contact", 0, ""},
}

func loadHand(tb testing.TB, db *sql.DB, ts []handTransplant, es []handEvent) {
	tb.Helper()
	ctx := context.Background()
	dates := map[string]time.Time{}
	for i, t := range ts {
		d, err := time.Parse(time.DateOnly, t.date)
		if err != nil {
			tb.Fatal(err)
		}
		dates[t.id] = d
		var donor any
		if t.donor != "" {
			donor = t.donor
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO transplants
    (transplant_id, patient_id, transplant_date, transplant_type, donor_type, indication, source_line)
VALUES ($1, $2, CAST($3 AS DATE), $4, $5, $6, $7)`,
			t.id, t.patient, t.date, t.ttype, donor, t.indication, i+2); err != nil {
			tb.Fatal(err)
		}
	}
	for i, e := range es {
		var grade any
		if e.grade != "" {
			grade = e.grade
		}
		date := dates[e.id].AddDate(0, 0, e.day).Format(time.DateOnly)
		if _, err := db.ExecContext(ctx, `INSERT INTO events (transplant_id, event, event_date, grade, source_line)
VALUES ($1, $2, CAST($3 AS DATE), $4, $5)`,
			e.id, e.event, date, grade, i+2); err != nil {
			tb.Fatal(err)
		}
	}
}

// endpointTS is an endpoint's (time, status) in days.
type endpointTS [2]int64

// handRow builds a wanted cohort record: every endpoint censored at the end
// of follow-up unless overridden (later overrides win); the ALLO-only
// endpoints of AUTO transplants are NULL.
func handRow(id, patient, ttype, donor, ind string, followup int64, overrides ...map[string]endpointTS) []string {
	rec := []string{id, patient, ttype, donor, ind, strconv.FormatInt(followup, 10)}
	for _, ep := range cohortEndpoints {
		if ep.allo && ttype != "ALLO" {
			rec = append(rec, "", "")
			continue
		}
		v := endpointTS{followup, 0}
		for _, o := range overrides {
			if x, ok := o[ep.name]; ok {
				v = x
			}
		}
		rec = append(rec, strconv.FormatInt(v[0], 10), strconv.FormatInt(v[1], 10))
	}
	return rec
}

// deathOn is a death on day d with nothing before it: the Kaplan–Meier
// endpoints have their event, every cumulative incidence its competing event
// (nrm its event).
func deathOn(d int64) map[string]endpointTS {
	m := map[string]endpointTS{}
	for _, ep := range cohortEndpoints {
		if ep.km {
			m[ep.name] = endpointTS{d, 1}
		} else {
			m[ep.name] = endpointTS{d, 2}
		}
	}
	m["nrm"] = endpointTS{d, 1}
	return m
}

// relapseOn is a relapse on day d with no death before it.
func relapseOn(d int64) map[string]endpointTS {
	return map[string]endpointTS{"relapse": {d, 1}, "nrm": {d, 2}, "lfs": {d, 1}, "grfs": {d, 1}}
}

// handWant is the cohort of handTransplants at handCutoff, worked out by
// hand from SPEC §3; with all, also the later transplants of P05 and P06.
func handWant(all bool) [][]string {
	rows := [][]string{
		// A relapse and a death on the same day: a relapse, so nrm competes.
		handRow("T01", "P01", "ALLO", "MSD", "AML", 60, deathOn(60), relapseOn(60)),
		handRow("T02", "P02", "ALLO", "MUD", "AML", 0, deathOn(0),
			map[string]endpointTS{"agvhd24": {0, 1}, "agvhd34": {0, 1}, "neutrophil": {0, 1}}),
		// Follow-up 2020-06-01 to the cutoff 2020-12-31 (213 days): the
		// death after the cutoff is ignored, os censored at the cutoff.
		handRow("T03", "P03", "ALLO", "HAPLO", "ALL", 213, relapseOn(183)),
		handRow("T05A", "P05", "ALLO", "MSD", "AML", 222, deathOn(222), map[string]endpointTS{"agvhd24": {30, 1}}),
		handRow("T05C", "P05", "AUTO", "", "MM", 123, relapseOn(101)),
		handRow("T06A", "P06", "ALLO", "MSD", "ALL", 10),
		handRow("T07", "P07", "ALLO", "MSD", "AML", 350,
			map[string]endpointTS{"agvhd24": {20, 1}, "cgvhd": {150, 1}, "grfs": {300, 1}}),
		handRow("T07B", "P07B", "ALLO", "MMUD", "AML", 50),
		handRow("T08", "P08", "ALLO", "MSD", "AML", 120, deathOn(100)),
		handRow("T09", "P09", "ALLO", "UNKNOWN", "AML", 0),
		handRow("T10", "P10", "ALLO", "MSD", "AML", 30),
		handRow("T11", "P11", "AUTO", "", "MM", 70, deathOn(50)),
		handRow("T12", "P12", "ALLO", "CORD", "ALL", 250, deathOn(250), relapseOn(200), map[string]endpointTS{
			"neutrophil": {14, 1}, "toxicity": {20, 1}, "platelet": {30, 1}, "agvhd24": {41, 1},
			"infection": {45, 1}, "agvhd34": {61, 1}, "grfs": {61, 1}, "cgvhd": {150, 1},
		}),
		handRow("T13", "P13", "ALLO", "MSD", "AML", 0),
	}
	if all {
		rows = append(rows,
			handRow("T05B", "P05", "ALLO", "MUD", "AML", 40, deathOn(40)),
			handRow("T06B", "P06", "ALLO", "MSD", "ALL", 5, deathOn(5)),
		)
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return rows
}

func TestCohortRules(t *testing.T) {
	cutoff, err := time.Parse(time.DateOnly, handCutoff)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		all  bool
	}{{"first transplant of each type", false}, {"all transplants", true}} {
		t.Run(tc.name, func(t *testing.T) {
			db := openCohortWarehouse(t)
			loadHand(t, db, handTransplants, handEvents)
			// A cutoff in another time zone keeps its calendar date.
			local := time.Date(2020, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-11", -11*3600))
			got, n, err := DeriveCohort(context.Background(), db, CohortOptions{Cutoff: local, AllTransplants: tc.all})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(cutoff) {
				t.Errorf("cutoff %v, want %s", got, handCutoff)
			}
			want := handWant(tc.all)
			if n != int64(len(want)) {
				t.Errorf("%d rows, want %d", n, len(want))
			}
			header, rows := readCohortTable(t, db)
			if !slices.Equal(header, cohortHeader()) {
				t.Fatalf("columns %v, want %v", header, cohortHeader())
			}
			diffCohortRecords(t, header, rows, want)
		})
	}
}

func TestCohortDefaultCutoff(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		ts      []handTransplant
		es      []handEvent
		want    string // "" = ErrNoCutoff
		wantRow int64
	}{
		// The latest event (T03's last contact, 2021-02-01) is after every
		// transplant date but T04's (2021-01-15), which comes in.
		{"latest event", handTransplants, handEvents, "2021-02-01", 15},
		{"no events: latest transplant", handTransplants[:3], nil, "2020-06-01", 3},
		{"empty warehouse", nil, nil, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openCohortWarehouse(t)
			loadHand(t, db, tc.ts, tc.es)
			cutoff, n, err := DeriveCohort(ctx, db, CohortOptions{})
			if tc.want == "" {
				if !errors.Is(err, ErrNoCutoff) {
					t.Fatalf("error %v, want ErrNoCutoff", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cutoff.Format(time.DateOnly); got != tc.want {
				t.Errorf("cutoff %s, want %s", got, tc.want)
			}
			if tc.wantRow > 0 && n != tc.wantRow {
				t.Errorf("%d rows, want %d", n, tc.wantRow)
			}
			if tc.es == nil {
				// No events: everyone in, 0 days of follow-up, censored.
				_, rows := readCohortTable(t, db)
				for _, r := range rows {
					for i := 5; i < len(r); i++ {
						if r[i] != "0" {
							t.Errorf("%s: column %d = %s, want 0", r[0], i, r[i])
						}
					}
				}
			}
		})
	}
}

// riskRow is one row of a risk table (RiskSets).
type riskRow struct {
	Endpoint, TransplantType, DonorType, Indication string
	DonorNull                                       bool // a real NULL donor_type, not pooled
	Time, NRisk, NEvent, NCompete, NCensor          int64
}

func (r riskRow) stratum() string {
	d := r.DonorType
	if r.DonorNull {
		d = "<NULL>"
	}
	return r.Endpoint + "|" + r.TransplantType + "|" + d + "|" + r.Indication
}

func compareRisk(a, b riskRow) int {
	if c := strings.Compare(a.Endpoint, b.Endpoint); c != 0 {
		return c
	}
	if c := strings.Compare(a.TransplantType, b.TransplantType); c != 0 {
		return c
	}
	if c := strings.Compare(a.DonorType, b.DonorType); c != 0 {
		return c
	}
	if c := strings.Compare(a.Indication, b.Indication); c != 0 {
		return c
	}
	switch {
	case a.Time < b.Time:
		return -1
	case a.Time > b.Time:
		return 1
	}
	return 0
}

// queryRiskSets computes the default analysis's risk sets with RiskSets,
// as the pipeline does. A real NULL donor_type reads as "" (DonorNull).
func queryRiskSets(tb testing.TB, db *sql.DB) []riskRow {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	tables, err := RiskSets(ctx, conn, DefaultRiskSpec(endpoints.Default(), DefaultStrata))
	if err != nil {
		tb.Fatal(err)
	}
	// The hashed counts query (dense counters too many), the joined one
	// (two combinations sharing a hash) and the dense counts in 32-bit
	// fields (past 44 years of follow-up) give the same tables as the
	// dense counts in 16-bit fields.
	for _, alt := range []struct {
		name string
		knob *bool
	}{{"hashed counts query", &riskSQL}, {"joined counts query", &riskJoined}, {"32-bit dense counts", &riskWide}} {
		*alt.knob = true
		other, err := RiskSets(ctx, conn, DefaultRiskSpec(endpoints.Default(), DefaultStrata))
		*alt.knob = false
		if err != nil {
			tb.Fatal(err)
		}
		if !reflect.DeepEqual(tables, other) {
			tb.Errorf("risk sets: the %s gives other tables than the dense counts", alt.name)
		}
	}
	var out []riskRow
	for _, t := range tables {
		for _, r := range t.Rows {
			out = append(out, riskRow{
				Endpoint: t.Endpoint, TransplantType: t.Groups[0], DonorType: t.Groups[1],
				DonorNull: t.Groups[1] == "", Indication: t.Groups[2],
				Time: r.Time, NRisk: r.NRisk, NEvent: r.NEvent, NCompete: r.NCompete, NCensor: r.NCensor,
			})
		}
	}
	return out
}

// riskFromCohort is the independent reference: the risk tables of SPEC §3's
// strata computed from cohort records (cohort.csv layout, NULL as "") by
// counting subjects per stratum and time in plain Go.
func riskFromCohort(tb testing.TB, header []string, rows [][]string) []riskRow {
	tb.Helper()
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	type key struct{ ep, tt, dt, ind string }
	type subj struct{ time, status int64 }
	strata := map[key][]subj{}
	for _, r := range rows {
		tt, dt, ind := r[col["transplant_type"]], r[col["donor_type"]], r[col["indication"]]
		keys := []key{{"", "*", "*", "*"}, {"", tt, "*", "*"}, {"", "*", "*", ind}, {"", tt, "*", ind}}
		if tt == "ALLO" {
			keys = append(keys, key{"", tt, dt, "*"}, key{"", tt, dt, ind})
		}
		for _, ep := range cohortEndpoints {
			ts, ss := r[col[ep.name+"_time"]], r[col[ep.name+"_status"]]
			if ep.allo && tt != "ALLO" {
				if ts != "" || ss != "" {
					tb.Errorf("%s: %s of an AUTO transplant is %q/%q, want NULL", r[0], ep.name, ts, ss)
				}
				continue
			}
			tm, err1 := strconv.ParseInt(ts, 10, 64)
			st, err2 := strconv.ParseInt(ss, 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				tb.Fatalf("%s %s: %v", r[0], ep.name, err)
			}
			for _, k := range keys {
				if ep.allo && k.tt != "ALLO" {
					continue
				}
				k.ep = ep.name
				strata[k] = append(strata[k], subj{tm, st})
			}
		}
	}
	var out []riskRow
	for k, subjects := range strata {
		byTime := map[int64]*riskRow{}
		for _, s := range subjects {
			r := byTime[s.time]
			if r == nil {
				r = &riskRow{Endpoint: k.ep, TransplantType: k.tt, DonorType: k.dt, Indication: k.ind, Time: s.time}
				for _, o := range subjects { // survfit's n.risk: time >= t
					if o.time >= s.time {
						r.NRisk++
					}
				}
				byTime[s.time] = r
			}
			switch s.status {
			case 0:
				r.NCensor++
			case 1:
				r.NEvent++
			case 2:
				r.NCompete++
			default:
				tb.Fatalf("status %d", s.status)
			}
		}
		for _, r := range byTime {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, compareRisk)
	return out
}

// checkRiskInvariants: per stratum, times increase, the first n_risk is
// the stratum size, n_risk drops by each time's events, competing events
// and censorings, and the Kaplan–Meier endpoints have no competing events.
func checkRiskInvariants(tb testing.TB, rows []riskRow) {
	tb.Helper()
	km := map[string]bool{}
	for _, ep := range cohortEndpoints {
		km[ep.name] = ep.km
	}
	for i, r := range rows {
		d := r.NEvent + r.NCompete + r.NCensor
		if d == 0 {
			tb.Errorf("%s day %d: nothing happens", r.stratum(), r.Time)
		}
		if km[r.Endpoint] && r.NCompete != 0 {
			tb.Errorf("%s day %d: %d competing events in a Kaplan–Meier endpoint", r.stratum(), r.Time, r.NCompete)
		}
		last := i == len(rows)-1 || rows[i+1].stratum() != r.stratum()
		if last {
			if r.NRisk != d {
				tb.Errorf("%s last day %d: n_risk %d, want %d", r.stratum(), r.Time, r.NRisk, d)
			}
			continue
		}
		next := rows[i+1]
		if next.Time <= r.Time {
			tb.Errorf("%s: day %d after day %d", r.stratum(), next.Time, r.Time)
		}
		if next.NRisk != r.NRisk-d {
			tb.Errorf("%s day %d: n_risk %d after %d minus %d", r.stratum(), next.Time, next.NRisk, r.NRisk, d)
		}
	}
}

func diffRisk(tb testing.TB, got, want []riskRow) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%d risk rows, want %d", len(got), len(want))
	}
	bad := 0
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			if bad++; bad <= 10 {
				tb.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	}
	if bad > 10 {
		tb.Errorf("... %d differing rows in all", bad)
	}
}

func TestCohortRiskSetsRefdata(t *testing.T) {
	for _, name := range []string{"bmt", "bmtcrr", "ebmt2", "ebmt3", "ebmt4"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(cohortRefdataDir, name)
			info := readRefInfo(t, filepath.Join(dir, "expected", "info.txt"))
			cutoff, err := time.Parse(time.DateOnly, info["cutoff"])
			if err != nil {
				t.Fatal(err)
			}
			db := openCohortWarehouse(t)
			loadCohortFixture(t, db, filepath.Join(dir, "extract"))
			if _, _, err := DeriveCohort(context.Background(), db, CohortOptions{Cutoff: cutoff}); err != nil {
				t.Fatal(err)
			}
			got := queryRiskSets(t, db)
			checkRiskInvariants(t, got)

			// Against the risk tables counted in Go from R's cohort.csv.
			header, rows := readRefCSV(t, filepath.Join(dir, "expected", "cohort.csv"))
			diffRisk(t, got, riskFromCohort(t, header, rows))

			// Against R's landmarks: the same strata, and n, n_risk and
			// n_events read off the risk table at each landmark day.
			lh, lrows := readRefCSV(t, filepath.Join(dir, "expected", "landmarks.csv"))
			col := map[string]int{}
			for i, h := range lh {
				col[h] = i
			}
			byStratum := map[string][]riskRow{}
			for _, r := range got {
				byStratum[r.stratum()] = append(byStratum[r.stratum()], r)
			}
			seen := map[string]bool{}
			for _, l := range lrows {
				s := riskRow{Endpoint: l[col["endpoint"]], TransplantType: l[col["transplant_type"]],
					DonorType: l[col["donor_type"]], Indication: l[col["indication"]]}.stratum()
				seen[s] = true
				rs, ok := byStratum[s]
				if !ok {
					t.Errorf("stratum %s of landmarks.csv missing", s)
					continue
				}
				day, _ := strconv.ParseInt(l[col["day"]], 10, 64)
				var n, nRisk, nEvents int64 = rs[0].NRisk, 0, 0
				for _, r := range rs {
					if r.Time <= day {
						nEvents += r.NEvent
					}
					if r.Time >= day && nRisk == 0 {
						nRisk = r.NRisk
					}
				}
				got := fmt.Sprintf("n=%d n_risk=%d n_events=%d", n, nRisk, nEvents)
				want := fmt.Sprintf("n=%s n_risk=%s n_events=%s", l[col["n"]], l[col["n_risk"]], l[col["n_events"]])
				if got != want {
					t.Errorf("%s day %d: %s, want %s", s, day, got, want)
				}
			}
			for s := range byStratum {
				if !seen[s] {
					t.Errorf("stratum %s not in landmarks.csv", s)
				}
			}
		})
	}
}

func TestCohortRiskSetsStrata(t *testing.T) {
	cutoff, err := time.Parse(time.DateOnly, handCutoff)
	if err != nil {
		t.Fatal(err)
	}
	ts := slices.Clone(handTransplants)
	// An ALLO transplant with a real NULL donor_type (the ingest writes
	// UNKNOWN; the schema allows NULL): its donor strata must say NULL, not '*'.
	ts = append(ts, handTransplant{"T14", "P14", "2020-01-01", "ALLO", "", "AML"})
	es := append(slices.Clone(handEvents), handEvent{"T14", "last_contact", 7, ""})
	for _, tc := range []struct {
		name string
		all  bool
	}{{"first", false}, {"all", true}} {
		t.Run(tc.name, func(t *testing.T) {
			db := openCohortWarehouse(t)
			loadHand(t, db, ts, es)
			if _, _, err := DeriveCohort(context.Background(), db, CohortOptions{Cutoff: cutoff, AllTransplants: tc.all}); err != nil {
				t.Fatal(err)
			}
			got := queryRiskSets(t, db)
			checkRiskInvariants(t, got)
			header, rows := readCohortTable(t, db)
			want := riskFromCohort(t, header, rows)
			// riskFromCohort reads NULL as "": mark T14's donor strata.
			for i := range want {
				if want[i].TransplantType == "ALLO" && want[i].DonorType == "" {
					want[i].DonorNull = true
				}
			}
			slices.SortFunc(want, compareRisk)
			diffRisk(t, got, want)

			strata := map[string]int64{} // stratum -> size
			for _, r := range got {
				if _, ok := strata[r.stratum()]; !ok {
					strata[r.stratum()] = r.NRisk
				}
				if r.DonorType != "*" && r.TransplantType != "ALLO" {
					t.Errorf("donor stratum outside ALLO: %s", r.stratum())
				}
				switch r.Endpoint {
				case "agvhd24", "agvhd34", "cgvhd", "grfs":
					if r.TransplantType != "ALLO" {
						t.Errorf("ALLO-only endpoint in %s", r.stratum())
					}
				}
			}
			// Sizes worked out from handTransplants: 14 in the first-rule
			// cohort + T14 (16 + T14 with all), 2 of them AUTO (MM).
			nAll, nAllo := int64(15), int64(13)
			if tc.all {
				nAll, nAllo = 17, 15
			}
			for s, n := range map[string]int64{
				"os|*|*|*":            nAll,
				"os|ALLO|*|*":         nAllo,
				"os|AUTO|*|*":         2,
				"os|*|*|MM":           2,
				"os|AUTO|*|MM":        2,
				"agvhd24|ALLO|*|*":    nAllo,
				"cgvhd|ALLO|<NULL>|*": 1,
				"os|ALLO|<NULL>|AML":  1,
				"os|ALLO|UNKNOWN|*":   1,
				"grfs|ALLO|CORD|ALL":  1,
			} {
				if strata[s] != n {
					t.Errorf("stratum %s: n %d, want %d", s, strata[s], n)
				}
			}
			for _, s := range []string{"agvhd24|*|*|*", "grfs|*|*|AML", "os|*|MSD|*", "os|ALLO|*|MM", "cgvhd|AUTO|*|*"} {
				if _, ok := strata[s]; ok {
					t.Errorf("stratum %s should not exist", s)
				}
			}
		})
	}
}

// Synthetic warehouse for timing (test fixture): n transplants on random
// days of 2000–2019 (60% ALLO; every fifth patient with two), and ten random
// events per transplant within 3000 days of it, some after the cutoff.
const (
	benchTransplants = `INSERT INTO transplants
    (transplant_id, patient_id, transplant_date, transplant_type, donor_type, indication, source_line)
WITH ids AS (
    SELECT
        i,
        hash(i, 'type') % 5 < 3 AS allo
    FROM range($1) AS r(i)
)
SELECT
    'T' || lpad(CAST(i AS VARCHAR), 8, '0'),
    'P' || lpad(CAST(i * 4 // 5 AS VARCHAR), 8, '0'),
    DATE '2000-01-01' + CAST(hash(i, 'date') % 7300 AS INTEGER),
    CASE WHEN allo THEN 'ALLO' ELSE 'AUTO' END,
    CASE WHEN allo THEN ['MSD', 'MUD', 'MMUD', 'HAPLO', 'CORD', 'OTHER', 'UNKNOWN'][CAST(1 + hash(i, 'donor') % 7 AS BIGINT)] END,
    ['AML', 'ALL', 'CML', 'CLL', 'MDS', 'MPN', 'NHL', 'HL', 'MM', 'SAA', 'IMD', 'IEM', 'HGB', 'SOLID', 'OTHER'][CAST(1 + hash(i, 'ind') % 15 AS BIGINT)],
    i + 2
FROM ids`
	benchEvents = `INSERT INTO events (transplant_id, event, event_date, grade, source_line)
WITH draws AS (
    SELECT
        j,
        j % $1 AS i,
        ['death', 'relapse', 'agvhd', 'cgvhd', 'neutrophil_engraftment', 'platelet_engraftment',
         'graft_failure', 'infection', 'organ_toxicity', 'second_transplant', 'last_contact'][CAST(1 + hash(j, 'event') % 11 AS BIGINT)] AS event
    FROM range($1 * 10) AS r(j)
)
SELECT
    'T' || lpad(CAST(i AS VARCHAR), 8, '0'),
    event,
    DATE '2000-01-01' + CAST(hash(i, 'date') % 7300 AS INTEGER) + CAST(hash(j, 'day') % 3000 AS INTEGER),
    CASE event
        WHEN 'agvhd' THEN ['1', '2', '3', '4', NULL][CAST(1 + hash(j, 'grade') % 5 AS BIGINT)]
        WHEN 'cgvhd' THEN ['MILD', 'MODERATE', 'SEVERE', NULL][CAST(1 + hash(j, 'grade') % 4 AS BIGINT)]
    END,
    j + 2
FROM draws`
)

// BenchmarkCohortLarge times cohort.sql and RiskSets on 1,000,000
// transplants and 10,000,000 events:
// go test -tags duckdb_arrow ./transforms/ -run '^$' -bench CohortLarge -benchtime 3x
func BenchmarkCohortLarge(b *testing.B) {
	if testing.Short() {
		b.Skip("large synthetic warehouse")
	}
	const n = 1_000_000
	ctx := context.Background()
	db := openCohortWarehouse(b)
	for _, q := range []string{benchTransplants, benchEvents} {
		if _, err := db.ExecContext(ctx, q, n); err != nil {
			b.Fatal(err)
		}
	}
	cutoff := time.Date(2018, 12, 31, 0, 0, 0, 0, time.UTC)
	b.Run("cohort", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := DeriveCohort(ctx, db, CohortOptions{Cutoff: cutoff}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("risk_sets", func(b *testing.B) {
		conn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		for b.Loop() {
			tables, err := RiskSets(ctx, conn, DefaultRiskSpec(endpoints.Default(), DefaultStrata))
			if err != nil {
				b.Fatal(err)
			}
			rows := 0
			for _, t := range tables {
				rows += len(t.Rows)
			}
			b.ReportMetric(float64(rows), "rows")
		}
	})
}
