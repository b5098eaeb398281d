// Package queries holds marrow's DuckDB SQL. Each *.sql file is one
// statement, named for what it returns; the files are the source of truth
// and are embedded into the binary here. A *.sql.tmpl file is a statement
// rendered with text/template from the endpoint definitions and the
// analysis (transforms renders them; the default analysis's rendering is
// kept as a golden file under transforms/testdata).
package queries

import "embed"

// FS holds every *.sql and *.sql.tmpl file of this directory.
//
//go:embed *.sql *.sql.tmpl
var FS embed.FS
