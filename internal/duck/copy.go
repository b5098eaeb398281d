package duck

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// execer is *sql.DB or *sql.Conn.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// CopyParquet writes the result of query to path as Parquet with DuckDB's
// own writer. query must end in ORDER BY a unique key: then the file is
// byte-identical across runs and thread counts. COPY takes no bound
// parameter for its target, so the path is quoted as a literal here and
// nowhere else.
func CopyParquet(ctx context.Context, db execer, query, path string) error {
	if _, err := db.ExecContext(ctx, CopyParquetStmt(query, path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CopyParquetStmt is the COPY statement CopyParquet runs, for a caller
// that runs it itself (StreamArrow). A query without ORDER BY must give
// its rows in one order whatever the thread count: a table scan, or a
// stream scanned on one thread.
func CopyParquetStmt(query, path string) string {
	return CopyParquetStmtWith(query, path, "")
}

// CopyParquetStmtWith is CopyParquetStmt with more of COPY's Parquet
// options (opts: "NAME value, ..."; "" for none).
func CopyParquetStmtWith(query, path, opts string) string {
	if opts != "" {
		opts = ", " + opts
	}
	return fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd%s)", query, Literal(path), opts)
}

// Literal quotes s as a SQL string literal, for the few places (file paths
// of COPY, read_parquet, SET) where DuckDB takes no bound parameter.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
