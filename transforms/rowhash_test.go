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

// TestRowHashDuckDB: the row hashes computed in Go (rowhash.go) are
// DuckDB's hash() of the stored rows (testdata/plainsql's
// transplant_row_hash.sql) on the values where a DOUBLE or an INTEGER hash
// could go wrong: -0, fractions, negative numbers, the INTEGER limits,
// NULLs in every optional column, transplants without events.
func TestRowHashDuckDB(t *testing.T) {
	tx := []string{
		"T1,P1,C1,2020-01-01,ALLO,MSD,PB,AML,EARLY,MAC,-0,M,-5,-1",
		"T2,P2,,2020-02-01,AUTO,,,MM,,,-0.0,,,",
		"T3,P3,C3,1960-03-01,ALLO,,BM,ALL,ADVANCED,RIC,0.1,F,2147483647,-2147483648",
		"T4,P4,C4,2020-04-01,ALLO,MUD,CB,AML,INTERMEDIATE,NMA,100.75,M,0,0",
		"T5,P5,C5,2020-05-01,AUTO,,PB,MM,,,-12.5,F,100,10",
		"T6,P6,,2020-06-01,ALLO,HAPLO,,AML,,,,,,",
	}
	ev := []string{
		"T1,agvhd,2020-01-20,2,skin",
		"T1,death,2020-06-01,,",
		"T3,relapse,1961-01-01,,",
		"T5,last_contact,2021-01-01,,",
	}
	db, _, err := ingestFiles(t, extract(txHeader, tx, evHeader, ev), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE hash_ingest AS SELECT transplant_id, row_hash FROM transplants",
		"UPDATE transplants SET row_hash = NULL",
		readPlain(t, "transplant_row_hash"),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	got := queryStrings(t, db, "SELECT transplant_id, row_hash FROM hash_ingest ORDER BY ALL")
	want := queryStrings(t, db, "SELECT transplant_id, row_hash FROM transplants ORDER BY ALL")
	if len(got) != len(tx) || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("row hashes:\n%s\nDuckDB's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
