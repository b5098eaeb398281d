// Package pipeline runs marrow's stages in order — ingest → derive →
// estimate → report — builds their outputs in a staging directory beside
// --out and publishes them atomically, one run at a time, with a manifest
// that traces every output file to its inputs. It holds no SQL text and no
// statistics: those live in queries/, transforms/ and estimate/.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// RunOptions are the inputs of Run (marrow run).
type RunOptions struct {
	Extract string    // extract directory; "" = the bundled demo registry
	Out     string    // output directory, replaced atomically
	Cutoff  time.Time // zero = the latest event date
	Config  Config
	// ConfigFile is the file Config was read from, if any: it must not lie
	// inside Out, which publishing replaces.
	ConfigFile string
	// AllowEmpty publishes an output whose cohort is empty; by default such
	// a run fails and the previous output stays.
	AllowEmpty bool
	Log        *slog.Logger
	// SourceDate is SOURCE_DATE_EPOCH, if set: recorded in the manifest.
	SourceDate string
	// OnStage, if set, is called as each stage starts (a terminal spinner).
	OnStage func(stage string)
}

// RunResult says where the published outputs are.
type RunResult struct {
	Out        string
	ReportPath string
	Cutoff     time.Time
}

// Run is the nightly job: ingest, derive the cohort, estimate, report, write
// the manifest, publish. Until the last step nothing under Out changes.
func Run(ctx context.Context, o RunOptions) (res *RunResult, err error) {
	log := orDiscard(o.Log)
	if err := checkCutoff(o.Cutoff); err != nil {
		return nil, err
	}
	st, end, err := begin(o.Out, "manifest.json", input{"--extract", o.Extract}, input{"--config", o.ConfigFile})
	if err != nil {
		return nil, err
	}
	defer end()
	defer st.userPaths(&err)

	extract, cleanup, err := resolveExtract(o.Extract)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	s, err := openSession(ctx, o.Config, o.SourceDate, log, o.OnStage)
	if err != nil {
		return nil, err
	}
	defer s.close()

	sum, err := s.ingest(ctx, extract, filepath.Join(st.dir, "warehouse"))
	if err != nil {
		return nil, err
	}
	cutoff, err := s.derive(ctx, o.Cutoff, o.AllowEmpty, filepath.Join(st.dir, "warehouse"))
	if err != nil {
		return nil, err
	}
	if err := s.estimate(ctx, filepath.Join(st.dir, "results")); err != nil {
		return nil, err
	}
	if err := s.centres(ctx, filepath.Join(st.dir, "results"), cutoff); err != nil {
		return nil, err
	}
	m := s.manifest(sum, cutoff, o.Cutoff.IsZero())
	if err := s.changes(ctx, o.Out, st.dir, m); err != nil {
		return nil, err
	}
	if err := s.report(ctx, st.dir, m); err != nil {
		return nil, err
	}
	if err := s.awaitWrites(); err != nil {
		return nil, err
	}
	if err := writeManifest(st.dir, m); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.publish(); err != nil {
		return nil, err
	}
	log.Info("published", "out", o.Out)
	return &RunResult{Out: o.Out, ReportPath: filepath.Join(o.Out, "report", "index.html"), Cutoff: cutoff}, nil
}

// IngestOptions are the inputs of Ingest (marrow ingest).
type IngestOptions struct {
	Extract    string
	Warehouse  string
	Config     Config
	ConfigFile string // as RunOptions.ConfigFile
	Log        *slog.Logger
	SourceDate string
	OnStage    func(stage string)
}

// Ingest validates an extract into a warehouse directory, atomically, and
// writes the warehouse manifest (warehouse.json: the sha256 of each file)
// that analyze checks before reading it.
func Ingest(ctx context.Context, o IngestOptions) (sum *IngestSummary, err error) {
	log := orDiscard(o.Log)
	if err := notPublishedWarehouse(o.Warehouse); err != nil {
		return nil, err
	}
	st, end, err := begin(o.Warehouse, "ingest_summary.parquet", input{"--extract", o.Extract}, input{"--config", o.ConfigFile})
	if err != nil {
		return nil, err
	}
	defer end()
	defer st.userPaths(&err)
	extract, cleanup, err := resolveExtract(o.Extract)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	s, err := openSession(ctx, o.Config, o.SourceDate, log, o.OnStage)
	if err != nil {
		return nil, err
	}
	defer s.close()
	sum, err = s.ingest(ctx, extract, st.dir)
	if err != nil {
		return nil, err
	}
	if err := writeWarehouseManifest(st.dir); err != nil {
		return nil, err
	}
	return sum, st.publish()
}

// AnalyzeOptions are the inputs of Analyze (marrow analyze).
type AnalyzeOptions struct {
	Warehouse  string
	Out        string
	Cutoff     time.Time
	Config     Config
	ConfigFile string // as RunOptions.ConfigFile
	AllowEmpty bool   // as RunOptions.AllowEmpty
	Log        *slog.Logger
	SourceDate string
	OnStage    func(stage string)
}

