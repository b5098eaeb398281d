package pipeline

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"marrow/endpoints"
	"marrow/internal/demo"
	"marrow/internal/duck"
	"marrow/queries"
	"marrow/transforms"
)

// IngestSummary is what ingest read, accepted and rejected.
type IngestSummary = transforms.IngestSummary

// session is one DuckDB database shared by the stages of a run, so the
// warehouse is parsed once and every later stage reads it in memory.
type session struct {
	db      *sql.DB
	cfg     Config
	log     *slog.Logger
	version string // DuckDB version
	// sourceDate is SOURCE_DATE_EPOCH as the command line found it; the
	// only wall-clock time allowed into an output.
	sourceDate string
	summary    *IngestSummary // what ingest (or the loaded warehouse) says
	est        *estimates     // the estimate stage's results, for the report
	eps        endpoints.Set  // the built-in endpoints, then the config's declared ones
	// analysisResults are results/analyses/'s estimates, for the report.
	analysisResults []analysisResult
	// centresWritten: results/ has centres and centre_model (centres.go).
	centresWritten bool
	onStage        func(string) // nil, or told as each stage starts
	// summarized: ingest left event_summary for eps, for derive.
	summarized bool
	// transplantsFile is the warehouse transplants.parquet ingest wrote
	// (run): once the cohort is derived, the table gives way to a view of
	// it (derive).
	transplantsFile string
	// writes, while set, takes the parquetOnly results to write in the
	// background (the estimate stage; writeResults).
	writes *background
	// pending are the estimate stage's writes, running on after it until
	// awaitWrites (estimate.go).
	pending *pendingWrites
	// later are writes the estimate stage runs in the background once
	// its analyses are estimated (derive's cohort.parquet).
	later    []func(context.Context) error
	cleanup  func()   // removes the spill directory
	warnings []string // for the manifest and the report
}

func openSession(ctx context.Context, cfg Config, sourceDate string, log *slog.Logger, onStage func(string)) (*session, error) {
	spill, cleanup, err := spillDir(cfg.TempDir)
	if err != nil {
		return nil, err
	}
	db, err := duck.Open(ctx, duck.Options{Threads: cfg.Threads, MemoryLimit: cfg.MemoryLimit, TempDir: spill})
	if err != nil {
		cleanup()
		return nil, err
	}
	s := &session{db: db, cfg: cfg, log: log, sourceDate: sourceDate, onStage: onStage, cleanup: cleanup,
		eps: cfg.EndpointSet()}
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&s.version); err != nil {
		s.close()
		return nil, fmt.Errorf("duckdb version: %w", err)
	}
	return s, nil
}

// spillPrefix names the spill directories of marrow runs; a directory
// is made under newSpillPrefix, locked, and only then renamed to its
// spillPrefix name, so that no run's cleanup ever sees it unlocked.
const (
	spillPrefix    = "marrow-spill-"
	newSpillPrefix = ".marrow-spill-new-"
)

// newSpillAge is how old an unlocked newSpillPrefix directory must be
// before cleanup takes it for a killed run's: younger ones may be
// another run's, made and not yet locked.
const newSpillAge = 10 * time.Minute

// spillDir makes the run's private DuckDB spill directory under parent (""
// = the system temp dir): DuckDB names its spill files alike in every
// process, so two runs sharing one directory overwrite each other's and
// crash. The run holds a flock on its directory; directories of dead runs
// (no flock) are removed first. cleanup removes the run's own.
//
// The directory is locked before it is visible under spillPrefix: made
// under a name cleanup skips, locked, then renamed (the flock is on the
// directory, so it survives the rename). Made and locked under its final
// name, another run's cleanup could remove it between the two.
func spillDir(parent string) (dir string, cleanup func(), err error) {
	if parent == "" {
		parent = os.TempDir()
	}
	cleanStaleSpills(parent)
	tmp, err := os.MkdirTemp(parent, newSpillPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("spill directory: %w", err)
	}
	f, ok, err := tryLockDir(tmp)
	if err != nil || !ok {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("spill directory %s: cannot lock it: %v", tmp, err)
	}
	dir = filepath.Join(parent, spillPrefix+strings.TrimPrefix(filepath.Base(tmp), newSpillPrefix))
	for try := 0; ; try++ {
		err = renameNoReplace(tmp, dir)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || try == 9 {
			f.Close()
			os.RemoveAll(tmp)
			return "", nil, fmt.Errorf("spill directory %s: %w", dir, err)
		}
		// Another directory has the name (a directory of the same
		// random suffix under the other prefix): pick another.
		dir = filepath.Join(parent, spillPrefix+rand.Text())
	}
	return dir, func() { os.RemoveAll(dir); f.Close() }, nil
}

