// Command sqlprof runs SQL statements against a fresh in-memory DuckDB
// session opened as marrow opens its own (offline, same settings) and
// prints each statement's wall time, CPU time, row count and first rows. It is how
// the queries/ files were profiled: put
//
//	CREATE TABLE cohort AS SELECT * FROM 'OUT/warehouse/cohort.parquet'
//	;;
//	PRAGMA enable_profiling = 'query_tree'
//	;;
//	<the query, with $1 replaced by a literal>
//
// in a file (statements separated by lines holding only ";;") and run
// go run -tags duckdb_arrow ./scripts/sqlprof FILE.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"marrow/internal/duck"
)

// shownRows is how many result rows each statement prints.
const shownRows = 40

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sqlprof FILE  (statements separated by lines holding only ;;)")
		os.Exit(2)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	for _, stmt := range strings.Split(string(text), "\n;;\n") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		start, cpu := time.Now(), cpuSeconds()
		n, err := run(ctx, db, stmt)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		head := strings.Join(strings.Fields(stmt), " ")
		if len(head) > 70 {
			head = head[:70]
		}
		fmt.Printf("== %.3f s, cpu %.3f s, %d rows: %s\n", time.Since(start).Seconds(), cpuSeconds()-cpu, n, head)
	}
}

// cpuSeconds is the CPU time (user + system) of this process so far: on a
// shared machine a steadier measure of a statement's work than its wall
// time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// run runs stmt, prints its first rows and returns how many it gave.
func run(ctx context.Context, db *sql.DB, stmt string) (int, error) {
	rows, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for ; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if n < shownRows {
			for _, v := range vals {
				fmt.Printf("%v\t", v)
			}
			fmt.Println()
		}
	}
	return n, rows.Err()
}
