package pipeline

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"marrow/internal/duck"
)

// streamQuery runs inner (a query(...) call holding the user's statement)
// with every column cast to text by DuckDB, and writes the rows to w in
// format as they arrive.
//
// DuckDB does the rendering: CAST(x AS VARCHAR) is what its CLI prints,
// and to_json(x) its JSON form of nested values. The columns are renamed
// c1..cN first, so duplicate or odd names in the user's statement cannot
// break the wrapper; the header uses the statement's own names.
func streamQuery(ctx context.Context, db *duck.Stream, inner string, cols []duck.Column, format string, w io.Writer) error {
	exprs := make([]string, len(cols))
	aliases := make([]string, len(cols))
	for i := range cols {
		aliases[i] = "c" + strconv.Itoa(i+1)
		if format == FormatJSON {
			exprs[i] = "CAST(to_json(" + aliases[i] + ") AS VARCHAR)"
		} else {
			exprs[i] = "CAST(" + aliases[i] + " AS VARCHAR)"
		}
	}
	sql := "SELECT " + strings.Join(exprs, ", ") + " FROM " + inner + " AS q(" + strings.Join(aliases, ", ") + ")"
	bw := bufio.NewWriterSize(w, 64<<10)
	var rw rowWriter
	switch format {
	case FormatJSON:
		rw = newJSONRows(bw, cols)
	case FormatTable:
		rw = newTableRows(bw, cols)
	default:
		rw = newCSVRows(bw, cols)
	}
	if err := rw.header(); err != nil {
		return writeError{err}
	}
	err := db.StreamText(ctx, sql, func(vals []string, valid []bool) error {
		if err := rw.row(vals, valid); err != nil {
			return writeError{err}
		}
		return nil
	})
	if err != nil {
		bw.Flush() // what was written stays readable, e.g. on a terminal
		return err
	}
	if err := rw.end(); err != nil {
		return writeError{err}
	}
	if err := bw.Flush(); err != nil {
		return writeError{err}
	}
	return nil
}

// rowWriter writes one result format.
type rowWriter interface {
	header() error
	row(vals []string, valid []bool) error
	end() error
}

// csvRows writes RFC 4180 CSV with a header; NULL is an empty field.
// Text values (and column names) that a spreadsheet would run as a
// formula are prefixed with a quote; numbers, dates and intervals are
// never touched, so -5 stays -5.
type csvRows struct {
	w    *csv.Writer
	cols []duck.Column
	rec  []string
}

func newCSVRows(w io.Writer, cols []duck.Column) *csvRows {
	return &csvRows{w: csv.NewWriter(w), cols: cols, rec: make([]string, len(cols))}
}

func (c *csvRows) header() error {
	for i, col := range c.cols {
		c.rec[i] = CSVSafe(col.Name)
	}
	return c.w.Write(c.rec)
}

func (c *csvRows) row(vals []string, valid []bool) error {
	for i, v := range vals {
		if valid[i] && c.cols[i].Kind == duck.KindText {
			v = CSVSafe(v)
		}
		c.rec[i] = v
	}
	return c.w.Write(c.rec)
}

func (c *csvRows) end() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonRows writes JSON Lines: one object per row, keys in column order,
// values as DuckDB's to_json gives them (numbers as numbers, dates and
// intervals as strings, lists and structs as arrays and objects), NULL as
// null (so are NaN and ±Infinity, which JSON has no number for). One
// object per line streams, and jq, pandas (lines=True) and
// DuckDB's read_json read it.
type jsonRows struct {
	w    io.Writer
	cols []duck.Column
	keys []string
	buf  []byte
}

func newJSONRows(w io.Writer, cols []duck.Column) *jsonRows {
	keys := make([]string, len(cols))
	for i, c := range cols {
		b, _ := json.Marshal(c.Name)
		keys[i] = string(b)
	}
	return &jsonRows{w: w, cols: cols, keys: keys}
}

func (j *jsonRows) header() error { return nil }

