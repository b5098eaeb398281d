//go:build duckdb_arrow

package transforms

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"

	"marrow/queries"
)

// loadBatches inserts the record batches received on batches into table:
// they are exposed to DuckDB as the Arrow stream view ingest_stream and
// copied by queries/load_<table>.sql, so DuckDB converts whole columns
// while the parser and the validator keep producing.
func loadBatches(ctx context.Context, conn *sql.Conn, table string, schema *arrow.Schema, batches <-chan arrow.RecordBatch) error {
	rdr := &chanReader{schema: schema, ch: batches, ctx: ctx}
	rdr.refs.Store(1)
	var release func()
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = ar.RegisterView(rdr, "ingest_stream")
		return err
	})
	if err != nil {
		return err
	}
	defer func() {
		// Drop the view before releasing its stream, so that nothing can
		// scan a released stream (arrow-go panics on "invalid Handle"
		// when DuckDB calls get_next on one).
		conn.ExecContext(context.WithoutCancel(ctx), queries.Text("drop_ingest_stream"))
		release()
	}()
	_, err = conn.ExecContext(ctx, queries.Text("load_"+table))
	if err == nil {
		err = rdr.err
	}
	return err
}

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
