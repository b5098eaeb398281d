package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"marrow/internal/duck"
)

// The tests of this file reproduce the failures of issue 10 ("nightly-job
// safety II"): each failed before the change it tests.

const bmtExtract = "../testdata/refdata/bmt/extract"

func runBMT(t testing.TB, out string) {
	t.Helper()
	if _, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Config: DefaultConfig()}); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
}

// TestLockFileIsNeverFollowed: a symlink or a hard link planted at the lock
// path is refused, and its target keeps its bytes (it used to be
// truncated: the job often runs as root).
func TestLockFileIsNeverFollowed(t *testing.T) {
	for _, kind := range []string{"symlink", "hardlink", "directory"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			victim := filepath.Join(dir, "victim")
			os.WriteFile(victim, []byte("precious\n"), 0o644)
			var err error
			switch kind {
			case "symlink":
				err = os.Symlink(victim, siblingPath(out, "lock"))
			case "hardlink":
				err = os.Link(victim, siblingPath(out, "lock"))
			case "directory":
				err = os.Mkdir(siblingPath(out, "lock"), 0o755)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Config: DefaultConfig()})
			if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("run with a %s as lock: err = %v, want a refusal", kind, err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Errorf("lock target now holds %q", b)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output written despite the refusal: %v", err)
			}
		})
	}
}

// TestLockKeepsNoStaleText: a longer stale holder text is overwritten
// without truncating, and the lock file stays a plain file.
func TestLockHolderText(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	os.WriteFile(siblingPath(out, "lock"), []byte("marrow pid 123456789012345\n"), 0o644)
	lk, err := acquireLock(out)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.release()
	_, err = acquireLock(out)
	if !errors.Is(err, ErrLocked) || strings.Contains(err.Error(), "123456789012345") {
		t.Fatalf("second lock: %v, want ErrLocked naming this pid", err)
	}
}

// TestInputsInsideOutputRefused: publishing replaces --out as a whole, so
// an extract, warehouse or config inside it (or equal to it) would be
// deleted; --out inside the extract is refused too.
func TestInputsInsideOutputRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	runBMT(t, out)
	// The operator copies the CSVs into the output, then into out/extract.
	copyDir(t, bmtExtract, out)
	copyDir(t, bmtExtract, filepath.Join(out, "extract"))
	cfg := filepath.Join(out, "marrow.toml")
	os.WriteFile(cfg, []byte("min_cell = 5\n"), 0o644)
	before := treeBytes(t, out)
	ext := filepath.Join(dir, "ext")
	copyDir(t, bmtExtract, ext)

	cases := []struct {
		name string
		do   func() error
	}{
		{"extract equal to out", func() error {
			_, err := Run(context.Background(), RunOptions{Extract: out, Out: out, Config: DefaultConfig()})
			return err
		}},
		{"extract inside out", func() error {
			_, err := Run(context.Background(), RunOptions{Extract: filepath.Join(out, "extract"), Out: out, Config: DefaultConfig()})
			return err
		}},
		{"extract inside out, through ..", func() error {
			_, err := Run(context.Background(), RunOptions{Extract: filepath.Join(dir, "ext", "..", "out", "extract"), Out: out, Config: DefaultConfig()})
			return err
		}},
		{"config inside out", func() error {
			_, err := Run(context.Background(), RunOptions{Extract: ext, Out: out, Config: DefaultConfig(), ConfigFile: cfg})
			return err
		}},
		{"out inside extract", func() error {
			_, err := Run(context.Background(), RunOptions{Extract: ext, Out: filepath.Join(ext, "out"), Config: DefaultConfig()})
			return err
		}},
		{"warehouse inside out", func() error {
			return Analyze(context.Background(), AnalyzeOptions{Warehouse: filepath.Join(out, "warehouse"), Out: out, Config: DefaultConfig()})
		}},
		{"ingest extract inside warehouse", func() error {
			_, err := Ingest(context.Background(), IngestOptions{Extract: filepath.Join(out, "extract"), Warehouse: out, Config: DefaultConfig()})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("err = %v, want a refusal", err)
			}
		})
	}
	after := treeBytes(t, out)
	if len(after) != len(before) {
		t.Fatalf("out has %d files, had %d", len(after), len(before))
	}
	for p, b := range before {
		if !bytes.Equal(b, after[p]) {
			t.Errorf("%s changed", p)
		}
	}
}

