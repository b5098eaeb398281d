package transforms

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var (
	ingestBenchExtract     = flag.String("ingest.extract", "", "extract directory for BenchmarkIngest (default: a generated one)")
	ingestBenchTransplants = flag.Int("ingest.transplants", 20000, "transplants of the generated extract of BenchmarkIngest (10 events each)")
)

// writeBenchExtract writes a plain extract of n transplants with 10 events
// each: no rejects, few flags, events grouped by transplant as registries
// export them.
func writeBenchExtract(tb testing.TB, dir string, n int) {
	tb.Helper()
	write := func(name string, fill func(w *bufio.Writer)) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		fill(w)
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	inds := []string{"AML", "ALL", "MDS", "MM", "NHL", "HL", "CML"}
	donors := []string{"MSD", "MUD", "MMUD", "HAPLO", "CORD"}
	evs := []string{"neutrophil_engraftment", "platelet_engraftment", "agvhd", "infection", "cgvhd", "organ_toxicity", "relapse", "infection", "second_transplant"}
	write("transplants.csv", func(w *bufio.Writer) {
		fmt.Fprintln(w, txHeader)
		for i := range n {
			typ, donor := "ALLO", donors[i%len(donors)]
			if i%3 == 0 {
				typ, donor = "AUTO", ""
			}
			fmt.Fprintf(w, "T%08d,P%08d,C%03d,%04d-%02d-%02d,%s,%s,PB,%s,EARLY,MAC,%d.5,M,90,%d\n",
				i, i, i%400, 1995+i%25, 1+i%12, 1+i%28, typ, donor, inds[i%len(inds)], 18+i%60, i%8)
		}
	})
	write("events.csv", func(w *bufio.Writer) {
		fmt.Fprintln(w, evHeader)
		for i := range n {
			y, m, d := 1995+i%25, 1+i%12, 1+i%28
			for k, e := range evs {
				grade, detail := "", ""
				switch e {
				case "agvhd":
					grade = fmt.Sprint(1 + i%4)
				case "cgvhd":
					grade = "MODERATE"
				case "infection":
					detail = `"CMV, reactivation"`
				}
				if i%3 == 0 && (e == "agvhd" || e == "cgvhd") {
					e = "infection"
				}
				fmt.Fprintf(w, "T%08d,%s,%04d-%02d-%02d,%s,%s\n", i, e, y+1+k/6, m, d, grade, detail)
			}
			fmt.Fprintf(w, "T%08d,last_contact,%04d-%02d-%02d,,\n", i, y+3, m, d)
		}
	})
}

// BenchmarkIngest measures Ingest against DuckDB's own CSV reader counting
// the same files' rows (read_csv, count(*)): the floor of any CSV ingest.
//
//	go test -tags duckdb_arrow -run XXX -bench Ingest ./transforms/ -args -ingest.transplants 1000000
func BenchmarkIngest(b *testing.B) {
	dir := *ingestBenchExtract
	if dir == "" {
		dir = b.TempDir()
		writeBenchExtract(b, dir, *ingestBenchTransplants)
	}
	ctx := context.Background()
	var size int64
	for _, f := range []string{"transplants.csv", "events.csv"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.Run("duckdb_count", func(b *testing.B) {
		db := ingestDB(b, 0)
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range []string{"transplants.csv", "events.csv"} {
				var n int64
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_csv($1)", filepath.Join(dir, f)).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("ingest", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			db := ingestDB(b, 0)
			b.StartTimer()
			if _, err := Ingest(ctx, db, dir, IngestOptions{MaxRejectRate: DefaultMaxRejectRate}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
	})
}
