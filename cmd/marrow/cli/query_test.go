package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marrow/pipeline"
)

// TestQueryHelp: --help lists every table a query sees and an example.
func TestQueryHelp(t *testing.T) {
	code, stdout, _ := run(t, "query", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"transplants", "events", "cohort", "rejects", "column_name", "quality",
		"ingest_summary", "landmarks", "curves", "medians", "tests", "<name>.landmarks",
		"Examples:", "marrow query --warehouse marrow-out", "--timeout", "--memory-limit", "--format", "--output"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("query --help lacks %q", want)
		}
	}
}

// TestQueryFlags: the flags reach the pipeline's options.
func TestQueryFlags(t *testing.T) {
	wh := smallWarehouse(t)
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := run(t, "query", "--warehouse", wh, "--format", "json", "--output", out,
		"--timeout", "1m", "--memory-limit", "500MB", "SELECT -5 AS i, 'x' AS s")
	if code != ExitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != `{"i":-5,"s":"x"}`+"\n" {
		t.Errorf("--output got %q", b)
	}
	o := queryOptions{warehouse: "w", timeout: "90s", memoryLimit: "1GB", format: "table", output: "f"}
	got, err := o.options("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Timeout.String() != "1m30s" || got.MemoryLimit != "1GB" || got.Format != "table" || got.Output != "f" || got.SQL != "SELECT 1" {
		t.Errorf("options = %+v", got)
	}
}

// TestVersion: `marrow version` and `marrow --version` print the same four
// lines: marrow, Go, DuckDB and the build tag of this binary.
func TestVersion(t *testing.T) {
	code, a, _ := run(t, "version")
	code2, b, _ := run(t, "--version")
	if code != ExitOK || code2 != ExitOK || a != b {
		t.Fatalf("version: exit %d %q; --version: exit %d %q", code, a, code2, b)
	}
	lines := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines: %q", len(lines), a)
	}
	tag := "without duckdb_arrow"
	if arrowTag {
		tag = "-tags duckdb_arrow"
	}
	for i, want := range []string{"marrow " + pipeline.Version, "go     go1.", "duckdb v1.", "build  " + tag} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], want)
		}
	}
}

// TestRunSaysWhereToLook: a run ends with the report, the results and a
// query that works on them.
func TestRunSaysWhereToLook(t *testing.T) {
	out := filepath.Join(t.TempDir(), "my out")
	code, stdout, stderr := run(t, "-q", "run", "--extract", "../../../testdata/refdata/bmt/extract", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "report:  " + filepath.Join(out, "report", "index.html") + "\n" +
		"results: " + filepath.Join(out, "results") + "/ (landmarks, medians, tests: Parquet and CSV; curves: Parquet)\n" +
		"query:   marrow query --warehouse '" + out + "' --format table \"" + exampleQuery + "\"\n"
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
	code, rows, stderr := run(t, "query", "--warehouse", out, "--format", "table", exampleQuery)
	if code != ExitOK || !strings.Contains(rows, "│ os ") {
		t.Errorf("the suggested query: exit %d, %s%s", code, rows, stderr)
	}
	for _, tc := range []struct{ in, want string }{
		{"marrow-out", "marrow-out"},
		{"/a/b-c_d.e", "/a/b-c_d.e"},
		{"my out", "'my out'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"", "''"},
	} {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSynthForce: a non-empty --extract is refused (nothing written)
// unless --force.
func TestSynthForce(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "transplants.csv")
	os.WriteFile(keep, []byte("real registry data\n"), 0o644)
	code, _, stderr := run(t, "synth", "--transplants", "5", "--extract", dir)
	if code != ExitUsage || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(keep); string(b) != "real registry data\n" {
		t.Fatalf("refused synth changed transplants.csv")
	}
	if code, _, stderr := run(t, "synth", "--transplants", "5", "--extract", dir, "--force"); code != ExitOK {
		t.Fatalf("--force: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(keep); strings.HasPrefix(string(b), "real") {
		t.Errorf("--force did not overwrite")
	}
	fresh := filepath.Join(t.TempDir(), "new")
	if code, _, stderr := run(t, "synth", "--transplants", "5", "--extract", fresh); code != ExitOK {
		t.Errorf("new directory: exit %d, %s", code, stderr)
	}
}