func (j *jsonRows) row(vals []string, valid []bool) error {
	b := append(j.buf[:0], '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, j.keys[i]...)
		b = append(b, ':')
		if !valid[i] || j.cols[i].Kind == duck.KindNumber && !finiteJSON(v) {
			b = append(b, "null"...)
		} else {
			b = append(b, v...)
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonRows) end() error { return nil }

// finiteJSON is false for the NaN and ±Infinity DuckDB's to_json writes,
// which JSON cannot hold: they become null.
func finiteJSON(v string) bool {
	return v != "NaN" && v != "Infinity" && v != "-Infinity"
}

// Table layout: the column widths come from the first tableSample rows
// (the header included), so the table starts printing at once even for an
// endless result; a later, wider cell is cut with an ellipsis, and so is
// any cell wider than tableMaxWidth. The table is for reading in a
// terminal; csv and json keep every value whole.
const (
	tableSample   = 1000
	tableMaxWidth = 60
)

// tableRows writes an aligned box table as DuckDB's CLI does: numbers
// right-aligned, NULL printed as NULL, and a row count under it. Control
// characters are shown escaped (\n, \x1b) so a value cannot move the
// cursor or recolour the terminal.
type tableRows struct {
	w       io.Writer
	cols    []duck.Column
	widths  []int
	pending [][]string // the sample, until the widths are fixed
	started bool
	n       int64
	line    strings.Builder
}

func newTableRows(w io.Writer, cols []duck.Column) *tableRows {
	t := &tableRows{w: w, cols: cols, widths: make([]int, len(cols))}
	hdr := make([]string, len(cols))
	for i, c := range cols {
		hdr[i] = terminalSafe(c.Name)
	}
	t.pending = append(t.pending, hdr)
	return t
}

func (t *tableRows) header() error { return nil }

func (t *tableRows) row(vals []string, valid []bool) error {
	t.n++
	cells := make([]string, len(vals))
	for i, v := range vals {
		if !valid[i] {
			cells[i] = "NULL"
		} else {
			// Cut now: the sample then holds at most 1,000 short rows
			// however long the values; Clone because v is DuckDB's memory.
			cells[i] = strings.Clone(fitWidth(terminalSafe(v), tableMaxWidth))
		}
	}
	if !t.started {
		t.pending = append(t.pending, cells)
		if len(t.pending) <= tableSample {
			return nil
		}
		return t.start()
	}
	return t.writeRow(cells, false)
}

// start fixes the widths from the sample and prints it.
func (t *tableRows) start() error {
	t.started = true
	for _, r := range t.pending {
		for i, c := range r {
			t.widths[i] = max(t.widths[i], min(uniseg.StringWidth(c), tableMaxWidth))
		}
	}
	if err := t.rule('┌', '┬', '┐'); err != nil {
		return err
	}
	for k, r := range t.pending {
		if err := t.writeRow(r, k == 0); err != nil {
			return err
		}
		if k == 0 {
			if err := t.rule('├', '┼', '┤'); err != nil {
				return err
			}
		}
	}
	t.pending = nil
	return nil
}

func (t *tableRows) rule(left, mid, right rune) error {
	t.line.Reset()
	t.line.WriteRune(left)
	for i, w := range t.widths {
		if i > 0 {
			t.line.WriteRune(mid)
		}
		t.line.WriteString(strings.Repeat("─", w+2))
	}
	t.line.WriteRune(right)
	t.line.WriteByte('\n')
	_, err := io.WriteString(t.w, t.line.String())
	return err
}

func (t *tableRows) writeRow(cells []string, header bool) error {
	t.line.Reset()
	t.line.WriteString("│")
	for i, c := range cells {
		c = fitWidth(c, t.widths[i])
		pad := strings.Repeat(" ", t.widths[i]-uniseg.StringWidth(c))
		t.line.WriteByte(' ')
		if t.cols[i].Kind == duck.KindNumber && !header {
			t.line.WriteString(pad + c)
		} else {
			t.line.WriteString(c + pad)
		}
		t.line.WriteString(" │")
	}
	t.line.WriteByte('\n')
	_, err := io.WriteString(t.w, t.line.String())
	return err
}

func (t *tableRows) end() error {
	if !t.started {
		if err := t.start(); err != nil {
			return err
		}
	}
	if err := t.rule('└', '┴', '┘'); err != nil {
		return err
	}
	unit := "rows"
	if t.n == 1 {
		unit = "row"
	}
	_, err := fmt.Fprintf(t.w, "%d %s\n", t.n, unit)
	return err
}

// fitWidth cuts s to at most w terminal cells, ending in an ellipsis when
// cut.
func fitWidth(s string, w int) string {
	if uniseg.StringWidth(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cw := g.Width()
		if used+cw > w-1 {
			break
		}
		b.WriteString(g.Str())
		used += cw
	}
	b.WriteString("…")
	return b.String()
}

// terminalSafe escapes control and bidirectional-override characters and
// invalid UTF-8 so that printing s cannot drive the terminal.
func terminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
