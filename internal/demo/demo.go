// Package demo bundles a small synthetic registry extract (made by
// `marrow synth --transplants 2000 --seed 1`) so that `marrow run` works
// with no input at all.
package demo

import (
	"embed"
	"os"
	"path/filepath"
)

//go:embed extract/*.csv
var files embed.FS

// Names are the extract's files.
var Names = []string{"transplants.csv", "events.csv"}

// WriteTo writes the demo extract's files into dir.
func WriteTo(dir string) error {
	for _, n := range Names {
		b, err := files.ReadFile("extract/" + n)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// File returns the bytes of one demo file (tests use it to look for the
// demo's identifiers in outputs).
func File(name string) ([]byte, error) { return files.ReadFile("extract/" + name) }
