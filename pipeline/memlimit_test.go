package pipeline

import (
	"runtime/debug"
	"testing"
)

// TestRaiseGoMemoryLimit: ingest's soft limit goes up for the stage and
// back after; a limit GOMEMLIMIT set, or a higher one, is left alone.
func TestRaiseGoMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(640 << 20)
	restore := raiseGoMemoryLimit(1 << 30)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("limit during the stage %d, want %d", got, 1<<30)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != 640<<20 {
		t.Errorf("limit after the stage %d, want %d", got, 640<<20)
	}

	debug.SetMemoryLimit(2 << 30)
	raiseGoMemoryLimit(1 << 30)()
	if got := debug.SetMemoryLimit(-1); got != 2<<30 {
		t.Errorf("a higher limit became %d", got)
	}

	t.Setenv("GOMEMLIMIT", "512MiB")
	debug.SetMemoryLimit(512 << 20)
	restore = raiseGoMemoryLimit(1 << 30)
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("GOMEMLIMIT's limit became %d during the stage", got)
	}
	restore()
}
