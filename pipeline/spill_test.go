package pipeline

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSpillDirRace: runs creating their spill directories while others
// clean stale ones never lose a fresh directory to the cleanup (a test
// once failed with "cannot lock it: no such file" while other marrow
// processes ran). Flocks are per open file, so goroutines race as
// processes would.
func TestSpillDirRace(t *testing.T) {
	tmp := t.TempDir()
	const workers, rounds = 4, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				dir, cleanup, err := spillDir(tmp)
				if err != nil {
					errs <- err
					continue
				}
				if _, err := os.Stat(dir); err != nil {
					errs <- err
				}
				cleanup()
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				cleanStaleSpills(tmp)
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d spill directories lost to a concurrent cleanup", n, workers*rounds)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestStaleNewSpillDirs: a directory a run made and was killed before
// locking is removed once older than newSpillAge; a younger one may be a
// live run's, about to be locked, and is kept.
func TestStaleNewSpillDirs(t *testing.T) {
	tmp := t.TempDir()
	old := filepath.Join(tmp, newSpillPrefix+"old")
	young := filepath.Join(tmp, newSpillPrefix+"young")
	os.Mkdir(old, 0o755)
	os.Mkdir(young, 0o755)
	past := time.Now().Add(-2 * newSpillAge)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	cleanStaleSpills(tmp)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("%s kept: %v", old, err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("%s removed: %v", young, err)
	}
}
