package synth

import (
	"strconv"
	"strings"
	"sync"
)

// Dates are handled as days since 1970-01-01. The hot loop formats them
// from a table of the ISO strings of every day from 1990 to 2039; anything
// outside (only bad rows) goes through civilFromDays.
const (
	tableFirstYear = 1990
	tableLastYear  = 2039
)

var dateTable = sync.OnceValues(func() ([]byte, int32) {
	first := daysFromCivil(tableFirstYear, 1, 1)
	last := daysFromCivil(tableLastYear, 12, 31)
	b := make([]byte, 0, 10*int(last-first+1))
	for d := first; d <= last; d++ {
		b = appendDateSlow(b, d)
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
	return appendDateSlow(b, d)
}

func appendDateSlow(b []byte, d int32) []byte {
	y, m, dd := civilFromDays(d)
	b = appendPadded(b, int64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, int64(m), 2)
	b = append(b, '-')
	return appendPadded(b, int64(dd), 2)
}

// daysFromCivil is the day number of a proleptic Gregorian date (H.
// Hinnant, "chrono-compatible low-level date algorithms").
func daysFromCivil(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(n int32) (y, m, d int) {
	z := int(n) + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
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
