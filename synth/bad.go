package synth

import "math/rand/v2"

// Kinds of bad transplant rows, injected in turn.
const (
	badTxMissing   = iota // missing required value
	badTxDate             // unparseable date
	badTxNumber           // unparseable number
	badTxRange            // number out of range (too large for an INTEGER)
	badTxCode             // unknown code
	badTxDuplicate        // duplicate transplant_id
	badTxFields           // wrong number of fields
	nBadTxKinds
)

// Kinds of bad event rows, injected in turn.
const (
	badEvMissing   = iota // missing required value
	badEvDate             // unparseable date
	badEvCode             // unknown code
	badEvUnknownTx        // event for an unknown transplant
	badEvBeforeTx         // event before its transplant
	badEvFields           // wrong number of fields
	nBadEvKinds
)

var badDates = []string{"2020-02-30", "yesterday", "2019/05/04", "31.12.2018", "2021-13-01", "2018-6-5", "2019-04-31"}

type badValue struct {
	col  int
	vals []string
}

var (
	txMissingCols = []int{colID, colPatient, colDate, colType, colInd}
	txBadNumbers  = []badValue{
		{colAge, []string{"abc", "1e999", "NaN", "54,5", "Inf", "5 4"}},
		{colKarn, []string{"ninety", "80.5", "1e2"}},
		{colHct, []string{"two", "2-3", "0x1"}},
	}
	// Readable but implausible values (age 130, Karnofsky 150) are kept
	// and flagged by ingest, so they are not bad rows; a value that no
	// INTEGER column can hold is.
	txBadRanges = []badValue{
		{colKarn, []string{"99999999999", "4294967296"}},
		{colHct, []string{"-99999999999", "3000000000"}},
	}
	txBadCodes = []badValue{
		{colType, []string{"SYNGENEIC", "XENO", "AL LO"}},
		{colInd, []string{"XYZ", "LEUKAEMIA", "AML/MDS"}},
		{colGraft, []string{"MARROW", "PBSC"}},
		{colStatus, []string{"CR1", "PR"}},
		{colCond, []string{"FULL", "MAC/RIC"}},
		{colSex, []string{"U", "X", "male"}},
		{colDonor, []string{"SIB", "UNRELATED", "MRD"}}, // only for ALLO rows: last
	}
	evMissingCols = []int{colEvID, colEvent, colEvDate}
	evBadCodes    = []string{"hospitalisation", "relapsed", "gvhd", "discharge", "deceased"}
)

func pickString(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// badTransplant appends one bad transplant row after t: a copy of t under
// a transplant id of its own ('X' numbers, never used by good rows) with
// exactly one fault, or a verbatim copy of an earlier row of the chunk.
func (g *generator) badTransplant(c *chunk, t *txRec) {
	r := c.bad
	kind := (c.idx + int(c.stats.BadTransplantRows)) % nBadTxKinds
	c.stats.BadTransplantRows++
	ov := override{col: -1, prefix: 'X', num: c.start + c.stats.BadTransplantRows}
	switch kind {
	case badTxMissing:
		ov.col = txMissingCols[r.IntN(len(txMissingCols))]
	case badTxDate:
		ov.col, ov.val = colDate, pickString(r, badDates)
	case badTxNumber:
		bv := txBadNumbers[r.IntN(len(txBadNumbers))]
		ov.col, ov.val = bv.col, pickString(r, bv.vals)
	case badTxRange:
		bv := txBadRanges[r.IntN(len(txBadRanges))]
		ov.col, ov.val = bv.col, pickString(r, bv.vals)
	case badTxCode:
		n := len(txBadCodes)
		if t.typ != allo {
			n-- // a donor type on an AUTO row is a fault of another kind
		}
		bv := txBadCodes[r.IntN(n)]
		ov.col, ov.val = bv.col, pickString(r, bv.vals)
	case badTxDuplicate:
		row := c.txRows[r.IntN(len(c.txRows))]
		c.tx = append(c.tx, c.tx[row[0]:row[1]]...)
		return
	case badTxFields:
		ov.fields = 1
		if r.IntN(2) == 0 {
			ov.fields = -1
		}
	}
	c.tx = appendTransplant(c.tx, t, r, ov)
}

// badEvent appends one bad event row after event e of transplant t: a copy
// of it with exactly one fault.
func (g *generator) badEvent(c *chunk, t *txRec, e event) {
	r := c.bad
	kind := (c.idx + int(c.stats.BadEventRows)) % nBadEvKinds
	c.stats.BadEventRows++
	ov := override{col: -1}
	switch kind {
	case badEvMissing:
		ov.col = evMissingCols[r.IntN(len(evMissingCols))]
	case badEvDate:
		ov.col, ov.val = colEvDate, pickString(r, badDates)
	case badEvCode:
		ov.col, ov.val = colEvent, pickString(r, evBadCodes)
	case badEvUnknownTx:
		// Numbers above the last good transplant are never used.
		ov.prefix, ov.num = 'T', g.total+1+int64(r.IntN(1_000_000))
	case badEvBeforeTx:
		e.day = -1 - int32(r.IntN(365))
	case badEvFields:
		ov.fields = 1
		if r.IntN(2) == 0 {
			ov.fields = -1
		}
	}
	c.ev = appendEvent(c.ev, t, e, romanCentre(t.centre), r, ov)
}
