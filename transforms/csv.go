package transforms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fileSpec describes one extract file: the columns marrow reads from it.
// Every other column is ignored and listed as unknown.
type fileSpec struct {
	name    string // base name, e.g. "transplants.csv"
	columns []columnSpec
}

type columnSpec struct {
	name     string // lower-case, as in SPEC §1
	required bool   // the column must be present (its values may still be optional)
}

// chunkSize is the size of the reads and of a batch's buffer: a batch is
// the complete records of one chunk.
const chunkSize = 1 << 20

// readSize is the chunk size openCSV reads files with: chunkSize, except in
// tests that want many batches from a small file.
var readSize = chunkSize

// rawBatch is a run of records as read: the chunk of the file holding
// them and, for each record, its line, byte range, field count and the
// fields of the spec's columns (k per record, in spec order, "" for a
// column the file lacks). The fields point into buf and scratch, so a
// batch is recycled only once nothing refers to its fields any more;
// anything kept longer (transplant ids, rejected values) is copied.
type rawBatch struct {
	buf     []byte // the chunk; records are buf[off[j]:end[j]]
	scratch []byte // unescaped quoted fields
	n       int
	seq     int64 // the batch's number in the file, set by sequence
	lines   []int64
	reg     []int32 // transplants.csv: index entry of the row's id, -1 if not registered (see registrar)
	dupOf   []int64 // transplants.csv: line of an earlier row with the same id, 0 if none
	off     []int
	end     []int
	nf      []int32
	vals    []string // n*k fields
}

func (b *rawBatch) reset() {
	b.n = 0
	b.scratch = b.scratch[:0]
	b.lines, b.off, b.end, b.nf = b.lines[:0], b.off[:0], b.end[:0], b.nf[:0]
	b.reg, b.dupOf = b.reg[:0], b.dupOf[:0]
	clear(b.vals)
	b.vals = b.vals[:0]
}

// add appends a parsed record.
func (b *rawBatch) add(line int64, off, end, nf int, vals []string) {
	b.n++
	b.lines = append(b.lines, line)
	b.off = append(b.off, off)
	b.end = append(b.end, end)
	b.nf = append(b.nf, int32(nf))
	b.vals = append(b.vals, vals...)
}

// raw is record j as written in the file, without its line end.
func (b *rawBatch) raw(j int) string {
	r := b.buf[b.off[j]:b.end[j]]
	r = bytes.TrimSuffix(r, []byte("\n"))
	r = bytes.TrimSuffix(r, []byte("\r"))
	return bytesString(r)
}

// csvFile is an extract file opened for reading, its header checked.
type csvFile struct {
	spec    *fileSpec
	r       io.Reader
	closer  io.Closer
	chunk   int       // read size; chunkSize except in tests
	size    int64     // file size, 0 if unknown
	hash    hash.Hash // SHA-256 of every byte read so far
	eof     bool      // the file has been read to its end
	line    int64     // line number of the next unparsed byte
	ncols   int       // fields in the header
	colOf   []int     // spec column -> 0-based field index, -1 if absent
	names   []string  // spec column -> name in the SPEC ("" if absent)
	unknown []string  // header names of ignored columns, in file order
	rows    int64     // records read after the header
	parser  recordParser
	// register, if set, is called on each batch before it is handed on.
	register func(*rawBatch)
	// The chunk being parsed: buf[pos:n] is not parsed yet. Its batch
	// owns buf once records from it are handed on.
	cur    *rawBatch
	pos, n int
}

