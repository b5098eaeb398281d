package estimate

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The reference cohorts of testdata/refdata with R's answers (R 4.2.2,
// survival 3.5.3, cmprsk 2.2.11). The risk tables are counted here from
// expected/cohort.csv, independently of the SQL that builds them in the
// pipeline.

var refCases = []string{"bmt", "bmtcrr", "ebmt2", "ebmt3", "ebmt4"}

var (
	kmEndpoints   = map[string]bool{"os": true, "lfs": true, "grfs": true}
	alloEndpoints = map[string]bool{"agvhd24": true, "agvhd34": true, "cgvhd": true, "grfs": true}
	allEndpoints  = []string{"agvhd24", "agvhd34", "cgvhd", "grfs", "infection", "lfs",
		"neutrophil", "nrm", "os", "platelet", "relapse", "toxicity"}
)

const (
	refTol  = 1e-9 // estimates, std_err, limits, medians (SPEC §3)
	testTol = 1e-6 // statistic and p-value (compare.py)
)

type stratum struct{ ttype, donor, ind string }

func (s stratum) String() string { return s.ttype + "," + s.donor + "," + s.ind }

type subject struct {
	stratum
	time   map[string]int64
	status map[string]int
}

func refDir(name string) string {
	return filepath.Join("..", "testdata", "refdata", name, "expected")
}

// readCSV returns the rows of a CSV file as maps from header to field.
func readCSV(tb testing.TB, path string) []map[string]string {
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
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func loadCohort(tb testing.TB, name string) []subject {
	tb.Helper()
	var subs []subject
	for _, r := range readCSV(tb, filepath.Join(refDir(name), "cohort.csv")) {
		s := subject{stratum: stratum{r["transplant_type"], r["donor_type"], r["indication"]},
			time: map[string]int64{}, status: map[string]int{}}
		for _, ep := range allEndpoints {
			if r[ep+"_time"] == "" {
				continue // an ALLO-only endpoint of an AUTO transplant
			}
			t, err1 := strconv.ParseInt(r[ep+"_time"], 10, 64)
			st, err2 := strconv.Atoi(r[ep+"_status"])
			if err1 != nil || err2 != nil {
				tb.Fatalf("%s cohort: bad %s time/status %q/%q", name, ep, r[ep+"_time"], r[ep+"_status"])
			}
			s.time[ep], s.status[ep] = t, st
		}
		subs = append(subs, s)
	}
	return subs
}

// strataOf lists the SPEC §3 strata a transplant belongs to for an endpoint.
func strataOf(s subject, ep string) []stratum {
	all := []stratum{
		{"*", "*", "*"}, {s.ttype, "*", "*"}, {"*", "*", s.ind}, {s.ttype, "*", s.ind},
	}
	if s.ttype == "ALLO" {
		all = append(all, stratum{"ALLO", s.donor, "*"}, stratum{"ALLO", s.donor, s.ind})
	}
	var out []stratum
	for _, st := range all {
		if alloEndpoints[ep] && st.ttype != "ALLO" {
			continue
		}
		out = append(out, st)
	}
	return out
}

// riskTable counts one group's risk table from (time, status) pairs.
func riskTable(times []int64, status []int) []RiskRow {
	byTime := map[int64]*RiskRow{}
	for i, t := range times {
		r := byTime[t]
		if r == nil {
			r = &RiskRow{Time: t}
			byTime[t] = r
		}
		switch status[i] {
		case 0:
			r.NCensor++
		case 1:
			r.NEvent++
		default:
			r.NCompete++
		}
	}
	var rows []RiskRow
	for _, r := range byTime {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time })
	atRisk := int64(len(times))
	for i := range rows {
		rows[i].NRisk = atRisk
		atRisk -= rows[i].NEvent + rows[i].NCompete + rows[i].NCensor
	}
	return rows
}

type tableKey struct {
	ep string
	stratum
}

// buildTables returns every (endpoint, stratum) risk table of a cohort.
func buildTables(subs []subject) map[tableKey][]RiskRow {
	times := map[tableKey][]int64{}
	status := map[tableKey][]int{}
	for _, s := range subs {
		for _, ep := range allEndpoints {
			if _, ok := s.time[ep]; !ok {
				continue
			}
			for _, st := range strataOf(s, ep) {
				k := tableKey{ep, st}
				times[k] = append(times[k], s.time[ep])
				status[k] = append(status[k], s.status[ep])
			}
		}
	}
	out := map[tableKey][]RiskRow{}
	for k := range times {
		out[k] = riskTable(times[k], status[k])
	}
	return out
}

