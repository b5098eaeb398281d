package synth

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file reads an extract back the way SPEC §1 defines it,
// independently of the generator: a row is good or is rejected for one of
// the reasons of SPEC §1.

// Rejection kinds, as the tests name them.
const (
	kindOK        = ""
	kindFields    = "wrong number of fields"
	kindMissing   = "missing required value"
	kindDate      = "unparseable date"
	kindNumber    = "unparseable number"
	kindRange     = "out of range"
	kindCode      = "unknown code"
	kindDuplicate = "duplicate transplant_id"
	kindUnknownTx = "unknown transplant"
	kindBeforeTx  = "event before transplant"
)

var specCodes = map[string][]string{
	"transplant_type": {"ALLO", "AUTO"},
	"donor_type":      {"MSD", "MUD", "MMUD", "HAPLO", "CORD", "OTHER"},
	"graft_source":    {"BM", "PB", "CB"},
	"indication":      {"AML", "ALL", "CML", "CLL", "MDS", "MPN", "NHL", "HL", "MM", "SAA", "IMD", "IEM", "HGB", "SOLID", "OTHER"},
	"disease_status":  {"EARLY", "INTERMEDIATE", "ADVANCED"},
	"conditioning":    {"MAC", "RIC", "NMA"},
	"sex":             {"M", "F"},
	"event":           {"DEATH", "RELAPSE", "AGVHD", "CGVHD", "NEUTROPHIL_ENGRAFTMENT", "PLATELET_ENGRAFTMENT", "GRAFT_FAILURE", "INFECTION", "ORGAN_TOXICITY", "SECOND_TRANSPLANT", "LAST_CONTACT"},
}

