package transforms

import (
	"context"
	"database/sql"
	"fmt"

	"marrow/queries"
)

// QualityFlagNames are the flags of the quality table, as defined in
// queries/quality_flags.sql (which documents each).
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

// flagQuality fills the quality table from the loaded transplants and
// events and returns the number of rows per flag, every flag present.
func flagQuality(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	if _, err := conn.ExecContext(ctx, queries.Text("quality_flags")); err != nil {
		return nil, fmt.Errorf("quality flags: %w", err)
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
