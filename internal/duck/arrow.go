//go:build duckdb_arrow

package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
)

// QueryArrow runs query on conn and returns its result as Arrow record
// batches, straight from DuckDB's columnar vectors (duckdb-go's Arrow
// interface, build tag duckdb_arrow). fn must not keep the batches after it
// returns.
func QueryArrow(ctx context.Context, conn *sql.Conn, fn func(arrow.RecordBatch) error, query string, args ...any) error {
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return fmt.Errorf("arrow interface: %w", err)
		}
		rdr, err := ar.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			if err := fn(rdr.RecordBatch()); err != nil {
				return err
			}
		}
		return rdr.Err()
	})
}
