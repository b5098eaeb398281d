package transforms

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"marrow/queries"
)

// QualityFlagNames are the flags of the quality table. The quality table
// holds the accepted rows that are valid but implausible, one row per
// flagged source row: flag, transplant_id, the file and line of the row,
// and a note of key=value pairs made of codes, day counts and line numbers
// only (never the extract's free text). Each implausibility has exactly one
// flag:
//
//	two_deaths                 every death of a transplant after its first
//	relapse_after_death        relapse dated after the first death
//	last_contact_after_death   last_contact dated after the first death
//	event_after_death          any other event (not death, relapse,
//	                           last_contact) dated after the first death
//	agvhd_without_grade        agvhd with an empty grade
//	cgvhd_without_grade        cgvhd with an empty grade
//	gvhd_in_auto               agvhd or cgvhd of an AUTO transplant
//	last_contact_before_event  the latest last_contact is dated before the
//	                           latest other event (flagged on that
//	                           last_contact row)
//	allo_without_donor_type    ALLO transplant stored with donor_type
//	                           UNKNOWN
//	grade_on_other_event       a grade on an event other than agvhd/cgvhd
//	unknown_grade              an agvhd grade other than 1-4 (or I-IV), a
//	                           cgvhd grade other than MILD/MODERATE/SEVERE
//	                           (kept as written, never counted as graded)
//	value_out_of_range         age_years outside 0-100, karnofsky outside
//	                           10-100, hct_ci below 0 (one row per column)
//	donor_type_on_auto         an AUTO transplant with a donor type
//	no_events                  a transplant without any event row
//
// "After" is strictly later: same-day rows are never after one another.
// "First" and "latest" order rows by date, then line.
//
// The flags of one row are found by the validators as they accept it
// (appendTransplantFlags, appendEventFlags); those of a transplant's
// events as a whole from the event tally (tallyFlags); the death flags,
// which need each event compared with the first death, by
// queries/quality_flags.sql, and only when the tally shows a transplant
// that has one. testdata/plainsql/quality_flags.sql is the whole table in
// plain SQL, the reference TestQualityFlagsPlain compares it with.
var QualityFlagNames = []string{
	"agvhd_without_grade",
	"allo_without_donor_type",
	"cgvhd_without_grade",
	"donor_type_on_auto",
	"event_after_death",
	"grade_on_other_event",
	"gvhd_in_auto",
	"last_contact_after_death",
	"last_contact_before_event",
	"no_events",
	"relapse_after_death",
	"two_deaths",
	"unknown_grade",
	"value_out_of_range",
}

// qualityFlag is a row of the quality table.
type qualityFlag struct {
	flag, transplantID, file string
	line                     int64
	note                     string
}

// appendTransplantFlags adds the flags of an accepted transplants.csv row.
func appendTransplantFlags(flags []qualityFlag, r *transplant, line int64) []qualityFlag {
	add := func(flag, note string) {
		flags = append(flags, qualityFlag{flag, strings.Clone(r.id), transplantsSpec.name, line, note})
	}
	if r.typ == "ALLO" && r.donor == donorUnknown {
		add("allo_without_donor_type", "donor_type=UNKNOWN")
	}
	if r.hasAge && (r.age < 0 || r.age > 100) {
		add("value_out_of_range", "column=age_years")
	}
	if r.hasKarnofsky && (r.karnofsky < 10 || r.karnofsky > 100) {
		add("value_out_of_range", "column=karnofsky")
	}
	if r.hasHctCI && r.hctCI < 0 {
		add("value_out_of_range", "column=hct_ci")
	}
	if r.typ == "AUTO" && r.donor != "" {
		add("donor_type_on_auto", "donor_type="+r.donor)
	}
	return flags
}

// appendEventFlags adds the flags of an accepted events.csv row of
// transplant id.
func appendEventFlags(flags []qualityFlag, id string, r *event, line int64) []qualityFlag {
	gvhd := r.event == "agvhd" || r.event == "cgvhd"
	if gvhd && r.tx.auto {
		flags = append(flags, qualityFlag{"gvhd_in_auto", strings.Clone(id), eventsSpec.name, line,
			"event=" + r.event + " transplant_line=" + strconv.FormatInt(r.tx.line, 10)})
	}
	flag := ""
	switch {
	case gvhd && r.grade == "":
		flag = r.event + "_without_grade"
	case r.event == "agvhd" && !containsString([]string{"1", "2", "3", "4"}, r.grade),
		r.event == "cgvhd" && !containsString(cgvhdGrades, r.grade):
		flag = "unknown_grade"
	case !gvhd && r.grade != "":
		flag = "grade_on_other_event"
	}
	if flag != "" {
		flags = append(flags, qualityFlag{flag, strings.Clone(id), eventsSpec.name, line, "event=" + r.event})
	}
	return flags
}

