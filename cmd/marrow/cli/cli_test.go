package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"marrow/pipeline"
	"marrow/synth"
)

// The test binary doubles as the marrow command: with MARROW_TEST_MAIN=1 it
// runs Main on its arguments, so the kill and signal tests drive a real
// marrow process without linking a second binary.
func TestMain(m *testing.M) {
	if os.Getenv("MARROW_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func marrowCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MARROW_TEST_MAIN=1")
	return cmd
}

// run calls Run in-process and returns the exit code, stdout and stderr.
func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "transplants.csv"), []byte("transplant_id,patient_id\nT1,P1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "events.csv"), []byte("transplant_id,event,event_date\n"), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("conf_typ = \"log\"\n"), 0o644)
	whNew := filepath.Join(t.TempDir(), "wh") // outside the extract
	wh := smallWarehouse(t)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("x"), 0o644)
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"help documents exit codes", []string{"run", "--help"}, ExitOK, ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"unknown flag", []string{"run", "--nope"}, ExitUsage, "unknown flag"},
		{"bad cutoff", []string{"run", "--cutoff", "2020-02-30"}, ExitUsage, "--cutoff"},
		{"unknown config key", []string{"run", "--config", bad}, ExitUsage, "conf_typ"},
		{"missing required column", []string{"ingest", "--extract", dir, "--warehouse", whNew}, ExitUsage, "transplants.csv"},
		{"missing extract", []string{"ingest", "--extract", filepath.Join(dir, "nope"), "--warehouse", whNew}, ExitUsage, "transplants.csv"},
		{"cutoff year 1", []string{"run", "--cutoff", "0001-01-01"}, ExitUsage, "--cutoff 0001-01-01: must be between 1900-01-01 and 2199-12-31"},
		{"cutoff year 2200", []string{"analyze", "--warehouse", whNew, "--out", whNew + "-out", "--cutoff", "2200-01-01"}, ExitUsage, "--cutoff"},
		{"threads out of range", []string{"run", "--config", writeFile(t, "threads = 2147483648\n")}, ExitUsage, "threads 2147483648"},
		{"multi-line DuckDB error on one line", []string{"query", "--warehouse", wh, "SELECT nosuchcolumn FROM range(1)"}, ExitUsage, "nosuchcolumn"},
		{"query refuses writes", []string{"query", "--warehouse", wh, "CREATE TABLE x AS SELECT 1"}, ExitUsage, "read-only"},
		{"query refuses several statements", []string{"query", "--warehouse", wh, "SELECT 1; SELECT 2"}, ExitUsage, "several statements (2)"},
		{"query syntax error", []string{"query", "--warehouse", wh, "SELEC 1"}, ExitUsage, "syntax error"},
		{"query needs a warehouse", []string{"query", "SELECT 1"}, ExitUsage, "--warehouse"},
		{"query warehouse without tables", []string{"query", "--warehouse", dir, "SELECT 1"}, ExitUsage, "has no tables"},
		{"query two arguments", []string{"query", "--warehouse", wh, "SELECT", "1"}, ExitUsage, "exactly one SQL statement"},
		{"query bad format", []string{"query", "--warehouse", wh, "--format", "xml", "SELECT 1"}, ExitUsage, "--format"},
		{"query bad timeout", []string{"query", "--warehouse", wh, "--timeout", "10", "SELECT 1"}, ExitUsage, "--timeout"},
		{"query bad memory limit", []string{"query", "--warehouse", wh, "--memory-limit", "lots", "SELECT 1"}, ExitUsage, "--memory-limit"},
		{"query time limit", []string{"query", "--warehouse", wh, "--timeout", "200ms", "SELECT count(*) FROM range(1000000000000)"}, ExitFailed, "query: time limit 200ms reached"},
		{"query memory limit", []string{"query", "--warehouse", wh, "--memory-limit", "50MB", "SELECT count(DISTINCT range) FROM range(1000000000)"}, ExitFailed, "query: memory limit 50MB reached"},
		{"synth refuses a non-empty extract", []string{"synth", "--transplants", "5", "--extract", full}, ExitUsage, "--force"},
		{"query help lists tables", []string{"query", "--help"}, ExitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if tc.wantErr != "" {
				if !strings.Contains(stderr, tc.wantErr) {
					t.Errorf("stderr %q lacks %q", stderr, tc.wantErr)
				}
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
					t.Errorf("error is %d lines, want one: %q", n+1, stderr)
				}
			}
			if tc.code == ExitOK && !strings.Contains(stdout, "130") {
				t.Errorf("--help does not document exit code 130:\n%s", stdout)
			}
		})
	}
}

