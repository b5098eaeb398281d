package transforms

import (
	"strings"
	"testing"
)

// TestRowHash: a transplant's row_hash depends on its own values and on its
// accepted events as a set, not on line numbers, row order or other
// transplants; any change of a field or of an event changes it.
func TestRowHash(t *testing.T) {
	tx := []string{
		"T1,P1,C1,2020-01-01,ALLO,MSD,PB,AML,EARLY,MAC,45.5,M,90,1",
		"T2,P2,C1,2020-02-01,AUTO,,PB,MM,,,60,F,,",
		"T3,P3,,2020-03-01,ALLO,MUD,BM,ALL,,,30,,,",
	}
	ev := []string{
		"T1,agvhd,2020-01-20,2,skin",
		"T1,death,2020-06-01,,",
		"T2,last_contact,2021-01-01,,",
	}
	hashes := func(tx, ev []string) map[string]string {
		t.Helper()
		db, _, err := ingestFiles(t, extract(txHeader, tx, evHeader, ev), 1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range queryStrings(t, db, "SELECT transplant_id, row_hash FROM transplants ORDER BY transplant_id") {
			id, h, _ := strings.Cut(r, "|")
			if h == "∅" {
				t.Fatalf("%s has no row_hash", id)
			}
			got[id] = h
		}
		return got
	}
	base := hashes(tx, ev)
	if base["T1"] == base["T2"] || base["T2"] == base["T3"] {
		t.Fatalf("different transplants share a hash: %v", base)
	}
	reversed := func(s []string) []string {
		r := make([]string, len(s))
		for i, v := range s {
			r[len(s)-1-i] = v
		}
		return r
	}
	edit := func(s []string, i int, v string) []string {
		r := append([]string(nil), s...)
		r[i] = v
		return r
	}
	for _, c := range []struct {
		name    string
		tx, ev  []string
		changed string // the one transplant whose hash changes; "" none
	}{
		{"rows reordered", reversed(tx), reversed(ev), ""},
		{"a blank line shifts every line", append([]string{""}, tx...), ev, ""},
		{"event detail edited", tx, edit(ev, 0, "T1,agvhd,2020-01-20,2,gut"), "T1"},
		{"event added", tx, append(append([]string(nil), ev...), "T3,relapse,2020-09-01,,"), "T3"},
		{"event removed", tx, ev[1:], "T1"},
		{"identical event repeated", tx, append(append([]string(nil), ev...), ev[2]), "T2"},
		{"empty optional value became set", edit(tx, 2, "T3,P3,C9,2020-03-01,ALLO,MUD,BM,ALL,,,30,,,"), ev, "T3"},
		{"age edited", edit(tx, 1, "T2,P2,C1,2020-02-01,AUTO,,PB,MM,,,61,F,,"), ev, "T2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := hashes(c.tx, c.ev)
			for id, h := range base {
				if (got[id] != h) != (id == c.changed) {
					t.Errorf("%s: hash %s, before %s (want changed only for %q)", id, got[id], h, c.changed)
				}
			}
		})
	}
}
