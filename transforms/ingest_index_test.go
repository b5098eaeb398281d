package transforms

import (
	"fmt"
	"testing"
)

func TestTransplantIndex(t *testing.T) {
	cases := []struct {
		name   string
		ids    []string // registered in this order, on lines 2, 3, ...
		dupOf  []int64  // want: 0 = new, else the first line of the id
		mapped bool     // want: the index switched to a map
	}{
		{"sorted", []string{"A", "B", "C", "D"}, []int64{0, 0, 0, 0}, false},
		{"sorted with duplicates", []string{"A", "B", "B", "C", "A"}, []int64{0, 0, 3, 0, 2}, false},
		{"out of order", []string{"B", "A", "C", "A", "B", "D"}, []int64{0, 0, 0, 3, 2, 0}, true},
		{"prefixes", []string{"T1", "T10", "T2", "T1", "T10"}, []int64{0, 0, 0, 2, 3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := newTransplantIndex()
			want := map[string]int64{}
			for i, id := range c.ids {
				line := int64(i + 2)
				entry, dup := x.register(id, line)
				if dup != c.dupOf[i] || (entry < 0) != (dup > 0) {
					t.Fatalf("register(%q) = %d, %d; want duplicate of line %d", id, entry, dup, c.dupOf[i])
				}
				if dup == 0 {
					want[id] = line
				}
			}
			if (x.at != nil) != c.mapped {
				t.Errorf("map in use: %v, want %v", x.at != nil, c.mapped)
			}
			for _, after := range []int32{-1, 0, int32(len(x.infos) - 1)} {
				for id, line := range want {
					i, ok := x.find(id, after)
					if !ok || x.id(i) != id || x.infos[i].line != line {
						t.Errorf("find(%q, %d) = %d, %v", id, after, i, ok)
					}
				}
				for _, id := range []string{"", "0", "Z", "T", "T3", "AA"} {
					if i, ok := x.find(id, after); ok {
						t.Errorf("find(%q, %d) = %d, found", id, after, i)
					}
				}
			}
		})
	}
}

// BenchmarkTransplantIndex registers a million sorted ids and finds them
// again in order, as events usually come.
func BenchmarkTransplantIndex(b *testing.B) {
	ids := make([]string, 1_000_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("T%08d", i)
	}
	for b.Loop() {
		x := newTransplantIndex()
		for i, id := range ids {
			x.register(id, int64(i+2))
		}
		last := int32(-1)
		for _, id := range ids {
			last, _ = x.find(id, last)
		}
	}
}