// cleanStaleSpills removes the empty marrow-spill-* directories under
// parent that no live run holds (left by killed runs), and the unlocked
// .marrow-spill-new-* ones older than newSpillAge (a run killed between
// making and locking its directory). A directory with files in it is
// kept: a marrow older than the flock would be spilling there. Errors are
// ignored: the directories may belong to another user.
func cleanStaleSpills(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		switch name := e.Name(); {
		case strings.HasPrefix(name, spillPrefix):
		case strings.HasPrefix(name, newSpillPrefix):
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < newSpillAge {
				continue
			}
		default:
			continue
		}
		p := filepath.Join(parent, e.Name())
		if f, ok, err := tryLockDir(p); err == nil && ok {
			os.Remove(p) // fails unless empty
			f.Close()
		}
	}
}

func (s *session) close() {
	s.abortWrites() // a failed run's writes stop before its staging goes
	s.db.Close()
	s.cleanup()
}

// stage runs one stage unless the run is already cancelled, and logs its
// duration and outcome.
func (s *session) stage(ctx context.Context, name string, fn func() ([]any, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.onStage != nil {
		s.onStage(name)
	}
	start, cpu := time.Now(), processCPU()
	attrs, err := fn()
	attrs = append(attrs, "seconds", seconds(start),
		"cpu_seconds", strconv.FormatFloat((processCPU()-cpu).Seconds(), 'f', 3, 64))
	if err != nil {
		// The command line prints the error once; logging it here too would
		// make the one-line reason two.
		return err
	}
	s.log.Info(name, attrs...)
	return nil
}

// step logs one part of a stage at debug level (marrow -v).
func (s *session) step(name string, start time.Time, attrs ...any) {
	s.log.Debug(name, append(attrs, "seconds", seconds(start))...)
}

// ingestGoMemory is Go's soft memory limit while ingest validates, above
// the 640 MiB of the rest of a command (cmd/marrow): the transplant index,
// the event tally and the validators' buffers are live until the events
// are loaded, about 180 bytes a transplant (pprof heap at 5M: 0.93 GB,
// 0.81 GB once the accepted rows are let go), and under a lower limit
// Go's collector ran without pause (5M ingest, GODEBUG=gctrace=1: a
// collection every 35 ms, 20% of the CPU; load events 33.1 s at 640 MiB
// against 22.4 s at 1 GiB, peak RSS 2,638 against 2,541 MiB). DuckDB is
// under its limit then: it streams the events to their file.
const ingestGoMemory = 1 << 30

// raiseGoMemoryLimit raises Go's soft memory limit to limit, unless
// GOMEMLIMIT set it or it is at least that already, and returns what puts
// it back.
func raiseGoMemoryLimit(limit int64) func() {
	prev := debug.SetMemoryLimit(-1)
	if os.Getenv("GOMEMLIMIT") != "" || prev >= limit {
		return func() {}
	}
	debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}

// ingest reads the extract into the session and writes the warehouse tables.
func (s *session) ingest(ctx context.Context, extract, warehouseDir string) (*IngestSummary, error) {
	var sum *IngestSummary
	err := s.stage(ctx, "ingest", func() ([]any, error) {
		if err := os.MkdirAll(warehouseDir, 0o755); err != nil {
			return nil, err
		}
		defer raiseGoMemoryLimit(ingestGoMemory)()
		var err error
		sum, err = transforms.Ingest(ctx, s.db, extract, transforms.IngestOptions{
			MaxRejectRate: s.cfg.MaxRejectRate,
			Step:          func(name string, start time.Time) { s.step(name, start) },
			Endpoints:     s.eps,
			// Ingest writes events.parquet and transplants.parquet.
			Warehouse: warehouseDir,
		})
		if err != nil {
			var se *transforms.StructuralError
			var re *transforms.RejectRateError
			switch {
			case errors.As(err, &se):
				err = badInput(err)
			case errors.As(err, &re) && sum != nil:
				// The rejects are still in the session: show the first
				// ones, since nothing will be published to look at.
				s.logRejects(ctx, sum.Rejects)
			}
			return nil, err
		}
		s.summarized = true
		s.transplantsFile = filepath.Join(warehouseDir, "transplants.parquet")
		for _, t := range transforms.WarehouseTables {
			if t == "events" || t == "transplants" {
				continue
			}
			start := time.Now()
			if err := transforms.WriteWarehouse(ctx, s.db, warehouseDir, t); err != nil {
				return nil, err
			}
			s.step("write "+t+".parquet", start)
		}
		if err := s.writeWarehouseDictionary(ctx, warehouseDir, false); err != nil {
			return nil, err
		}
		if sum.Rejects > 0 {
			if err := s.logRejects(ctx, sum.Rejects); err != nil {
				return nil, err
			}
		}
		var attrs []any
		for _, f := range sum.Files {
			attrs = append(attrs, f.File+"_read", f.RowsRead, f.File+"_rejected", f.RowsRejected)
		}
		return attrs, nil
	})
	s.summary = sum
	return sum, err
}

// shownRejects is how many rejected rows the log names one by one.
const shownRejects = 10

// logRejects names the first rejected rows in the log, one line each in
// the compiler style file:line: column: reason "value", so an analyst sees
// at once what was wrong; all of them are in warehouse/rejects. The log
// shows the faulty field only, never a whole record or an identifier (see
// transforms.RowError.LogLine).
func (s *session) logRejects(ctx context.Context, total int64) error {
	rows, err := s.db.QueryContext(ctx, queries.Text("first_rejects"), shownRejects)
	if err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var file, column, value, reason string
		var line int64
		if err := rows.Scan(&file, &line, &column, &value, &reason); err != nil {
			return err
		}
		s.log.Warn(transforms.RejectLogLine(file, line, column, value, reason))
	}
	if total > shownRejects {
		s.log.Warn(fmt.Sprintf("%d more rejected rows", total-shownRejects))
	}
	return rows.Err()
}