// Analyze derives the cohort and the results from a warehouse directory
// into Out (warehouse/ with the cohort added, results/, manifest.json). The
// warehouse is read under a shared lock (ingest takes it exclusively) and
// checked against the hashes its ingest recorded before it is read.
func Analyze(ctx context.Context, o AnalyzeOptions) (err error) {
	log := orDiscard(o.Log)
	if err := checkCutoff(o.Cutoff); err != nil {
		return err
	}
	st, end, err := begin(o.Out, "manifest.json", input{"--warehouse", o.Warehouse}, input{"--config", o.ConfigFile})
	if err != nil {
		return err
	}
	defer end()
	defer st.userPaths(&err)
	release, err := lockWarehouse(o.Warehouse)
	if err != nil {
		return err
	}
	defer release()
	s, err := openSession(ctx, o.Config, o.SourceDate, log, o.OnStage)
	if err != nil {
		return err
	}
	defer s.close()
	sum, err := s.loadWarehouse(ctx, o.Warehouse, filepath.Join(st.dir, "warehouse"))
	if err != nil {
		return err
	}
	cutoff, err := s.derive(ctx, o.Cutoff, o.AllowEmpty, filepath.Join(st.dir, "warehouse"))
	if err != nil {
		return err
	}
	if err := s.estimate(ctx, filepath.Join(st.dir, "results")); err != nil {
		return err
	}
	if err := s.centres(ctx, filepath.Join(st.dir, "results"), cutoff); err != nil {
		return err
	}
	m := s.manifest(sum, cutoff, o.Cutoff.IsZero())
	if err := s.changes(ctx, o.Out, st.dir, m); err != nil {
		return err
	}
	if err := s.awaitWrites(); err != nil {
		return err
	}
	if err := writeManifest(st.dir, m); err != nil {
		return err
	}
	return st.publish()
}

// ReportOptions are the inputs of Report (marrow report).
type ReportOptions struct {
	Out     string
	Log     *slog.Logger
	OnStage func(stage string)
}

// Report renders the report of an analyzed output directory and publishes
// the directory again with report/ and manifest.json replaced. It first
// checks the directory against its manifest, so that a hand-edited or
// damaged output is refused rather than certified by a fresh manifest.
func Report(ctx context.Context, o ReportOptions) (path string, err error) {
	log := orDiscard(o.Log)
	st, end, err := begin(o.Out, "manifest.json")
	if err != nil {
		return "", err
	}
	defer end()
	defer st.userPaths(&err)
	m, err := readManifest(o.Out)
	if err != nil {
		return "", badInput(fmt.Errorf("%s is not an analyzed output: %w", o.Out, err))
	}
	if err := Verify(o.Out); err != nil {
		return "", badInput(fmt.Errorf("%w: refusing to report on it (re-run marrow analyze or run)", err))
	}
	for _, sub := range []string{"warehouse", "results"} {
		if err := copyTree(filepath.Join(st.out, sub), filepath.Join(st.dir, sub)); err != nil {
			return "", err
		}
	}
	// What is re-published is the copy: check it too (a file edited
	// between the check above and the copy).
	if err := verifyCopy(st.dir, o.Out, m); err != nil {
		return "", badInput(err)
	}
	// The manifest keeps the analysis settings; the machine settings
	// (threads, memory, spill) are not part of it and take their defaults.
	cfg := m.Config
	cfg.MemoryLimit = DefaultConfig().MemoryLimit
	if len(cfg.Strata) == 0 {
		cfg.Strata = DefaultConfig().Strata
	}
	if err := cfg.Validate(); err != nil {
		return "", badInput(fmt.Errorf("%s: config: %w", filepath.Join(o.Out, "manifest.json"), err))
	}
	s, err := openSession(ctx, cfg, m.SourceDate, log, o.OnStage)
	if err != nil {
		return "", err
	}
	defer s.close()
	if err := s.report(ctx, st.dir, m); err != nil {
		return "", err
	}
	if err := writeManifest(st.dir, m); err != nil {
		return "", err
	}
	if err := st.publish(); err != nil {
		return "", err
	}
	return filepath.Join(o.Out, "report", "index.html"), nil
}

// input is a path a run reads, named by its flag for messages.
type input struct{ flag, path string }

// begin takes the lock on out and prepares an empty staging directory
// beside it; end discards the staging directory (a no-op once published)
// and releases the lock. An existing out is replaced only if it is empty
// or holds marker (a file every marrow output of its kind has): publishing
// swaps the whole directory away, and `--out ~` must not delete a home.
//
// A symbolic link as out is resolved once: the directory it points to is
// locked, staged beside and replaced, and the link keeps working. No input
// may lie inside out (publishing would delete it), out may not lie inside
// an input, and out may not hold the working directory (`--out .`).
func begin(out, marker string, inputs ...input) (st *staging, end func(), err error) {
	real, err := outputPath(out)
	if err != nil {
		return nil, nil, err
	}
	for _, in := range inputs {
		if in.path == "" {
			continue
		}
		r, err := realPath(in.path)
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("%s %s: %w", in.flag, in.path, err))
		}
		switch {
		case within(r, real):
			return nil, nil, badInput(fmt.Errorf("%s %s is inside the output %s, which this run replaces: refusing", in.flag, in.path, out))
		case within(real, r):
			return nil, nil, badInput(fmt.Errorf("output %s is inside %s %s: refusing", out, in.flag, in.path))
		}
	}
	if err := replaceable(real, out, marker); err != nil {
		return nil, nil, err
	}
	lk, err := acquireLock(real)
	if err != nil {
		return nil, nil, err
	}
	st, err = newStaging(real, lk)
	if err != nil {
		lk.release()
		return nil, nil, err
	}
	st.user = out
	return st, func() { st.discard(); lk.release() }, nil
}

// replaceable refuses an existing, non-empty directory without marker, and
// a path that is not a directory. real is out resolved; messages name out.
func replaceable(real, out, marker string) error {
	entries, err := os.ReadDir(real)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return badInput(fmt.Errorf("output %s: %w", out, err))
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(real, marker)); err != nil {
		return badInput(fmt.Errorf("output %s: not empty and not a marrow output (no %s): refusing to replace it", out, marker))
	}
	return nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