// tallyFlags adds the flags of the transplants' events as a whole:
// no_events and last_contact_before_event. It also returns the
// transplants that have a death flag to find (a second death, or a row
// dated after the first death).
func (t *eventTally) tallyFlags(flags []qualityFlag, index *transplantIndex) ([]qualityFlag, []deathCandidate) {
	var deaths []deathCandidate
	for i := range t.n {
		e := &index.infos[i]
		if !e.ok {
			continue
		}
		if t.n[i] == 0 {
			flags = append(flags, qualityFlag{"no_events", index.id(int32(i)), transplantsSpec.name, e.line, "events=0"})
			continue
		}
		lc, lo := t.lastContact[i], t.latestOther[i]
		if lc != noneMax && lo != noneMax && lo>>lineShift > lc>>lineShift {
			flags = append(flags, qualityFlag{"last_contact_before_event", index.id(int32(i)), eventsSpec.name, lc & lineMask,
				"days_before=" + strconv.FormatInt(lo>>lineShift-lc>>lineShift, 10) + " event_line=" + strconv.FormatInt(lo&lineMask, 10)})
		}
		if fd := t.firstDeath[i]; fd != noneMin &&
			(t.deaths[i] > 1 || lo != noneMax && lo>>lineShift > fd>>lineShift || lc != noneMax && lc>>lineShift > fd>>lineShift) {
			deaths = append(deaths, deathCandidate{index.id(int32(i)), int64(t.deaths[i]), fd})
		}
	}
	return flags, deaths
}

// deathCandidate is a transplant with a death flag to find: its number of
// deaths and its first death as (days since 1900-01-01) << 40 + line.
type deathCandidate struct {
	transplantID string
	deaths       int64
	firstDeath   int64
}

const lineMask = 1<<lineShift - 1

// flagQuality fills the quality table with flags and the death flags of
// the transplants of deaths (queries/quality_flags.sql, over events and the
// table death_candidates made of them), and returns the number of rows per
// flag, every flag present.
func flagQuality(ctx context.Context, conn *sql.Conn, flags []qualityFlag, deaths []deathCandidate) (map[string]int64, error) {
	if len(deaths) > 0 {
		if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE death_candidates (transplant_id VARCHAR NOT NULL, n_deaths BIGINT NOT NULL, first_death BIGINT NOT NULL)"); err != nil {
			return nil, fmt.Errorf("quality flags: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS death_candidates")
	}
	err := conn.Raw(func(dc any) error {
		for _, table := range []string{"quality", "death_candidates"} {
			if table == "death_candidates" && len(deaths) == 0 {
				break
			}
			a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
			if err != nil {
				return fmt.Errorf("appender %s: %w", table, err)
			}
			if table == "quality" {
				for _, f := range flags {
					if err = a.AppendRow(f.flag, f.transplantID, f.file, f.line, f.note); err != nil {
						break
					}
				}
			} else {
				for _, d := range deaths {
					if err = a.AppendRow(d.transplantID, d.deaths, d.firstDeath); err != nil {
						break
					}
				}
			}
			if cerr := a.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("quality flags: %w", err)
	}
	if len(deaths) > 0 {
		if _, err := conn.ExecContext(ctx, queries.Text("quality_flags")); err != nil {
			return nil, fmt.Errorf("quality flags: %w", err)
		}
	}
	return qualityCounts(ctx, conn)
}

func qualityCounts(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	counts := make(map[string]int64, len(QualityFlagNames))
	for _, f := range QualityFlagNames {
		counts[f] = 0
	}
	rows, err := conn.QueryContext(ctx, queries.Text("quality_by_flag"))
	if err != nil {
		return nil, fmt.Errorf("quality counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var flag string
		var n int64
		if err := rows.Scan(&flag, &n); err != nil {
			return nil, fmt.Errorf("quality counts: %w", err)
		}
		counts[flag] = n
	}
	return counts, rows.Err()
}
