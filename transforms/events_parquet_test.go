package transforms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"marrow/internal/duck"
	"marrow/synth"
)

// TestEventsParquetThreads: events.parquet, which ingest writes with
// DuckDB's order-preserving parallel COPY straight from the validators'
// records (streamEvents, rowGroups), is the same bytes at 1, 2 and 4
// DuckDB threads, and the same as the single-threaded COPY of the events
// loaded as a table — over several row groups, with rejected rows moving
// the row groups' edges away from the reader's batches.
func TestEventsParquetThreads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Write(ctx, dir, synth.Options{Transplants: 40000, Seed: 3, BadRows: 0.01}); err != nil {
		t.Fatal(err)
	}
	files := map[int][]byte{}
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
		if _, err := Ingest(ctx, sdb, dir, IngestOptions{MaxRejectRate: 1, Warehouse: wh}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(wh, "events.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		files[threads] = b
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
