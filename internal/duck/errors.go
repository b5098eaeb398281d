package duck

import "strings"

// OneLine returns err's text on one line. DuckDB's messages span several
// (the statement, a caret under the fault, a JSON block of extra info);
// marrow's errors are one line each, for cron mail and log parsers. Blank
// lines and caret-only lines are dropped and the rest joined with " ".
func OneLine(err error) string {
	if err == nil {
		return ""
	}
	return OneLineText(err.Error())
}

// OneLineText is OneLine for a message already in text.
func OneLineText(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		l = strings.TrimSpace(l)
		if l == "" || strings.Trim(l, "^ ") == "" {
			continue
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// Flat returns err with its text on one line (see OneLine); errors.Is and
// errors.As still see err.
func Flat(err error) error {
	if err == nil {
		return nil
	}
	return flatError{err}
}

type flatError struct{ err error }

func (e flatError) Error() string { return OneLine(e.err) }
func (e flatError) Unwrap() error { return e.err }
