package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"marrow/internal/duck"
	"marrow/synth"
)

// csvTable is a CSV file as header + records.
type csvTable struct {
	header []string
	rows   [][]string
}

func readCSVTable(t testing.TB, path string) csvTable {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return csvTable{header: recs[0], rows: recs[1:]}
}

func (c csvTable) col(name string) int {
	i := slices.Index(c.header, name)
	if i < 0 {
		panic("no column " + name)
	}
	return i
}

func (c csvTable) write(t testing.TB, path string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(append([][]string{c.header}, c.rows...))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nightTwo is a second extract made from a first one by known edits, and
// what results/changes must then say.
type nightTwo struct {
	dir                                    string
	added, removed, changed                int
	txRead, txRejected, evRead, evRejected int
	newUngraded                            int // new agvhd_without_grade flags
	newIndication                          string
}

// editExtract copies the extract in dir to a new directory with:
// every transplant of the smallest indication and a few more removed (with
// their events); ages edited on 10 transplants; an infection on day 5
// added to 40 ALLO transplants and an ungraded agvhd on day 7 to 3 more
// (each of them followed past day 8 with no earlier event, so no other
// flag appears); 20 AUTO transplants added with an indication no AUTO
// transplant had; 2 transplant rows with a bad date and 1 event with an
// unknown code added.
func editExtract(t testing.TB, dir string) nightTwo {
	t.Helper()
	tx := readCSVTable(t, filepath.Join(dir, "transplants.csv"))
	ev := readCSVTable(t, filepath.Join(dir, "events.csv"))
	n := nightTwo{dir: t.TempDir(), txRead: len(tx.rows), evRead: len(ev.rows)}
	id, typ, ind, date, age := tx.col("transplant_id"), tx.col("transplant_type"), tx.col("indication"), tx.col("transplant_date"), tx.col("age_years")
	evID, evCode, evDate := ev.col("transplant_id"), ev.col("event"), ev.col("event_date")

	day := func(s string) int {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatalf("date %q: %v", s, err)
		}
		return int(d.Unix() / 86400)
	}
	txDay := map[string]int{}
	byInd := map[string]int{}
	autoInd := map[string]bool{}
	for _, r := range tx.rows {
		txDay[r[id]] = day(r[date])
		byInd[strings.ToUpper(r[ind])]++
		if strings.EqualFold(r[typ], "AUTO") {
			autoInd[strings.ToUpper(r[ind])] = true
		}
	}
	// Transplants whose every event is on day 8 or later.
	first := map[string]int{}
	for _, r := range ev.rows {
		d := day(r[evDate]) - txDay[r[evID]]
		if f, ok := first[r[evID]]; !ok || d < f {
			first[r[evID]] = d
		}
	}
	smallest := ""
	for k, c := range byInd {
		if smallest == "" || c < byInd[smallest] || c == byInd[smallest] && k < smallest {
			smallest = k
		}
	}
	for _, code := range []string{"SAA", "IMD", "IEM", "HGB", "SOLID", "CML", "CLL", "ALL", "AML"} {
		if !autoInd[code] && code != smallest {
			n.newIndication = code
			break
		}
	}
	if n.newIndication == "" {
		t.Fatal("every indication has an AUTO transplant")
	}

	removed := map[string]bool{}
	infection, ungraded := map[string]bool{}, map[string]bool{}
	var kept [][]string
	ages := 0
	for _, r := range tx.rows {
		switch {
		case strings.ToUpper(r[ind]) == smallest || len(removed) < byInd[smallest]+5:
			removed[r[id]] = true
			continue
		case strings.EqualFold(r[typ], "ALLO") && first[r[id]] >= 8 && len(infection) < 40:
			infection[r[id]] = true
		case strings.EqualFold(r[typ], "ALLO") && first[r[id]] >= 8 && len(ungraded) < 3:
			ungraded[r[id]] = true
		case ages < 10 && r[age] != "" && r[age] != "77":
			r = slices.Clone(r)
			r[age] = "77"
			ages++
		}
		kept = append(kept, r)
	}
	if len(infection) < 40 || len(ungraded) < 3 || ages < 10 {
		t.Fatalf("extract too small for the edits: %d, %d, %d", len(infection), len(ungraded), ages)
	}
	dateOf := func(tid string, plus int) string {
		return time.Unix(int64(txDay[tid]+plus)*86400, 0).UTC().Format(time.DateOnly)
	}
	var evs [][]string
	removedEvents := 0
	for _, r := range ev.rows {
		if removed[r[evID]] {
			removedEvents++
			continue
		}
		evs = append(evs, r)
	}
	newEvent := func(tid, code, date string) []string {
		r := make([]string, len(ev.header))
		r[evID], r[evCode], r[evDate] = tid, code, date
		return r
	}
	for _, r := range kept {
		switch {
		case infection[r[id]]:
			evs = append(evs, newEvent(r[id], "infection", dateOf(r[id], 5)))
		case ungraded[r[id]]:
			evs = append(evs, newEvent(r[id], "agvhd", dateOf(r[id], 7)))
		}
	}
	for i := 1; i <= 20; i++ {
		r := make([]string, len(tx.header))
		r[id], r[tx.col("patient_id")] = "NEW-"+strconv.Itoa(i), "NEWP-"+strconv.Itoa(i)
		r[date], r[typ], r[ind] = "2015-03-01", "AUTO", n.newIndication
		kept = append(kept, r)
		evs = append(evs, newEvent(r[id], "last_contact", "2016-03-01"))
	}
	for i := 1; i <= 2; i++ {
		r := slices.Clone(kept[0])
		r[id], r[date] = "BAD-"+strconv.Itoa(i), "2020-13-01"
		kept = append(kept, r)
	}
	evs = append(evs, newEvent(kept[0][id], "not_an_event", dateOf(kept[0][id], 30)))

	n.removed, n.added, n.changed = len(removed), 20, len(infection)+len(ungraded)+ages
	n.newUngraded = len(ungraded)
	n.txRead, n.txRejected = len(kept), 2
	n.evRead, n.evRejected = len(evs), 1
	if got := len(tx.rows) - len(removed) + 20 + 2; got != n.txRead {
		t.Fatalf("transplant rows %d, want %d", n.txRead, got)
	}
	if got := len(ev.rows) - removedEvents + 43 + 20 + 1; got != n.evRead {
		t.Fatalf("event rows %d, want %d", n.evRead, got)
	}
	tx.rows, ev.rows = kept, evs
	tx.write(t, filepath.Join(n.dir, "transplants.csv"))
	ev.write(t, filepath.Join(n.dir, "events.csv"))
	return n
}

