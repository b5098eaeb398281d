package civil

import (
	"testing"
	"time"
)

// TestAgainstTime: every day from 1899 to 2201 has the day number and the
// text that package time gives it, and Date inverts Days.
func TestAgainstTime(t *testing.T) {
	start := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)
	for tm := start; tm.Year() <= 2201; tm = tm.AddDate(0, 0, 1) {
		want := int32(tm.Unix() / 86400)
		n := Days(tm.Year(), int(tm.Month()), tm.Day())
		if n != want {
			t.Fatalf("Days(%s) = %d, want %d", tm.Format(time.DateOnly), n, want)
		}
		if y, m, d := Date(n); y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("Date(%d) = %d-%d-%d, want %s", n, y, m, d, tm.Format(time.DateOnly))
		}
		if got := string(Append(nil, n)); got != tm.Format(time.DateOnly) {
			t.Fatalf("Append(%d) = %q, want %q", n, got, tm.Format(time.DateOnly))
		}
	}
	if got := string(Append(nil, Days(0, 1, 1))); got != "0000-01-01" {
		t.Errorf("year 0: %q", got)
	}
}
