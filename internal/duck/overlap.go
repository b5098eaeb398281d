package duck

import (
	"errors"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// Overlapped runs fn on another goroutine, one batch after another in the
// order feed is given them, so that a QueryArrow caller decodes a batch
// while DuckDB makes the next: feed retains the batch and returns at once
// (ErrBatchFailed once fn has failed, without taking the batch, which
// stops the query). wait, called once after the last feed, waits for fn to
// finish and returns its first error.
func Overlapped(fn func(arrow.RecordBatch) error) (feed func(arrow.RecordBatch) error, wait func() error) {
	batches := make(chan arrow.RecordBatch, 4)
	done := make(chan struct{})
	var failed atomic.Bool
	var ferr error
	go func() {
		defer close(done)
		for rec := range batches {
			if ferr == nil {
				if ferr = fn(rec); ferr != nil {
					failed.Store(true)
				}
			}
			rec.Release()
		}
	}()
	feed = func(rec arrow.RecordBatch) error {
		if failed.Load() {
			return ErrBatchFailed
		}
		rec.Retain()
		batches <- rec
		return nil
	}
	wait = func() error {
		close(batches)
		<-done
		return ferr
	}
	return feed, wait
}

// ErrBatchFailed stops a query whose batches Overlapped's fn has failed
// on; wait returns that error.
var ErrBatchFailed = errors.New("batch failed")