// writeFile writes text to a fresh file and returns its path.
func writeFile(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "marrow.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// smallWarehouse ingests the BMT reference extract into a warehouse.
func smallWarehouse(t testing.TB) string {
	t.Helper()
	wh := filepath.Join(t.TempDir(), "warehouse")
	if code, _, stderr := run(t, "-q", "ingest", "--extract", "../../../testdata/refdata/bmt/extract", "--warehouse", wh); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	return wh
}

// bigExtract writes a synthetic extract large enough that a run takes a
// noticeable time, so it can be killed inside each stage.
func bigExtract(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "extract")
	if _, err := synth.Write(context.Background(), dir, synth.Options{Transplants: 20000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[rel] = string(b)
		}
		return nil
	})
	return files
}

func sameTree(t testing.TB, what string, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d files, had %d", what, len(b), len(a))
	}
	for p, x := range a {
		if b[p] != x {
			t.Errorf("%s: %s changed", what, p)
		}
	}
}

// startRun starts `marrow run` as a process and returns it with a channel
// of its log lines.
func startRun(t testing.TB, extract, out string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := marrowCmd("run", "--extract", extract, "--out", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

// waitFor reads log lines until one contains msg=<stage>; false if the
// process ended first.
func waitFor(lines <-chan string, stage string) bool {
	for l := range lines {
		if strings.Contains(l, "msg=\""+stage+"\"") || strings.Contains(l, "msg="+stage+" ") {
			return true
		}
	}
	return false
}

// TestKilledRunKeepsPrevious kills a real marrow run with SIGKILL inside and
// between its stages; each time the previous output must be intact and
// verifiable, and a final run must work despite the debris.
func TestKilledRunKeepsPrevious(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real runs on a 20,000-transplant extract")
	}
	extract := bigExtract(t)
	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := run(t, "-q", "run", "--extract", extract, "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	before := snapshot(t, out)
	points := []struct {
		name  string
		after string        // stage log line to wait for; "" = a delay
		delay time.Duration // from start, when after == ""
	}{
		{"during ingest", "", 150 * time.Millisecond},
		{"after ingest", "ingest", 0},
		{"after cohort", "derive cohort", 0},
		{"after estimate", "estimate", 0},
		{"after changes", "changes", 0},
		{"after report", "report", 0},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			cmd, lines := startRun(t, extract, out)
			if p.after == "" {
				time.Sleep(p.delay)
			} else if !waitFor(lines, p.after) {
				cmd.Wait()
				t.Fatalf("run ended before %q", p.after)
			}
			cmd.Process.Kill()
			cmd.Wait()
			go func() {
				for range lines {
				}
			}()
			sameTree(t, "killed "+p.name, before, snapshot(t, out))
			if err := pipeline.Verify(out); err != nil {
				t.Error(err)
			}
		})
	}
	if code, _, stderr := run(t, "-q", "run", "--extract", extract, "--out", out); code != 0 {
		t.Fatalf("run after the kills: exit %d: %s", code, stderr)
	}
	// The rerun compares itself with the output it replaced: besides
	// results/changes (nothing changed), only the report's changes section
	// and the manifest differ from the first run.
	after := snapshot(t, out)
	if !strings.Contains(after["results/changes.csv"], "\ntransplants_changed,,,,,,,,0,") {
		t.Errorf("rerun: results/changes.csv does not say no transplant changed:\n%s", after["results/changes.csv"])
	}
	for _, p := range []string{"results/changes.csv", "results/changes.parquet", "report/index.html", "report/report.md", "manifest.json"} {
		delete(before, p)
		delete(after, p)
	}
	sameTree(t, "rerun", before, after)
}

