package transforms

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// parsedRecord is one record as the extract reader returns it: its start
// line, field count and (up to rawFields) fields.
type parsedRecord struct {
	line   int64
	nf     int
	fields []string
}

// rawFields is how many fields of a record the raw readers below keep.
const rawFields = 64

// readRaw reads every record of data with the extract reader (no header,
// chunk bytes per read), keeping the first rawFields fields of each.
func readRaw(tb testing.TB, data []byte, chunk int) ([]parsedRecord, error) {
	tb.Helper()
	spec := &fileSpec{name: "x.csv", columns: make([]columnSpec, rawFields)}
	c := newCSVReader(bytes.NewReader(data), spec, chunk)
	c.parser.slotOf = make([]int32, rawFields)
	for i := range c.parser.slotOf {
		c.parser.slotOf[i] = int32(i)
	}
	out := make(chan *rawBatch)
	free := make(chan *rawBatch)
	errc := make(chan error, 1)
	go func() {
		errc <- c.produce(context.Background(), out, free)
		close(out)
	}()
	var recs []parsedRecord
	for b := range out {
		for j := 0; j < b.n; j++ {
			nf := int(b.nf[j])
			fields := slices.Clone(b.vals[j*rawFields : j*rawFields+min(nf, rawFields)])
			for i := range fields {
				fields[i] = strings.Clone(fields[i])
			}
			recs = append(recs, parsedRecord{line: b.lines[j], nf: nf, fields: fields})
		}
	}
	if err := <-errc; err != nil {
		return recs, err
	}
	if int64(len(recs)) != c.rows {
		tb.Fatalf("%d records handed on, %d counted", len(recs), c.rows)
	}
	return recs, nil
}

// readStd reads data with encoding/csv configured as the extract reader
// claims to behave: variable field counts, strict quotes.
func readStd(data []byte) ([]parsedRecord, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var recs []parsedRecord
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, parsedRecord{line: int64(line), nf: len(rec), fields: rec[:min(len(rec), rawFields)]})
	}
}

// checkSameAsStd fails unless the extract reader and encoding/csv agree
// on data: the same records, or an error on the same record.
func checkSameAsStd(t *testing.T, data []byte, chunk int) {
	t.Helper()
	got, gotErr := readRaw(t, data, chunk)
	want, wantErr := readStd(data)
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		// encoding/csv does not look at encodings; the extract reader
		// must refuse a file that is not text.
		var se *StructuralError
		if wantErr == nil && !errors.As(gotErr, &se) {
			t.Fatalf("chunk %d: invalid UTF-8 accepted (err %v)", chunk, gotErr)
		}
		return
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("chunk %d: error %v, encoding/csv: %v\ninput %q", chunk, gotErr, wantErr, data)
	}
	if wantErr != nil {
		var pe *csv.ParseError
		var se *StructuralError
		if !errors.As(wantErr, &pe) || !errors.As(gotErr, &se) {
			t.Fatalf("chunk %d: errors %v, %v", chunk, gotErr, wantErr)
		}
		if se.Line != int64(pe.StartLine) {
			t.Fatalf("chunk %d: error on line %d, encoding/csv on line %d (%v)\ninput %q", chunk, se.Line, pe.StartLine, wantErr, data)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("chunk %d: %d records, encoding/csv %d\ninput %q\ngot  %+v\nwant %+v", chunk, len(got), len(want), data, got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.line != w.line || g.nf != w.nf || !slices.Equal(g.fields, w.fields) {
			t.Fatalf("chunk %d: record %d = line %d, %d fields %q; encoding/csv: line %d, %d fields %q\ninput %q",
				chunk, i, g.line, g.nf, g.fields, w.line, w.nf, w.fields, data)
		}
	}
}

// csvCorpus are inputs that exercise RFC 4180 and encoding/csv's quirks.
var csvCorpus = []string{
	"",
	"a",
	"a,b\n1,2\n",
	"a,b\r\n1,2\r\n",
	"a,b\n1,2",
	"a,b\n1,2\r",
	"a,\n,\n,,\n",
	"a,b,\n",
	"\n\n\na\n\n",
	"\r\n\r\na\r\n",
	"\r",
	"\r\r\n",
	"a\rb,c\n",
	`"a","b"` + "\n",
	`"a,b","c""d"` + "\n",
	"\"multi\nline\",x\n",
	"\"crlf\r\ninside\",x\r\n",
	"\"cr\rinside\",x\n",
	`""` + "\n",
	`"",""`,
	`"a"`,
	`"a"` + "\r",
	`"a",`,
	`a"b,c` + "\n",
	`"a"b,c` + "\n",
	`"a` + "\n",
	"\"a\nb\nc",
	"x\n\"a\"\"\n",
	`"a""`,
	"é,ü\n\"ß,\"\"\",ok\n",
	"=HYPERLINK(\"x\"),1\n",
	" \"a\",b\n",
	"\"a\" ,b\n",
	"\"a\"\r\r\n",
	"a,b\n\"c\nd\"\n\ne,f",
}

func TestCSVMatchesEncodingCSV(t *testing.T) {
	for i, in := range csvCorpus {
		for _, chunk := range []int{1, 2, 3, 5, 64, chunkSize} {
			t.Run(fmt.Sprintf("%d/%d", i, chunk), func(t *testing.T) {
				checkSameAsStd(t, []byte(in), chunk)
			})
		}
	}
}

// FuzzParseCSV checks the extract's CSV reader against encoding/csv on
// arbitrary input and arbitrary read sizes.
func FuzzParseCSV(f *testing.F) {
	for _, in := range csvCorpus {
		f.Add([]byte(in), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		checkSameAsStd(t, data, 1+int(chunk))
	})
}

func TestCSVLongRecords(t *testing.T) {
	big := strings.Repeat("x", 3*chunkSize+17)
	cases := map[string]string{
		"quoted 3 MB field":   "a,b\n\"" + big + "\",1\n2,3\n",
		"unquoted 3 MB field": "a,b\n" + big + ",1\n2,3\n",
		"100000 fields":       strings.Repeat("f,", 99999) + "f\n" + strings.Repeat("1,", 99999) + "1\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			checkSameAsStd(t, []byte(in), chunkSize)
			checkSameAsStd(t, []byte(in), 4096)
		})
	}
}
