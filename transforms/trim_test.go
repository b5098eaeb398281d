package transforms

import (
	"strings"
	"testing"
)

// TestTrimField: trimField (plainEnds' shortcut) trims as strings.TrimSpace
// does, Unicode white space and control bytes at either end included.
func TestTrimField(t *testing.T) {
	ends := []string{"", " ", "\t", "\r", "\v", "\f", "\x00", "\x7f", "\u00a0", "\u2003", "\u3000", "\u0085", "!", "~", "a", "é", "\x80"}
	for _, a := range ends {
		for _, mid := range []string{"", "x", " y ", "T000123"} {
			for _, b := range ends {
				s := a + mid + b
				if got, want := trimField(s), strings.TrimSpace(s); got != want {
					t.Errorf("trimField(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}

// FuzzTrimField: any string trims as strings.TrimSpace trims it.
func FuzzTrimField(f *testing.F) {
	f.Add(" a\u00a0")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimField(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimField(%q) = %q, want %q", s, got, want)
		}
	})
}
