package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A staging directory is where a run builds its outputs, beside the
// published one. Publishing swaps it into place in one rename, so readers
// of --out see either the previous complete outputs or the new complete
// ones, never a mixture; a killed run leaves only its staging directory,
// which a later run removes.
//
// Each run's staging directory has a name of its own,
// <parent>/.<base>.staging-<16 hex digits>, and the run holds a flock on it
// for as long as it lives. A run removes only staging directories nobody
// holds: so even a run that got the output's lock wrongly (its lock file
// was deleted under a live run) never deletes a live run's work.
type staging struct {
	out  string   // the published directory (symlinks resolved)
	user string   // out as the user wrote it, for messages
	dir  string   // <parent>/.<base>.staging-<id>
	prev string   // <parent>/.<base>.previous-<id>, the swapped-out outputs on the fallback path
	own  *os.File // the staging directory, flocked while the run lives
	lk   *lock    // the output's lock, checked again before publishing
}

// stagingID is the length of the random part of a staging name.
const stagingID = 16

// newStaging prepares an empty staging directory for out. It must be called
// with the lock held. Debris of killed runs is cleaned up first, including
// the one window in which no output is published (see publish).
func newStaging(out string, lk *lock) (*staging, error) {
	if err := cleanDebris(out); err != nil {
		return nil, err
	}
	var id [stagingID / 2]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	suffix := "-" + hex.EncodeToString(id[:])
	s := &staging{out: out, dir: siblingPath(out, "staging") + suffix, prev: siblingPath(out, "previous") + suffix, lk: lk}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("staging %s: %w", s.dir, err)
	}
	own, ok, err := tryLockDir(s.dir)
	if err != nil || !ok {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("staging %s: cannot lock it: %v", s.dir, err)
	}
	s.own = own
	return s, nil
}

// cleanDebris removes the staging and previous directories of dead runs on
// out (those whose flock can be taken), after putting back an output a run
// was killed in the middle of replacing.
func cleanDebris(out string) error {
	parent := filepath.Dir(out)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return fmt.Errorf("clean %s: %w", parent, err)
	}
	type dir struct {
		path     string
		previous bool // a swapped-out output, not a staging directory
	}
	var debris []dir
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(parent, e.Name())
		switch {
		case isDebrisName(e.Name(), filepath.Base(siblingPath(out, "staging"))):
			debris = append(debris, dir{p, false})
		case isDebrisName(e.Name(), filepath.Base(siblingPath(out, "previous"))):
			debris = append(debris, dir{p, true})
		}
	}
	var free []string
	restored := false
	_, err = os.Stat(out)
	missing := errors.Is(err, os.ErrNotExist)
	for _, d := range debris {
		f, ok, err := tryLockDir(d.path)
		if err != nil || !ok {
			continue // a live run's, or gone already
		}
		defer f.Close()
		if d.previous && missing && !restored {
			// Killed between the two renames of the fallback path: restore.
			if err := os.Rename(d.path, out); err != nil {
				return fmt.Errorf("restore %s: %w", out, err)
			}
			restored = true
			continue
		}
		free = append(free, d.path)
	}
	for _, p := range free {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean %s: %w", p, err)
		}
	}
	return nil
}

// isDebrisName reports whether name is prefix (the fixed name of older
// versions) or prefix-<stagingID hex digits>.
func isDebrisName(name, prefix string) bool {
	if name == prefix {
		return true
	}
	rest, ok := strings.CutPrefix(name, prefix+"-")
	if !ok || len(rest) != stagingID {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// tryLockDir opens dir and takes an exclusive flock on it without waiting;
// ok is false when another process holds it.
func tryLockDir(dir string) (f *os.File, ok bool, err error) {
	f, err = os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}

// publish makes the staging directory the output. Every file and directory
// of staging is fsynced first and the parent directory after the swap, so
// that a power cut leaves either the old or the new output complete. On
// Linux the two directories are exchanged atomically (renameat2
// RENAME_EXCHANGE); where the file system refuses that, the old output is
// renamed aside first.
func (s *staging) publish() error {
	if err := s.lk.check(); err != nil {
		return err
	}
	if err := syncTree(s.dir); err != nil {
		return fmt.Errorf("publish %s: %w", s.out, err)
	}
	if _, err := os.Lstat(s.out); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(s.dir, s.out); err != nil {
			return fmt.Errorf("publish %s: %w", s.out, err)
		}
		return s.syncParent()
	}
	if err := fsOps.exchange(s.dir, s.out); err == nil {
		// s.dir now holds the previous output.
		if err := s.syncParent(); err != nil {
			return err
		}
		return os.RemoveAll(s.dir)
	}
	if err := os.Rename(s.out, s.prev); err != nil {
		return fmt.Errorf("publish %s: %w", s.out, err)
	}
	if err := os.Rename(s.dir, s.out); err != nil {
		return fmt.Errorf("publish %s: %w", s.out, err)
	}
	if err := s.syncParent(); err != nil {
		return err
	}
	return os.RemoveAll(s.prev)
}

func (s *staging) syncParent() error {
	if err := fsOps.sync(filepath.Dir(s.out)); err != nil {
		return fmt.Errorf("publish %s: sync %s: %w", s.out, filepath.Dir(s.out), err)
	}
	return nil
}

// discard removes the staging directory of a failed run (a no-op once
// published) and lets go of it.
func (s *staging) discard() {
	os.RemoveAll(s.dir)
	if s.own != nil {
		s.own.Close()
		s.own = nil
	}
}

// userPaths rewrites *err so that it names the user's output path instead
// of the staging directory, which the user never sees.
func (s *staging) userPaths(err *error) {
	if *err == nil || !strings.Contains((*err).Error(), s.dir) {
		return
	}
	*err = renamedError{msg: strings.ReplaceAll((*err).Error(), s.dir, s.user), err: *err}
}

// renamedError is an error with its text rewritten; errors.Is and As still
// see the original.
type renamedError struct {
	msg string
	err error
}

func (e renamedError) Error() string { return e.msg }
func (e renamedError) Unwrap() error { return e.err }
