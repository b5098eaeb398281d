package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"marrow/internal/duck"
)

// TestResultsOrder: results/ and its analyses, whose curves go to DuckDB
// as Arrow and to Parquet without a sort, are byte-identical at 1, 2 and 4
// DuckDB threads and Go cores, and equal to the files written with every
// curves table sorted on its key — so the rows came in key order. The
// registry's curves span many Arrow batches and several Parquet row
// groups (DuckDB's 122,880 rows).
func TestResultsOrder(t *testing.T) {
	n := 8000
	if !testing.Short() {
		n = 20000
	}
	extract := synthExtract(t, n, 11)
	cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	defer func(p int) { runtime.GOMAXPROCS(p) }(runtime.GOMAXPROCS(0))
	run := func(threads int, sorted bool) map[string][]byte {
		t.Helper()
		runtime.GOMAXPROCS(threads)
		sortResults = sorted
		defer func() { sortResults = false }()
		cfg := DefaultConfig()
		cfg.Threads = threads
		cfg.Centres = false
		out := filepath.Join(t.TempDir(), "out")
		if err := runExtract(t, extract, out, cutoff, cfg); err != nil {
			t.Fatal(err)
		}
		files := treeBytes(t, filepath.Join(out, "results"))
		for p := range files {
			if !strings.HasSuffix(p, ".parquet") {
				delete(files, p)
			}
		}
		return files
	}
	want := run(2, true)
	if want["analyses/by_year/curves.parquet"] == nil {
		t.Fatal("no results/analyses/by_year/curves.parquet")
	}
	// The stratum columns go to Parquet as ENUMs (enumColumns): they
	// must read back as the text they were.
	if got, want := columnTypes(t, want["curves.parquet"]), "endpoint VARCHAR, transplant_type VARCHAR, donor_type VARCHAR, indication VARCHAR, "+
		"time INTEGER, n_risk BIGINT, n_event BIGINT, n_compete BIGINT, n_censor BIGINT, estimate DOUBLE, std_err DOUBLE, lower DOUBLE, upper DOUBLE"; got != want {
		t.Errorf("curves.parquet reads back as\n%s, want\n%s", got, want)
	}
	if groups := rowGroups(t, want["curves.parquet"]); groups < 2 {
		t.Fatalf("curves.parquet has %d row group: too few rows to test the order across them", groups)
	}
	for _, threads := range []int{1, 2, 4} {
		got := run(threads, false)
		if len(got) != len(want) {
			t.Errorf("threads %d: %d Parquet files, want %d", threads, len(got), len(want))
		}
		for p, b := range want {
			if !bytes.Equal(b, got[p]) {
				t.Errorf("threads %d: results/%s differs from the one written sorted", threads, p)
			}
		}
	}
}

// columnTypes lists the columns of a Parquet file's bytes as DuckDB reads
// them: "name TYPE, ...".
func columnTypes(t *testing.T, b []byte) string {
	var s string
	queryParquet(t, b, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE FROM read_parquet(%s))", &s)
	return s
}

// rowGroups counts the row groups of a Parquet file's bytes.
func rowGroups(t *testing.T, b []byte) int {
	var n int
	queryParquet(t, b, "SELECT count(DISTINCT row_group_id) FROM parquet_metadata(%s)", &n)
	return n
}

// queryParquet scans into dest the one value of query (%s: the file's
// path) over a Parquet file's bytes.
func queryParquet(t *testing.T, b []byte, query string, dest any) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := duck.Open(context.Background(), duck.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(fmt.Sprintf(query, duck.Literal(path))).Scan(dest); err != nil {
		t.Fatal(err)
	}
}

