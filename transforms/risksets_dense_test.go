package transforms

import "testing"

// TestDenseFits: the dense counts take combinations whose endpoint times
// are within 0 to 2^22 − 1 and whose counters fit riskDenseCells, in
// 16-bit fields while time · 4 + 3 is below 2^16 − 1, else 32; the rest
// goes to the counts query.
func TestDenseFits(t *testing.T) {
	none := [2]int64{-1, -1}
	for _, tc := range []struct {
		name  string
		spans [][2]int64
		bits  int
		ok    bool
	}{
		{"empty cohort", nil, 16, true},
		{"no endpoint times", [][2]int64{none}, 16, true},
		{"15 years", [][2]int64{{0, 5658}, none, {3, 100}}, 16, true},
		{"last 16-bit day", [][2]int64{{0, 16382}}, 16, true},
		{"first 32-bit day", [][2]int64{{0, 16383}}, 32, true},
		{"last day of the counts query", [][2]int64{{0, 1<<22 - 1}}, 32, true},
		{"past the counts query's days", [][2]int64{{0, 1 << 22}}, 0, false},
		{"negative time", [][2]int64{{-1, 10}}, 0, false},
	} {
		bits, ok := denseFits(tc.spans, 1)
		if bits != tc.bits || ok != tc.ok {
			t.Errorf("%s: denseFits = %d, %v; want %d, %v", tc.name, bits, ok, tc.bits, tc.ok)
		}
	}
	// 12 endpoints over 4,000 days in 100 combinations: 14.4 M counters.
	spans := make([][2]int64, 100)
	for i := range spans {
		spans[i] = [2]int64{0, 3999}
	}
	if _, ok := denseFits(spans, 12); !ok {
		t.Errorf("14.4 M counters do not fit %d", riskDenseCells)
	}
	defer func(old int64) { riskDenseCells = old }(riskDenseCells)
	riskDenseCells = 14_400_000 - 1
	if _, ok := denseFits(spans, 12); ok {
		t.Errorf("14.4 M counters fit %d", riskDenseCells)
	}
}
