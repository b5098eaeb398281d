//go:build duckdb_arrow

package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
)

// InsertArrow copies the record batches received on batches into table.
// With the duckdb_arrow tag the channel is exposed to DuckDB as the Arrow
// stream view StreamView and stmt, an INSERT INTO table ... SELECT ...
// FROM arrow_stream, runs over it: DuckDB converts whole columns while
// the producers keep producing. Without the tag the batches are appended
// to table row by row, by field name, and stmt is not used — so stmt must
// be a plain copy of the fields.
//
// InsertArrow returns when batches is closed and drained, on the first
// error, or when ctx is done. After an error the table may hold some of
// the rows (the appender flushes what it has): run it in a transaction,
// or discard the table.
func InsertArrow(ctx context.Context, conn *sql.Conn, table string, schema *arrow.Schema, batches <-chan arrow.RecordBatch, stmt string) error {
	rdr := &chanReader{schema: schema, ch: batches, ctx: ctx}
	rdr.refs.Store(1)
	// The view duckdb-go registers is the database's, not the
	// connection's: calls running at once (the estimate stage's curves
	// writes) each get a name of their own, put in stmt for StreamView,
	// or one would scan — or drop — another's stream.
	view := fmt.Sprintf("%s_%d", StreamView, streams.Add(1))
	stmt = strings.ReplaceAll(stmt, StreamView, view)
	var release func()
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = ar.RegisterView(rdr, view)
		return err
	})
	if err != nil {
		return err
	}
	defer func() {
		// Drop the view before releasing its stream, so that nothing can
		// scan a released stream (arrow-go panics on "invalid Handle"
		// when DuckDB calls get_next on one).
		conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+view)
		release()
	}()
	_, err = conn.ExecContext(ctx, stmt)
	if err == nil {
		err = rdr.err
	}
	return err
}

// StreamArrow runs stmt, which reads the record batches received on
// batches as the view StreamView and writes nothing to table (a COPY ...
// TO a file). With the duckdb_arrow tag DuckDB scans the stream as it
// comes; without it the batches are appended to table (empty, with
// schema's columns), StreamView is a view of it while stmt runs, and the
// table is emptied after. It returns as InsertArrow does.
func StreamArrow(ctx context.Context, conn *sql.Conn, table string, schema *arrow.Schema, batches <-chan arrow.RecordBatch, stmt string) error {
	return InsertArrow(ctx, conn, table, schema, batches, stmt)
}

// streams numbers the stream views.
var streams atomic.Int64

// chanReader is an array.RecordReader over a channel of record batches.
type chanReader struct {
	refs   atomic.Int64
	schema *arrow.Schema
	ch     <-chan arrow.RecordBatch
	ctx    context.Context
	cur    arrow.RecordBatch
	err    error
}

func (r *chanReader) Retain() { r.refs.Add(1) }

func (r *chanReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *chanReader) Schema() *arrow.Schema { return r.schema }

func (r *chanReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	select {
	case rec, ok := <-r.ch:
		if !ok {
			return false
		}
		r.cur = rec
		return true
	case <-r.ctx.Done():
		r.err = r.ctx.Err()
		return false
	}
}

func (r *chanReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch, for the deprecated interface method.
func (r *chanReader) Record() arrow.RecordBatch { return r.cur }

func (r *chanReader) Err() error { return r.err }
