package synth

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"marrow/internal/civil"
)

var update = flag.Bool("update", false, "rewrite the demo extract under ../internal/demo/extract")

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestFormat(t *testing.T) {
	dir, st := generate(t, Options{Transplants: 3000, Seed: 7})
	for _, name := range []string{TransplantsFile, EventsFile} {
		t.Run(name, func(t *testing.T) {
			b := readFile(t, filepath.Join(dir, name))
			if !bytes.HasSuffix(b, []byte("\n")) || bytes.Contains(b, []byte("\r")) {
				t.Error("want LF line ends and a final newline")
			}
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
			}
		})
	}
	p := parseExtract(t, dir)
	if len(p.txBad) > 0 || len(p.evBad) > 0 {
		t.Fatalf("rejected rows: transplants %v, events %v", p.txBad, p.evBad)
	}
	if st.Transplants != 3000 || int64(len(p.txs)) != st.Transplants || int64(len(p.evs)) != st.Events {
		t.Errorf("Stats %+v; read %d transplants and %d events", st, len(p.txs), len(p.evs))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the extract directory, want 2 (no temporary files left)", len(entries))
	}
	t.Run("ids", func(t *testing.T) {
		for i, x := range p.txs {
			if want := string(appendID(nil, 'T', int64(i+1))); x.id != want {
				t.Fatalf("row %d: transplant_id %q, want %q", i+1, x.id, want)
			}
			if !strings.HasPrefix(x.patient, "P") || len(x.patient) != 8 {
				t.Fatalf("row %d: patient_id %q", i+1, x.patient)
			}
		}
	})
	t.Run("donor only for ALLO", func(t *testing.T) {
		for _, x := range p.txs {
			if x.typ == "AUTO" && x.donor != "" {
				t.Errorf("%s: AUTO with donor_type %q", x.id, x.donor)
			}
		}
	})
	t.Run("dates", func(t *testing.T) {
		lastEvent := p.evs[0].date
		for _, e := range p.evs {
			if e.date.After(lastEvent) {
				lastEvent = e.date
			}
		}
		if got := lastEvent.Format("2006-01-02"); got > "2025-06-30" {
			t.Errorf("latest event %s, after the extract date 2025-06-30", got)
		}
		for _, x := range p.txs {
			if y := x.date.Year(); y < 2010 || y > 2025 {
				t.Errorf("%s: transplant date %s", x.id, x.date.Format("2006-01-02"))
			}
		}
	})
}

func TestAppendField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"VOD/SOS", "VOD/SOS"},
		{"Skin, gut", `"Skin, gut"`},
		{`Pneumonia, "atypical"`, `"Pneumonia, ""atypical"""`},
		{`say "x"`, `"say ""x"""`},
		{" lead", `" lead"`},
		{"a\nb", "\"a\nb\""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := string(appendField(nil, tc.in)); got != tc.want {
				t.Errorf("appendField(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppendDate(t *testing.T) {
	tests := []struct {
		y, m, d int
		want    string
	}{
		{1970, 1, 1, "1970-01-01"}, // outside the table
		{2000, 2, 29, "2000-02-29"},
		{2010, 1, 1, "2010-01-01"},
		{2024, 12, 31, "2024-12-31"},
		{2100, 3, 1, "2100-03-01"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := string(appendDate(nil, civil.Days(tc.y, tc.m, tc.d))); got != tc.want {
				t.Errorf("appendDate = %s, want %s", got, tc.want)
			}
		})
	}
	if d := civil.Days(1970, 1, 1); d != 0 {
		t.Errorf("civil.Days(1970-01-01) = %d, want 0", d)
	}
}

func TestDeterminism(t *testing.T) {
	// More than one chunk, so that the order of concurrent chunks counts.
	n := 2*chunkSize + 123
	write1 := func(tb testing.TB, seed int64, bad float64, workers int) (tx, ev []byte) {
		tb.Helper()
		dir := tb.TempDir()
		if _, err := write(context.Background(), dir, Options{Transplants: n, Seed: seed, BadRows: bad}, workers); err != nil {
			tb.Fatal(err)
		}
		return readFile(tb, filepath.Join(dir, TransplantsFile)), readFile(tb, filepath.Join(dir, EventsFile))
	}
	tests := []struct {
		name          string
		seed          int64
		bad           float64
		workers       int
		wantIdentical bool
	}{
		{"same seed, one worker", 5, 0, 1, true},
		{"same seed, four workers", 5, 0, 4, true},
		{"other seed", 6, 0, 2, false},
		{"with bad rows", 5, 0.01, 2, false},
	}
	refTx, refEv := write1(t, 5, 0, 2)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, ev := write1(t, tc.seed, tc.bad, tc.workers)
			same := bytes.Equal(tx, refTx) && bytes.Equal(ev, refEv)
			if same != tc.wantIdentical {
				t.Errorf("identical = %v, want %v", same, tc.wantIdentical)
			}
		})
	}
	t.Run("bad rows repeatable", func(t *testing.T) {
		tx1, ev1 := write1(t, 9, 0.02, 1)
		tx2, ev2 := write1(t, 9, 0.02, 3)
		if !bytes.Equal(tx1, tx2) || !bytes.Equal(ev1, ev2) {
			t.Error("same options with bad rows gave different files")
		}
	})
}

