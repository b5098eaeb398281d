package transforms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"marrow/synth"
)

// TestWarehouseOrder: the warehouse files Ingest and WriteWarehouse write
// are byte-identical at 1, 2 and 4 DuckDB threads (and as many
// validators), and equal to the files written with every table sorted on
// its key: so the tables of inKeyOrder, written without a sort, are in key
// order. So are the files of an Ingest into IngestOptions.Warehouse, which
// streams events.parquet from the validators and writes transplants.parquet
// without a sort when the ids came in order. The extract (with bad rows)
// spans several Parquet row groups and, read in small chunks, many batches
// validated out of order; a copy of it has its transplants in reverse
// order.
func TestWarehouseOrder(t *testing.T) {
	n := 15000 // about 150,000 events: two row groups
	if !testing.Short() {
		n = 60000
	}
	dir := t.TempDir()
	if _, err := synth.Write(context.Background(), dir, synth.Options{Transplants: n, Seed: 5, BadRows: 0.01}); err != nil {
		t.Fatal(err)
	}
	reversed := t.TempDir()
	for _, f := range []string{"transplants.csv", "events.csv"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "transplants.csv" {
			lines := strings.SplitAfter(string(b), "\n")
			slices.Reverse(lines[1 : len(lines)-1]) // the header stays first, the last is ""
			b = []byte(strings.Join(lines, ""))
		}
		if err := os.WriteFile(filepath.Join(reversed, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(r int, p int) { readSize = r; runtime.GOMAXPROCS(p) }(readSize, runtime.GOMAXPROCS(0))
	readSize = 64 << 10
	write := func(dir string, threads int, sorted, streamed bool) string {
		t.Helper()
		runtime.GOMAXPROCS(threads)
		db := ingestDB(t, threads)
		out := t.TempDir()
		opts := IngestOptions{MaxRejectRate: 1}
		tables := WarehouseTables
		if streamed {
			opts.Warehouse = out
			tables = []string{"rejects", "quality", "ingest_summary"}
		}
		if _, err := Ingest(context.Background(), db, dir, opts); err != nil {
			t.Fatal(err)
		}
		sortAll = sorted
		defer func() { sortAll = false }()
		if err := WriteWarehouse(context.Background(), db, out, tables...); err != nil {
			t.Fatal(err)
		}
		db.Close()
		return out
	}
	for name, dir := range map[string]string{"synth": dir, "reversed": reversed} {
		t.Run(name, func(t *testing.T) {
			want := write(dir, 2, true, false)
			for _, threads := range []int{1, 2, 4} {
				for _, streamed := range []bool{false, true} {
					got := write(dir, threads, false, streamed)
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
							t.Errorf("threads %d, streamed %v: %s.parquet differs from the one written sorted", threads, streamed, table)
						}
					}
				}
			}
		})
	}
}