// TestSignalCancels sends SIGINT and SIGTERM to running runs: exit 130,
// previous output intact.
func TestSignalCancels(t *testing.T) {
	if testing.Short() {
		t.Skip("signals real runs on a 20,000-transplant extract")
	}
	extract := bigExtract(t)
	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := run(t, "-q", "run", "--extract", extract, "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	before := snapshot(t, out)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, lines := startRun(t, extract, out)
			if !waitFor(lines, "ingest") {
				t.Fatal("run ended before ingest finished")
			}
			start := time.Now()
			cmd.Process.Signal(sig)
			go func() {
				for range lines {
				}
			}()
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitCancelled {
				t.Fatalf("exit: %v, want status %d", err, ExitCancelled)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v to stop", d)
			}
			sameTree(t, sig.String(), before, snapshot(t, out))
		})
	}
}

// TestSecondRunFailsFast: while one run holds --out, another exits 1 at once
// naming the running one.
func TestSecondRunFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a long-running run")
	}
	extract := bigExtract(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd, lines := startRun(t, extract, out)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if !waitFor(lines, "ingest") {
		t.Fatal("first run ended early")
	}
	go func() {
		for range lines {
		}
	}()
	start := time.Now()
	code, _, stderr := run(t, "-q", "run", "--extract", extract, "--out", out)
	if code != ExitFailed || !strings.Contains(stderr, "locked") || !strings.Contains(stderr, "pid") {
		t.Fatalf("second run: exit %d, stderr %q; want exit 1 naming the lock holder", code, stderr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second run took %v to fail", d)
	}
}

// TestStagesEqualRun: ingest, then analyze, then report give the same
// results and report as one run, and query reads both warehouse and results.
func TestStagesEqualRun(t *testing.T) {
	dir := t.TempDir()
	ex := "../../../testdata/adversarial/confs_log/extract"
	mustRun := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"-q"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	mustRun("run", "--extract", ex, "--out", filepath.Join(dir, "run"))
	mustRun("ingest", "--extract", ex, "--warehouse", filepath.Join(dir, "wh"))
	mustRun("analyze", "--warehouse", filepath.Join(dir, "wh"), "--out", filepath.Join(dir, "staged"))
	mustRun("report", "--out", filepath.Join(dir, "staged"))
	for _, f := range []string{"results/landmarks.csv", "results/curves.parquet", "results/tests.csv",
		"warehouse/cohort.parquet", "warehouse/rejects.parquet", "warehouse/event_summary.parquet", "warehouse/DICTIONARY.md",
		"report/report.md", "report/index.html"} {
		a, errA := os.ReadFile(filepath.Join(dir, "run", f))
		b, errB := os.ReadFile(filepath.Join(dir, "staged", f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between run and ingest+analyze+report (%v, %v)", f, errA, errB)
		}
	}
	if err := pipeline.Verify(filepath.Join(dir, "staged")); err != nil {
		t.Error(err)
	}
	got := mustRun("query", "--warehouse", filepath.Join(dir, "staged", "warehouse"),
		"SELECT (SELECT count(*) FROM cohort) AS cohort, (SELECT count(DISTINCT endpoint) FROM landmarks) AS endpoints")
	if got != "cohort,endpoints\n80,12\n" {
		t.Errorf("query output %q", got)
	}
}

// TestLogJSON: --log-json writes one JSON object per line, one per stage
// with its duration, and nothing else (no spinner when not a terminal).
func TestLogJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, "--log-json", "run", "--extract", "../../../testdata/refdata/bmt/extract", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	stages := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		msg, _ := rec["msg"].(string)
		if _, ok := rec["seconds"]; ok {
			stages[msg] = true
		}
	}
	for _, s := range []string{"ingest", "derive cohort", "estimate", "report"} {
		if !stages[s] {
			t.Errorf("no timed log record for stage %q in:\n%s", s, stderr)
		}
	}
}
