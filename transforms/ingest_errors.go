package transforms

import (
	"fmt"
	"strconv"
	"strings"
)

// StructuralError is a fault that makes a whole file unusable: a missing
// or unreadable file, a missing required column, a duplicated column, CSV
// quoting that does not parse, bytes that are not text (invalid UTF-8, a
// NUL byte: a binary or UTF-16 file). Ingest stops at
// the first one and leaves no warehouse table behind.
type StructuralError struct {
	File   string // base name, e.g. "events.csv"
	Line   int64  // 1-based line of the record; 0 when not tied to a line
	Column int    // 1-based field number; 0 when not tied to a field
	Reason string // lower-case phrase, one line
	Err    error  // underlying error, if any (e.g. *fs.PathError)
}

// Error returns one line: "events.csv: missing required column
// \"event_date\"" or "transplants.csv:7:3: invalid UTF-8".
func (e *StructuralError) Error() string {
	return position(e.File, e.Line, e.Column) + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *StructuralError) Unwrap() error { return e.Err }

// RowError is one rejected row: the first fault found in it, scanning the
// fields in the order of the file's columns. It is stored in the rejects
// table and never dropped.
type RowError struct {
	File       string // base name, e.g. "events.csv"
	Line       int64  // 1-based physical line where the record starts
	Column     int    // 1-based field number; 0 when the row as a whole is bad
	ColumnName string // the column's name in the SPEC, e.g. "event_date"; "" when Column is 0
	Value      string // the raw field, cut to maxValueRunes characters
	Reason     string // what is wrong, e.g. "invalid date" (see the reason* constants)
	Detail     string // optional context for the message, e.g. "first on line 5"
	ValueCut   bool   // Value is the start of a longer field
}

// Error returns one line in the style of a compiler message:
// `events.csv:1042:3: invalid date "2020-02-31"`.
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(position(e.File, e.Line, e.Column))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Value != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.Value))
	}
	if d := e.details(); d != "" {
		b.WriteString(" (")
		b.WriteString(d)
		b.WriteByte(')')
	}
	return b.String()
}

// LogLine is the row's fault as logs and error messages show it:
// position, column, reason and the faulty field's value only. Logs reach
// cron mail, so a fault of the row as a whole (its number of fields)
// shows no value, which would be the whole record, and an identifier
// column (transplant_id, patient_id) shows none either; the rejects table
// keeps the values for analysts.
func (e *RowError) LogLine() string {
	value := e.Value
	if e.Column == 0 || isIdentifierColumn(e.ColumnName) {
		value = ""
	}
	b := position(e.File, e.Line, e.Column) + ": "
	if e.ColumnName != "" {
		b += e.ColumnName + ": "
	}
	b += e.Reason
	if value != "" {
		b += " " + strconv.Quote(value)
	}
	if e.ValueCut && value != "" {
		b += " (" + detailCut + ")"
	}
	return b
}

// RejectLogLine is LogLine for a row of the rejects table (file, line,
// column name, value, stored reason), which has no field number.
func RejectLogLine(file string, line int64, column, value, reason string) string {
	e := RowError{File: file, Line: line, ColumnName: column, Value: value, Reason: reason}
	if column != "" {
		e.Column = -1 // a field, of unknown number
	}
	return e.LogLine()
}

// isIdentifierColumn reports whether a column holds patient or transplant
// identifiers, which logs never print.
func isIdentifierColumn(name string) bool {
	return name == "transplant_id" || name == "patient_id"
}

func (e *RowError) details() string {
	switch {
	case !e.ValueCut:
		return e.Detail
	case e.Detail == "":
		return detailCut
	}
	return e.Detail + "; " + detailCut
}

// storedReason is the text of rejects.reason: the reason, which takes few
// distinct values so that rejects can be counted by it, and a note when
// the value was cut. The row-specific detail is left to the value, line
// and the other tables.
func (e *RowError) storedReason() string {
	if e.ValueCut {
		return e.Reason + " (" + detailCut + ")"
	}
	return e.Reason
}

// RejectRateError says a file had more rejected rows than
// IngestOptions.MaxRejectRate allows.
type RejectRateError struct {
	File     string
	Rejected int64
	Read     int64
	MaxRate  float64
	First    *RowError // the first rejected row, as an example
}

// Error returns one line with the counts and the first rejected row.
func (e *RejectRateError) Error() string {
	s := fmt.Sprintf("%s: %d of %d rows rejected (%s), above max_reject_rate %s",
		e.File, e.Rejected, e.Read, percent(float64(e.Rejected)/float64(e.Read)), percent(e.MaxRate))
	if e.First != nil {
		s += "; first: " + e.First.LogLine()
	}
	return s
}

func percent(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 4, 64) + "%"
}

func position(file string, line int64, col int) string {
	switch {
	case line > 0 && col < 0:
		return fmt.Sprintf("%s:%d", file, line)
	case line > 0 && col > 0:
		return fmt.Sprintf("%s:%d:%d", file, line, col)
	case line > 0:
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// maxValueRunes bounds the raw value kept in a reject: a 10 MB field is
// cut to its first maxValueRunes characters and the reject says so.
const maxValueRunes = 200

// cutValue returns v cut to maxValueRunes characters, and whether it was
// cut. v is valid UTF-8 (checked while reading).
func cutValue(v string) (string, bool) {
	if len(v) <= maxValueRunes {
		return v, false
	}
	n := 0
	for i := range v {
		if n == maxValueRunes {
			return strings.Clone(v[:i]), true
		}
		n++
	}
	return v, false
}

// Reasons of a rejected row, as stored in rejects.reason (optionally
// followed by a parenthesised detail).
const (
	reasonMissing     = "missing required value"
	reasonDate        = "invalid date"
	reasonDateRange   = "date out of range"
	reasonNumber      = "invalid number"
	reasonInteger     = "invalid integer"
	reasonNumberRange = "number out of range"
	reasonCode        = "unknown code"
	reasonDuplicate   = "duplicate transplant_id"
	reasonUnknownTx   = "unknown transplant_id"
	reasonRejectedTx  = "transplant rejected"
	reasonBeforeTx    = "event before transplant"
	reasonFieldCount  = "wrong number of fields"
)

// detailCut is the detail of a reject whose value was cut.
var detailCut = "value cut to " + strconv.Itoa(maxValueRunes) + " characters"
