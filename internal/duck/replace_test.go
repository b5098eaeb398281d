//go:build duckdb_arrow

package duck

import "testing"

// TestReplaceName: the stream's name is replaced where it names the view,
// never inside a literal (a path) or a longer name.
func TestReplaceName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"INSERT INTO t SELECT * FROM arrow_stream", "INSERT INTO t SELECT * FROM v_1"},
		{"COPY (SELECT a FROM arrow_stream) TO '/x/arrow_stream/f.parquet' (FORMAT parquet)",
			"COPY (SELECT a FROM v_1) TO '/x/arrow_stream/f.parquet' (FORMAT parquet)"},
		{"SELECT 'it''s arrow_stream' FROM arrow_stream", "SELECT 'it''s arrow_stream' FROM v_1"},
		{"SELECT * FROM arrow_streams, my_arrow_stream", "SELECT * FROM arrow_streams, my_arrow_stream"},
		{"arrow_stream", "v_1"},
	} {
		if got := replaceName(c.in, StreamView, "v_1"); got != c.want {
			t.Errorf("replaceName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
