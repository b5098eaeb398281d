package transforms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"marrow/synth"
)

// TestWarehouseOrder: the warehouse files Ingest and WriteWarehouse write
// are byte-identical at 1, 2 and 4 DuckDB threads (and as many
// validators), and equal to the files written with every table sorted on
// its key: so the tables of inKeyOrder, written without a sort, are in key
// order. The extract (with bad rows) spans several Parquet row groups and,
// read in small chunks, many batches validated out of order.
func TestWarehouseOrder(t *testing.T) {
	n := 15000 // about 150,000 events: two row groups
	if !testing.Short() {
		n = 60000
	}
	dir := t.TempDir()
	if _, err := synth.Write(context.Background(), dir, synth.Options{Transplants: n, Seed: 5, BadRows: 0.01}); err != nil {
		t.Fatal(err)
	}
	defer func(r int, p int) { readSize = r; runtime.GOMAXPROCS(p) }(readSize, runtime.GOMAXPROCS(0))
	readSize = 64 << 10
	write := func(threads int, sorted bool) string {
		t.Helper()
		runtime.GOMAXPROCS(threads)
		db := ingestDB(t, threads)
		if _, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1}); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		sortAll = sorted
		defer func() { sortAll = false }()
		if err := WriteWarehouse(context.Background(), db, out); err != nil {
			t.Fatal(err)
		}
		db.Close()
		return out
	}
	want := write(2, true)
	for _, threads := range []int{1, 2, 4} {
		got := write(threads, false)
		for _, table := range WarehouseTables {
			a, err := os.ReadFile(filepath.Join(want, table+".parquet"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(got, table+".parquet"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("threads %d: %s.parquet differs from the one written sorted", threads, table)
			}
		}
	}
}
