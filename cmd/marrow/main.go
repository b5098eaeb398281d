// Command marrow turns an HSCT registry extract into a Parquet warehouse,
// outcome estimates and a report. See `marrow --help`.
package main

import (
	"os"

	"marrow/cmd/marrow/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
