package pipeline

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestReportGolden renders the report of a small fixed extract (the
// adversarial confs_log cohort: 80 transplants, both types, six
// indications, five donor types) and compares report.md with
// testdata/confs_log.report.md.golden as exact text. go test -update
// rewrites it after an intended change; review the diff.
func TestReportGolden(t *testing.T) {
	cfg, err := LoadConfig("../testdata/adversarial/confs_log/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Run(context.Background(), RunOptions{Extract: "../testdata/adversarial/confs_log/extract", Out: out, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "report", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "confs_log.report.md.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("report.md differs from %s; rerun with -update if the change is intended and review the diff", golden)
	}
}