// TestIngestIntoPublishedOutputRefused: ingest --warehouse OUT/warehouse
// would rewrite a published output in place.
func TestIngestIntoPublishedOutputRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out)
	_, err := Ingest(context.Background(), IngestOptions{Extract: bmtExtract, Warehouse: filepath.Join(out, "warehouse"), Config: DefaultConfig()})
	if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "published output") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if err := Verify(out); err != nil {
		t.Error(err)
	}
}

// TestLockDeletedMidRun: a run whose lock file is deleted under it no
// longer lets a second run delete its staging directory, and itself
// refuses to publish; the second run's output stands, whole.
func TestLockDeletedMidRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out)
	first, end, err := begin(out, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	os.WriteFile(filepath.Join(first.dir, "half-written"), []byte("x"), 0o644)
	if err := os.Remove(siblingPath(out, "lock")); err != nil {
		t.Fatal(err)
	}
	runBMT(t, out) // takes a new lock file at the same path
	if _, err := os.Stat(filepath.Join(first.dir, "half-written")); err != nil {
		t.Fatalf("the second run deleted the first run's staging: %v", err)
	}
	err = first.publish()
	if err == nil || !strings.Contains(err.Error(), "removed or replaced") {
		t.Fatalf("first run's publish: err = %v, want a refusal", err)
	}
	if err := Verify(out); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out, "half-written")); err == nil {
		t.Error("the first run's staging was published")
	}
}

// TestStagingDebrisCleaned: staging directories of dead runs (no flock)
// are removed, a live run's is kept.
func TestStagingDebrisCleaned(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	dead := siblingPath(out, "staging") + "-0123456789abcdef"
	old := siblingPath(out, "staging") // the fixed name of earlier versions
	other := siblingPath(out, "staging") + "-mine"
	for _, d := range []string{dead, old, other} {
		os.MkdirAll(d, 0o755)
	}
	live := siblingPath(out, "staging") + "-fedcba9876543210"
	os.MkdirAll(live, 0o755)
	f, ok, err := tryLockDir(live)
	if err != nil || !ok {
		t.Fatal(err)
	}
	defer f.Close()
	runBMT(t, out)
	for _, d := range []string{dead, old} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", d, err)
		}
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}

// TestPublishSyncsBeforeExchange: every file and directory of staging
// reaches the disk before the exchange, and the parent directory after
// it, so a power cut leaves one complete output.
func TestPublishSyncsBeforeExchange(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out) // the first publish is a plain rename
	var mu sync.Mutex
	synced := map[string]int{} // path -> step at which it was synced
	step, exchangedAt := 0, -1
	var staged []string
	saved := fsOps
	defer func() { fsOps = saved }()
	fsOps.sync = func(p string) error {
		mu.Lock()
		step++
		synced[p] = step
		mu.Unlock()
		return saved.sync(p)
	}
	fsOps.exchange = func(a, b string) error {
		mu.Lock()
		step++
		exchangedAt = step
		mu.Unlock()
		filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err == nil {
				staged = append(staged, p)
			}
			return nil
		})
		return saved.exchange(a, b)
	}
	runBMT(t, out)
	if exchangedAt < 0 {
		t.Fatal("the second publish did not exchange")
	}
	if len(staged) < 10 {
		t.Fatalf("only %d staged paths", len(staged))
	}
	for _, p := range staged {
		at, ok := synced[p]
		if !ok || at > exchangedAt {
			t.Errorf("%s not synced before the exchange", p)
		}
	}
	if at := synced[filepath.Dir(out)]; at < exchangedAt {
		t.Errorf("parent directory not synced after the exchange (step %d, exchange %d)", at, exchangedAt)
	}
	if err := Verify(out); err != nil {
		t.Error(err)
	}
}

