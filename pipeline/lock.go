package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrLocked reports that another marrow process holds the output directory.
var ErrLocked = errors.New("output is locked by another run")

// lock is an advisory lock (flock) on <parent>/.<base>.lock: exclusive for
// a run that replaces the directory, shared for one that only reads it
// (analyze reading a warehouse). The kernel drops a flock when its process
// dies, so a killed run never leaves a lock that blocks the next one; the
// file's text only names the holder.
//
// The lock file is opened without following a symlink and is never
// truncated: marrow often runs as a privileged user, and a symlink or hard
// link planted at the lock path must not empty its target. A lock path that
// is not a plain file with one link is refused.
type lock struct {
	f    *os.File
	path string
}

// holderWidth pads the holder line so that writing it at offset 0 always
// covers the previous holder's text without truncating the file.
const holderWidth = 32

func acquireLock(out string) (*lock, error) { return takeLock(out, syscall.LOCK_EX) }

// acquireSharedLock takes the lock of dir shared: any number of readers,
// no writer.
func acquireSharedLock(dir string) (*lock, error) { return takeLock(dir, syscall.LOCK_SH) }

func takeLock(out string, how int) (*lock, error) {
	path := siblingPath(out, "lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ELOOP):
			return nil, badInput(fmt.Errorf("lock %s: is a symbolic link: refusing to use it (remove it)", path))
		case errors.Is(err, syscall.EISDIR):
			return nil, badInput(fmt.Errorf("lock %s: is a directory: refusing to use it (remove it)", path))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := plainFile(f); err != nil {
		f.Close()
		return nil, badInput(fmt.Errorf("lock %s: %v: refusing to use it (remove it)", path, err))
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (%s)", ErrLocked, out, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	lk := &lock{f: f, path: path}
	// The file may have been removed (or replaced) between the open and the
	// flock: then the lock guards nothing.
	if err := lk.check(); err != nil {
		lk.release()
		return nil, err
	}
	if how == syscall.LOCK_EX {
		line := fmt.Sprintf("marrow pid %d", os.Getpid())
		f.WriteAt([]byte(fmt.Sprintf("%-*s\n", holderWidth-1, line)), 0)
	}
	return lk, nil
}

// plainFile refuses anything but a regular file with a single link.
func plainFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink != 1 {
		return fmt.Errorf("has %d hard links", st.Nlink)
	}
	return nil
}

func readHolder(f *os.File) string {
	b := make([]byte, holderWidth)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}

// check reports whether the lock file at the path is still the one locked:
// a lock file deleted (or replaced) during a run lets a second run lock a
// new file at the same path, and the two would then publish over each
// other. A run checks before it publishes.
func (l *lock) check() error {
	held, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	now, err := os.Lstat(l.path)
	if err != nil || !os.SameFile(held, now) {
		return fmt.Errorf("lock %s was removed or replaced during the run: another run may hold the output; not publishing", l.path)
	}
	return nil
}

func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// siblingPath names a hidden helper path next to out: <parent>/.<base>.<kind>.
// Keeping staging and lock files beside the output (same file system) is
// what makes the final rename atomic.
func siblingPath(out, kind string) string {
	clean := filepath.Clean(out)
	return filepath.Join(filepath.Dir(clean), "."+filepath.Base(clean)+"."+kind)
}