func curveFor(tb testing.TB, k tableKey, rows []RiskRow) *Curve {
	tb.Helper()
	var c *Curve
	var err error
	if kmEndpoints[k.ep] {
		c, err = NewKaplanMeier(rows, LogLog)
	} else {
		c, err = NewCumulativeIncidence(rows)
	}
	if err != nil {
		tb.Fatalf("%s %s: %v", k.ep, k.stratum, err)
	}
	return c
}

// parseNum parses an expected field; "" is NaN (not estimable).
func parseNum(tb testing.TB, s string) float64 {
	tb.Helper()
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatalf("bad number %q", s)
	}
	return v
}

func parseInt(tb testing.TB, s string) int64 {
	tb.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("bad integer %q", s)
	}
	return v
}

// floatDiff is |a−b|, 0 when both are empty and +Inf when only one is.
func floatDiff(a, b float64) float64 {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a) || math.IsNaN(b):
		return math.Inf(1)
	}
	return math.Abs(a - b)
}

func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "(empty)"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func TestRefdataLandmarks(t *testing.T) {
	for _, name := range refCases {
		t.Run(name, func(t *testing.T) {
			tables := buildTables(loadCohort(t, name))
			curves := map[tableKey]*Curve{}
			seen := map[tableKey]bool{}
			rows := readCSV(t, filepath.Join(refDir(name), "landmarks.csv"))
			maxDiff := 0.0
			for _, e := range rows {
				k := tableKey{e["endpoint"], stratum{e["transplant_type"], e["donor_type"], e["indication"]}}
				tab, ok := tables[k]
				if !ok {
					t.Errorf("%s %s: expected stratum has no risk table", k.ep, k.stratum)
					continue
				}
				seen[k] = true
				c := curves[k]
				if c == nil {
					c = curveFor(t, k, tab)
					curves[k] = c
				}
				day := parseInt(t, e["day"])
				got := c.At(day)
				where := fmt.Sprintf("%s %s day %d", k.ep, k.stratum, day)
				for _, col := range []struct {
					name string
					got  int64
				}{{"n", got.N}, {"n_risk", got.NRisk}, {"n_events", got.NEvents}} {
					if want := parseInt(t, e[col.name]); col.got != want {
						t.Errorf("%s: %s = %d, want %d", where, col.name, col.got, want)
					}
				}
				for _, col := range []struct {
					name string
					got  float64
				}{{"estimate", got.Estimate}, {"std_err", got.StdErr}, {"lower", got.Lower}, {"upper", got.Upper}} {
					want := parseNum(t, e[col.name])
					d := floatDiff(col.got, want)
					if d > refTol {
						t.Errorf("%s: %s = %s, want %s", where, col.name, fmtNum(col.got), fmtNum(want))
					} else {
						maxDiff = math.Max(maxDiff, d)
					}
				}
			}
			// Every table the SPEC strata rule produces is in the reference.
			for k := range tables {
				if !seen[k] {
					t.Errorf("%s %s: risk table with no expected rows", k.ep, k.stratum)
				}
			}
			t.Logf("%d landmark rows, %d curves, max |diff| %.3g", len(rows), len(curves), maxDiff)
		})
	}
}

func TestRefdataMedians(t *testing.T) {
	for _, name := range refCases {
		t.Run(name, func(t *testing.T) {
			tables := buildTables(loadCohort(t, name))
			rows := readCSV(t, filepath.Join(refDir(name), "medians.csv"))
			seen := map[tableKey]bool{}
			maxDiff := 0.0
			for _, e := range rows {
				k := tableKey{e["endpoint"], stratum{e["transplant_type"], e["donor_type"], e["indication"]}}
				tab, ok := tables[k]
				if !ok {
					t.Errorf("%s %s: expected median has no risk table", k.ep, k.stratum)
					continue
				}
				seen[k] = true
				c := curveFor(t, k, tab)
				m, err := c.Median()
				if err != nil {
					t.Errorf("%s %s: %v", k.ep, k.stratum, err)
					continue
				}
				if want := parseInt(t, e["n"]); c.N != want {
					t.Errorf("%s %s: n = %d, want %d", k.ep, k.stratum, c.N, want)
				}
				for _, col := range []struct {
					name string
					got  float64
				}{{"median", m.Median}, {"lower", m.Lower}, {"upper", m.Upper}} {
					want := parseNum(t, e[col.name])
					if d := floatDiff(col.got, want); d > refTol {
						t.Errorf("%s %s: %s = %s, want %s", k.ep, k.stratum, col.name, fmtNum(col.got), fmtNum(want))
					} else {
						maxDiff = math.Max(maxDiff, d)
					}
				}
			}
			// Medians are reported for every Kaplan–Meier table, reached or not.
			for k := range tables {
				if kmEndpoints[k.ep] && !seen[k] {
					t.Errorf("%s %s: Kaplan–Meier table with no expected median", k.ep, k.stratum)
				}
			}
			t.Logf("%d median rows, max |diff| %.3g", len(rows), maxDiff)
		})
	}
}

