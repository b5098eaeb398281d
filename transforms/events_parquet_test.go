package transforms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"marrow/endpoints"
	"marrow/internal/duck"
	"marrow/synth"
)

// TestEventsParquetThreads: events.parquet and the event summary's file
// (SummaryTable), which ingest writes with
// DuckDB's order-preserving parallel COPY straight from the validators'
// records (streamEvents, rowGroups), is the same bytes at 1, 2 and 4
// DuckDB threads, and the same as the single-threaded COPY of the events
// loaded as a table — over several row groups, with rejected rows moving
// the row groups' edges away from the reader's batches. The summary has
// no loaded-table twin to match: it must only be the same at every thread
// count, over more than one row group (130,000 transplants).
func TestEventsParquetThreads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Write(ctx, dir, synth.Options{Transplants: 130000, Seed: 3, BadRows: 0.01}); err != nil {
		t.Fatal(err)
	}
	files, summaries := map[int][]byte{}, map[int][]byte{}
	for _, threads := range []int{1, 2, 4} {
		wh := filepath.Join(t.TempDir(), "warehouse")
		if err := os.MkdirAll(wh, 0o755); err != nil {
			t.Fatal(err)
		}
		sdb, err := duck.Open(ctx, duck.Options{Threads: threads, MemoryLimit: "64MB", TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		if _, err := Ingest(ctx, sdb, dir, IngestOptions{MaxRejectRate: 1, Warehouse: wh, Endpoints: endpoints.Default()}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(wh, "events.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		files[threads] = b
		if summaries[threads], err = os.ReadFile(filepath.Join(wh, SummaryTable+".parquet")); err != nil {
			t.Fatal(err)
		}
		if threads == 1 {
			var n int
			if err := sdb.QueryRowContext(ctx, "SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)",
				filepath.Join(wh, SummaryTable+".parquet")).Scan(&n); err != nil || n < 2 {
				t.Fatalf("%s.parquet: %d row groups (%v): the test needs several", SummaryTable, n, err)
			}
		}
	}
	for _, threads := range []int{2, 4} {
		if !bytes.Equal(summaries[threads], summaries[1]) {
			t.Errorf("threads = %d: %s.parquet differs from threads = 1's", threads, SummaryTable)
		}
	}
	db := ingestDB(t, 1)
	if _, err := Ingest(ctx, db, dir, IngestOptions{MaxRejectRate: 1}); err != nil {
		t.Fatal(err)
	}
	loaded := t.TempDir()
	if err := WriteWarehouse(ctx, db, loaded, "events"); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(loaded, "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var groups int
	if err := db.QueryRowContext(ctx, "SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)",
		filepath.Join(loaded, "events.parquet")).Scan(&groups); err != nil {
		t.Fatal(err)
	}
	if groups < 3 {
		t.Fatalf("events.parquet has %d row groups: the test needs several", groups)
	}
	for threads, b := range files {
		if !bytes.Equal(b, want) {
			t.Errorf("threads = %d: streamed events.parquet (%d bytes) differs from the loaded table's (%d bytes)", threads, len(b), len(want))
		}
	}
}
