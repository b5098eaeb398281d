// Package civil converts proleptic Gregorian dates to and from day numbers
// counted from 1970-01-01 — the representation of Arrow's Date32 and of
// DuckDB's DATE — without time.Time, for the hot loops that parse
// (transforms) and write (synth) millions of dates. The algorithms are H.
// Hinnant's "chrono-compatible low-level date algorithms".
package civil

import "strconv"

// Days is the day number of year y, month m (1–12), day d.
func Days(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// Date is the inverse of Days.
func Date(n int32) (y, m, d int) {
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

// Append appends day number n as YYYY-MM-DD.
func Append(b []byte, n int32) []byte {
	y, m, d := Date(n)
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, m, 2)
	b = append(b, '-')
	return appendPadded(b, d, 2)
}

// appendPadded appends v in decimal, left-padded with zeros to width.
func appendPadded(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