var (
	agvhdGrades = map[string]int{"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}
	cgvhdGrades = []string{"MILD", "MODERATE", "SEVERE"}
	decimalRE   = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
	integerRE   = regexp.MustCompile(`^[+-]?[0-9]+$`)
)

// tx is a good transplant row, codes upper-cased.
type tx struct {
	id, patient, centre                       string
	date                                      time.Time
	typ, donor, graft, ind, status, cond, sex string
	age                                       float64
	line                                      int
}

// ev is a good event row, event lower-cased and grade as written.
type ev struct {
	id, event, grade, detail string
	date                     time.Time
	day                      int
}

type parsed struct {
	txs        []tx
	byID       map[string]*tx
	evs        []ev
	txBad      map[string]int // kind → rows
	evBad      map[string]int
	txGoodRaw  [][]string // good rows as read, for comparisons
	evGoodRaw  [][]string
	rawTxCodes []string // every code as written (to find case variants)
	rawEvCodes []string
	rawGrades  []string
	rawDetails []string
}

func readCSV(tb testing.TB, path string) (header []string, rows [][]string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err = r.Read()
	if err != nil {
		tb.Fatalf("%s: header: %v", path, err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
	return header, rows
}

func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

func isCode(col, v string) bool {
	return slices.Contains(specCodes[col], strings.ToUpper(v))
}

// parseExtract reads dir's extract and sorts every row into good or a
// rejection kind.
func parseExtract(tb testing.TB, dir string) *parsed {
	tb.Helper()
	p := &parsed{byID: map[string]*tx{}, txBad: map[string]int{}, evBad: map[string]int{}}

	header, rows := readCSV(tb, filepath.Join(dir, TransplantsFile))
	want := strings.Split(strings.TrimSuffix(transplantsHeader, "\n"), ",")
	if !slices.Equal(header, want) {
		tb.Fatalf("transplants.csv header %q, want %q", header, want)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for i, rec := range rows {
		kind, t := checkTransplant(rec, col, len(header), p.byID)
		if kind != kindOK {
			p.txBad[kind]++
			continue
		}
		t.line = i + 2
		p.txs = append(p.txs, t)
		p.byID[t.id] = &p.txs[len(p.txs)-1]
		p.txGoodRaw = append(p.txGoodRaw, rec)
		for _, c := range []string{"transplant_type", "donor_type", "graft_source", "indication", "disease_status", "conditioning", "sex"} {
			p.rawTxCodes = append(p.rawTxCodes, rec[col[c]])
		}
	}
	// byID points into txs, which may have moved while growing.
	for i := range p.txs {
		p.byID[p.txs[i].id] = &p.txs[i]
	}

	header, rows = readCSV(tb, filepath.Join(dir, EventsFile))
	want = strings.Split(strings.TrimSuffix(eventsHeader, "\n"), ",")
	if !slices.Equal(header, want) {
		tb.Fatalf("events.csv header %q, want %q", header, want)
	}
	for _, rec := range rows {
		kind, e := checkEvent(rec, len(header), p.byID)
		if kind != kindOK {
			p.evBad[kind]++
			continue
		}
		p.evs = append(p.evs, e)
		p.evGoodRaw = append(p.evGoodRaw, rec)
		p.rawEvCodes = append(p.rawEvCodes, rec[1])
		p.rawGrades = append(p.rawGrades, rec[3])
		p.rawDetails = append(p.rawDetails, rec[4])
	}
	return p
}

func checkTransplant(rec []string, col map[string]int, n int, seen map[string]*tx) (string, tx) {
	var t tx
	if len(rec) != n {
		return kindFields, t
	}
	get := func(c string) string { return rec[col[c]] }
	for _, c := range []string{"transplant_id", "patient_id", "transplant_date", "transplant_type", "indication"} {
		if get(c) == "" {
			return kindMissing, t
		}
	}
	t.id, t.patient, t.centre = get("transplant_id"), get("patient_id"), get("center_id")
	if _, dup := seen[t.id]; dup {
		return kindDuplicate, t
	}
	var ok bool
	if t.date, ok = parseDate(get("transplant_date")); !ok {
		return kindDate, t
	}
	for _, c := range []string{"transplant_type", "donor_type", "graft_source", "indication", "disease_status", "conditioning", "sex"} {
		if v := get(c); v != "" && !isCode(c, v) {
			return kindCode, t
		}
	}
	t.typ, t.donor, t.graft = strings.ToUpper(get("transplant_type")), strings.ToUpper(get("donor_type")), strings.ToUpper(get("graft_source"))
	t.ind, t.status, t.cond = strings.ToUpper(get("indication")), strings.ToUpper(get("disease_status")), strings.ToUpper(get("conditioning"))
	t.sex = strings.ToUpper(get("sex"))
	t.age = -1
	if v := get("age_years"); v != "" {
		if !decimalRE.MatchString(v) {
			return kindNumber, t
		}
		t.age, _ = strconv.ParseFloat(v, 64)
		if t.age < 0 || t.age > 100 {
			return kindRange, t
		}
	}
	for _, c := range []struct {
		name   string
		lo, hi int
	}{{"karnofsky", 10, 100}, {"hct_ci", 0, 1 << 30}} {
		v := get(c.name)
		if v == "" {
			continue
		}
		if !integerRE.MatchString(v) {
			return kindNumber, t
		}
		k, err := strconv.Atoi(v)
		if err != nil || k < c.lo || k > c.hi {
			return kindRange, t
		}
	}
	return kindOK, t
}

func checkEvent(rec []string, n int, txs map[string]*tx) (string, ev) {
	var e ev
	if len(rec) != n {
		return kindFields, e
	}
	e.id, e.event, e.grade, e.detail = rec[0], strings.ToLower(rec[1]), rec[3], rec[4]
	if e.id == "" || rec[1] == "" || rec[2] == "" {
		return kindMissing, e
	}
	t, ok := txs[e.id]
	if !ok {
		return kindUnknownTx, e
	}
	if !isCode("event", rec[1]) {
		return kindCode, e
	}
	if e.date, ok = parseDate(rec[2]); !ok {
		return kindDate, e
	}
	if g := strings.ToUpper(e.grade); g != "" {
		switch {
		case e.event == "agvhd" && agvhdGrades[g] == 0,
			e.event == "cgvhd" && !slices.Contains(cgvhdGrades, g),
			e.event != "agvhd" && e.event != "cgvhd":
			return kindCode, e
		}
	}
	e.day = int(e.date.Sub(t.date).Hours() / 24)
	if e.day < 0 {
		return kindBeforeTx, e
	}
	return kindOK, e
}

func generate(tb testing.TB, opts Options) (string, Stats) {
	tb.Helper()
	dir := tb.TempDir()
	st, err := Write(context.Background(), dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, st
}
