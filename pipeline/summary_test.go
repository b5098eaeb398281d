package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marrow/transforms"
)

// TestAnalyzeSummary: analyze on a warehouse with ingest's event summary
// (transforms.SummaryTable, read instead of summarizing events.parquet and
// choosing first transplants with a window) writes the same cohort,
// results and report data as on the same warehouse without it — with the
// default endpoints, which the summary covers, and with declared ones it
// lacks (examples/endpoints.toml: graft_failure), where analyze falls back.
func TestAnalyzeSummary(t *testing.T) {
	ctx := context.Background()
	ex := synthExtract(t, 2000, 5)
	wh := filepath.Join(t.TempDir(), "wh")
	if _, err := Ingest(ctx, IngestOptions{Extract: ex, Warehouse: wh, Config: DefaultConfig()}); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare")
	if err := os.MkdirAll(bare, 0o755); err != nil {
		t.Fatal(err)
	}
	for rel, b := range treeBytes(t, wh) {
		if rel == transforms.SummaryTable+".parquet" || rel == warehouseManifestName {
			continue
		}
		if err := os.WriteFile(filepath.Join(bare, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := treeBytes(t, wh)[transforms.SummaryTable+".parquet"]; !ok {
		t.Fatalf("ingest wrote no %s.parquet", transforms.SummaryTable)
	}
	if err := writeWarehouseManifest(bare); err != nil {
		t.Fatal(err)
	}
	declared, err := LoadConfig("../examples/endpoints.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		cfg        Config
		summarized bool
	}{{"default", DefaultConfig(), true}, {"declared", declared, false}} {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
			logger := slog.New(slog.NewTextHandler(&log, nil))
			if err := Analyze(ctx, AnalyzeOptions{Warehouse: wh, Out: a, Config: c.cfg, Log: logger}); err != nil {
				t.Fatal(err)
			}
			want := "summarized=" + map[bool]string{true: "true", false: "false"}[c.summarized]
			if !strings.Contains(log.String(), want) {
				t.Errorf("analyze's log lacks %s:\n%s", want, log.String())
			}
			if err := Analyze(ctx, AnalyzeOptions{Warehouse: bare, Out: b, Config: c.cfg}); err != nil {
				t.Fatal(err)
			}
			got, ref := treeBytes(t, a), treeBytes(t, b)
			for rel, rb := range ref {
				if rel == "manifest.json" || strings.HasSuffix(rel, "DICTIONARY.md") && strings.HasPrefix(rel, "warehouse/") {
					continue // they list the summary file
				}
				if !bytes.Equal(got[rel], rb) {
					t.Errorf("%s differs with and without the event summary", rel)
				}
			}
			if _, ok := got["warehouse/"+transforms.SummaryTable+".parquet"]; !ok {
				t.Errorf("analyze's warehouse lacks %s.parquet", transforms.SummaryTable)
			}
			if err := Verify(a); err != nil {
				t.Error(err)
			}
		})
	}
}
