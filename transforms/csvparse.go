package transforms

import "unsafe"

// The CSV records of an extract are parsed by recordParser rather than
// encoding/csv: it reads the file in large chunks and returns fields as
// strings that point into the chunk, so parsing allocates nothing per
// record (encoding/csv allocates a string per record and spends most of
// the ingest's time). It accepts exactly what encoding/csv accepts with
// FieldsPerRecord = -1 and LazyQuotes off, and returns the same fields —
// FuzzParseCSV checks the two against each other:
//
//   - records end at \n; \r\n is read as \n, also inside quoted fields,
//     and a \r just before the end of the file is dropped;
//   - empty lines are skipped (they are not records);
//   - a field starting with " is quoted: "" stands for ", and the closing
//     quote must be followed by a comma or the end of the line;
//   - a " inside an unquoted field, or a quoted field that is not closed,
//     is an error.

// parseFault is a CSV syntax error at some byte of a record.
type parseFault int

const (
	faultNone      parseFault = iota
	faultBareQuote            // " in an unquoted field
	faultQuote                // a closing quote followed by something else, or no closing quote
)

func (f parseFault) String() string {
	switch f {
	case faultBareQuote:
		return `bare " in non-quoted field`
	case faultQuote:
		return `extraneous or missing " in quoted field`
	}
	return ""
}

// recordParser parses records, keeping the fields whose index has a slot.
type recordParser struct {
	slotOf []int32 // field index -> slot in vals, -1 to skip; fields past len(slotOf) are skipped
}

// record is the outcome of parsing one record.
type record struct {
	size   int        // bytes consumed, including the line end
	fields int        // number of fields
	lines  int        // line ends consumed (a record spans lines+1 lines, less one if it ends at EOF)
	fault  parseFault // syntax error, if any
	more   bool       // data ends inside the record: read more and parse it again
}

// skipBlank returns the number of bytes of empty lines at the start of
// data (each "\n" or "\r\n", or a lone "\r" at the end of the file), the
// number of line ends among them, and whether more data is needed to
// decide.
func skipBlank(data []byte, atEOF bool) (n, lines int, more bool) {
	for n < len(data) {
		switch data[n] {
		case '\n':
			n++
			lines++
			continue
		case '\r':
			if n+1 < len(data) {
				if data[n+1] == '\n' {
					n += 2
					lines++
					continue
				}
				return n, lines, false
			}
			if atEOF {
				return n + 1, lines, false
			}
			return n, lines, true
		}
		return n, lines, false
	}
	return n, lines, false
}

// parse parses the record at the start of data, which must not start with
// an empty line (see skipBlank). Kept fields go to vals[slot] (or, when
// all is non-nil, every field is appended to *all); unescaped copies of
// quoted fields go to *scratch. atEOF says data ends the file.
func (p *recordParser) parse(data []byte, atEOF bool, vals []string, all *[]string, scratch *[]byte) record {
	var r record
	i := 0
	for {
		var field string
		end := false // the field ends the record
		if i < len(data) && data[i] == '"' {
			// Quoted field: find the closing quote.
			j := i + 1
			copyNeeded := false
			k := j
			for {
				for k < len(data) && data[k] != '"' {
					switch data[k] {
					case '\n':
						r.lines++
						if data[k-1] == '\r' {
							copyNeeded = true
						}
					}
					k++
				}
				if k >= len(data) {
					if atEOF {
						r.fault = faultQuote
					} else {
						r.more = true
					}
					return r
				}
				// data[k] is a quote.
				if k+1 < len(data) && data[k+1] == '"' {
					copyNeeded = true
					k += 2
					continue
				}
				break
			}
			if copyNeeded {
				field = unescape(data[j:k], scratch)
			} else {
				field = bytesString(data[j:k])
			}
			// What follows the closing quote.
			n := k + 1
			switch {
			case n == len(data):
				if !atEOF {
					r.more = true
					return r
				}
				i, end = n, true
			case data[n] == ',':
				i = n + 1
			case data[n] == '\n':
				r.lines++
				i, end = n+1, true
			case data[n] == '\r':
				switch {
				case n+1 < len(data) && data[n+1] == '\n':
					r.lines++
					i, end = n+2, true
				case n+1 < len(data):
					r.fault = faultQuote
					return r
				case atEOF:
					i, end = n+1, true
				default:
					r.more = true
					return r
				}
			default:
				r.fault = faultQuote
				return r
			}
		} else {
			// Unquoted field: up to a comma or the line end.
			k := i
			for k < len(data) {
				c := data[k]
				if c == ',' || c == '\n' || c == '"' {
					break
				}
				k++
			}
			switch {
			case k == len(data):
				if !atEOF {
					r.more = true
					return r
				}
				e := k
				if e > i && data[e-1] == '\r' {
					e-- // dropped before EOF
				}
				field = bytesString(data[i:e])
				i, end = k, true
			case data[k] == ',':
				field = bytesString(data[i:k])
				i = k + 1
			case data[k] == '\n':
				e := k
				if e > i && data[e-1] == '\r' {
					e--
				}
				field = bytesString(data[i:e])
				r.lines++
				i, end = k+1, true
			default: // a quote
				r.fault = faultBareQuote
				return r
			}
		}
		if all != nil {
			*all = append(*all, field)
		} else if r.fields < len(p.slotOf) {
			if s := p.slotOf[r.fields]; s >= 0 {
				vals[s] = field
			}
		}
		r.fields++
		if end {
			r.size = i
			return r
		}
		// A comma at the very end of the file ends the record with an
		// empty field.
		if i == len(data) && atEOF {
			if all != nil {
				*all = append(*all, "")
			} else if r.fields < len(p.slotOf) {
				if s := p.slotOf[r.fields]; s >= 0 {
					vals[s] = ""
				}
			}
			r.fields++
			r.size = i
			return r
		}
	}
}

// unescape appends the content of a quoted field to *scratch with ""
// read as " and \r\n as \n, and returns it.
func unescape(b []byte, scratch *[]byte) string {
	start := len(*scratch)
	s := *scratch
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"': // the first of ""
			i++
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			continue
		}
		s = append(s, c)
	}
	*scratch = s
	return bytesString(s[start:])
}

// bytesString returns b as a string without copying. The caller keeps b
// unchanged for as long as the string is used: fields live as long as
// their batch, and whatever outlives it is copied (see rawBatch).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
