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
// (GODEBUG=gctrace=1), on top of DuckDB's memory_limit. A run is to stay
// within DuckDB's limit plus 1 GiB, and that GiB holds more than Go's
// heap: DuckDB's memory outside its buffer pool, the Arrow buffers it
// hands over, the binary and the stacks. At 5M, during the centre models
// (DuckDB at its limit, writing cohort.parquet), the peak RSS was 3,186
// MiB with a 1 GiB Go limit (Go's heap in use 0.8-0.93 GB, live 0.3-0.56),
// 2,921 with 768 MiB and 2,810 with 640 MiB (the bound: 2,931); at 1M the
// 640 MiB limit cost nothing (analyze pairs wall 1.00, peak 1,481 → 1,326
// MiB). README, Performance.
const goMemoryLimit = 640 << 20

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
