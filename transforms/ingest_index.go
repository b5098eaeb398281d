package transforms

import (
	"slices"
	"strings"
)

// transplantIndex maps each transplant_id of transplants.csv to its first
// row, for the duplicate check and for the events.
//
// Registries export transplants sorted by id, and events in the order of
// their transplants. While ids arrive in increasing order the index is a
// sorted slice: a new id needs no lookup at all, and an event's
// transplant is found by looking at the entry after the last one found,
// or by binary search. The first id out of order turns on a hash map.
// The ids live in one byte slice and the entries hold no pointers, so the
// garbage collector does not walk a million strings on every cycle.
type transplantIndex struct {
	ids   []byte // the ids, one after another
	infos []txInfo
	at    map[string]int32 // nil while the ids are in increasing order
}

// txInfo is what events need to know of a transplant row.
type txInfo struct {
	off  int64 // the id is ids[off : off+n]
	n    int32
	date int32 // transplant_date as a day number
	line int64 // line in transplants.csv of the id's first row
	// hash is DuckDB's hash() of the accepted row's fields, folded left
	// to right (transplant.hash); rowHash adds the events.
	hash uint64
	ok   bool // the row was accepted
	auto bool // an AUTO transplant (gvhd_in_auto)
}

func newTransplantIndex() *transplantIndex { return &transplantIndex{} }

// id returns entry i's transplant_id.
func (x *transplantIndex) id(i int32) string {
	e := &x.infos[i]
	return bytesString(x.ids[e.off : e.off+int64(e.n)])
}

// lookup returns the entry of id.
func (x *transplantIndex) lookup(id string) (int32, bool) {
	if x.at != nil {
		i, ok := x.at[id]
		return i, ok
	}
	i, ok := slices.BinarySearchFunc(x.infos, id, func(e txInfo, id string) int {
		return strings.Compare(bytesString(x.ids[e.off:e.off+int64(e.n)]), id)
	})
	return int32(i), ok
}

// find returns the entry of id, first trying the one after after.
func (x *transplantIndex) find(id string, after int32) (int32, bool) {
	if next := after + 1; int(next) < len(x.infos) && x.id(next) == id {
		return next, true
	}
	return x.lookup(id)
}

// register enters id, first seen on line, and returns its entry; or, if
// id was registered before, -1 and the line of its first row.
func (x *transplantIndex) register(id string, line int64) (entry int32, dupOf int64) {
	n := int32(len(x.infos))
	if x.at != nil || n > 0 && x.id(n-1) >= id { // not above every id so far
		if i, ok := x.lookup(id); ok {
			return -1, x.infos[i].line
		}
	}
	off := int64(len(x.ids))
	x.ids = append(x.ids, id...)
	x.infos = append(x.infos, txInfo{off: off, n: int32(len(id)), line: line})
	switch {
	case x.at != nil:
		x.at[x.id(n)] = n
	case n > 0 && x.id(n-1) > id:
		// Out of order: from now on, a map. Its keys point into ids;
		// should ids grow, the old array stays alive and unchanged.
		x.at = make(map[string]int32, cap(x.infos))
		for i := range n + 1 {
			x.at[x.id(i)] = i
		}
	}
	return n, 0
}

// reserve sizes the index for about n transplants of idLen bytes.
func (x *transplantIndex) reserve(n, idLen int) {
	if len(x.infos) > 0 || n <= 0 {
		return
	}
	x.infos = make([]txInfo, 0, n)
	x.ids = make([]byte, 0, n*idLen)
}

// accept marks the accepted transplants, once all rows are validated.
func (x *transplantIndex) accept(vs ...validator) {
	for _, v := range vs {
		for _, r := range v.(*transplantRows).done {
			e := &x.infos[r.entry]
			e.date, e.hash, e.ok, e.auto = r.date, r.hash, true, r.auto
		}
	}
}

// firsts says, per entry of x (after accept), whether it is an accepted
// row that is its patient's first transplant of its type: earliest date,
// then smallest transplant_id by byte value, as cohort.sql.tmpl's window
// picks it. The first of all a patient's transplants of a type is also
// the first of those up to any cutoff that keeps one, so the mark holds
// whatever the cutoff. It only reads x: it may run beside the events'
// validators. It needs the validators' patients, and drops them.
func (x *transplantIndex) firsts(vs ...validator) []bool {
	type patientType struct {
		patient string
		auto    bool
	}
	n := 0
	for _, v := range vs {
		n += len(v.(*transplantRows).done)
	}
	first := make(map[patientType]int32, n)
	for _, v := range vs {
		t := v.(*transplantRows)
		for i, r := range t.done {
			k := patientType{t.patients[i], r.auto}
			if f, ok := first[k]; !ok || x.before(r.entry, f) {
				first[k] = r.entry
			}
		}
		// accept has copied done into x: neither is needed any more
		// (5M transplants: 120 MB of heap while the events are loaded).
		t.patients, t.done = nil, nil
	}
	marks := make([]bool, len(x.infos))
	for _, i := range first {
		marks[i] = true
	}
	return marks
}

// before says accepted entry i comes before j in a patient's order of
// transplants: earlier date, then smaller transplant_id (byte order, as
// SQL compares VARCHAR).
func (x *transplantIndex) before(i, j int32) bool {
	a, b := &x.infos[i], &x.infos[j]
	if a.date != b.date {
		return a.date < b.date
	}
	return x.id(i) < x.id(j)
}

// registered is an accepted transplant row: its index entry, date, the
// hash of its fields and whether it is AUTO.
type registered struct {
	entry int32
	date  int32
	hash  uint64
	auto  bool
}

// registrar enters the transplant ids into the index in file order, in
// the reader's goroutine, so that the rows themselves can be validated in
// parallel. An id is registered before its row is judged: a later row
// with the same id is a duplicate whatever became of this one, and the
// events of a rejected row say so. A record with the wrong number of
// fields registers nothing: which field is its id is unknown.
type registrar struct {
	index *transplantIndex
	ncols int
	size  int64 // file size, to size the index; 0 if unknown
}

// register looks up the id of each record of b, setting b.reg (index
// entry or -1) and b.dupOf (line of the earlier row with the id, or 0).
func (g *registrar) register(b *rawBatch) {
	k := nTransplantCols
	if len(g.index.infos) == 0 && b.n > 0 && g.size > 0 {
		// Size the index from the first batch's bytes per row.
		perRow := float64(b.end[b.n-1]-b.off[0]) / float64(b.n)
		g.index.reserve(int(1.1*float64(g.size)/perRow), len(strings.TrimSpace(b.vals[tID]))+1)
	}
	for j := len(b.reg); j < b.n; j++ {
		id := strings.TrimSpace(b.vals[j*k+tID])
		reg, dupOf := int32(-1), int64(0)
		if id != "" && int(b.nf[j]) == g.ncols {
			reg, dupOf = g.index.register(id, b.lines[j])
		}
		b.reg = append(b.reg, reg)
		b.dupOf = append(b.dupOf, dupOf)
	}
}
