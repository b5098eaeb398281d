package duck

import (
	"database/sql/driver"

	"github.com/duckdb/duckdb-go/v2"
)

// NewAppender returns a DuckDB appender for table's columns on a raw
// connection (from sql.Conn.Raw): the fast path for loading rows built in Go.
func NewAppender(dc driver.Conn, table string, columns []string) (*duckdb.Appender, error) {
	return duckdb.NewAppenderWithColumns(dc, "", "", table, columns)
}
