package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryReadOnly: marrow query answers SELECTs over the warehouse and
// results, and refuses every way of writing, attaching, installing or
// loading extensions, or reading files outside those two directories.
func TestQueryReadOnly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runDemo(t, out, DefaultConfig())
	wh := filepath.Join(out, "warehouse")
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, []byte("a\nsecret\n"), 0o644)
	target := filepath.Join(wh, "evil.parquet")

	ok := []struct{ sql, want string }{
		{"SELECT count(*) AS n FROM cohort", "n\n1926\n"},
		{"SELECT count(*) AS n FROM landmarks WHERE endpoint = 'os' AND transplant_type = '*' AND donor_type = '*' AND indication = '*'", "n\n6\n"},
		{"SELECT 'x' AS a, '=HYPERLINK(1)' AS b", "a,b\nx,'=HYPERLINK(1)\n"},
	}
	for _, tc := range ok {
		var buf bytes.Buffer
		if err := Query(context.Background(), QueryOptions{Warehouse: wh, SQL: tc.sql, Out: &buf}); err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s = %q, want %q", tc.sql, buf.String(), tc.want)
		}
	}
	refused := []string{
		"CREATE TABLE x AS SELECT 1",
		"INSERT INTO transplants SELECT * FROM transplants",
		"DELETE FROM cohort",
		"DROP VIEW cohort",
		"COPY (SELECT 1) TO '" + target + "' (FORMAT parquet)",
		"COPY cohort TO '" + target + "'",
		"EXPORT DATABASE '" + filepath.Join(wh, "exp") + "'",
		"ATTACH '" + filepath.Join(wh, "x.duckdb") + "' AS x",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET enable_external_access = true",
		"PRAGMA enable_profiling",
		"SELECT * FROM read_csv('" + outside + "')",
		"SELECT * FROM read_text('/etc/passwd')",
		"SELECT * FROM '" + outside + "'",
		"SELECT 1; DROP VIEW cohort",
		"CALL dbgen(sf = 0.01)",
	}
	for _, q := range refused {
		t.Run(q, func(t *testing.T) {
			var buf bytes.Buffer
			err := Query(context.Background(), QueryOptions{Warehouse: wh, SQL: q, Out: &buf})
			if err == nil {
				t.Fatalf("accepted; output %q", buf.String())
			}
			if strings.Contains(buf.String(), "secret") || strings.Contains(buf.String(), "root:") {
				t.Errorf("leaked file contents: %q", buf.String())
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	if _, err := os.Stat(target); err == nil {
		t.Errorf("a refused statement wrote %s", target)
	}
}
