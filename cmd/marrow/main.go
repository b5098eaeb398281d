// Command marrow turns an HSCT registry extract into a Parquet warehouse,
// outcome estimates and a report. See `marrow --help`.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"marrow/cmd/marrow/cli"
)

func main() { os.Exit(run()) }

// run is main; MARROW_CPUPROFILE=FILE writes a Go CPU profile of the whole
// command to FILE (for `go tool pprof`; README, Performance).
func run() int {
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
