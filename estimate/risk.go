package estimate

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// RiskRow is one distinct time of one stratum's risk table. Times are whole days since transplant.
type RiskRow struct {
	Time     int64 // days
	NRisk    int64 // subjects whose endpoint time is >= Time
	NEvent   int64 // events of interest at Time
	NCompete int64 // competing events at Time (always 0 for Kaplan–Meier endpoints)
	NCensor  int64 // censored at Time
}

// removed is the number of subjects leaving the risk set at r.Time.
func (r RiskRow) removed() int64 { return r.NEvent + r.NCompete + r.NCensor }

// Z95 is Φ⁻¹(0.975), R's qnorm(0.975): the normal quantile of every 95%
// interval in this package.
const Z95 = 1.959963984540054

// Errors returned by the estimators and tests.
var (
	// ErrTooFewGroups: a test needs at least two groups with subjects.
	ErrTooFewGroups = errors.New("fewer than two non-empty groups")
	// ErrNoEvents: a test needs at least one event of interest.
	ErrNoEvents = errors.New("no events of interest")
	// ErrSingular: the log-rank variance matrix cannot be inverted (R's
	// survdiff stops with "system is computationally singular").
	ErrSingular = errors.New("variance matrix is singular")
	// ErrNotKaplanMeier: medians are defined for Kaplan–Meier curves only.
	ErrNotKaplanMeier = errors.New("not a Kaplan–Meier curve")
)

// TableError reports an inconsistent risk table: Row is the 0-based index
// of the offending row after sorting by Time.
type TableError struct {
	Row    int
	Time   int64
	Reason string
}

func (e *TableError) Error() string {
	return fmt.Sprintf("risk table row %d (day %d): %s", e.Row, e.Time, e.Reason)
}

// prepare returns rows sorted by Time (a copy when the input is unsorted)
// after checking that they form one stratum's risk table: distinct times,
// non-negative counts, something happening at every time, and n_risk
// falling by exactly the subjects that left at the previous time, down to
// nobody after the last time.
func prepare(rows []RiskRow) ([]RiskRow, error) {
	if !sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time }) {
		rows = append([]RiskRow(nil), rows...)
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time })
	}
	for i, r := range rows {
		bad := func(format string, args ...any) error {
			return &TableError{Row: i, Time: r.Time, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case r.NRisk < 0 || r.NEvent < 0 || r.NCompete < 0 || r.NCensor < 0:
			return nil, bad("negative count")
		case r.removed() == 0:
			return nil, bad("no event, competing event or censoring")
		case r.NRisk < r.removed():
			return nil, bad("n_risk %d < %d leaving", r.NRisk, r.removed())
		case i > 0 && r.Time == rows[i-1].Time:
			return nil, bad("duplicate time")
		case i > 0 && r.NRisk != rows[i-1].NRisk-rows[i-1].removed():
			return nil, bad("n_risk %d, want %d from the previous row", r.NRisk, rows[i-1].NRisk-rows[i-1].removed())
		case i == len(rows)-1 && r.NRisk != r.removed():
			return nil, bad("last row: n_risk %d but %d leaving", r.NRisk, r.removed())
		}
	}
	return rows, nil
}

// riskAt is survfit's n.risk at day t: the subjects whose time is >= t,
// i.e. NRisk of the first row at or after t, 0 past the last row.
func riskAt(rows []RiskRow, t int64) int64 {
	i := sort.Search(len(rows), func(i int) bool { return rows[i].Time >= t })
	if i == len(rows) {
		return 0
	}
	return rows[i].NRisk
}

var nan = math.NaN()
