//go:build !duckdb_arrow

package cli

// arrowTag reports whether marrow was built with -tags duckdb_arrow.
const arrowTag = false
