package transforms

import (
	"context"
	"strings"
	"testing"
)

// TestCheckWarehouse: CheckWarehouse passes what Ingest wrote and names
// the first rule, in warehouseRules order and then the links, that an
// edited table breaks, with the column at fault even when the table's
// query fails as a whole. (Ingest's tables are edited in place; analyze
// loads them from Parquet files.)
func TestCheckWarehouse(t *testing.T) {
	tx := []string{okTx, "T2,P2,,2020-02-01,AUTO,,,MM,,,61.5,F,80,0", "T3,P3,C2,2020-03-01,ALLO,MUD,BM,ALL,,,30,,,"}
	ev := []string{okEv, "T2,agvhd,2020-02-20,2,", "T2,last_contact,2021-01-01,,", "T3,cgvhd,2020-06-01,MILD,"}
	cases := []struct{ name, edit, want string }{
		{"as ingested", "", ""},
		{"missing id", "ALTER TABLE transplants ALTER transplant_id DROP NOT NULL; UPDATE transplants SET transplant_id = NULL WHERE source_line = 3",
			"transplants.parquet: column transplant_id: missing value"},
		{"bad code", "UPDATE transplants SET donor_type = 'X|Y' WHERE source_line = 2",
			`transplants.parquet: column donor_type: "X|Y" is not one of MSD, MUD, MMUD, HAPLO, CORD, OTHER, UNKNOWN`},
		{"two faults, the first rule's", "UPDATE transplants SET sex = 'Q', indication = 'LEUK' WHERE source_line = 2",
			`transplants.parquet: column indication: "LEUK" is not one of AML, ALL, CML, CLL, MDS, MPN, NHL, HL, MM, SAA, IMD, IEM, HGB, SOLID, OTHER`},
		{"number", "UPDATE transplants SET karnofsky = 1000 WHERE source_line = 3",
			"transplants.parquet: column karnofsky: 1000 is outside 10..100"},
		{"NaN", "UPDATE transplants SET age_years = 'NaN'::DOUBLE WHERE source_line = 4",
			"transplants.parquet: column age_years: nan is outside 0..100"},
		{"date", "UPDATE events SET event_date = DATE '2300-01-01' WHERE source_line = 3",
			"events.parquet: column event_date: date 2300-01-01 is outside 1900-01-01..2199-12-31"},
		{"missing column", "ALTER TABLE events DROP COLUMN grade", "events.parquet: column grade: missing"},
		{"column of another type", "ALTER TABLE transplants ALTER hct_ci TYPE VARCHAR; UPDATE transplants SET hct_ci = 'many' WHERE source_line = 2",
			"transplants.parquet: column hct_ci: Conversion Error: Could not convert string 'many' to DOUBLE"},
		{"duplicate", "INSERT INTO transplants SELECT * FROM transplants WHERE source_line = 3",
			"transplants.parquet: column transplant_id: 1 duplicate values"},
		{"orphan", "UPDATE events SET transplant_id = 'T9' WHERE source_line = 2",
			"events.parquet: column transplant_id: 1 events of transplants not in transplants.parquet"},
		{"before transplant", "UPDATE events SET event_date = DATE '2019-12-31' WHERE source_line = 5",
			"events.parquet: column event_date: 1 events dated before their transplant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _, err := ingestFiles(t, extract(txHeader, tx, evHeader, ev), 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.edit != "" {
				if _, err := db.Exec(c.edit); err != nil {
					t.Fatal(err)
				}
			}
			err = CheckWarehouse(context.Background(), db)
			got := ""
			if err != nil {
				got = err.Error()
			}
			// An error of DuckDB's own is followed by its query.
			if got != c.want && (c.want == "" || !strings.HasPrefix(got, c.want+" when casting")) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
