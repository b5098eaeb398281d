// Command bareparse is the benchmark baseline: DuckDB's own CSV reader
// counting the rows of an extract's two files, nothing else. marrow's
// ingest and run are reported as multiples of its time, measured in the
// same run (scripts/bench.sh).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"marrow/internal/duck"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bareparse EXTRACT_DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	start := time.Now()
	for _, f := range []string{"transplants.csv", "events.csv"} {
		var n int64
		q := "SELECT count(*) FROM read_csv(" + duck.Literal(filepath.Join(os.Args[1], f)) + ", header = true, all_varchar = true)"
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s rows=%d\n", f, n)
	}
	fmt.Printf("BARE_SECONDS=%.3f\n", time.Since(start).Seconds())
}
