package transforms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"marrow/endpoints"
	"marrow/queries"
)

// CohortOptions choose the analysis cohort.
type CohortOptions struct {
	// Cutoff is the data cutoff date (only its calendar date counts):
	// transplants dated after it are left out, events after it are ignored
	// and follow-up is censored at it. The zero value means the default of
	// SPEC §3, the latest event_date in events (see DefaultCutoff).
	Cutoff time.Time
	// AllTransplants keeps every transplant up to the cutoff instead of each
	// patient's first transplant of each type (the SPEC default, config
	// cohort = "first"; true is cohort = "all").
	AllTransplants bool
	// Endpoints are the endpoints whose time and status columns the cohort
	// gets; nil means the built-ins (endpoints.Default).
	Endpoints endpoints.Set
	// Summarized says db holds the table event_summary that Ingest left
	// for the same Endpoints (IngestOptions.Endpoints): the cohort is
	// derived from it without reading the events again, its first_of_type
	// marks in place of the window choosing each patient's first
	// transplant of a type (cohort.sql.tmpl's Marked form). Otherwise it
	// is made from the events table (queries/event_dates.sql.tmpl). Either
	// way DeriveCohort drops it.
	Summarized bool
	// Step, if set, is told as each part ends (marrow -v logs it).
	Step func(name string, start time.Time)
}

// ErrNoCutoff is returned when no default cutoff exists: the warehouse holds
// neither events nor transplants.
var ErrNoCutoff = errors.New("no default cutoff: the warehouse has no events and no transplants")

// DefaultCutoff returns the default data cutoff of the warehouse in db: the
// latest event_date in events, or, when there are no events at all, the
// latest transplant_date (so that every transplant enters the cohort with 0
// days of follow-up). It returns ErrNoCutoff when both tables are empty. The
// date is at midnight UTC.
func DefaultCutoff(ctx context.Context, db *sql.DB) (time.Time, error) {
	var cutoff sql.NullTime
	if err := db.QueryRowContext(ctx, queries.Text("default_cutoff")).Scan(&cutoff); err != nil {
		return time.Time{}, fmt.Errorf("default cutoff: %w", err)
	}
	if !cutoff.Valid {
		return time.Time{}, ErrNoCutoff
	}
	return dateOf(cutoff.Time), nil
}

// DeriveCohort creates (or replaces) the warehouse table cohort in db from
// the tables transplants and events (or Ingest's event_summary, see
// CohortOptions.Summarized), as queries/cohort.sql.tmpl documents: one
// row per transplant of the analysis cohort with followup_days and each
// endpoint's <endpoint>_time (days since transplant) and <endpoint>_status
// (0 censored, 1 event, 2 competing event). It returns the cutoff used (the
// default when opts.Cutoff is zero, at midnight UTC) and the number of rows.
// The rows are in the table cohort_wide, with CohortCarried after them;
// cohort is its view without those.
func DeriveCohort(ctx context.Context, db *sql.DB, opts CohortOptions) (cutoff time.Time, n int64, err error) {
	step := opts.Step
	if step == nil {
		step = func(string, time.Time) {}
	}
	start := time.Now()
	cutoff = dateOf(opts.Cutoff)
	if opts.Cutoff.IsZero() {
		if cutoff, err = DefaultCutoff(ctx, db); err != nil {
			return time.Time{}, 0, fmt.Errorf("derive cohort: %w", err)
		}
		step("default cutoff", start)
		start = time.Now()
	}
	// The date travels as ISO text and is cast in SQL, so that no time zone
	// of the session or of the caller's time.Time can move it by a day.
	day := cutoff.Format(time.DateOnly)
	eps := opts.Endpoints
	if eps == nil {
		eps = endpoints.Default()
	}
	defer func() {
		// Ingest's table, or LoadSummary's view of the warehouse file.
		if _, err := db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS event_summary"); err != nil {
			db.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS event_summary")
		}
	}()
	if !opts.Summarized {
		if _, err := db.ExecContext(ctx, EventDatesSQL(eps)); err != nil {
			return time.Time{}, 0, fmt.Errorf("derive cohort: event dates: %w", err)
		}
		step("event summary", start)
		start = time.Now()
	}
	if _, err := db.ExecContext(ctx, cohortSQL(eps, opts.Summarized), day, opts.AllTransplants); err != nil {
		return time.Time{}, 0, fmt.Errorf("derive cohort (cutoff %s): %w", day, err)
	}
	if _, err := db.ExecContext(ctx, CohortViewSQL(eps)); err != nil {
		return time.Time{}, 0, fmt.Errorf("derive cohort: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cohort").Scan(&n); err != nil {
		return time.Time{}, 0, fmt.Errorf("count cohort: %w", err)
	}
	step("cohort table", start)
	return cutoff, n, nil
}

// dateOf returns t's calendar date (in t's own location) at midnight UTC.
func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
