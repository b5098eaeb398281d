//go:build !duckdb_arrow

package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// InsertArrow copies the record batches received on batches into table's
// columns of the same names, row by row through duckdb-go's Appender: the
// fallback for builds without the duckdb_arrow tag, where stmt (the
// INSERT over the Arrow view StreamView) cannot run and is not used.
// It returns as the tagged version does; after an error the rows appended
// so far stay in the table.
func InsertArrow(ctx context.Context, conn *sql.Conn, table string, schema *arrow.Schema, batches <-chan arrow.RecordBatch, stmt string) error {
	columns := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		columns[i] = f.Name
	}
	return conn.Raw(func(dc any) error {
		a, err := NewAppender(dc.(driver.Conn), table, columns)
		if err != nil {
			return fmt.Errorf("appender %s: %w", table, err)
		}
		row := make([]driver.Value, len(columns))
		for {
			select {
			case rec, ok := <-batches:
				if !ok {
					return a.Close()
				}
				err := appendRecord(a, rec, row)
				rec.Release()
				if err != nil {
					a.Close()
					return err
				}
			case <-ctx.Done():
				a.Close()
				return ctx.Err()
			}
		}
	})
}

// StreamArrow runs stmt, which reads the record batches received on
// batches as the view StreamView and writes nothing to table (a COPY ...
// TO a file). In this fallback the batches are appended to table (empty,
// with schema's columns), StreamView is a view of it while stmt runs, and
// the table is emptied after; with the duckdb_arrow tag DuckDB scans the
// stream itself.
func StreamArrow(ctx context.Context, conn *sql.Conn, table string, schema *arrow.Schema, batches <-chan arrow.RecordBatch, stmt string) error {
	defer conn.ExecContext(context.WithoutCancel(ctx), "DELETE FROM "+table)
	if err := InsertArrow(ctx, conn, table, schema, batches, ""); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+StreamView+" AS SELECT * FROM "+table); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+StreamView)
	_, err := conn.ExecContext(ctx, stmt)
	return err
}

func appendRecord(a interface{ AppendRow(...driver.Value) error }, rec arrow.RecordBatch, row []driver.Value) error {
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		for c, col := range cols {
			if col.IsNull(i) {
				row[c] = nil
				continue
			}
			switch x := col.(type) {
			case *array.String:
				row[c] = x.Value(i)
			case *array.Date32:
				row[c] = time.Unix(int64(x.Value(i))*86400, 0).UTC()
			case *array.Float64:
				row[c] = x.Value(i)
			case *array.Int32:
				row[c] = x.Value(i)
			case *array.Int64:
				row[c] = x.Value(i)
			case *array.Uint64:
				row[c] = x.Value(i)
			case *array.Boolean:
				row[c] = x.Value(i)
			default:
				return fmt.Errorf("appender: unexpected column type %s", col.DataType())
			}
		}
		if err := a.AppendRow(row...); err != nil {
			return err
		}
	}
	return nil
}
