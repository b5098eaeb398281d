package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The refusals checked before a run takes any lock: paths that publishing
// would destroy or could not replace, and cutoffs that mean nothing.

// outputPath resolves out (see begin) and refuses the paths publishing
// cannot replace.
func outputPath(out string) (string, error) {
	if out == "" {
		return "", badInput(errors.New("no output directory given"))
	}
	real, err := realPath(out)
	if err != nil {
		return "", badInput(fmt.Errorf("output %s: %w", out, err))
	}
	if fi, err := os.Lstat(real); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return "", badInput(fmt.Errorf("output %s is a symbolic link to a missing directory: refusing", out))
	}
	if cwd, err := os.Getwd(); err == nil {
		if rc, err := realPath(cwd); err == nil && within(rc, real) {
			return "", badInput(fmt.Errorf("output %s is or contains the working directory: refusing to replace it", out))
		}
	}
	return real, nil
}

// notPublishedWarehouse refuses an ingest into the warehouse/ of a
// published output: that would rewrite the output in place, out of step
// with its results and manifest.
func notPublishedWarehouse(warehouse string) error {
	real, err := realPath(warehouse)
	if err != nil {
		return badInput(fmt.Errorf("--warehouse %s: %w", warehouse, err))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(real), "manifest.json")); err == nil {
		return badInput(fmt.Errorf("--warehouse %s is the warehouse of the published output %s: refusing to rewrite it (ingest into a directory of its own, or use marrow run)",
			warehouse, filepath.Dir(warehouse)))
	}
	return nil
}

// Dates ingest accepts, and hence the cutoffs that mean something.
var (
	minCutoff = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxCutoff = time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC)
)

// checkCutoff refuses a cutoff outside the dates ingest accepts. The zero
// time means the default cutoff.
func checkCutoff(c time.Time) error {
	if c.IsZero() {
		return nil
	}
	if c.Before(minCutoff) || c.After(maxCutoff) {
		return badInput(fmt.Errorf("cutoff %s: must be between 1900-01-01 and 2199-12-31", c.Format(time.DateOnly)))
	}
	return nil
}
