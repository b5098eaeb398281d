// Package queries holds marrow's DuckDB SQL. Each *.sql file is one
// statement, named for what it returns; the files are the source of truth
// and are embedded into the binary here.
package queries

import "embed"

// FS holds every *.sql file of this directory.
//
//go:embed *.sql
var FS embed.FS
