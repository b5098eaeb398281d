package pipeline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"marrow/internal/duck"
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
	written := filepath.Join(wh, "evil.csv")

	ok := []struct{ sql, want string }{
		{"SELECT count(*) AS n FROM cohort", "n\n1926\n"},
		{"SELECT count(*) AS n FROM landmarks WHERE endpoint = 'os' AND transplant_type = '*' AND donor_type = '*' AND indication = '*'", "n\n6\n"},
		{"SELECT 'x' AS a, '=HYPERLINK(1)' AS b", "a,b\nx,'=HYPERLINK(1)\n"},
		{"SELECT count(*) AS n FROM rejects WHERE column_name IS NOT NULL", "n\n0\n"},
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
		// duckdb-go's PrepareContext runs every statement but the last:
		// this one wrote evil.csv into the warehouse before the check.
		"COPY (SELECT 42 AS x) TO '" + written + "'; SELECT 1",
		"SELECT 1; SELECT 2",
		"SELECT * FROM query('COPY (SELECT 1) TO ''" + written + "''')",
		"EXPLAIN SELECT 1",
		"CALL dbgen(sf = 0.01)",
		"",
		" ; ",
	}
	for _, q := range refused {
		t.Run(q, func(t *testing.T) {
			var buf bytes.Buffer
			err := Query(context.Background(), QueryOptions{Warehouse: wh, SQL: q, Out: &buf})
			if err == nil {
				t.Fatalf("accepted; output %q", buf.String())
			}
			if !IsBadInput(err) {
				t.Errorf("refusal is not bad input (exit 2): %v", err)
			}
			if strings.Contains(buf.String(), "secret") || strings.Contains(buf.String(), "root:") {
				t.Errorf("leaked file contents: %q", buf.String())
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	for _, f := range []string{target, written} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a refused statement wrote %s", f)
		}
	}
}

// queryFixture writes a small output directory: warehouse/t.parquet,
// results/r.parquet, results/analyses/by_year/landmarks.parquet and a
// manifest.json.
func queryFixture(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []struct{ path, query string }{
		{"warehouse/t.parquet", "SELECT range AS id, 'x' || range AS name FROM range(5) ORDER BY id"},
		{"results/r.parquet", "SELECT 'os' AS endpoint, 365 AS day, 0.5 AS estimate"},
		{"results/analyses/by_year/landmarks.parquet", "SELECT 2020 AS year, 0.75 AS estimate"},
	} {
		p := filepath.Join(out, f.path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := duck.CopyParquet(context.Background(), db, f.query, p); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte("{}\n"), 0o644)
	return out
}

func runQuery(t testing.TB, o QueryOptions) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	if o.Out == nil {
		o.Out = &buf
	}
	err := Query(context.Background(), o)
	return buf.String(), err
}

// valuesSQL has one column of each kind whose printing matters.
const valuesSQL = `SELECT -5 AS i, 2.0::DOUBLE AS d, 1.50::DECIMAL(4,2) AS dec,
	INTERVAL 3 MONTH AS iv, -INTERVAL 3 DAY AS niv, DATE '2020-01-31' AS day,
	TIMESTAMP '2020-01-31 10:00:00' AS ts, [1, 2] AS l, {'a': 1, 'b': 'x'} AS s,
	MAP {'k': 1} AS m, true AS b, NULL AS n, '=1+1' AS f, '-x' AS neg,
	'a"b,c' AS q, 'plain' AS "=h"`

// TestQueryFormats: each format prints DuckDB's own rendering of every kind
// of value; only text is neutralised against spreadsheet formulas, and only
// in CSV.
func TestQueryFormats(t *testing.T) {
	out := queryFixture(t)
	tests := []struct {
		name, format, sql, want string
	}{
		{"csv values", "csv", valuesSQL,
			`i,d,dec,iv,niv,day,ts,l,s,m,b,n,f,neg,q,'=h` + "\n" +
				`-5,2.0,1.50,3 months,-3 days,2020-01-31,2020-01-31 10:00:00,"[1, 2]","{'a': 1, 'b': x}",{k=1},true,,'=1+1,'-x,"a""b,c",plain` + "\n"},
		{"csv is the default", "", "SELECT -1.5 AS x, '+1' AS y", "x,y\n-1.5,'+1\n"},
		{"csv negative numbers", "csv", "SELECT -5 AS a, -0.25 AS b, -1e300::DOUBLE AS c, DATE '2020-01-01' - 1 AS d, -7::HUGEINT AS e",
			"a,b,c,d,e\n-5,-0.25,-1e+300,2019-12-31,-7\n"},
		{"csv text that looks like a number is still text", "csv", "SELECT '-5' AS t, '@x' AS u, 'a=b' AS v",
			"t,u,v\n'-5,'@x,a=b\n"},
		{"csv lists of text are not neutralised inside", "csv", "SELECT ['=1'] AS l", "l\n['=1']\n"},
		{"json values", "json", valuesSQL,
			`{"i":-5,"d":2.0,"dec":1.5,"iv":"3 months","niv":"-3 days","day":"2020-01-31","ts":"2020-01-31 10:00:00","l":[1,2],"s":{"a":1,"b":"x"},"m":{"k":1},"b":true,"n":null,"f":"=1+1","neg":"-x","q":"a\"b,c","=h":"plain"}` + "\n"},
		{"json one object per row", "json", "SELECT id FROM t ORDER BY id LIMIT 2", "{\"id\":0}\n{\"id\":1}\n"},
		{"json non-finite numbers are null", "json", "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::DOUBLE AS c", `{"a":null,"b":null,"c":null}` + "\n"},
		{"table", "table", "SELECT id, name, NULL AS n FROM t ORDER BY id DESC LIMIT 2",
			"┌────┬──────┬──────┐\n" +
				"│ id │ name │ n    │\n" +
				"├────┼──────┼──────┤\n" +
				"│  4 │ x4   │ NULL │\n" +
				"│  3 │ x3   │ NULL │\n" +
				"└────┴──────┴──────┘\n" +
				"2 rows\n"},
		{"table escapes control characters", "table", "SELECT 'a' || chr(27) || '[31m' || chr(10) || 'b' AS v, '=1' AS w",
			"┌──────────────┬────┐\n" +
				"│ v            │ w  │\n" +
				"├──────────────┼────┤\n" +
				"│ a\\x1b[31m\\nb │ =1 │\n" +
				"└──────────────┴────┘\n" +
				"1 row\n"},
		{"table wide characters", "table", "SELECT '日本' AS v, 12 AS n",
			"┌──────┬────┐\n" +
				"│ v    │ n  │\n" +
				"├──────┼────┤\n" +
				"│ 日本 │ 12 │\n" +
				"└──────┴────┘\n" +
				"1 row\n"},
		{"table no rows", "table", "SELECT id FROM t WHERE id < 0",
			"┌────┐\n│ id │\n├────┤\n└────┘\n0 rows\n"},
		{"duplicate column names", "csv", "SELECT 1 AS a, 2 AS a", "a,a\n1,2\n"},
		{"ORDER BY is kept", "csv", "SELECT id FROM t ORDER BY id DESC", "id\n4\n3\n2\n1\n0\n"},
		{"trailing semicolon and comment", "csv", "SELECT 1 AS x; -- done", "x\n1\n"},
		{"quotes in the statement", "csv", "SELECT 'it''s' AS x", "x\nit's\n"},
		{"SHOW TABLES", "csv", "SHOW TABLES", "name\nr\nt\n"},
		{"DESCRIBE", "csv", "SELECT column_name, column_type FROM (DESCRIBE t)", "column_name,column_type\nid,BIGINT\nname,VARCHAR\n"},
		{"results and analyses are tables", "csv", "SELECT r.estimate, b.year FROM r, by_year.landmarks AS b", "estimate,year\n0.5,2020\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runQuery(t, QueryOptions{Warehouse: out, SQL: tc.sql, Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestQueryTableWidths: the widths come from the first rows; a later
// wider cell is cut with an ellipsis, and so is any very long one, so
// every line of the table has the same width.
func TestQueryTableWidths(t *testing.T) {
	out := queryFixture(t)
	sql := "SELECT CASE WHEN range = 1500 THEN repeat('y', 30) ELSE 'x' END AS value, repeat('z', 100) AS w FROM range(2000) ORDER BY range"
	got, err := runQuery(t, QueryOptions{Warehouse: out, SQL: sql, Format: FormatTable})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "2000 rows" {
		t.Errorf("last line %q", last)
	}
	width := len([]rune(lines[0]))
	for i, l := range lines[:len(lines)-1] {
		if n := len([]rune(l)); n != width {
			t.Fatalf("line %d is %d wide, want %d: %q", i, n, width, l)
		}
	}
	if !strings.Contains(got, "│ yyyy… │") || !strings.Contains(got, strings.Repeat("z", tableMaxWidth-1)+"… │") {
		t.Errorf("cells not cut with an ellipsis:\n%s", lines[1500])
	}
}

// TestQueryWarehouseArg: --warehouse may be the output, its warehouse/ or
// its results/ (said in the log); anything else is refused.
func TestQueryWarehouseArg(t *testing.T) {
	out := queryFixture(t)
	sql := "SELECT (SELECT count(*) FROM t) AS t, (SELECT count(*) FROM r) AS r"
	for _, dir := range []string{out, filepath.Join(out, "warehouse"), filepath.Join(out, "results")} {
		var log bytes.Buffer
		got, err := runQuery(t, QueryOptions{Warehouse: dir, SQL: sql, Log: slog.New(slog.NewTextHandler(&log, nil))})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if got != "t,r\n5,1\n" {
			t.Errorf("%s: %q", dir, got)
		}
		if filepath.Base(dir) == "results" && !strings.Contains(log.String(), "is the results/ of output "+out) {
			t.Errorf("results/ not named in the log: %q", log.String())
		}
	}
	empty := t.TempDir()
	for _, tc := range []struct{ dir, want string }{
		{"", "needs --warehouse"},
		{filepath.Join(out, "nope"), "not a directory"},
		{empty, "has no tables"},
	} {
		_, err := runQuery(t, QueryOptions{Warehouse: tc.dir, SQL: "SELECT 1"})
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--warehouse %q: %v, want bad input %q", tc.dir, err, tc.want)
		}
	}
}

// errEnough stops a query from the writer's side.
var errEnough = errors.New("enough")

type stopAfter struct {
	n, limit int
}

func (w *stopAfter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n >= w.limit {
		return len(p), errEnough
	}
	return len(p), nil
}

// TestQueryLimits: results stream (a result far larger than the memory
// limit starts arriving at once), and a query stopped by the timeout or
// the memory limit fails (exit 1, not 2) naming the limit.
func TestQueryLimits(t *testing.T) {
	out := queryFixture(t)
	t.Run("streams", func(t *testing.T) {
		// Materialising 10^12 rows would hit the 64MB limit long before
		// the first 4 MB of CSV were written.
		w := &stopAfter{limit: 4 << 20}
		err := Query(context.Background(), QueryOptions{Warehouse: out, SQL: "SELECT * FROM range(1000000000000)",
			Out: w, MemoryLimit: "64MB"})
		if !errors.Is(err, errEnough) {
			t.Fatalf("err = %v, want the writer's error after %d bytes", err, w.n)
		}
	})
	tests := []struct {
		name, sql, mem string
		timeout        time.Duration
		want           string
	}{
		{"endless count", "SELECT count(*) FROM range(1000000000000)", "", 300 * time.Millisecond, "query: time limit 300ms reached"},
		{"recursive CTE", "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t", "", 300 * time.Millisecond, "query: time limit 300ms reached"},
		{"memory", "SELECT count(DISTINCT range) FROM range(1000000000)", "50MB", time.Hour, "query: memory limit 50MB reached"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runQuery(t, QueryOptions{Warehouse: out, SQL: tc.sql, Timeout: tc.timeout, MemoryLimit: tc.mem})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if IsBadInput(err) {
				t.Errorf("a stopped query is bad input (exit 2), want exit 1")
			}
		})
	}
	for _, tc := range []struct{ mem, want string }{{"lots", "--memory-limit"}} {
		_, err := runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT 1", MemoryLimit: tc.mem})
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--memory-limit %q: %v", tc.mem, err)
		}
	}
	if got := shortDuration(10 * time.Minute); got != "10m" {
		t.Errorf("shortDuration(10m) = %q", got)
	}
}

// TestQueryOutput: --output writes the same bytes as stdout, Parquet for a
// .parquet name; a failed query leaves the previous file and no debris;
// the output being queried cannot be written.
func TestQueryOutput(t *testing.T) {
	out := queryFixture(t)
	dir := t.TempDir()
	sql := "SELECT id, name FROM t ORDER BY id"
	want, err := runQuery(t, QueryOptions{Warehouse: out, SQL: sql, Format: FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "r.json")
	if _, err := runQuery(t, QueryOptions{Warehouse: out, SQL: sql, Format: FormatJSON, Output: js}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(js); string(b) != want {
		t.Errorf("--output r.json = %q, want %q", b, want)
	}

	pq := filepath.Join(dir, "r.parquet")
	if _, err := runQuery(t, QueryOptions{Warehouse: out, SQL: sql, Output: pq}); err != nil {
		t.Fatal(err)
	}
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, sum int64
	var names string
	if err := db.QueryRow("SELECT count(*), sum(id), string_agg(name, ',') FROM read_parquet(?)", pq).Scan(&n, &sum, &names); err != nil {
		t.Fatal(err)
	}
	if n != 5 || sum != 10 || names != "x0,x1,x2,x3,x4" {
		t.Errorf("r.parquet: %d rows, sum %d, names %s", n, sum, names)
	}

	for _, f := range []string{js, pq} {
		before, _ := os.ReadFile(f)
		_, err := runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT * FROM range(1000000000000)", Output: f, Timeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "time limit") {
			t.Fatalf("%s: err = %v", f, err)
		}
		if after, _ := os.ReadFile(f); !bytes.Equal(before, after) {
			t.Errorf("a stopped query changed %s", f)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("debris left: %v", ents)
	}

	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(out, link)
	for _, tc := range []struct {
		o    QueryOptions
		want string
	}{
		{QueryOptions{Output: filepath.Join(out, "results", "x.csv")}, "inside the output"},
		{QueryOptions{Output: filepath.Join(out, "x.parquet")}, "inside the output"},
		{QueryOptions{Output: filepath.Join(link, "results", "x.csv")}, "inside the output"},
		{QueryOptions{Output: dir}, "is a directory"},
		{QueryOptions{Output: filepath.Join(dir, "no", "x.csv")}, "does not exist"},
		{QueryOptions{Output: filepath.Join(dir, "x.parquet"), Format: FormatJSON}, "is Parquet"},
		{QueryOptions{Format: "xml"}, "want csv, json or table"},
		{QueryOptions{Format: FormatParquet}, "needs --output FILE.parquet"},
	} {
		tc.o.Warehouse, tc.o.SQL = out, "SELECT 1"
		_, err := runQuery(t, tc.o)
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want bad input %q", tc.o, err, tc.want)
		}
	}
}

// TestQueryRuntimeError: an error met while the rows stream is one line
// naming the problem, not the wrapper marrow runs the statement in.
func TestQueryRuntimeError(t *testing.T) {
	out := queryFixture(t)
	_, err := runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT CAST(CASE WHEN range = 5000 THEN 'x' ELSE '1' END AS INT) AS v FROM range(10000)"})
	if err == nil || !IsBadInput(err) || err.Error() != "query: Conversion Error: Could not convert string 'x' to INT32" {
		t.Errorf("err = %v", err)
	}
	_, err = runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT nope FROM t"})
	if err == nil || !strings.Contains(err.Error(), `Referenced column "nope" not found`) || !strings.Contains(err.Error(), "LINE 1: SELECT nope FROM t") {
		t.Errorf("a binder error should show the user's statement: %v", err)
	}
}

// TestQueryBrokenFile: a damaged Parquet file is skipped and named; queries
// of the other tables work, and one of the damaged table says why it is
// missing.
func TestQueryBrokenFile(t *testing.T) {
	out := queryFixture(t)
	bad := filepath.Join(out, "results", "r.parquet")
	b, _ := os.ReadFile(bad)
	os.WriteFile(bad, b[:len(b)/2], 0o644)
	var log bytes.Buffer
	got, err := runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT count(*) AS n FROM t", Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil || got != "n\n5\n" {
		t.Fatalf("query of a sound table: %q, %v", got, err)
	}
	if !strings.Contains(log.String(), "table r skipped") || !strings.Contains(log.String(), bad) {
		t.Errorf("log does not name the skipped file: %q", log.String())
	}
	_, err = runQuery(t, QueryOptions{Warehouse: out, SQL: "SELECT * FROM r"})
	if err == nil || !strings.Contains(err.Error(), "table r is unavailable: "+bad) || strings.Contains(err.Error(), "\n") {
		t.Errorf("query of the damaged table: %v", err)
	}
}