// openCSV opens dir/spec.name and reads its header. Structural faults of
// the header (empty file, duplicated or missing columns, bad quoting, bad
// UTF-8) come back as *StructuralError.
func openCSV(dir string, spec *fileSpec) (*csvFile, error) {
	f, err := os.Open(filepath.Join(dir, spec.name))
	if err != nil {
		reason := "cannot open file"
		if errors.Is(err, os.ErrNotExist) {
			reason = "missing file"
		}
		return nil, &StructuralError{File: spec.name, Reason: reason, Err: err}
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		return nil, &StructuralError{File: spec.name, Reason: "is a directory, not a file"}
	}
	c := newCSVReader(f, spec, readSize)
	c.closer = f
	if err == nil {
		c.size = st.Size()
	}
	if err := c.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// newCSVReader returns a reader of spec's file from r that has read
// nothing yet, reading chunk bytes at a time.
func newCSVReader(r io.Reader, spec *fileSpec, chunk int) *csvFile {
	return &csvFile{spec: spec, r: r, chunk: chunk, hash: sha256.New(), line: 1, cur: &rawBatch{}}
}

func (c *csvFile) close() {
	if c.closer != nil {
		c.closer.Close()
	}
}

// sha256 is the hex SHA-256 of the file; valid once it has been read to
// the end.
func (c *csvFile) sha256() string { return hex.EncodeToString(c.hash.Sum(nil)) }

// fill reads more of the file into the current chunk, moving the unparsed
// tail buf[pos:n] to the start of a fresh buffer (next, when the current
// one holds records already handed on) or of the same one, which is
// doubled when the tail fills it: a record may be any size.
func (c *csvFile) fill(next *rawBatch) error {
	tail := c.cur.buf[c.pos:c.n]
	if next != nil {
		need := max(c.chunk, 2*len(tail))
		if cap(next.buf) < need {
			next.buf = make([]byte, 0, need)
		}
		next.buf = next.buf[:len(tail)]
		copy(next.buf, tail)
		c.cur = next
	} else {
		buf := c.cur.buf
		if cap(buf) < c.chunk {
			buf = make([]byte, len(tail), max(c.chunk, 2*len(tail)))
		} else if len(tail) > cap(buf)/2 {
			buf = make([]byte, len(tail), 2*cap(buf))
		} else {
			buf = buf[:len(tail)]
		}
		copy(buf, tail)
		c.cur.buf = buf
	}
	c.pos, c.n = 0, len(tail)
	buf := c.cur.buf[:cap(c.cur.buf)]
	for c.n < len(buf) && !c.eof {
		m, err := c.r.Read(buf[c.n:])
		c.hash.Write(buf[c.n : c.n+m])
		c.n += m
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			return &StructuralError{File: c.spec.name, Reason: "unreadable: " + err.Error(), Err: err}
		}
	}
	c.cur.buf = buf[:c.n]
	return nil
}

func (c *csvFile) readHeader() error {
	name := c.spec.name
	if err := c.fill(nil); err != nil {
		return err
	}
	// A UTF-8 byte order mark (Excel writes one) is not part of the
	// first column's name.
	if bytes.HasPrefix(c.cur.buf, []byte("\uFEFF")) {
		c.pos = 3
	}
	var header []string
	var headerLine int64
	for {
		data := c.cur.buf[c.pos:c.n]
		skip, lines, more := skipBlank(data, c.eof)
		if !more {
			c.pos += skip
			c.line += int64(lines)
			data = data[skip:]
		}
		if !more && len(data) == 0 && c.eof {
			return &StructuralError{File: name, Reason: "empty file (no header)"}
		}
		if !more {
			header = header[:0]
			headerLine = c.line
			r := c.parser.parse(data, c.eof, nil, &header, &c.cur.scratch)
			if r.fault != faultNone {
				return &StructuralError{File: name, Line: c.line, Reason: "invalid CSV: " + r.fault.String()}
			}
			if !r.more {
				if text := data[:r.size]; !utf8.Valid(text) || bytes.IndexByte(text, 0) >= 0 {
					col, reason := textFault(header)
					return &StructuralError{File: name, Line: c.line, Column: col, Reason: reason + " in header"}
				}
				for i := range header {
					header[i] = strings.Clone(header[i])
				}
				c.pos += r.size
				c.line += int64(r.lines)
				break
			}
		}
		if c.eof { // cannot happen: at EOF a record is never incomplete
			return &StructuralError{File: name, Reason: "invalid CSV: incomplete header"}
		}
		if err := c.fill(nil); err != nil {
			return err
		}
	}
	return c.checkHeader(header, headerLine)
}

