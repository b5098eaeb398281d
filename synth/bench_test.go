package synth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWrite writes 100,000 transplants (about a million events) per
// iteration.
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	var size int64
	for b.Loop() {
		if _, err := Write(context.Background(), dir, Options{Transplants: 100_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{TransplantsFile, EventsFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	b.SetBytes(size)
}
