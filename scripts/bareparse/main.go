// Command bareparse is the benchmark baseline: DuckDB's own CSV reader on
// an extract's two files, nothing else. With -convert DIR it is DuckDB's
// own conversion of both files to zstd Parquet (COPY (FROM read_csv(...))
// TO ... (FORMAT parquet, COMPRESSION zstd)) instead of a row count.
// marrow's ingest, run and analyze are reported as multiples of these
// times, measured in the same run (scripts/bench.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"marrow/internal/duck"
)

func main() {
	convert := flag.String("convert", "", "write each CSV as zstd Parquet into this directory instead of counting rows")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: bareparse [-convert DIR] EXTRACT_DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	if *convert != "" {
		if err := os.MkdirAll(*convert, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	start := time.Now()
	for _, f := range []string{"transplants.csv", "events.csv"} {
		path := duck.Literal(filepath.Join(flag.Arg(0), f))
		if *convert != "" {
			// The conversion a DuckDB user would write: column types
			// sniffed by read_csv, as in the baseline.
			src := "read_csv(" + path + ")"
			dst := filepath.Join(*convert, strings.TrimSuffix(f, ".csv")+".parquet")
			q := "COPY (FROM " + src + ") TO " + duck.Literal(dst) + " (FORMAT parquet, COMPRESSION zstd)"
			if _, err := db.ExecContext(ctx, q); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Printf("%s -> %s\n", f, dst)
			continue
		}
		var n int64
		src := "read_csv(" + path + ", header = true, all_varchar = true)"
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+src).Scan(&n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s rows=%d\n", f, n)
	}
	fmt.Printf("BARE_SECONDS=%.3f\n", time.Since(start).Seconds())
}
