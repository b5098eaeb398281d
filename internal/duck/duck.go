// Package duck opens marrow's DuckDB sessions: in-process, with extension
// autoinstall and autoload off so that nothing reaches for the network, and
// with threads, memory limit and spill directory set deliberately.
package duck

import (
	"context"
	"database/sql"
	"fmt"

	"database/sql/driver"

	"github.com/duckdb/duckdb-go/v2"
)

// Options are the DuckDB settings of one marrow session.
type Options struct {
	Threads     int    // 0: DuckDB's default (all cores)
	MemoryLimit string // e.g. "4GB"; "" keeps DuckDB's default
	TempDir     string // spill directory; "" keeps DuckDB's default
}

// Open returns an in-memory DuckDB database configured by opts. The caller
// closes it.
func Open(ctx context.Context, opts Options) (*sql.DB, error) {
	connector, err := duckdb.NewConnector("", func(execer driver.ExecerContext) error {
		stmts := []string{
			"SET autoinstall_known_extensions = false",
			"SET autoload_known_extensions = false",
		}
		for _, s := range stmts {
			if _, err := execer.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("duckdb %q: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	set := []string{}
	if opts.Threads > 0 {
		set = append(set, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "" {
		set = append(set, "SET memory_limit = "+Literal(opts.MemoryLimit))
	}
	if opts.TempDir != "" {
		set = append(set, "SET temp_directory = "+Literal(opts.TempDir))
	}
	for _, s := range set {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb %q: %w", s, err)
		}
	}
	return db, nil
}

// StreamView is the view name under which InsertArrow shows its record
// batches to the statement that copies them.
const StreamView = "arrow_stream"
