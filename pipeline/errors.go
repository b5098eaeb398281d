package pipeline

import (
	"errors"

	"marrow/internal/duck"
)

// badInputError marks an error as the caller's input being unusable (bad
// structure, bad config, refused query): exit status 2 rather than 1.
type badInputError struct{ err error }

func (e badInputError) Error() string { return e.err.Error() }
func (e badInputError) Unwrap() error { return e.err }

func badInput(err error) error { return badInputError{err} }

// IsBadInput reports whether err means the input (extract structure,
// config, query) is unusable, as opposed to the run failing.
func IsBadInput(err error) bool {
	var b badInputError
	return errors.As(err, &b)
}

// Message is err's text on one line, as the command line prints it: DuckDB
// errors span several lines (the statement, a caret, extra info).
func Message(err error) string { return duck.OneLine(err) }
