// Command marrow turns an HSCT registry extract into a Parquet warehouse,
// outcome estimates and a report. See `marrow --help`.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"marrow/cmd/marrow/cli"
)

func main() { os.Exit(run()) }

// goMemoryLimit is Go's soft memory limit unless GOMEMLIMIT sets one. Go's
// collector otherwise lets the heap grow to twice what is live: 2 GB of
// heap for 0.7 GB live in the centre benchmark of 5,000,000 transplants
// (GODEBUG=gctrace=1), on top of DuckDB's memory_limit. With the limit
// the heap is collected as it nears 1 GiB, so a run stays within DuckDB's
// limit plus about 1 GiB while what is live fits (README, Performance).
const goMemoryLimit = 1 << 30

// run is main; MARROW_CPUPROFILE=FILE writes a Go CPU profile of the whole
// command to FILE (for `go tool pprof`; README, Performance).
func run() int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(goMemoryLimit)
	}
	if path := os.Getenv("MARROW_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "marrow: MARROW_CPUPROFILE: %v\n", err)
			return 2
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	return cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
