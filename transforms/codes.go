package transforms

import (
	"strconv"
	"strings"

	"marrow/internal/civil"
)

// Code lists of SPEC §1. Input is matched case-insensitively and stored as
// written here: upper-case, event types lower-case.
var (
	transplantTypes = []string{"ALLO", "AUTO"}
	donorTypes      = []string{"MSD", "MUD", "MMUD", "HAPLO", "CORD", "OTHER"}
	graftSources    = []string{"BM", "PB", "CB"}
	indications     = []string{"AML", "ALL", "CML", "CLL", "MDS", "MPN", "NHL", "HL", "MM", "SAA", "IMD", "IEM", "HGB", "SOLID", "OTHER"}
	diseaseStatuses = []string{"EARLY", "INTERMEDIATE", "ADVANCED"}
	conditionings   = []string{"MAC", "RIC", "NMA"}
	sexes           = []string{"M", "F"}
	eventTypes      = []string{"death", "relapse", "agvhd", "cgvhd", "neutrophil_engraftment", "platelet_engraftment", "graft_failure", "infection", "organ_toxicity", "second_transplant", "last_contact"}
	cgvhdGrades     = []string{"MILD", "MODERATE", "SEVERE"}
)

// donorUnknown is the donor_type stored for an ALLO transplant whose donor
// type is empty. On input it is read as "not given".
const donorUnknown = "UNKNOWN"

// agvhdGrades maps the accepted acute GVHD grades, arabic or roman, to the
// stored '1'..'4'. Grade 0 (no GVHD) is not an agvhd event and is rejected.
var agvhdGrades = []struct{ in, out string }{
	{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"},
	{"I", "1"}, {"II", "2"}, {"III", "3"}, {"IV", "4"},
}

// lookupCode returns the canonical spelling of s in set, matching ASCII
// letters case-insensitively (and nothing else: "ſOLID", with a long s,
// is not SOLID). It does not allocate.
func lookupCode(set []string, s string) (string, bool) {
	for _, c := range set {
		if len(c) == len(s) && (c == s || asciiEqualFold(c, s)) {
			return c, true
		}
	}
	return "", false
}

// agvhdGrade returns the stored form of an acute GVHD grade.
func agvhdGrade(s string) (string, bool) {
	for _, g := range agvhdGrades {
		if len(g.in) == len(s) && asciiEqualFold(g.in, s) {
			return g.out, true
		}
	}
	return "", false
}

// asciiEqualFold reports whether a and b, of equal length, are equal up to
// the case of ASCII letters.
func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Dates are stored as days since 1970-01-01 (Arrow Date32, DuckDB DATE).
// Only dates from minDate to maxDate are plausible for a transplant
// registry; anything else is a typo (0020-05-01, 2202-05-01) and rejected.
const (
	minDateText = "1900-01-01"
	maxDateText = "2199-12-31"
)

var (
	minDate = civil.Days(1900, 1, 1)
	maxDate = civil.Days(2199, 12, 31)
)

// parseDate parses a strict ISO date YYYY-MM-DD that exists in the
// Gregorian calendar. It returns the day number and "" or the reject
// reason.
func parseDate(s string) (int32, string) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, reasonDate
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, reasonDate
	}
	n := civil.Days(y, m, d)
	if n < minDate || n > maxDate {
		return 0, reasonDateRange
	}
	return n, ""
}

// digits parses a fixed-width run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// formatDate is the inverse of parseDate, for messages.
func formatDate(n int32) string { return string(civil.Append(nil, n)) }

// parseDecimal parses a plain decimal number: an optional sign, digits,
// and optionally a point followed by digits. Exponents, hex, NaN and Inf
// are not numbers in an extract.
func parseDecimal(s string) (float64, string) {
	if !isDecimal(s) {
		return 0, reasonNumber
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil { // only a value beyond ±1.8e308 gets here
		return 0, reasonNumberRange
	}
	return v, ""
}

// parseInteger parses an optionally signed run of decimal digits.
func parseInteger(s string) (int64, string) {
	if !isInteger(s) {
		if isDecimal(s) {
			return 0, reasonInteger
		}
		return 0, reasonNumber
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, reasonNumberRange
	}
	return v, ""
}

func isInteger(s string) bool {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return isInteger(s[:i]) && s[i+1:] != "" && s[i+1] != '+' && s[i+1] != '-' && isInteger(s[i+1:])
	}
	return isInteger(s)
}