func (c *csvFile) checkHeader(rec []string, line int64) error {
	name := c.spec.name
	c.ncols = len(rec)
	c.colOf = make([]int, len(c.spec.columns))
	c.names = make([]string, len(c.spec.columns))
	for i := range c.colOf {
		c.colOf[i] = -1
	}
	for i, h := range rec {
		h = strings.TrimSpace(h)
		slot := -1
		for s, col := range c.spec.columns {
			if len(col.name) == len(h) && asciiEqualFold(col.name, h) {
				slot = s
				break
			}
		}
		if slot < 0 {
			if h == "" {
				h = "(column " + strconv.Itoa(i+1) + ")"
			}
			c.unknown = append(c.unknown, h)
			continue
		}
		if prev := c.colOf[slot]; prev >= 0 {
			return &StructuralError{File: name, Line: line, Column: i + 1,
				Reason: fmt.Sprintf("duplicate column %q (also column %d)", c.spec.columns[slot].name, prev+1)}
		}
		c.colOf[slot] = i
		c.names[slot] = c.spec.columns[slot].name
	}
	for s, col := range c.spec.columns {
		if col.required && c.colOf[s] < 0 {
			return &StructuralError{File: name, Reason: fmt.Sprintf("missing required column %q", col.name)}
		}
	}
	c.parser.slotOf = make([]int32, c.ncols)
	for i := range c.parser.slotOf {
		c.parser.slotOf[i] = -1
	}
	for s, i := range c.colOf {
		if i >= 0 {
			c.parser.slotOf[i] = int32(s)
		}
	}
	return nil
}

// produce parses every record after the header into batches, sent on out;
// recycled batches come back on free. It returns the first structural
// fault; the caller closes out.
func (c *csvFile) produce(ctx context.Context, out chan<- *rawBatch, free <-chan *rawBatch) error {
	k := len(c.spec.columns)
	vals := make([]string, k)
	for {
		b := c.cur
		data := c.cur.buf[c.pos:c.n]
		skip, lines, more := skipBlank(data, c.eof)
		var r record
		if !more {
			c.pos += skip
			c.line += int64(lines)
			data = data[skip:]
			if len(data) == 0 && c.eof {
				break
			}
			if len(data) > 0 {
				clear(vals)
				r = c.parser.parse(data, c.eof, vals, nil, &b.scratch)
				more = r.more
			} else {
				more = true
			}
		}
		if r.fault != faultNone {
			if err := c.checkUTF8(b); err != nil {
				return err
			}
			return &StructuralError{File: c.spec.name, Line: c.line, Reason: "invalid CSV: " + r.fault.String()}
		}
		if !more {
			b.add(c.line, c.pos, c.pos+r.size, r.fields, vals)
			c.pos += r.size
			c.line += int64(r.lines)
			c.rows++
			continue
		}
		// The chunk ends inside a record: hand on the complete ones and
		// read on.
		if c.eof { // cannot happen: at EOF a record is never incomplete
			return &StructuralError{File: c.spec.name, Line: c.line, Reason: "invalid CSV: incomplete record"}
		}
		var next *rawBatch
		if b.n > 0 {
			if err := c.checkUTF8(b); err != nil {
				return err
			}
			if c.register != nil {
				c.register(b)
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case next = <-free:
				next.reset()
			default:
				next = &rawBatch{}
			}
		}
		if err := c.fill(next); err != nil {
			return err
		}
	}
	if c.cur.n > 0 {
		if err := c.checkUTF8(c.cur); err != nil {
			return err
		}
		if c.register != nil {
			c.register(c.cur)
		}
		select {
		case out <- c.cur:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// checkUTF8 checks that the bytes of b's records are text: UTF-8 without
// NUL bytes (a NUL means a binary or UTF-16 file). It looks at all of
// them at once and, on failure, finds the first record and field at
// fault.
func (c *csvFile) checkUTF8(b *rawBatch) error {
	if b.n == 0 {
		return nil
	}
	if text := b.buf[b.off[0]:b.end[b.n-1]]; utf8.Valid(text) && bytes.IndexByte(text, 0) < 0 {
		return nil
	}
	var fields []string
	var scratch []byte
	for j := 0; j < b.n; j++ {
		rec := b.buf[b.off[j]:b.end[j]]
		if utf8.Valid(rec) && bytes.IndexByte(rec, 0) < 0 {
			continue
		}
		fields = fields[:0]
		c.parser.parse(rec, true, nil, &fields, &scratch)
		col, reason := textFault(fields)
		return &StructuralError{File: c.spec.name, Line: b.lines[j], Column: col, Reason: reason}
	}
	return nil
}

// textFault returns the 1-based number of the first field that is not
// text, and why.
func textFault(fields []string) (int, string) {
	for i, f := range fields {
		switch {
		case !utf8.ValidString(f):
			return i + 1, "invalid UTF-8"
		case strings.IndexByte(f, 0) >= 0:
			return i + 1, "NUL byte"
		}
	}
	return 0, "invalid UTF-8"
}
