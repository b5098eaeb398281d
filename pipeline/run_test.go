package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marrow/internal/demo"
)

// runDemo runs the whole pipeline on the bundled demo extract into out.
func runDemo(t testing.TB, out string, cfg Config) *RunResult {
	t.Helper()
	res, err := Run(context.Background(), RunOptions{Out: out, Config: cfg})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// treeBytes reads every file under dir, keyed by relative path.
func treeBytes(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReproducible: the same extract, cutoff and config give byte-identical
// warehouse/, results/, report/ and manifest.json, whatever DuckDB's thread
// count.
func TestReproducible(t *testing.T) {
	dir := t.TempDir()
	one, two := DefaultConfig(), DefaultConfig()
	one.Threads, two.Threads = 1, 2
	runDemo(t, filepath.Join(dir, "a"), one)
	runDemo(t, filepath.Join(dir, "b"), two)
	a, b := treeBytes(t, filepath.Join(dir, "a")), treeBytes(t, filepath.Join(dir, "b"))
	for _, want := range []string{"manifest.json", "report/index.html", "report/report.md", "results/landmarks.csv",
		"results/landmarks.parquet", "warehouse/cohort.parquet", "warehouse/events.parquet"} {
		if _, ok := a[want]; !ok {
			t.Errorf("output lacks %s", want)
		}
	}
	if len(a) != len(b) {
		t.Errorf("runs wrote %d and %d files", len(a), len(b))
	}
	// SPEC §4: curves as Parquet only, and no hidden file left behind.
	for p := range a {
		if p == "results/curves.csv" || strings.HasPrefix(filepath.Base(p), ".") {
			t.Errorf("output has %s", p)
		}
	}
	if _, ok := a["results/curves.parquet"]; !ok {
		t.Error("output lacks results/curves.parquet")
	}
	for p, ab := range a {
		if !bytes.Equal(ab, b[p]) {
			t.Errorf("%s differs between threads=1 and threads=2", p)
		}
	}
}

// TestManifestHashes: every output file is listed with its sha256, and
// nothing else is.
func TestManifestHashes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, DefaultConfig())
	if err := Verify(out); err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 2 || m.Inputs[0].RowsRead != m.Inputs[0].RowsAccepted+m.Inputs[0].RowsRejected {
		t.Errorf("manifest inputs = %+v", m.Inputs)
	}
	os.WriteFile(filepath.Join(out, "results", "tests.csv"), []byte("tampered\n"), 0o644)
	if err := Verify(out); err == nil {
		t.Error("Verify accepted a tampered results/tests.csv")
	}
}

// TestReportHasNoIdentifiers looks for every patient_id and transplant_id of
// the demo extract, and every event detail text, in every report file.
func TestReportHasNoIdentifiers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, DefaultConfig())
	var secrets []string
	for _, f := range []struct{ file, col string }{
		{"transplants.csv", "transplant_id"}, {"transplants.csv", "patient_id"}, {"events.csv", "detail"},
	} {
		b, err := demo.File(f.file)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := -1
		for i, h := range recs[0] {
			if strings.EqualFold(h, f.col) {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("demo %s has no %s column", f.file, f.col)
		}
		for _, r := range recs[1:] {
			// Short details ("Liver", "Unknown", "ALLO") are ordinary words
			// that headings and methods use; identifiers and longer free
			// text must not appear at all.
			if v := strings.TrimSpace(r[col]); len(v) >= 12 || f.col != "detail" && v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	if len(secrets) < 100 {
		t.Fatalf("only %d identifiers found in the demo extract", len(secrets))
	}
	for p, b := range treeBytes(t, filepath.Join(out, "report")) {
		s := string(b)
		for _, id := range secrets {
			if strings.Contains(s, id) {
				t.Errorf("report/%s contains %q from the extract", p, id)
				break
			}
		}
	}
}

// TestFailedRunKeepsPrevious: a run that fails (bad extract) or is cancelled
// leaves the previous complete output as it was, and the next run works.
func TestFailedRunKeepsPrevious(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, DefaultConfig())
	before := treeBytes(t, out)

	empty := t.TempDir() // no transplants.csv
	_, err := Run(context.Background(), RunOptions{Extract: empty, Out: out, Config: DefaultConfig()})
	if err == nil || !IsBadInput(err) {
		t.Fatalf("run on an empty directory: err = %v, want a bad-input error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, RunOptions{Out: out, Config: DefaultConfig()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: err = %v, want context.Canceled", err)
	}
	after := treeBytes(t, out)
	if len(after) != len(before) {
		t.Fatalf("output has %d files after failed runs, had %d", len(after), len(before))
	}
	for p, b := range before {
		if !bytes.Equal(b, after[p]) {
			t.Errorf("%s changed after a failed run", p)
		}
	}
	if left, _ := filepath.Glob(siblingPath(out, "staging") + "*"); len(left) > 0 {
		t.Errorf("staging directory left behind: %v", left)
	}
	runDemo(t, out, DefaultConfig())
}

// TestLock: a second run on the same output fails fast naming the holder; a
// lock file left by a dead process does not block.
func TestLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	lk, err := acquireLock(out)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), RunOptions{Out: out, Config: DefaultConfig()})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("run while locked: err = %v, want ErrLocked naming the pid", err)
	}
	lk.release()
	// A stale lock file: text but no flock held (its process is gone).
	os.WriteFile(siblingPath(out, "lock"), []byte("marrow pid 999999\n"), 0o644)
	runDemo(t, out, DefaultConfig())
}

// TestRefusesForeignOutput: an existing, non-empty --out that is not a
// marrow output is never swapped away.
func TestRefusesForeignOutput(t *testing.T) {
	out := t.TempDir()
	precious := filepath.Join(out, "thesis.tex")
	os.WriteFile(precious, []byte("years of work"), 0o644)
	_, err := Run(context.Background(), RunOptions{Out: out, Config: DefaultConfig()})
	if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("run into a foreign directory: err = %v, want a refusal", err)
	}
	if _, err := Ingest(context.Background(), IngestOptions{Extract: "../testdata/refdata/bmt/extract", Warehouse: out, Config: DefaultConfig()}); err == nil {
		t.Fatal("ingest into a foreign directory succeeded")
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "years of work" {
		t.Fatalf("foreign file changed: %q, %v", b, err)
	}
	// An empty directory is fine.
	runDemo(t, t.TempDir(), DefaultConfig())
}