// TestFullChunks: records of any sizes come out re-cut into multiples of
// DuckDB's vector size (all but the last), with every row once, in order.
func TestFullChunks(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, sizes := range [][]int{
		{1}, {vectorRows}, {vectorRows - 1, 1}, {3, 5, 7}, {vectorRows + 1, vectorRows - 2, 3 * vectorRows, 1, 1},
		{75000, 61234, 2047, 2049, 100000},
	} {
		var got []int64
		var counts []int64
		f := &fullChunks{out: func(r arrow.RecordBatch) error {
			counts = append(counts, r.NumRows())
			got = append(got, r.Column(0).(*array.Int64).Int64Values()...)
			r.Release()
			return nil
		}}
		next := int64(0)
		for _, n := range sizes {
			b := array.NewInt64Builder(memory.DefaultAllocator)
			for range n {
				b.Append(next)
				next++
			}
			col := b.NewArray()
			rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
			col.Release()
			if err := f.push(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.flush(); err != nil {
			t.Fatal(err)
		}
		for i, c := range counts {
			if c == 0 || (i < len(counts)-1 && c%vectorRows != 0) {
				t.Errorf("sizes %v: record %d of %d rows (all %v)", sizes, i, c, counts)
			}
		}
		if int64(len(got)) != next {
			t.Fatalf("sizes %v: %d rows out, %d in", sizes, len(got), next)
		}
		for i, v := range got {
			if v != int64(i) {
				t.Fatalf("sizes %v: row %d is %d", sizes, i, v)
			}
		}
	}
}

// TestBackground: background writes start in the order given, at most
// slots at once; Wait returns the first error, and with one slot the
// writes after it do not run.
func TestBackground(t *testing.T) {
	ctx := context.Background()
	for _, slots := range []int{1, 2} {
		b := newBackground(slots)
		var mu sync.Mutex
		var order []int
		var running, most atomic.Int32
		for i := range 6 {
			b.Go(ctx, func(context.Context) error {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(2 * time.Millisecond) // let writes overlap if they may
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				if i == 2 {
					return errors.New("write 2 failed")
				}
				return nil
			})
		}
		err := b.Wait()
		if err == nil || err.Error() != "write 2 failed" {
			t.Fatalf("slots %d: Wait = %v, want write 2's error", slots, err)
		}
		if int(most.Load()) > slots {
			t.Errorf("slots %d: %d writes at once", slots, most.Load())
		}
		if slots == 1 && !slices.Equal(order, []int{0, 1, 2}) {
			t.Errorf("slots 1: ran %v, want 0 1 2 and none after the failure", order)
		}
	}
}

// TestBackgroundDone: the end of the estimation phase ("results written")
// is the end of the last results write (Go), not of a warehouse write
// (GoOther) that ends after it.
func TestBackgroundDone(t *testing.T) {
	ctx := context.Background()
	b := newBackground(2)
	resultEnded := make(chan struct{})
	var resultEnd time.Time
	b.Go(ctx, func(context.Context) error {
		defer close(resultEnded)
		resultEnd = time.Now()
		return nil
	})
	b.GoOther(ctx, func(context.Context) error {
		<-resultEnded
		time.Sleep(time.Millisecond) // end strictly after it
		return nil
	})
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if b.done.Before(resultEnd) || !b.otherDone.After(b.done) {
		t.Errorf("done %v, otherDone %v: want done at the results write's end (%v), otherDone after it", b.done, b.otherDone, resultEnd)
	}
}

// TestBackgroundOtherWaits: GoOther returns while every slot is taken by
// results writes (the estimate stage's end does not wait for them); its
// write starts once a slot is free, Wait waits for it, and it sees the
// writes before it ended.
func TestBackgroundOtherWaits(t *testing.T) {
	ctx := context.Background()
	b := newBackground(2)
	release := make(chan struct{})
	var ended atomic.Int32
	for range 2 {
		b.Go(ctx, func(context.Context) error {
			<-release
			ended.Add(1)
			return nil
		})
	}
	var sawEnded atomic.Int32
	sawEnded.Store(-1)
	returned := make(chan struct{})
	go func() {
		b.GoOther(ctx, func(context.Context) error {
			sawEnded.Store(ended.Load())
			return nil
		})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("GoOther waited for a slot")
	}
	if sawEnded.Load() != -1 {
		t.Fatal("GoOther's write ran while both slots were taken")
	}
	close(release)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := sawEnded.Load(); got < 1 {
		t.Errorf("GoOther's write saw %d results writes ended, want it to start after one", got)
	}
}
