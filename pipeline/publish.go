package pipeline

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A staging directory is where a run builds its outputs, beside the
// published one. Publishing swaps it into place in one rename, so readers
// of --out see either the previous complete outputs or the new complete
// ones, never a mixture; a killed run leaves only the staging directory,
// which the next run removes.
type staging struct {
	out  string // the published directory
	dir  string // <parent>/.<base>.staging
	prev string // <parent>/.<base>.previous, the swapped-out outputs
}

// newStaging prepares an empty staging directory for out. It must be called
// with the lock held. Debris of a killed run is cleaned up first, including
// the one window in which no output is published (see publish).
func newStaging(out string) (*staging, error) {
	s := &staging{out: out, dir: siblingPath(out, "staging"), prev: siblingPath(out, "previous")}
	if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
		if _, perr := os.Stat(s.prev); perr == nil {
			// Killed between the two renames of the fallback path: restore.
			if err := os.Rename(s.prev, out); err != nil {
				return nil, fmt.Errorf("restore %s: %w", out, err)
			}
		}
	}
	for _, p := range []string{s.dir, s.prev} {
		if err := os.RemoveAll(p); err != nil {
			return nil, fmt.Errorf("clean %s: %w", p, err)
		}
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("staging %s: %w", s.dir, err)
	}
	return s, nil
}

// publish makes the staging directory the output. On Linux the two
// directories are exchanged atomically (renameat2 RENAME_EXCHANGE); where
// the file system refuses that, the old output is renamed aside first.
func (s *staging) publish() error {
	if _, err := os.Stat(s.out); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(s.dir, s.out); err != nil {
			return fmt.Errorf("publish %s: %w", s.out, err)
		}
		return syncParent(s.out)
	}
	err := unix.Renameat2(unix.AT_FDCWD, s.dir, unix.AT_FDCWD, s.out, unix.RENAME_EXCHANGE)
	if err == nil {
		if err := os.Rename(s.dir, s.prev); err != nil {
			return fmt.Errorf("publish %s: %w", s.out, err)
		}
	} else {
		if err := os.Rename(s.out, s.prev); err != nil {
			return fmt.Errorf("publish %s: %w", s.out, err)
		}
		if err := os.Rename(s.dir, s.out); err != nil {
			return fmt.Errorf("publish %s: %w", s.out, err)
		}
	}
	if err := syncParent(s.out); err != nil {
		return err
	}
	return os.RemoveAll(s.prev)
}

// discard removes the staging directory of a failed run.
func (s *staging) discard() { os.RemoveAll(s.dir) }

func syncParent(path string) error {
	d, err := os.Open(parentDir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
