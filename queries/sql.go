package queries

import "fmt"

// Text returns the SQL of name (without the .sql suffix). It panics on an
// unknown name: the set of files is fixed at build time, so a missing one is
// a programming error caught by the package tests.
func Text(name string) string {
	b, err := FS.ReadFile(name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("queries: no %s.sql: %v", name, err))
	}
	return string(b)
}

// Template returns the text of the template name (without the .sql.tmpl
// suffix). It panics on an unknown name, as Text does.
func Template(name string) string {
	b, err := FS.ReadFile(name + ".sql.tmpl")
	if err != nil {
		panic(fmt.Sprintf("queries: no %s.sql.tmpl: %v", name, err))
	}
	return string(b)
}
