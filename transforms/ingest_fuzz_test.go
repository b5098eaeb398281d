package transforms

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// FuzzParseRows runs the reader and the validators over arbitrary
// transplants.csv and events.csv contents and checks what must hold for
// any input: a one-line *StructuralError, or every row accepted or
// rejected once, rejects that name their column, and accepted rows that
// satisfy every rule of SPEC §1.
func FuzzParseRows(f *testing.F) {
	f.Add([]byte(txHeader+"\n"+okTx+"\n"), []byte(evHeader+"\n"+okEv+"\n"), uint8(0))
	f.Add([]byte(txHeader+"\nT1,P1,,2020-02-30,AUTO,MSD,,MM,,,1e999,,5,-1\nT1,P1,,2020-01-01,allo,,,aml,,,,,,\n"),
		[]byte(evHeader+"\nT1,agvhd,2020-01-05,iii,\nT1,cgvhd,2019-01-01,mild,\nT2,death,2020-01-01,,\n"), uint8(7))
	f.Add([]byte("\uFEFFTransplant_ID,indication,patient_id,transplant_type,transplant_date,extra\r\n"+
		"\"T1\",aml,P1,ALLO,2020-01-01,\"a,\"\"b\"\"\r\nc\"\r\n\r\n"),
		[]byte("EVENT,transplant_id,event_date\r\nrelapse,T1,2020-05-05\r\nDEATH,T1,2020-05-06"), uint8(2))
	f.Add([]byte(txHeader+"\nT1,P1,,2020-01-01,ALLO,MSD,PB,AML,EARLY,MAC,45,M,90,2,extra\n"), []byte(evHeader+"\n"), uint8(1))
	f.Fuzz(func(t *testing.T, transplants, events []byte, chunk uint8) {
		chk, err := checkExtract(t, transplants, events, 1+int(chunk))
		if err != nil {
			var se *StructuralError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *StructuralError", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error message %q is not one line", err)
			}
			return
		}
		for _, v := range []*rowValidator{chk.transplants, chk.events} {
			checkRejects(t, v)
		}
		ids := checkTransplantRows(t, chk.accepted[0])
		checkEventRows(t, chk.accepted[1], ids)
	})
}

var knownReasons = []string{reasonMissing, reasonDate, reasonDateRange, reasonNumber, reasonInteger, reasonNumberRange,
	reasonCode, reasonDuplicate, reasonUnknownTx, reasonRejectedTx, reasonBeforeTx, reasonFieldCount}

func checkRejects(t *testing.T, v *rowValidator) {
	t.Helper()
	var last int64
	for i := range v.rejects {
		e := &v.rejects[i]
		msg := e.Error()
		switch {
		case strings.ContainsAny(msg, "\r\n"):
			t.Fatalf("reject message %q is not one line", msg)
		case !slices.Contains(knownReasons, e.Reason):
			t.Fatalf("%s: unknown reason", msg)
		case e.Line < 2 || e.Line <= last:
			t.Fatalf("%s: line not after the header and the previous reject (%d)", msg, last)
		case (e.Column == 0) != (e.Reason == reasonFieldCount):
			t.Fatalf("%s: column %d for reason %q", msg, e.Column, e.Reason)
		case e.Column > v.ncols:
			t.Fatalf("%s: column %d of %d", msg, e.Column, v.ncols)
		case e.Column > 0 && e.ColumnName != v.names[slices.Index(v.colNo, e.Column)]:
			t.Fatalf("%s: column name %q", msg, e.ColumnName)
		case len([]rune(e.Value)) > maxValueRunes:
			t.Fatalf("%s: value of %d characters", msg, len([]rune(e.Value)))
		}
		last = e.Line
	}
}

// checkTransplantRows checks accepted transplants and returns their
// transplant dates by id.
func checkTransplantRows(t *testing.T, recs []arrow.RecordBatch) map[string]int32 {
	t.Helper()
	ids := map[string]int32{}
	str := func(r arrow.RecordBatch, col, i int) (string, bool) {
		a := r.Column(col).(*array.String)
		return a.Value(i), a.IsValid(i)
	}
	code := func(set []string, v string, valid, required bool) bool {
		if !valid {
			return !required
		}
		return slices.Contains(set, v)
	}
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			id, _ := str(r, 0, i)
			patient, _ := str(r, 1, i)
			date := int32(r.Column(3).(*array.Date32).Value(i))
			typ, _ := str(r, 4, i)
			donor, hasDonor := str(r, 5, i)
			age := r.Column(10).(*array.Float64)
			karnofsky := r.Column(12).(*array.Int32)
			hct := r.Column(13).(*array.Int32)
			ok := id != "" && id == strings.TrimSpace(id) && patient != "" &&
				date >= minDate && date <= maxDate &&
				code(transplantTypes, typ, true, true) &&
				// A donor type on AUTO and out-of-range numbers are kept
				// (and flagged in SQL): only the codes must be valid and the
				// numbers finite.
				(typ == "AUTO" && (!hasDonor || code(donorTypes, donor, hasDonor, true)) ||
					typ == "ALLO" && (donor == donorUnknown || code(donorTypes, donor, hasDonor, true))) &&
				(age.IsNull(i) || !math.IsInf(age.Value(i), 0) && !math.IsNaN(age.Value(i))) &&
				(karnofsky.IsNull(i) || karnofsky.IsValid(i)) && (hct.IsNull(i) || hct.IsValid(i))
			for _, c := range []struct {
				col      int
				set      []string
				required bool
			}{{6, graftSources, false}, {7, indications, true}, {8, diseaseStatuses, false}, {9, conditionings, false}, {11, sexes, false}} {
				v, valid := str(r, c.col, i)
				ok = ok && code(c.set, v, valid, c.required)
			}
			if _, dup := ids[id]; !ok || dup {
				t.Fatalf("accepted transplant row %d of a batch breaks a rule: %v", i, r)
			}
			ids[id] = date
		}
	}
	return ids
}

func checkEventRows(t *testing.T, recs []arrow.RecordBatch, ids map[string]int32) {
	t.Helper()
	for _, r := range recs {
		id := r.Column(0).(*array.String)
		ev := r.Column(1).(*array.String)
		date := r.Column(2).(*array.Date32)
		grade := r.Column(3).(*array.String)
		for i := 0; i < int(r.NumRows()); i++ {
			txDate, known := ids[id.Value(i)]
			d := int32(date.Value(i))
			ok := known && slices.Contains(eventTypes, ev.Value(i)) && d >= txDate && d <= maxDate
			if grade.IsValid(i) {
				g := grade.Value(i)
				// Recognised grades are normalised ('1'..'4', MILD...);
				// any other grade is kept upper-cased (flagged in SQL).
				ok = ok && g != "" && g == strings.ToUpper(g)
			}
			if !ok {
				t.Fatalf("accepted event row %d of a batch breaks a rule: %v", i, r)
			}
		}
	}
}