func TestBadRows(t *testing.T) {
	const n = 6000
	clean, _ := generate(t, Options{Transplants: n, Seed: 3})
	dir, st := generate(t, Options{Transplants: n, Seed: 3, BadRows: 0.02})
	p := parseExtract(t, dir)
	c := parseExtract(t, clean)

	sum := func(m map[string]int) (s int64) {
		for _, k := range m {
			s += int64(k)
		}
		return s
	}
	if got := sum(p.txBad); got != st.BadTransplantRows {
		t.Errorf("%d bad transplant rows read, Stats says %d", got, st.BadTransplantRows)
	}
	if got := sum(p.evBad); got != st.BadEventRows {
		t.Errorf("%d bad event rows read, Stats says %d", got, st.BadEventRows)
	}
	// About 2% of each file, within a few binomial standard errors.
	for _, f := range []struct {
		name      string
		bad, good int64
	}{{"transplants", st.BadTransplantRows, st.Transplants}, {"events", st.BadEventRows, st.Events}} {
		want := 0.02 * float64(f.good)
		if math.Abs(float64(f.bad)-want) > 5*math.Sqrt(want) {
			t.Errorf("%s: %d bad rows for %d good, want about %.0f", f.name, f.bad, f.good, want)
		}
	}
	t.Logf("transplants: %v", p.txBad)
	t.Logf("events: %v", p.evBad)
	wantTx := []string{kindMissing, kindDate, kindNumber, kindRange, kindCode, kindDuplicate, kindFields}
	wantEv := []string{kindMissing, kindDate, kindCode, kindUnknownTx, kindBeforeTx, kindFields}
	for _, k := range wantTx {
		if p.txBad[k] == 0 {
			t.Errorf("no bad transplant row of kind %q", k)
		}
	}
	for _, k := range wantEv {
		if p.evBad[k] == 0 {
			t.Errorf("no bad event row of kind %q", k)
		}
	}
	// The good rows are exactly those of the extract without bad rows.
	equal := func(a, b [][]string) bool {
		return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
	}
	if !equal(p.txGoodRaw, c.txGoodRaw) || !equal(p.evGoodRaw, c.evGoodRaw) {
		t.Error("good rows differ from the extract without bad rows")
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"empty extract", Options{}, true},
		{"negative count", Options{Transplants: -1}, false},
		{"negative bad rows", Options{Transplants: 1, BadRows: -0.1}, false},
		{"too many bad rows", Options{Transplants: 1, BadRows: 1.5}, false},
		{"NaN bad rows", Options{Transplants: 1, BadRows: math.NaN()}, false},
		{"one transplant", Options{Transplants: 1, BadRows: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new", "extract")
			st, err := Write(context.Background(), dir, tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("Write: %v, want ok = %v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			p := parseExtract(t, dir)
			if int64(len(p.txs)) != st.Transplants || st.Transplants != int64(tc.opts.Transplants) {
				t.Errorf("Stats %+v, read %d transplants", st, len(p.txs))
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, dir, Options{Transplants: 3 * chunkSize, Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("cancelled Write left %d files", len(entries))
	}
}

// The demo extract bundled with the CLI is this generator's output for
// 2,000 transplants and seed 1; -update rewrites it.
const demoDir = "../internal/demo/extract"

var demoOptions = Options{Transplants: 2000, Seed: 1}

func TestDemoExtract(t *testing.T) {
	if *update {
		if _, err := Write(context.Background(), demoDir, demoOptions); err != nil {
			t.Fatal(err)
		}
	}
	dir, _ := generate(t, demoOptions)
	total := 0
	for _, name := range []string{TransplantsFile, EventsFile} {
		t.Run(name, func(t *testing.T) {
			want := readFile(t, filepath.Join(demoDir, name))
			total += len(want)
			if got := readFile(t, filepath.Join(dir, name)); !bytes.Equal(got, want) {
				t.Errorf("%s differs from the generator's output; run go test ./synth -run TestDemoExtract -update", name)
			}
		})
	}
	if total > 2<<20 {
		t.Errorf("demo extract is %d bytes, want under 2 MB", total)
	}
}
