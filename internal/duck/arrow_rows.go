//go:build !duckdb_arrow

package duck

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// batchRows is the batch size of the row-by-row fallback.
const batchRows = 1 << 16

// QueryArrow runs query on conn and returns its result as Arrow record
// batches. This is the fallback used when marrow is built without the
// duckdb_arrow tag: it scans rows through database/sql and rebuilds Arrow
// columns (BIGINT/INTEGER, DOUBLE, VARCHAR, BOOLEAN, DATE as int64 days
// are enough for marrow's queries). Build with -tags duckdb_arrow for the
// zero-copy path; both give the same batches' contents.
func QueryArrow(ctx context.Context, conn *sql.Conn, fn func(arrow.RecordBatch) error, query string, args ...any) error {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	fields := make([]arrow.Field, len(cts))
	for i, ct := range cts {
		var dt arrow.DataType
		switch ct.DatabaseTypeName() {
		case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER":
			dt = arrow.PrimitiveTypes.Int64
		case "DOUBLE", "FLOAT", "DECIMAL":
			dt = arrow.PrimitiveTypes.Float64
		case "BOOLEAN":
			dt = arrow.FixedWidthTypes.Boolean
		case "VARCHAR":
			dt = arrow.BinaryTypes.String
		default:
			return fmt.Errorf("arrow fallback: column %s has unsupported type %s", ct.Name(), ct.DatabaseTypeName())
		}
		fields[i] = arrow.Field{Name: ct.Name(), Type: dt, Nullable: true}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	vals := make([]any, len(fields))
	ptrs := make([]any, len(fields))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		n = 0
		return fn(rec)
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			if v == nil {
				b.Field(i).AppendNull()
				continue
			}
			switch fb := b.Field(i).(type) {
			case *array.Int64Builder:
				switch x := v.(type) {
				case int64:
					fb.Append(x)
				case int32:
					fb.Append(int64(x))
				case int16:
					fb.Append(int64(x))
				case int8:
					fb.Append(int64(x))
				case uint64:
					fb.Append(int64(x))
				case uint32:
					fb.Append(int64(x))
				default:
					return fmt.Errorf("arrow fallback: column %s: unexpected %T", fields[i].Name, v)
				}
			case *array.Float64Builder:
				switch x := v.(type) {
				case float64:
					fb.Append(x)
				case float32:
					fb.Append(float64(x))
				default:
					return fmt.Errorf("arrow fallback: column %s: unexpected %T", fields[i].Name, v)
				}
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.StringBuilder:
				fb.Append(v.(string))
			}
		}
		if n++; n == batchRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 {
		return flush()
	}
	return nil
}