// loadWarehouse reads a warehouse directory written by ingest into the
// session and copies its files to warehouseDir (analyze's output).
func (s *session) loadWarehouse(ctx context.Context, dir, warehouseDir string) (*IngestSummary, error) {
	var sum *IngestSummary
	err := s.stage(ctx, "load warehouse", func() ([]any, error) {
		var err error
		sum, err = transforms.LoadWarehouse(ctx, s.db, dir, transforms.WarehouseTables...)
		if err != nil {
			return nil, badInput(fmt.Errorf("warehouse %s: %w", dir, err))
		}
		if err := os.MkdirAll(warehouseDir, 0o755); err != nil {
			return nil, err
		}
		for _, t := range transforms.WarehouseTables {
			if err := copyTree(filepath.Join(dir, t+".parquet"), filepath.Join(warehouseDir, t+".parquet")); err != nil {
				return nil, err
			}
		}
		// Ingest's event summary, when the warehouse has one for these
		// endpoints, spares derive the summary of the events and the
		// window choosing first transplants (transforms.SummaryTable).
		s.summarized, err = transforms.LoadSummary(ctx, s.db, dir, s.eps)
		if err != nil {
			return nil, badInput(fmt.Errorf("warehouse %s: %w", dir, err))
		}
		summary := filepath.Join(dir, transforms.SummaryTable+".parquet")
		if fileExists(summary) {
			if err := copyTree(summary, filepath.Join(warehouseDir, transforms.SummaryTable+".parquet")); err != nil {
				return nil, err
			}
		}
		return []any{"summarized", s.summarized}, nil
	})
	s.summary = sum
	return sum, err
}