// TestOutSymlinkResolved: --out as a symlink publishes into its target and
// keeps the link; runs on the link and on the target share one lock.
func TestOutSymlinkResolved(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "data", "real")
	os.MkdirAll(target, 0o755) // a link must point to an existing directory
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	runBMT(t, link)
	runBMT(t, link) // replaces an existing target
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("--out link is no longer a symlink: %v %v", fi, err)
	}
	if err := Verify(target); err != nil {
		t.Fatal(err)
	}
	lk, err := acquireLock(target)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), RunOptions{Extract: bmtExtract, Out: link, Config: DefaultConfig()})
	lk.release()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("run on the link while its target is locked: %v, want ErrLocked", err)
	}
	// A dangling link is refused.
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling"))
	_, err = Run(context.Background(), RunOptions{Extract: bmtExtract, Out: filepath.Join(dir, "dangling"), Config: DefaultConfig()})
	if err == nil || !IsBadInput(err) {
		t.Fatalf("run on a dangling link: %v, want a refusal", err)
	}
}

// TestOutWorkingDirectoryRefused: --out . (or a parent of the working
// directory) is refused before any work, even when it is a marrow output.
func TestOutWorkingDirectoryRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out)
	t.Chdir(filepath.Join(out, "results"))
	for _, p := range []string{".", "..", out} {
		_, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: p, Config: DefaultConfig()})
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "working directory") {
			t.Errorf("--out %s: err = %v, want a refusal", p, err)
		}
	}
}

// TestUserPaths: errors name the user's --out, never the staging
// directory, and keep their identity for errors.Is.
func TestUserPaths(t *testing.T) {
	st := &staging{dir: "/x/.out.staging-0123456789abcdef", user: "out"}
	err := error(&os.PathError{Op: "open", Path: st.dir + "/report/index.html", Err: os.ErrPermission})
	st.userPaths(&err)
	if err.Error() != "open out/report/index.html: permission denied" || !errors.Is(err, os.ErrPermission) {
		t.Errorf("err = %v", err)
	}
}

