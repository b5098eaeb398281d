package duck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var insertSchema = arrow.NewSchema([]arrow.Field{
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32},
	{Name: "u", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// insertBatch is rows first..first+n-1 of the test table: NULLs in s, i
// and x every 7th row, x exact non-trivial doubles.
func insertBatch(first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, insertSchema)
	defer b.Release()
	for r := first; r < first+n; r++ {
		if r%7 == 0 {
			b.Field(0).AppendNull()
			b.Field(1).AppendNull()
			b.Field(3).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(strings.Repeat("é", r%5) + "," + `"`)
			b.Field(1).(*array.Int32Builder).Append(int32(-r))
			b.Field(3).(*array.Float64Builder).Append(math.Nextafter(float64(r)/3, math.Inf(1)))
		}
		b.Field(2).(*array.Int64Builder).Append(int64(r) << 33)
		b.Field(4).(*array.Date32Builder).Append(arrow.Date32(r % 40000))
		b.Field(5).(*array.Uint64Builder).Append(math.MaxUint64 - uint64(r))
		b.Field(6).(*array.BooleanBuilder).Append(r%3 == 1)
	}
	return b.NewRecordBatch()
}

// TestInsertArrow: batches sent on the channel arrive in the table with
// every value and NULL intact, with or without the duckdb_arrow tag (every
// Arrow type marrow loads: the event summary has UBIGINT and BOOLEAN
// columns).
func TestInsertArrow(t *testing.T) {
	ctx := context.Background()
	conn := testConn(t, Options{Threads: 2})
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (s VARCHAR, i INTEGER, n BIGINT NOT NULL, x DOUBLE, d DATE NOT NULL, u UBIGINT NOT NULL, b BOOLEAN NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const batches, per = 5, 30000
	ch := make(chan arrow.RecordBatch)
	go func() {
		defer close(ch)
		for k := range batches {
			ch <- insertBatch(k*per, per)
		}
	}()
	if err := InsertArrow(ctx, conn, "t", insertSchema, ch, "INSERT INTO t SELECT * FROM "+StreamView); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT s, i, n, x, d, u, b FROM t ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := insertBatch(0, batches*per)
	defer want.Release()
	r := 0
	for ; rows.Next(); r++ {
		var s *string
		var i *int32
		var n int64
		var x *float64
		var d time.Time
		var u uint64
		var bv bool
		if err := rows.Scan(&s, &i, &n, &x, &d, &u, &bv); err != nil {
			t.Fatal(err)
		}
		if n != want.Column(2).(*array.Int64).Value(r) {
			t.Fatalf("row %d: n = %d", r, n)
		}
		if u != want.Column(5).(*array.Uint64).Value(r) {
			t.Fatalf("row %d: u = %d", r, u)
		}
		if bv != want.Column(6).(*array.Boolean).Value(r) {
			t.Fatalf("row %d: b = %v", r, bv)
		}
		if wantDay := int64(want.Column(4).(*array.Date32).Value(r)); d.Unix()/86400 != wantDay {
			t.Fatalf("row %d: d = %v, want day %d", r, d, wantDay)
		}
		if want.Column(0).IsNull(r) {
			if s != nil || i != nil || x != nil {
				t.Fatalf("row %d: want NULLs, got %v %v %v", r, s, i, x)
			}
			continue
		}
		if s == nil || *s != want.Column(0).(*array.String).Value(r) ||
			i == nil || *i != want.Column(1).(*array.Int32).Value(r) ||
			x == nil || *x != want.Column(3).(*array.Float64).Value(r) {
			t.Fatalf("row %d: got %v %v %v", r, s, i, x)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if r != batches*per {
		t.Errorf("%d rows in the table, want %d", r, batches*per)
	}
}

// TestInsertArrowCancelled: a cancelled context ends InsertArrow while its
// producer is stalled, with the context's error, instead of waiting for a
// batch that never comes.
func TestInsertArrowCancelled(t *testing.T) {
	conn := testConn(t, Options{Threads: 2})
	if _, err := conn.ExecContext(context.Background(), "CREATE TABLE t (s VARCHAR, i INTEGER, n BIGINT NOT NULL, x DOUBLE, d DATE NOT NULL, u UBIGINT NOT NULL, b BOOLEAN NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan arrow.RecordBatch, 1)
	ch <- insertBatch(0, 100) // then the producer stalls
	time.AfterFunc(50*time.Millisecond, cancel)
	err := InsertArrow(ctx, conn, "t", insertSchema, ch, "INSERT INTO t SELECT * FROM "+StreamView)
	if !errors.Is(err, context.Canceled) && (err == nil || !strings.Contains(err.Error(), "nterrupt")) {
		t.Fatalf("InsertArrow = %v, want cancellation", err)
	}
}

// testConn is a connection to a fresh in-memory database, closed with the
// test.
func testConn(t testing.TB, opts Options) *sql.Conn {
	t.Helper()
	db, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestStreamArrowConcurrent: streams copied at once on two connections of
// one database each reach their own statement (the stream views are the
// database's: one name for both would let one COPY scan, or drop, the
// other's stream).
func TestStreamArrowConcurrent(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const calls, batches, per = 4, 6, 5000
	errs := make(chan error, calls)
	for c := range calls {
		go func() {
			errs <- func() error {
				conn, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer conn.Close()
				table := fmt.Sprintf("t%d", c)
				if _, err := conn.ExecContext(ctx, "CREATE TABLE "+table+" (s VARCHAR, i INTEGER, n BIGINT NOT NULL, x DOUBLE, d DATE NOT NULL, u UBIGINT NOT NULL, b BOOLEAN NOT NULL)"); err != nil {
					return err
				}
				ch := make(chan arrow.RecordBatch)
				go func() {
					defer close(ch)
					for k := range batches {
						ch <- insertBatch((c*batches+k)*per, per)
						time.Sleep(time.Millisecond) // keep the streams open together
					}
				}()
				out := fmt.Sprintf("o%d", c)
				err = StreamArrow(ctx, conn, table, insertSchema, ch,
					"CREATE TABLE "+out+" AS SELECT * FROM "+StreamView)
				if err != nil {
					return err
				}
				var n, lo int64
				if err := conn.QueryRowContext(ctx, "SELECT count(*), min(n) FROM "+out).Scan(&n, &lo); err != nil {
					return err
				}
				if n != batches*per || lo != int64(c*batches*per)<<33 {
					return fmt.Errorf("%s: %d rows from %d, want %d from %d", table, n, lo>>33, batches*per, c*batches*per)
				}
				return nil
			}()
		}()
	}
	for range calls {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