// synthExtract writes a synthetic extract of n transplants.
func synthExtract(t testing.TB, n int, seed int64) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Write(context.Background(), dir, synth.Options{Transplants: n, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runExtract(t testing.TB, extract, out string, cutoff time.Time, cfg Config) error {
	t.Helper()
	_, err := Run(context.Background(), RunOptions{Extract: extract, Out: out, Cutoff: cutoff, Config: cfg})
	return err
}

// changesRows reads results/changes.csv as maps keyed by column.
func changesRows(t testing.TB, out string) []map[string]string {
	t.Helper()
	c := readCSVTable(t, filepath.Join(out, "results", "changes.csv"))
	if !slices.Equal(c.header, changesColumns) {
		t.Fatalf("changes.csv header %v", c.header)
	}
	var rows []map[string]string
	for _, r := range c.rows {
		m := map[string]string{}
		for i, h := range c.header {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// value returns column col of the one row of kind and item.
func value(t testing.TB, rows []map[string]string, kind, item, col string) string {
	t.Helper()
	var got []string
	for _, r := range rows {
		if r["kind"] == kind && r["item"] == item {
			got = append(got, r[col])
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d rows of kind %s item %q", len(got), kind, item)
	}
	return got[0]
}

// TestChangesTwoNights runs a synthetic extract, then the same extract with
// known edits into the same output, and checks every count of
// results/changes, the landmark and strata rows against a computation of
// their own from the two results/landmarks.csv, and the report section.
func TestChangesTwoNights(t *testing.T) {
	one := synthExtract(t, 600, 7)
	two := editExtract(t, one)
	out := filepath.Join(t.TempDir(), "out")
	cutoff := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	if err := runExtract(t, one, out, cutoff, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "results", "changes.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a first run wrote results/changes.csv (%v)", err)
	}
	if html, _ := os.ReadFile(filepath.Join(out, "report", "index.html")); bytes.Contains(html, []byte(`id="changes"`)) {
		t.Error("a first run's report has a changes section")
	}
	oldLandmarks := readCSVTable(t, filepath.Join(out, "results", "landmarks.csv"))
	prevManifest, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	// A copy of the first night, for the reproducibility check below.
	copyOut := filepath.Join(t.TempDir(), "out")
	if err := copyTree(out, copyOut); err != nil {
		t.Fatal(err)
	}

	if err := runExtract(t, two.dir, out, cutoff, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	rows := changesRows(t, out)
	newLandmarks := readCSVTable(t, filepath.Join(out, "results", "landmarks.csv"))
	num := func(kind, item, col string) int {
		t.Helper()
		v, err := strconv.Atoi(value(t, rows, kind, item, col))
		if err != nil {
			t.Fatalf("%s %s %s: %v", kind, item, col, err)
		}
		return v
	}
	one1 := readCSVTable(t, filepath.Join(one, "transplants.csv"))
	ev1 := readCSVTable(t, filepath.Join(one, "events.csv"))
	for _, c := range []struct {
		kind, item, col string
		want            int
	}{
		{"rows_read", "transplants.csv", "old", len(one1.rows)},
		{"rows_read", "transplants.csv", "new", two.txRead},
		{"rows_accepted", "transplants.csv", "old", len(one1.rows)},
		{"rows_accepted", "transplants.csv", "new", two.txRead - two.txRejected},
		{"rows_rejected", "transplants.csv", "old", 0},
		{"rows_rejected", "transplants.csv", "new", two.txRejected},
		{"rows_read", "events.csv", "old", len(ev1.rows)},
		{"rows_read", "events.csv", "new", two.evRead},
		{"rows_accepted", "events.csv", "new", two.evRead - two.evRejected},
		{"rows_rejected", "events.csv", "new", two.evRejected},
		{"transplants", "", "old", len(one1.rows)},
		{"transplants", "", "new", len(one1.rows) - two.removed + two.added},
		{"transplants_added", "", "new", two.added},
		{"transplants_removed", "", "new", two.removed},
		{"transplants_changed", "", "new", two.changed},
		{"quality_flags_new", "agvhd_without_grade", "new", two.newUngraded},
	} {
		if got := num(c.kind, c.item, c.col); got != c.want {
			t.Errorf("%s %s %s = %d, want %d", c.kind, c.item, c.col, got, c.want)
		}
	}
	for _, r := range rows {
		if r["kind"] == "quality_flags_new" && r["item"] != "agvhd_without_grade" {
			t.Errorf("unexpected new flags: %v", r)
		}
		if r["kind"] == "setting" {
			t.Errorf("a setting changed: %v", r)
		}
	}
	if got, want := value(t, rows, "previous", "manifest.json", "detail"), sha256Hex(prevManifest); got != want {
		t.Errorf("previous manifest sha256 %s, want %s", got, want)
	}

	// Landmarks and strata, recomputed here from the two landmarks.csv.
	type lmKey struct{ ep, tt, dt, ind, day string }
	type lmVal struct{ n, est, se string }
	read := func(c csvTable) map[lmKey]lmVal {
		m := map[lmKey]lmVal{}
		for _, r := range c.rows {
			m[lmKey{r[0], r[1], r[2], r[3], r[4]}] = lmVal{r[c.col("n")], r[c.col("estimate")], r[c.col("std_err")]}
		}
		return m
	}
	oldLM, newLM := read(oldLandmarks), read(newLandmarks)
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	wantLM := map[lmKey][2]string{}
	screened := 0
	for k, o := range oldLM {
		n, ok := newLM[k]
		if !ok || o.est == "" || n.est == "" || o.se == "" || n.se == "" {
			continue
		}
		screened++
		if math.Abs(f(n.est)-f(o.est)) > 1.959963984540054*math.Sqrt(f(o.se)*f(o.se)+f(n.se)*f(n.se)) {
			wantLM[k] = [2]string{o.est, n.est}
		}
	}
	gotLM := map[lmKey][2]string{}
	for _, r := range rows {
		if r["kind"] == "landmark" {
			gotLM[lmKey{r["endpoint"], r["transplant_type"], r["donor_type"], r["indication"], r["day"]}] = [2]string{r["old"], r["new"]}
		}
	}
	if len(wantLM) == 0 {
		t.Fatal("the edits moved no landmark estimate beyond the limit: the test lacks teeth")
	}
	infection := false
	for k, w := range wantLM {
		if gotLM[k] != w {
			t.Errorf("landmark %v: got %v, want %v", k, gotLM[k], w)
		}
		infection = infection || k.ep == "infection"
	}
	if len(gotLM) != len(wantLM) || !infection {
		t.Errorf("%d landmark rows, want %d (infection among them: %v)", len(gotLM), len(wantLM), infection)
	}
	if got := num("landmarks_screened", "", "new"); got != screened {
		t.Errorf("landmarks_screened %d, want %d", got, screened)
	}
	type stKey struct{ kind, ep, tt, dt, ind string }
	strata := func(m map[lmKey]lmVal) map[stKey]bool {
		s := map[stKey]bool{}
		for k := range m {
			s[stKey{"", k.ep, k.tt, k.dt, k.ind}] = true
		}
		return s
	}
	oldSt, newSt := strata(oldLM), strata(newLM)
	wantSt := map[stKey]bool{}
	for k := range newSt {
		if !oldSt[k] {
			wantSt[stKey{"stratum_appeared", k.ep, k.tt, k.dt, k.ind}] = true
		}
	}
	for k := range oldSt {
		if !newSt[k] {
			wantSt[stKey{"stratum_vanished", k.ep, k.tt, k.dt, k.ind}] = true
		}
	}
	gotSt := map[stKey]bool{}
	for _, r := range rows {
		if strings.HasPrefix(r["kind"], "stratum_") {
			gotSt[stKey{r["kind"], r["endpoint"], r["transplant_type"], r["donor_type"], r["indication"]}] = true
		}
		if strings.HasPrefix(r["kind"], "endpoint_") {
			t.Errorf("an endpoint appeared or vanished: %v", r)
		}
	}
	if !wantSt[stKey{"stratum_appeared", "os", "AUTO", "*", two.newIndication}] {
		t.Errorf("AUTO %s did not appear for os", two.newIndication)
	}
	if !slices.ContainsFunc(mapKeys(wantSt), func(k stKey) bool { return k.kind == "stratum_vanished" }) {
		t.Error("no stratum vanished: the test lacks teeth")
	}
	if len(gotSt) != len(wantSt) {
		t.Errorf("%d strata rows, want %d", len(gotSt), len(wantSt))
	}
	for k := range wantSt {
		if !gotSt[k] {
			t.Errorf("missing %v", k)
		}
	}

	// The report: the section, its counts, no identifier.
	html, err := os.ReadFile(filepath.Join(out, "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	lead := "Compared with the output this run replaced: " + strconv.Itoa(two.added) + " transplants added, " +
		strconv.Itoa(two.removed) + " removed, " + strconv.Itoa(two.changed) + " changed"
	for _, want := range []string{`<section id="changes">`, `<a href="#changes">`, lead} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, id := range []string{"NEW-1", "NEWP-1", "BAD-1", "T0000001", "P0000001"} {
		if bytes.Contains(html, []byte(id)) {
			t.Errorf("report contains identifier %s", id)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report", "report.md"))
	if !bytes.Contains(md, []byte("## Changes since the previous output")) || !bytes.Contains(md, []byte(lead)) {
		t.Error("report.md lacks the changes section")
	}

	// marrow report re-renders the same section from results/changes.
	if _, err := Report(context.Background(), ReportOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(out, "report", "index.html"))
	if !bytes.Equal(again, html) {
		t.Error("marrow report rendered a different index.html")
	}

	// The same previous output gives the same bytes, at any thread count.
	cfg := DefaultConfig()
	cfg.Threads = 1
	if err := runExtract(t, two.dir, copyOut, cutoff, cfg); err != nil {
		t.Fatal(err)
	}
	a, b := treeBytes(t, out), treeBytes(t, copyOut)
	for p, ab := range a {
		if !bytes.Equal(ab, b[p]) {
			t.Errorf("%s differs between two runs on the same previous output", p)
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	var out []K
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestMaxChange: a run that removes more transplants than max_change
// allows fails before publishing and leaves the previous output as it
// was; a larger limit lets it through.
func TestMaxChange(t *testing.T) {
	one := synthExtract(t, 600, 7)
	two := editExtract(t, one)
	out := filepath.Join(t.TempDir(), "out")
	if err := runExtract(t, one, out, time.Time{}, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	before := treeBytes(t, out)
	share := func(v float64) *float64 { return &v }
	cfg := DefaultConfig()
	cfg.MaxChange = &MaxChange{TransplantsRemoved: share(0.01)}
	err := runExtract(t, two.dir, out, time.Time{}, cfg)
	if err == nil || IsBadInput(err) || !strings.Contains(err.Error(), "max_change.transplants_removed") {
		t.Fatalf("run beyond max_change: err = %v, want a run failure naming the key", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	after := treeBytes(t, out)
	if len(after) != len(before) {
		t.Errorf("output has %d files, had %d", len(after), len(before))
	}
	for p, b := range before {
		if !bytes.Equal(b, after[p]) {
			t.Errorf("%s changed although the run failed", p)
		}
	}
	cfg.MaxChange = &MaxChange{Landmarks: share(0)}
	if err := runExtract(t, two.dir, out, time.Time{}, cfg); err == nil || !strings.Contains(err.Error(), "max_change.landmarks") {
		t.Fatalf("run beyond max_change.landmarks = 0: err = %v", err)
	}
	cfg.MaxChange = &MaxChange{TransplantsRemoved: share(0.5), TransplantsAdded: share(0.5), TransplantsChanged: share(0.5), Landmarks: share(0.5)}
	if err := runExtract(t, two.dir, out, time.Time{}, cfg); err != nil {
		t.Fatalf("run within max_change: %v", err)
	}
}

func TestMaxChangeConfig(t *testing.T) {
	for _, c := range []struct {
		toml, err string
	}{
		{"max_change = { transplants_removed = 0.01 }", ""},
		{"max_change = { transplants_removed = 0.01, landmarks = 0.2 }", ""},
		{"max_change = { transplants_removed = 1.5 }", "max_change.transplants_removed 1.5: must be between 0 and 1"},
		{"max_change = { transplants_removed = -0.1 }", "must be between 0 and 1"},
		{"max_change = { removed = 0.1 }", "unknown key(s) max_change.removed"},
	} {
		path := filepath.Join(t.TempDir(), "marrow.toml")
		os.WriteFile(path, []byte(c.toml+"\n"), 0o644)
		cfg, err := LoadConfig(path)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.toml, err)
		case c.err == "" && (cfg.MaxChange == nil || cfg.MaxChange.TransplantsRemoved == nil || *cfg.MaxChange.TransplantsRemoved != 0.01):
			t.Errorf("%s: decoded %+v", c.toml, cfg.MaxChange)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err = %v, want %q", c.toml, err, c.err)
		}
	}
	if cfg := DefaultConfig(); cfg.MaxChange != nil {
		t.Error("max_change is on by default")
	}
}

// TestChangesPreviousOutput: what the comparison makes of previous outputs
// that are not as this version writes them.
func TestChangesPreviousOutput(t *testing.T) {
	one := synthExtract(t, 300, 11)
	first := filepath.Join(t.TempDir(), "first")
	if err := runExtract(t, one, first, time.Time{}, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	editManifest := func(t *testing.T, out string, fn func(*Manifest)) {
		t.Helper()
		m, err := readManifest(out)
		if err != nil {
			t.Fatal(err)
		}
		fn(&m)
		b, _ := json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(filepath.Join(out, "manifest.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		edit    func(t *testing.T, out string)
		changed bool // transplants_changed is written
		none    bool // no results/changes at all
	}{
		{"as written", func(*testing.T, string) {}, true, false},
		{"another DuckDB version", func(t *testing.T, out string) {
			editManifest(t, out, func(m *Manifest) { m.DuckDB = "v0.0.1" })
		}, false, false},
		{"no row hashes (an older marrow)", func(t *testing.T, out string) {
			path := filepath.Join(out, "warehouse", "transplants.parquet")
			db, err := duck.Open(context.Background(), duck.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tmp := path + ".new"
			if err := duck.CopyParquet(context.Background(), db,
				"SELECT * EXCLUDE (row_hash) FROM read_parquet("+duck.Literal(path)+") ORDER BY transplant_id", tmp); err != nil {
				t.Fatal(err)
			}
			os.Rename(tmp, path)
			sum, _ := fileSHA256(path)
			editManifest(t, out, func(m *Manifest) {
				for i := range m.Outputs {
					if m.Outputs[i].Path == "warehouse/transplants.parquet" {
						m.Outputs[i].SHA256 = sum
					}
				}
			})
		}, false, false},
		{"a file not as the manifest lists", func(t *testing.T, out string) {
			path := filepath.Join(out, "results", "landmarks.parquet")
			b, _ := os.ReadFile(path)
			os.WriteFile(path, append(b, 0), 0o644)
		}, false, true},
		{"a file missing", func(t *testing.T, out string) {
			os.Remove(filepath.Join(out, "warehouse", "quality.parquet"))
		}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := copyTree(first, out); err != nil {
				t.Fatal(err)
			}
			c.edit(t, out)
			if err := runExtract(t, one, out, time.Time{}, DefaultConfig()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(out, "results", "changes.csv")); c.none != errors.Is(err, os.ErrNotExist) {
				t.Fatalf("results/changes.csv: %v, want none: %v", err, c.none)
			}
			if c.none {
				return
			}
			rows := changesRows(t, out)
			got := slices.ContainsFunc(rows, func(r map[string]string) bool { return r["kind"] == "transplants_changed" })
			if got != c.changed {
				t.Errorf("transplants_changed written: %v, want %v", got, c.changed)
			}
			if c.changed && value(t, rows, "transplants_changed", "", "new") != "0" {
				t.Error("the same extract changed transplants")
			}
			for _, k := range []string{"transplants_added", "transplants_removed"} {
				if v := value(t, rows, k, "", "new"); v != "0" {
					t.Errorf("%s = %s on the same extract", k, v)
				}
			}
		})
	}
}

// TestChangesAnalyze: marrow analyze compares too.
func TestChangesAnalyze(t *testing.T) {
	one := synthExtract(t, 300, 11)
	two := editExtract(t, one)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	for i, ex := range []string{one, two.dir} {
		wh := filepath.Join(t.TempDir(), "wh")
		if _, err := Ingest(ctx, IngestOptions{Extract: ex, Warehouse: wh, Config: DefaultConfig()}); err != nil {
			t.Fatal(err)
		}
		if err := Analyze(ctx, AnalyzeOptions{Warehouse: wh, Out: out, Config: DefaultConfig()}); err != nil {
			t.Fatal(err)
		}
		_, err := os.Stat(filepath.Join(out, "results", "changes.parquet"))
		if (i == 0) != errors.Is(err, os.ErrNotExist) {
			t.Fatalf("night %d: results/changes.parquet: %v", i+1, err)
		}
	}
	rows := changesRows(t, out)
	if got := value(t, rows, "transplants_removed", "", "new"); got != strconv.Itoa(two.removed) {
		t.Errorf("transplants_removed %s, want %d", got, two.removed)
	}
	if err := Verify(out); err != nil {
		t.Error(err)
	}
}