type testKey struct{ ep, comparison, within string }

// refTests runs the SPEC §3 comparisons on a cohort: indications within each
// transplant type, ALLO vs AUTO within each indication, where at least two
// groups exist and at least one event of interest occurred.
func refTests(tb testing.TB, tables map[tableKey][]RiskRow) map[testKey]Test {
	tb.Helper()
	types := map[string]map[string]bool{} // type -> indications
	for k := range tables {
		if k.ttype != "*" && k.donor == "*" && k.ind != "*" {
			if types[k.ttype] == nil {
				types[k.ttype] = map[string]bool{}
			}
			types[k.ttype][k.ind] = true
		}
	}
	out := map[testKey]Test{}
	run := func(key testKey, groups [][]RiskRow) {
		if len(groups) < 2 {
			return
		}
		events := int64(0)
		for _, g := range groups {
			for _, r := range g {
				events += r.NEvent
			}
		}
		if events == 0 {
			return
		}
		var res Test
		var err error
		if kmEndpoints[key.ep] {
			res, err = LogRank(groups)
		} else {
			res, err = Gray(groups)
		}
		if err != nil {
			tb.Fatalf("%v: %v", key, err)
		}
		out[key] = res
	}
	for _, ep := range allEndpoints {
		inds := map[string]bool{}
		for ttype, is := range types {
			var names []string
			for ind := range is {
				names = append(names, ind)
				inds[ind] = true
			}
			sort.Strings(names)
			var groups [][]RiskRow
			for _, ind := range names {
				if g, ok := tables[tableKey{ep, stratum{ttype, "*", ind}}]; ok {
					groups = append(groups, g)
				}
			}
			run(testKey{ep, "indication", ttype}, groups)
		}
		for ind := range inds {
			var groups [][]RiskRow
			for _, ttype := range []string{"ALLO", "AUTO"} {
				if g, ok := tables[tableKey{ep, stratum{ttype, "*", ind}}]; ok {
					groups = append(groups, g)
				}
			}
			run(testKey{ep, "transplant_type", ind}, groups)
		}
	}
	return out
}

func TestRefdataTests(t *testing.T) {
	for _, name := range refCases {
		t.Run(name, func(t *testing.T) {
			got := refTests(t, buildTables(loadCohort(t, name)))
			rows := readCSV(t, filepath.Join(refDir(name), "tests.csv"))
			maxDiff := 0.0
			for _, e := range rows {
				k := testKey{e["endpoint"], e["comparison"], e["within"]}
				g, ok := got[k]
				if !ok {
					t.Errorf("%v: expected test not run", k)
					continue
				}
				delete(got, k)
				if g.Method != e["method"] {
					t.Errorf("%v: method %s, want %s", k, g.Method, e["method"])
				}
				if want := parseInt(t, e["df"]); int64(g.DF) != want {
					t.Errorf("%v: df %d, want %d", k, g.DF, want)
				}
				for _, col := range []struct {
					name string
					got  float64
				}{{"statistic", g.Statistic}, {"p_value", g.PValue}} {
					want := parseNum(t, e[col.name])
					if d := floatDiff(col.got, want); d > testTol {
						t.Errorf("%v: %s = %s, want %s", k, col.name, fmtNum(col.got), fmtNum(want))
					} else {
						maxDiff = math.Max(maxDiff, d)
					}
				}
			}
			for k := range got {
				t.Errorf("%v: test run but not in the reference", k)
			}
			t.Logf("%d test rows, max |diff| %.3g", len(rows), maxDiff)
		})
	}
}

// TestRefdataInfo checks that the reference folders are the ones these
// tests were written for.
func TestRefdataInfo(t *testing.T) {
	for _, name := range refCases {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(refDir(name), "info.txt"))
			if err != nil {
				t.Fatal(err)
			}
			info := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				k, v, _ := strings.Cut(line, "=")
				info[k] = v
			}
			if info["ci_z"] != "qnorm" {
				t.Errorf("ci_z = %q, want qnorm (z = %v)", info["ci_z"], Z95)
			}
			count := func(file string) string {
				return strconv.Itoa(len(readCSV(t, filepath.Join(refDir(name), file))))
			}
			if got := count("landmarks.csv"); got != info["landmark_rows"] {
				t.Errorf("landmarks.csv has %s rows, info.txt says %s", got, info["landmark_rows"])
			}
			if got := count("tests.csv"); got != info["test_rows"] {
				t.Errorf("tests.csv has %s rows, info.txt says %s", got, info["test_rows"])
			}
			if got := count("cohort.csv"); got != info["cohort_transplants"] {
				t.Errorf("cohort.csv has %s rows, info.txt says %s", got, info["cohort_transplants"])
			}
		})
	}
}
