package duck

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestOpenIsOffline: every session has extension autoinstall and autoload
// off, so no query can reach for the network.
func TestOpenIsOffline(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Threads: 1, MemoryLimit: "512MB", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, setting := range []string{"autoinstall_known_extensions", "autoload_known_extensions"} {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT current_setting($1)::VARCHAR", setting).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "false" {
			t.Errorf("%s = %s, want false", setting, v)
		}
	}
	var threads int
	db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&threads)
	if threads != 1 {
		t.Errorf("threads = %d, want 1", threads)
	}
	if _, err := db.ExecContext(ctx, "SELECT * FROM read_json('https://example.org/x.json')"); err == nil {
		t.Error("a query reached for an http URL without the httpfs extension loaded")
	}
}

// TestQueryArrowTypes: BIGINT, DOUBLE and VARCHAR (with NULLs) arrive as
// Int64, Float64 and String arrays across batches, with and without the
// duckdb_arrow tag.
func TestQueryArrowTypes(t *testing.T) {
	ctx := context.Background()
	conn := testConn(t, Options{})
	const n = 200000 // more than one batch either way
	var rows, sum int64
	var nulls int
	err := QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		ids := rec.Column(0).(*array.Int64)
		xs := rec.Column(1).(*array.Float64)
		ss := rec.Column(2).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			sum += ids.Value(i)
			if xs.Value(i) != float64(ids.Value(i))/2 {
				t.Fatalf("row %d: x = %v", ids.Value(i), xs.Value(i))
			}
			if ss.IsNull(i) {
				nulls++
			}
		}
		rows += rec.NumRows()
		return nil
	}, `SELECT CAST(i AS BIGINT) AS id, CAST(i / 2 AS DOUBLE) AS x,
       CAST(CASE WHEN i % 10 = 0 THEN NULL ELSE 'v' || i END AS VARCHAR) AS s
FROM range($1) AS t(i)
ORDER BY id`, n)
	if err != nil {
		t.Fatal(err)
	}
	if rows != n || sum != n*(n-1)/2 || nulls != n/10 {
		t.Errorf("rows %d sum %d nulls %d; want %d, %d, %d", rows, sum, nulls, n, n*(n-1)/2, n/10)
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"Binder Error: Referenced column \"x\" not found\n\nLINE 1: SELECT x FROM t\n               ^", `Binder Error: Referenced column "x" not found LINE 1: SELECT x FROM t`},
		{"Out of Memory Error: failed\r\n  details  \n", "Out of Memory Error: failed details"},
	} {
		if got := OneLineText(tc.in); got != tc.want {
			t.Errorf("OneLineText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