// derive builds the analysis cohort; warehouse/cohort.parquet is written
// by the estimate stage (s.later).
// An empty cohort fails the run (the previous output stays) unless
// allowEmpty; a cutoff more than a year after the latest event is a
// warning, in the log and in the manifest and report.
func (s *session) derive(ctx context.Context, cutoff time.Time, allowEmpty bool, warehouseDir string) (time.Time, error) {
	var used time.Time
	err := s.stage(ctx, "derive cohort", func() ([]any, error) {
		// What ingest kept on Go's heap to its end (its validators'
		// lists, buffers) is garbage now; without a collection it would
		// stay beside DuckDB's cohort statement and risk counts, the
		// run's peak of memory (5M: 532 MB of heap, 83 MB of it live).
		debug.FreeOSMemory()
		// After ingest in this run, derive reads the transplants from the
		// file ingest just wrote, as it reads the event summary and as
		// analyze does: DuckDB scans them there faster than its own tables
		// (1M: the cohort statement 0.84 s against 1.5-1.7 s), and the
		// table's memory goes back to DuckDB.
		if s.transplantsFile != "" {
			start := time.Now()
			if err := transforms.ViewTable(ctx, s.db, "transplants", s.transplantsFile); err != nil {
				return nil, err
			}
			s.step("transplants as a view", start)
		}
		var n int64
		var err error
		used, n, err = transforms.DeriveCohort(ctx, s.db, transforms.CohortOptions{
			Cutoff: cutoff, AllTransplants: s.cfg.Cohort == "all", Endpoints: s.eps,
			Summarized: s.summarized, Step: func(name string, start time.Time) { s.step(name, start) },
		})
		s.summarized = false // DeriveCohort dropped the table
		if err != nil {
			return nil, err
		}
		if n == 0 && !allowEmpty {
			return nil, fmt.Errorf("cohort is empty at cutoff %s: not publishing (--allow-empty publishes it anyway)", used.Format(time.DateOnly))
		}
		start := time.Now()
		if !cutoff.IsZero() {
			latest, err := transforms.DefaultCutoff(ctx, s.db)
			if err == nil && used.After(latest.AddDate(1, 0, 0)) {
				w := fmt.Sprintf("cutoff %s is more than a year after the latest event (%s): follow-up after it is taken as event-free",
					used.Format(time.DateOnly), latest.Format(time.DateOnly))
				s.log.Warn(w)
				s.warnings = append(s.warnings, w)
			}
		}
		// cohort.parquet is written by the estimate stage, beside its
		// curves writes, when DuckDB has a core to spare (s.later).
		s.later = append(s.later, func(ctx context.Context) error {
			start := time.Now()
			if err := transforms.WriteWarehouse(ctx, s.db, warehouseDir, "cohort"); err != nil {
				return err
			}
			s.step("write cohort.parquet", start)
			return nil
		})
		if err := s.writeWarehouseDictionary(ctx, warehouseDir, true); err != nil {
			return nil, err
		}
		s.step("dictionary", start)
		return []any{"cutoff", used.Format(time.DateOnly), "transplants", n}, nil
	})
	return used, err
}

func (s *session) manifest(sum *IngestSummary, cutoff time.Time, cutoffDefault bool) Manifest {
	m := Manifest{
		Marrow:        Version,
		DuckDB:        s.version,
		Cutoff:        cutoff.Format(time.DateOnly),
		CutoffDefault: cutoffDefault,
		Config:        s.cfg,
		Warnings:      s.warnings,
	}
	m.SourceDate = s.sourceDate
	if sum != nil {
		for _, f := range sum.Files {
			m.Inputs = append(m.Inputs, InputFile{Path: f.File, SHA256: f.SHA256,
				RowsRead: f.RowsRead, RowsAccepted: f.RowsAccepted, RowsRejected: f.RowsRejected})
		}
	}
	return m
}

// resolveExtract returns the extract directory to read; "" means the
// bundled demo, unpacked into a temporary directory removed by cleanup.
func resolveExtract(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "marrow-demo-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := demo.WriteTo(tmp); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("demo extract: %w", err)
	}
	return tmp, cleanup, nil
}

// seconds is the time since start in seconds, to the millisecond, as a
// decimal string (a float64 would print 3.6470000000000002).
func seconds(start time.Time) string {
	return secondsOf(time.Since(start))
}

// secondsOf is d as the logs print seconds: to the millisecond.
func secondsOf(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', 3, 64)
}
