package synth

import (
	"strconv"
	"strings"
	"sync"

	"marrow/internal/civil"
)

// Dates are handled as days since 1970-01-01. The hot loop formats them
// from a table of the ISO strings of every day from 1990 to 2039; anything
// outside (only bad rows) goes through civil.Append.
const (
	tableFirstYear = 1990
	tableLastYear  = 2039
)

var dateTable = sync.OnceValues(func() ([]byte, int32) {
	first := civil.Days(tableFirstYear, 1, 1)
	last := civil.Days(tableLastYear, 12, 31)
	b := make([]byte, 0, 10*int(last-first+1))
	for d := first; d <= last; d++ {
		b = civil.Append(b, d)
	}
	return b, first
})

// appendDate appends day number d as YYYY-MM-DD.
func appendDate(b []byte, d int32) []byte {
	tab, first := dateTable()
	i := int(d - first)
	if i >= 0 && 10*i < len(tab) {
		return append(b, tab[10*i:10*i+10]...)
	}
	return civil.Append(b, d)
}

// appendPadded appends v in decimal, left-padded with zeros to width.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendTenths appends v/10 with one decimal, e.g. 543 → "54.3".
func appendTenths(b []byte, v int32) []byte {
	b = strconv.AppendInt(b, int64(v/10), 10)
	return append(b, '.', byte('0'+v%10))
}

// idWidth is the zero-padded width of the numeric part of identifiers
// (T0000001, P0000001); larger numbers simply get longer.
const idWidth = 7

func appendID(b []byte, prefix byte, n int64) []byte {
	return appendPadded(append(b, prefix), n, idWidth)
}

// appendField appends s as one CSV field, quoted as RFC 4180 requires (and
// as encoding/csv.Writer does: also when it starts with a space).
func appendField(b []byte, s string) []byte {
	if !fieldNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

func fieldNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || s[0] == ' ' || s[0] == '\t' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// caseVariants holds a code as written upper-case, lower-case and
// title-case ("Allo"); events are canonically lower-case, so their
// variants are lower, upper and title.
type caseVariants [3]string

func variants(code string) caseVariants {
	title := code
	if len(code) > 1 {
		title = strings.ToUpper(code[:1]) + strings.ToLower(code[1:])
	}
	return caseVariants{code, strings.ToLower(code), title}
}

func variantsLower(code string) caseVariants {
	return caseVariants{code, strings.ToUpper(code), strings.ToUpper(code[:1]) + code[1:]}
}
