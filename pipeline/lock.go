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

// lock is an exclusive advisory lock (flock) on <parent>/.<base>.lock. The
// kernel drops a flock when its process dies, so a killed run never leaves
// a lock that blocks the next one; the file's text only names the holder.
type lock struct{ f *os.File }

func acquireLock(out string) (*lock, error) {
	path := siblingPath(out, "lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (%s)", ErrLocked, out, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "marrow pid %d\n", os.Getpid())
	}
	return &lock{f: f}, nil
}

func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}

// siblingPath names a hidden helper path next to out: <parent>/.<base>.<kind>.
// Keeping staging and lock files beside the output (same file system) is
// what makes the final rename atomic.
func siblingPath(out, kind string) string {
	clean := filepath.Clean(out)
	return filepath.Join(filepath.Dir(clean), "."+filepath.Base(clean)+"."+kind)
}