// ingestBMT writes a warehouse with marrow ingest.
func ingestBMT(t testing.TB, wh string) {
	t.Helper()
	if _, err := Ingest(context.Background(), IngestOptions{Extract: bmtExtract, Warehouse: wh, Config: DefaultConfig()}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

// rewriteParquet replaces dir/<table>.parquet by the result of sel over
// it (a tampered file), optionally refreshing warehouse.json as an
// attacker who knows the format would.
func rewriteParquet(t testing.TB, dir, table, sel string, refresh bool) {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(dir, table+".parquet")
	if _, err := db.Exec("CREATE TABLE t AS SELECT * FROM read_parquet(" + duck.Literal(path) + ")"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("COPY (" + sel + ") TO " + duck.Literal(path) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	if refresh {
		os.Remove(filepath.Join(dir, warehouseManifestName))
		if err := writeWarehouseManifest(dir); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnalyzeChecksWarehouse: analyze refuses a warehouse whose files
// differ from what its ingest recorded (one flipped bit), and one whose
// values break the SPEC's codes and ranges even with a matching manifest:
// one line naming file and column, exit 2.
func TestAnalyzeChecksWarehouse(t *testing.T) {
	cases := []struct {
		name, table, sel string
		refresh          bool
		want             string
	}{
		{"flipped bit", "transplants", "", false, "transplants.parquet has changed"},
		{"type X|Y", "transplants", "SELECT * REPLACE (CASE WHEN source_line = 2 THEN 'X|Y' ELSE transplant_type END AS transplant_type) FROM t", true,
			`transplants.parquet: column transplant_type: "X|Y" is not one of ALLO, AUTO`},
		{"year 4227985", "transplants", "SELECT * REPLACE (CASE WHEN source_line = 3 THEN DATE '4227985-01-01' ELSE transplant_date END AS transplant_date) FROM t", true,
			"transplants.parquet: column transplant_date: date 4227985-01-01 is outside 1900-01-01..2199-12-31"},
		{"indication", "transplants", "SELECT * REPLACE ('LEUK' AS indication) FROM t", true, "column indication"},
		{"missing column", "transplants", "SELECT * EXCLUDE (indication) FROM t", true, "transplants.parquet: column indication: missing"},
		{"karnofsky", "transplants", "SELECT * REPLACE (1000 AS karnofsky) FROM t", true, "column karnofsky: 1000 is outside 10..100"},
		{"duplicate id", "transplants", "SELECT * FROM t UNION ALL SELECT * FROM t", true, "column transplant_id: "},
		{"event code", "events", "SELECT * REPLACE ('resurrection' AS event) FROM t", true, "events.parquet: column event"},
		{"not parquet", "events", "garbage", true, "events.parquet"},
		{"orphan event", "events", "SELECT * REPLACE ('NOPE' AS transplant_id) FROM t", true, "events.parquet: column transplant_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wh := filepath.Join(dir, "wh")
			ingestBMT(t, wh)
			p := filepath.Join(wh, tc.table+".parquet")
			switch tc.sel {
			case "":
				b, _ := os.ReadFile(p)
				b[len(b)/2] ^= 0x10
				os.WriteFile(p, b, 0o644)
			case "garbage":
				os.WriteFile(p, []byte("PAR1 not really\nparquet\n"), 0o644)
				os.Remove(filepath.Join(wh, warehouseManifestName))
				writeWarehouseManifest(wh)
			default:
				rewriteParquet(t, wh, tc.table, tc.sel, tc.refresh)
			}
			err := Analyze(context.Background(), AnalyzeOptions{Warehouse: wh, Out: filepath.Join(dir, "out"), Config: DefaultConfig()})
			if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a bad-input error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			t.Log(err)
			if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
				t.Error("analyze wrote an output")
			}
		})
	}
}

// TestWarehouseLocks: analyze takes the warehouse's lock shared, ingest
// exclusive: neither starts while the other holds it.
func TestWarehouseLocks(t *testing.T) {
	dir := t.TempDir()
	wh := filepath.Join(dir, "wh")
	ingestBMT(t, wh)
	lk, err := acquireLock(wh) // as a running ingest
	if err != nil {
		t.Fatal(err)
	}
	err = Analyze(context.Background(), AnalyzeOptions{Warehouse: wh, Out: filepath.Join(dir, "out"), Config: DefaultConfig()})
	lk.release()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("analyze during ingest: %v, want ErrLocked", err)
	}
	release, err := lockWarehouse(wh) // as a running analyze
	if err != nil {
		t.Fatal(err)
	}
	_, err = Ingest(context.Background(), IngestOptions{Extract: bmtExtract, Warehouse: wh, Config: DefaultConfig()})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("ingest during analyze: %v, want ErrLocked", err)
	}
	// Readers share.
	release2, err := lockWarehouse(wh)
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	release2()
	release()
	// The warehouse/ of a published output is checked against its
	// manifest.json and locked with the output.
	out := filepath.Join(dir, "out")
	runBMT(t, out)
	if err := Analyze(context.Background(), AnalyzeOptions{Warehouse: filepath.Join(out, "warehouse"), Out: filepath.Join(dir, "again"), Config: DefaultConfig()}); err != nil {
		t.Fatalf("analyze of a published warehouse: %v", err)
	}
	os.WriteFile(filepath.Join(out, "warehouse", "events.parquet"), []byte("PAR1"), 0o644)
	err = Analyze(context.Background(), AnalyzeOptions{Warehouse: filepath.Join(out, "warehouse"), Out: filepath.Join(dir, "again"), Config: DefaultConfig()})
	if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "warehouse/events.parquet") {
		t.Fatalf("analyze of a damaged published warehouse: %v", err)
	}
}

// TestConcurrentIngestAnalyze alternates ingests of two extracts into one
// warehouse with analyses of it: every analysis that succeeds describes
// one extract throughout (its warehouse copy and its cohort agree with its
// manifest), never a mixture.
func TestConcurrentIngestAnalyze(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a dozen ingests and analyses concurrently")
	}
	dir := t.TempDir()
	wh := filepath.Join(dir, "wh")
	extracts := []string{bmtExtract, "../testdata/adversarial/confs_log/extract"}
	if _, err := Ingest(context.Background(), IngestOptions{Extract: extracts[0], Warehouse: wh, Config: DefaultConfig()}); err != nil {
		t.Fatal(err)
	}
	// Both loops retry when locked out: ingest until it has replaced the
	// warehouse six times, analyze until ingest is done, and once more.
	done := make(chan struct{})
	ingests := 0
	go func() {
		defer close(done)
		for try := 0; ingests < 6 && try < 500; try++ {
			_, err := Ingest(context.Background(), IngestOptions{Extract: extracts[ingests%2], Warehouse: wh, Config: DefaultConfig()})
			switch {
			case err == nil:
				ingests++
				time.Sleep(50 * time.Millisecond) // pacing only: let an analysis start
			case errors.Is(err, ErrLocked):
				time.Sleep(5 * time.Millisecond)
			default:
				t.Errorf("ingest: %v", err)
				return
			}
		}
	}()
	ok, locked := 0, 0
	for i, last := 0, false; !last; i++ {
		select {
		case <-done:
			last = true
		default:
		}
		out := filepath.Join(dir, "out", strconv.Itoa(i))
		if err := Analyze(context.Background(), AnalyzeOptions{Warehouse: wh, Out: out, Config: DefaultConfig()}); err != nil {
			if !errors.Is(err, ErrLocked) || last {
				t.Errorf("analyze %d: %v", i, err)
			}
			locked++
			time.Sleep(5 * time.Millisecond)
			continue
		}
		ok++
		if err := Verify(out); err != nil {
			t.Error(err)
		}
		m, _ := readManifest(out)
		var accepted int64
		for _, f := range m.Inputs {
			if f.Path == "transplants.csv" {
				accepted = f.RowsAccepted
			}
		}
		db, err := duck.Open(context.Background(), duck.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n, notInTx int64
		q := "SELECT (SELECT count(*) FROM read_parquet(" + duck.Literal(filepath.Join(out, "warehouse", "transplants.parquet")) + ")), " +
			"(SELECT count(*) FROM read_parquet(" + duck.Literal(filepath.Join(out, "warehouse", "cohort.parquet")) + ") WHERE transplant_id NOT IN " +
			"(SELECT transplant_id FROM read_parquet(" + duck.Literal(filepath.Join(out, "warehouse", "transplants.parquet")) + ")))"
		if err := db.QueryRow(q).Scan(&n, &notInTx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if n != accepted || notInTx != 0 {
			t.Errorf("analysis %d: %d transplants in its warehouse, manifest says %d accepted; %d cohort rows not among them", i, n, accepted, notInTx)
		}
	}
	t.Logf("%d ingests; %d analyses ran, %d were locked out", ingests, ok, locked)
}

// TestReportRefusesTampered: marrow report checks the output against its
// manifest before rendering, so a hand-edited result is refused (exit 2,
// naming the file), not certified by a fresh manifest; the manifest's
// settings are validated as a config.
func TestReportRefusesTampered(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(out string)
		want   string
	}{
		{"edited estimate", func(out string) {
			p := filepath.Join(out, "results", "landmarks.csv")
			b, _ := os.ReadFile(p)
			i := bytes.Index(b, []byte(",0."))
			b[i+3] = '9'
			os.WriteFile(p, b, 0o644)
		}, "results/landmarks.csv has changed"},
		{"emptied parquet", func(out string) {
			os.WriteFile(filepath.Join(out, "results", "landmarks.parquet"), nil, 0o644)
		}, "results/landmarks.parquet has changed"},
		{"removed file", func(out string) { os.Remove(filepath.Join(out, "results", "tests.csv")) }, "results/tests.csv is missing"},
		{"added file", func(out string) { os.WriteFile(filepath.Join(out, "results", "extra.csv"), nil, 0o644) }, "results/extra.csv is not in"},
		{"min_cell -1", func(out string) { editManifestConfig(t, out, "min_cell", -1) }, "min_cell -1"},
		{"no landmarks", func(out string) { editManifestConfig(t, out, "landmarks", []int{}) }, "landmarks"},
		{"bogus stratum", func(out string) { editManifestConfig(t, out, "strata", []string{"bogus"}) }, `strata "bogus"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			runBMT(t, out)
			tc.tamper(out)
			before := treeBytes(t, out)
			_, err := Report(context.Background(), ReportOptions{Out: out})
			if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a bad-input error with %q", err, tc.want)
			}
			after := treeBytes(t, out)
			if len(after) != len(before) {
				t.Errorf("report changed the number of files")
			}
			for p, b := range before {
				if !bytes.Equal(b, after[p]) {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
	// An intact output is re-reported.
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out)
	if _, err := Report(context.Background(), ReportOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
}

func editManifestConfig(t testing.TB, out, key string, v any) {
	t.Helper()
	p := filepath.Join(out, "manifest.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["config"].(map[string]any)[key] = v
	b, _ = json.MarshalIndent(m, "", "  ")
	os.WriteFile(p, b, 0o644)
}

// TestCutoffRules: a cutoff outside the dates ingest accepts is refused; one
// long after the latest event is a warning in the log, the manifest and
// the report; one that leaves the cohort empty fails the run and keeps the
// previous output, unless AllowEmpty.
func TestCutoffRules(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runBMT(t, out)
	before := treeBytes(t, out)
	for _, c := range []string{"1899-12-31", "2200-01-01"} {
		day, _ := time.Parse(time.DateOnly, c)
		_, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Cutoff: day, Config: DefaultConfig()})
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), "cutoff "+c) {
			t.Errorf("cutoff %s: err = %v, want a refusal", c, err)
		}
	}
	early, _ := time.Parse(time.DateOnly, "1900-01-01")
	_, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Cutoff: early, Config: DefaultConfig()})
	if err == nil || IsBadInput(err) || !strings.Contains(err.Error(), "cohort is empty") {
		t.Fatalf("empty cohort: err = %v, want a run failure", err)
	}
	after := treeBytes(t, out)
	for p, b := range before {
		if !bytes.Equal(b, after[p]) {
			t.Errorf("%s changed after the empty-cohort run", p)
		}
	}
	if _, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Cutoff: early, AllowEmpty: true, Config: DefaultConfig()}); err != nil {
		t.Fatalf("empty cohort with AllowEmpty: %v", err)
	}

	late, _ := time.Parse(time.DateOnly, "2150-06-01")
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	if _, err := Run(context.Background(), RunOptions{Extract: bmtExtract, Out: out, Cutoff: late, Config: DefaultConfig(), Log: log}); err != nil {
		t.Fatal(err)
	}
	m, _ := readManifest(out)
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "cutoff 2150-06-01 is more than a year after the latest event") {
		t.Errorf("manifest warnings %q", m.Warnings)
	}
	if !strings.Contains(logBuf.String(), "more than a year after the latest event") {
		t.Errorf("log lacks the warning:\n%s", logBuf.String())
	}
	for _, f := range []string{"index.html", "report.md"} {
		b, _ := os.ReadFile(filepath.Join(out, "report", f))
		if !bytes.Contains(b, []byte("more than a year after the latest event")) {
			t.Errorf("report/%s lacks the warning", f)
		}
	}
}

// TestSpillDirsPrivate: two sessions with the same temp_dir spill into
// directories of their own (DuckDB's spill file names collide: two runs
// sharing one crashed); empty directories left by dead runs are removed, a
// live run's are kept.
func TestSpillDirsPrivate(t *testing.T) {
	tmp := t.TempDir()
	stale := filepath.Join(tmp, spillPrefix+"dead")
	os.MkdirAll(stale, 0o755)
	// Not empty and not locked: perhaps an older marrow's, spilling now.
	busy := filepath.Join(tmp, spillPrefix+"busy")
	os.MkdirAll(busy, 0o755)
	os.WriteFile(filepath.Join(busy, "duckdb_temp_storage-0.tmp"), []byte("x"), 0o644)
	foreign := filepath.Join(tmp, "not-marrow")
	os.MkdirAll(foreign, 0o755)
	cfg := DefaultConfig()
	cfg.TempDir = tmp
	spillOf := func(s *session) string {
		t.Helper()
		var d string
		if err := s.db.QueryRow("SELECT current_setting('temp_directory')").Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := openSession(context.Background(), cfg, "", log, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openSession(context.Background(), cfg, "", log, nil)
	if err != nil {
		t.Fatal(err)
	}
	da, db := spillOf(a), spillOf(b)
	if da == db || filepath.Dir(da) != tmp || filepath.Dir(db) != tmp {
		t.Errorf("spill directories %s and %s: want two distinct ones under %s", da, db, tmp)
	}
	for _, d := range []string{da, db, foreign, busy} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed while live: %v", d, err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale %s kept: %v", stale, err)
	}
	a.close()
	b.close()
	left, _ := filepath.Glob(filepath.Join(tmp, spillPrefix+"*"))
	if len(left) != 1 || left[0] != busy {
		t.Errorf("spill directories left after close: %v", left)
	}
}

// TestRejectLogLines: a rejected row's log line names file, line, column,
// reason and the faulty field only; never the whole record or an
// identifier.
func TestRejectLogLines(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Join(dir, "ext")
	copyDir(t, bmtExtract, ext)
	p := filepath.Join(ext, "transplants.csv")
	b, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(b), "\n")
	header := strings.Split(strings.TrimSpace(lines[0]), ",")
	row := make([]string, len(header))
	row2 := make([]string, len(header))
	copy(row, strings.Split(strings.TrimSpace(lines[1]), ","))
	copy(row2, row)
	for i, h := range header {
		switch strings.ToLower(h) {
		case "transplant_id":
			row[i], row2[i] = "SECRET-TX-1", "SECRET-TX-2"
		case "patient_id":
			row[i], row2[i] = "SECRET-PATIENT", "SECRET-PATIENT"
		case "indication":
			row2[i] = "LEUKAEMIA"
		}
	}
	extra := strings.Join(row, ",") + ",one-field-too-many\n" + strings.Join(row2, ",") + "\n"
	os.WriteFile(p, []byte(string(b)+extra), 0o644)
	var logBuf bytes.Buffer
	cfg := DefaultConfig()
	cfg.MaxRejectRate = 0.5
	_, err := Ingest(context.Background(), IngestOptions{Extract: ext, Warehouse: filepath.Join(dir, "wh"), Config: cfg,
		Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	log := logBuf.String()
	n := strings.Count(string(b), "\n") + 1 // the first appended row's line
	for _, want := range []string{
		"transplants.csv:" + strconv.Itoa(n) + ": wrong number of fields",
		"transplants.csv:" + strconv.Itoa(n+1) + ": indication: unknown code \\\"LEUKAEMIA\\\"",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "SECRET") {
		t.Errorf("log carries identifiers:\n%s", log)
	}
	// The rejects table keeps the rest for analysts.
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var values string
	if err := db.QueryRow("SELECT string_agg(value, ' ') FROM read_parquet(" + duck.Literal(filepath.Join(dir, "wh", "rejects.parquet")) + ")").Scan(&values); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(values, "SECRET-PATIENT") {
		t.Errorf("rejects table lost the record: %q", values)
	}
}

// TestRestoresSwappedOutOutput: a run killed between the two renames of
// the fallback publish leaves no output and the old one aside; the next
// run puts it back before anything else.
func TestRestoresSwappedOutOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	runBMT(t, out)
	before := treeBytes(t, out)
	if err := os.Rename(out, siblingPath(out, "previous")+"-00112233aabbccdd"); err != nil {
		t.Fatal(err)
	}
	_, end, err := begin(out, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	end()
	after := treeBytes(t, out)
	if len(after) != len(before) {
		t.Fatalf("restored output has %d files, had %d", len(after), len(before))
	}
	if left, _ := filepath.Glob(siblingPath(out, "previous") + "*"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
