package transforms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"marrow/internal/duck"
)

// The headers of a minimal extract, in SPEC order.
const (
	txHeader = "transplant_id,patient_id,center_id,transplant_date,transplant_type,donor_type,graft_source,indication,disease_status,conditioning,age_years,sex,karnofsky,hct_ci"
	evHeader = "transplant_id,event,event_date,grade,detail"
)

// ingestDB returns a fresh in-memory DuckDB closed with the test.
func ingestDB(tb testing.TB, threads int) *sql.DB {
	tb.Helper()
	db, err := duck.Open(context.Background(), duck.Options{Threads: threads})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// writeExtract writes files (name -> content) into a new directory.
func writeExtract(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// extract builds the two files from a header and data lines each.
func extract(txHeader string, tx []string, evHeader string, ev []string) map[string]string {
	return map[string]string{
		"transplants.csv": txHeader + "\n" + strings.Join(tx, "\n") + "\n",
		"events.csv":      evHeader + "\n" + strings.Join(ev, "\n") + "\n",
	}
}

// ingestFiles writes files and ingests them into a new database.
func ingestFiles(tb testing.TB, files map[string]string, rate float64) (*sql.DB, *IngestSummary, error) {
	tb.Helper()
	db := ingestDB(tb, 2)
	sum, err := Ingest(context.Background(), db, writeExtract(tb, files), IngestOptions{MaxRejectRate: rate})
	return db, sum, err
}

// queryStrings returns the rows of a query as strings, fields joined by
// "|" (NULL as "∅").
func queryStrings(tb testing.TB, db *sql.DB, q string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		fields := make([]string, len(cols))
		for i, v := range vals {
			fields[i] = "∅"
			if v.Valid {
				fields[i] = v.String
			}
		}
		out = append(out, strings.Join(fields, "|"))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkedExtract is what the reader and validators made of an extract,
// without DuckDB.
type checkedExtract struct {
	transplants, events *rowValidator
	accepted            [2][]arrow.RecordBatch
}

// checkExtract runs the reader and validators over two files' contents,
// reading chunk bytes at a time, keeping the accepted rows' batches.
func checkExtract(tb testing.TB, transplants, events []byte, chunk int) (*checkedExtract, error) {
	tb.Helper()
	ctx := context.Background()
	var out checkedExtract
	keep := func(i int) func(context.Context, <-chan arrow.RecordBatch) error {
		return func(_ context.Context, recs <-chan arrow.RecordBatch) error {
			for r := range recs {
				out.accepted[i] = append(out.accepted[i], r)
			}
			return nil
		}
	}
	tb.Cleanup(func() {
		for _, rs := range out.accepted {
			for _, r := range rs {
				r.Release()
			}
		}
	})
	tf := newCSVReader(bytes.NewReader(transplants), &transplantsSpec, chunk)
	if err := tf.readHeader(); err != nil {
		return nil, err
	}
	ef := newCSVReader(bytes.NewReader(events), &eventsSpec, chunk)
	if err := ef.readHeader(); err != nil {
		return nil, err
	}
	index := newTransplantIndex()
	tf.register = (&registrar{index: index, ncols: tf.ncols}).register
	tvs := []validator{newTransplantRows(tf), newTransplantRows(tf)}
	if err := runFile(ctx, tf, keep(0), tvs...); err != nil {
		return nil, err
	}
	index.accept(tvs...)
	tally := newEventTally(len(index.infos), nil)
	evs := []validator{newEventRows(ef, index, tally), newEventRows(ef, index, tally)}
	if err := runFile(ctx, ef, keep(1), evs...); err != nil {
		return nil, err
	}
	out.transplants, out.events = mergeValidators(tvs), mergeValidators(evs)
	for i, v := range []*rowValidator{out.transplants, out.events} {
		var n int64
		for _, r := range out.accepted[i] {
			n += r.NumRows()
		}
		if n != v.kept || v.kept+int64(len(v.rejects)) != v.read {
			tb.Fatalf("%s: read %d, kept %d (%d in batches), rejected %d", v.file, v.read, v.kept, n, len(v.rejects))
		}
	}
	if out.transplants.read != tf.rows || out.events.read != ef.rows {
		tb.Fatalf("validated %d+%d rows, read %d+%d", out.transplants.read, out.events.read, tf.rows, ef.rows)
	}
	return &out, nil
}

// rejectMessages are the Error() texts of both files' rejects.
func (c *checkedExtract) rejectMessages() []string {
	var out []string
	for _, v := range []*rowValidator{c.transplants, c.events} {
		for i := range v.rejects {
			out = append(out, v.rejects[i].Error())
		}
	}
	return out
}

// A transplant and an event line that are valid, to build cases from.
const (
	okTx = "T1,P1,C1,2020-01-01,ALLO,MSD,PB,AML,EARLY,MAC,45,M,90,2"
	okEv = "T1,relapse,2020-03-01,,"
)

func TestIngestRejects(t *testing.T) {
	cases := []struct {
		name string
		tx   []string
		ev   []string
		// want are the rejects' messages, then their rows in the rejects
		// table (file|line|column|value|reason).
		want      []string
		wantTable []string
	}{
		{"missing transplant_id",
			[]string{okTx, " ,P2,C1,2020-01-01,ALLO,MSD,PB,AML,,,,,,"}, nil,
			[]string{`transplants.csv:3:1: missing required value " "`},
			[]string{"transplants.csv|3|transplant_id| |missing required value"}},
		{"missing patient_id",
			[]string{"T2,,C1,2020-01-01,ALLO,MSD,PB,AML,,,,,,"}, nil,
			[]string{`transplants.csv:2:2: missing required value`},
			[]string{"transplants.csv|2|patient_id||missing required value"}},
		{"missing date, type, indication",
			[]string{"T2,P2,C1,,ALLO,MSD,PB,AML,,,,,,", "T3,P3,C1,2020-01-01,,MSD,PB,AML,,,,,,", "T4,P4,C1,2020-01-01,AUTO,,PB,,,,,,,"}, nil,
			[]string{
				`transplants.csv:2:4: missing required value`,
				`transplants.csv:3:5: missing required value`,
				`transplants.csv:4:8: missing required value`,
			}, nil},
		{"invalid dates",
			[]string{"T2,P2,,2020-02-31,AUTO,,,MM,,,,,,", "T3,P3,,2020-2-3,AUTO,,,MM,,,,,,", "T4,P4,,20200101,AUTO,,,MM,,,,,,", "T5,P5,,2019-02-29,AUTO,,,MM,,,,,,", "T6,P6,,2020-13-01,AUTO,,,MM,,,,,,", "T7,P7,,2020-01-01T00:00,AUTO,,,MM,,,,,,"}, nil,
			[]string{
				`transplants.csv:2:4: invalid date "2020-02-31"`,
				`transplants.csv:3:4: invalid date "2020-2-3"`,
				`transplants.csv:4:4: invalid date "20200101"`,
				`transplants.csv:5:4: invalid date "2019-02-29"`,
				`transplants.csv:6:4: invalid date "2020-13-01"`,
				`transplants.csv:7:4: invalid date "2020-01-01T00:00"`,
			},
			[]string{
				"transplants.csv|2|transplant_date|2020-02-31|invalid date",
				"transplants.csv|3|transplant_date|2020-2-3|invalid date",
				"transplants.csv|4|transplant_date|20200101|invalid date",
				"transplants.csv|5|transplant_date|2019-02-29|invalid date",
				"transplants.csv|6|transplant_date|2020-13-01|invalid date",
				"transplants.csv|7|transplant_date|2020-01-01T00:00|invalid date",
			}},
		{"dates out of range",
			[]string{okTx, "T2,P2,,0000-01-01,AUTO,,,MM,,,,,,", "T3,P3,,1899-12-31,AUTO,,,MM,,,,,,", "T4,P4,,2200-01-01,AUTO,,,MM,,,,,,", "T5,P5,,1900-01-01,AUTO,,,MM,,,,,,"},
			[]string{okEv, "T1,last_contact,2199-12-31,,", "T1,last_contact,2200-01-01,,"},
			[]string{
				`transplants.csv:3:4: date out of range "0000-01-01"`,
				`transplants.csv:4:4: date out of range "1899-12-31"`,
				`transplants.csv:5:4: date out of range "2200-01-01"`,
				`events.csv:4:3: date out of range "2200-01-01"`,
			}, nil},
		{"invalid numbers",
			[]string{"T2,P2,,2020-01-01,AUTO,,,MM,,,1e999,,,", "T3,P3,,2020-01-01,AUTO,,,MM,,,NaN,,,", "T4,P4,,2020-01-01,AUTO,,,MM,,,Inf,,,", "T5,P5,,2020-01-01,AUTO,,,MM,,,\"45,5\",,,", "T6,P6,,2020-01-01,AUTO,,,MM,,,0x10,,,", "T7,P7,,2020-01-01,AUTO,,,MM,,,45.,,,", "T8,P8,,2020-01-01,AUTO,,,MM,,,,,ninety,", "T9,P9,,2020-01-01,AUTO,,,MM,,,,,90.5,", "T10,P10,,2020-01-01,AUTO,,,MM,,,,,,2.0"}, nil,
			[]string{
				`transplants.csv:2:11: invalid number "1e999"`,
				`transplants.csv:3:11: invalid number "NaN"`,
				`transplants.csv:4:11: invalid number "Inf"`,
				`transplants.csv:5:11: invalid number "45,5"`,
				`transplants.csv:6:11: invalid number "0x10"`,
				`transplants.csv:7:11: invalid number "45."`,
				`transplants.csv:8:13: invalid number "ninety"`,
				`transplants.csv:9:13: invalid integer "90.5"`,
				`transplants.csv:10:14: invalid integer "2.0"`,
			}, nil},
		{"numbers that do not fit an INTEGER",
			// Out-of-range but readable values are kept and flagged
			// value_out_of_range (TestIngestQualityFlags).
			[]string{"T2,P2,,2020-01-01,AUTO,,,MM,,,-1,,,", "T3,P3,,2020-01-01,AUTO,,,MM,,,,,5,", "T7,P7,,2020-01-01,AUTO,,,MM,,,,,,99999999999"}, nil,
			[]string{
				`transplants.csv:4:14: number out of range "99999999999" (hct_ci)`,
			},
			[]string{
				"transplants.csv|4|hct_ci|99999999999|number out of range",
			}},
		{"unknown codes",
			[]string{"T2,P2,,2020-01-01,XENO,,,MM,,,,,,", "T3,P3,,2020-01-01,ALLO,SIB,,MM,,,,,,", "T4,P4,,2020-01-01,AUTO,,XX,MM,,,,,,", "T5,P5,,2020-01-01,AUTO,,,LEUK,,,,,,", "T6,P6,,2020-01-01,AUTO,,,MM,LATE,,,,,", "T7,P7,,2020-01-01,AUTO,,,MM,,FULL,,,,", "T8,P8,,2020-01-01,AUTO,,,MM,,,,U,,", `T9,P9,,2020-01-01,AUTO,,,"=HYPERLINK(""http://x"")",,,,,,`, okTx, "T11,P11,,2020-01-01,AUTO,,,ſolid,,,,,,"},
			[]string{"T1,cured,2020-02-01,,", "T1,Death ,2020-02-01,,", "T1,relapse;death,2020-02-01,,"},
			[]string{
				`transplants.csv:2:5: unknown code "XENO"`,
				`transplants.csv:3:6: unknown code "SIB"`,
				`transplants.csv:4:7: unknown code "XX"`,
				`transplants.csv:5:8: unknown code "LEUK"`,
				`transplants.csv:6:9: unknown code "LATE"`,
				`transplants.csv:7:10: unknown code "FULL"`,
				`transplants.csv:8:12: unknown code "U"`,
				`transplants.csv:9:8: unknown code "=HYPERLINK(\"http://x\")"`,
				`transplants.csv:11:8: unknown code "ſolid"`,
				`events.csv:2:2: unknown code "cured"`,
				`events.csv:4:2: unknown code "relapse;death"`,
			}, nil},
		{"duplicate transplant_id",
			[]string{okTx, "T2,P2,,2020-01-01,AUTO,,,MM,,,,,,", "T1,P9,,2021-01-01,AUTO,,,MM,,,,,,", "t1,P9,,2021-01-01,AUTO,,,MM,,,,,,", " T2 ,P2,,2020-01-01,AUTO,,,MM,,,,,,"},
			[]string{okEv, "t1,relapse,2021-02-01,,"},
			[]string{
				`transplants.csv:4:1: duplicate transplant_id "T1" (first on line 2)`,
				`transplants.csv:6:1: duplicate transplant_id " T2 " (first on line 3)`,
			},
			[]string{
				"transplants.csv|4|transplant_id|T1|duplicate transplant_id",
				"transplants.csv|6|transplant_id| T2 |duplicate transplant_id",
			}},
		{"duplicate of a rejected row",
			// The first T2 is rejected; the second is still a duplicate,
			// and T2's events are rejected with their transplant.
			[]string{"T2,P2,,2020-02-30,AUTO,,,MM,,,,,,", "T2,P2,,2020-02-01,AUTO,,,MM,,,,,,"},
			[]string{"T2,relapse,2020-05-01,,"},
			[]string{
				`transplants.csv:2:4: invalid date "2020-02-30"`,
				`transplants.csv:3:1: duplicate transplant_id "T2" (first on line 2)`,
				`events.csv:2:1: transplant rejected "T2" (transplants.csv line 2)`,
			}, nil},
		{"events of unknown or rejected transplants",
			[]string{okTx, "T2,P2,,2020-01-01,AUTO,,,MM,,,abc,,,"},
			[]string{okEv, "T9,relapse,2020-03-01,,", "T2,relapse,2020-03-01,,", ",relapse,2020-03-01,,", "T1,death,,,"},
			[]string{
				`transplants.csv:3:11: invalid number "abc"`,
				`events.csv:3:1: unknown transplant_id "T9"`,
				`events.csv:4:1: transplant rejected "T2" (transplants.csv line 3)`,
				`events.csv:5:1: missing required value`,
				`events.csv:6:3: missing required value`,
			},
			[]string{
				"events.csv|3|transplant_id|T9|unknown transplant_id",
				"events.csv|4|transplant_id|T2|transplant rejected",
				"events.csv|5|transplant_id||missing required value",
				"events.csv|6|event_date||missing required value",
				"transplants.csv|3|age_years|abc|invalid number",
			}},
		{"event before transplant",
			[]string{okTx},
			[]string{"T1,relapse,2019-12-31,,", "T1,neutrophil_engraftment,2020-01-01,,"},
			[]string{`events.csv:2:3: event before transplant "2019-12-31" (transplant_date 2020-01-01)`},
			[]string{"events.csv|2|event_date|2019-12-31|event before transplant"}},
		{"wrong number of fields",
			[]string{okTx, "T2,P2,,2020-01-01,AUTO,,,MM,,,,,", "T3,P3,,2020-01-01,AUTO,,,MM,,,,,,,"},
			[]string{"T1,relapse,2020-03-01,", "T1,relapse,2020-03-01,,,"},
			[]string{
				`transplants.csv:3: wrong number of fields "T2,P2,,2020-01-01,AUTO,,,MM,,,,," (13 fields, header has 14)`,
				`transplants.csv:4: wrong number of fields "T3,P3,,2020-01-01,AUTO,,,MM,,,,,,," (15 fields, header has 14)`,
				`events.csv:2: wrong number of fields "T1,relapse,2020-03-01," (4 fields, header has 5)`,
				`events.csv:3: wrong number of fields "T1,relapse,2020-03-01,,," (6 fields, header has 5)`,
			},
			[]string{
				"events.csv|2||T1,relapse,2020-03-01,|wrong number of fields",
				"events.csv|3||T1,relapse,2020-03-01,,,|wrong number of fields",
				"transplants.csv|3||T2,P2,,2020-01-01,AUTO,,,MM,,,,,|wrong number of fields",
				"transplants.csv|4||T3,P3,,2020-01-01,AUTO,,,MM,,,,,,,|wrong number of fields",
			}},
		{"first fault in column order",
			[]string{"T2,P2,,2020-02-30,XENO,,,MM,,,-5,,,"}, nil,
			[]string{`transplants.csv:2:4: invalid date "2020-02-30"`}, nil},
		{"long value cut",
			[]string{"T2,P2,,2020-01-01,AUTO,,," + strings.Repeat("X", 250) + ",,,,,,"}, nil,
			[]string{`transplants.csv:2:8: unknown code "` + strings.Repeat("X", 200) + `" (value cut to 200 characters)`},
			[]string{"transplants.csv|2|indication|" + strings.Repeat("X", 200) + "|unknown code (value cut to 200 characters)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := extract(txHeader, c.tx, evHeader, c.ev)
			chk, err := checkExtract(t, []byte(files["transplants.csv"]), []byte(files["events.csv"]), chunkSize)
			if err != nil {
				t.Fatal(err)
			}
			if got := chk.rejectMessages(); !slices.Equal(got, c.want) {
				t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			db, sum, err := ingestFiles(t, files, 1)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rejects != int64(len(c.want)) {
				t.Errorf("summary: %d rejects, want %d", sum.Rejects, len(c.want))
			}
			for _, f := range sum.Files {
				if f.RowsAccepted+f.RowsRejected != f.RowsRead {
					t.Errorf("%s: %d accepted + %d rejected != %d read", f.File, f.RowsAccepted, f.RowsRejected, f.RowsRead)
				}
			}
			if c.wantTable != nil {
				got := queryStrings(t, db, `SELECT file, line, column_name, value, reason FROM rejects ORDER BY file, line`)
				if !slices.Equal(got, c.wantTable) {
					t.Errorf("rejects table:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.wantTable, "\n"))
				}
			}
		})
	}
}

func TestIngestAcceptedValues(t *testing.T) {
	files := extract(
		"Transplant_ID,PATIENT_ID,center_id,transplant_date,Transplant_Type,donor_type,graft_source,indication,disease_status,conditioning,age_years,sex,karnofsky,hct_ci",
		[]string{
			` T1 , P1 ,"=HYPERLINK(""http://evil"")",2020-01-01,allo,mud,pb,aml,early,ric, 45.5 ,f,90,0`,
			"T2,P1,,2021-06-30,Allo,,,Hgb,,,,,,",
			"T3,P3,,2021-06-30,ALLO,Unknown,CB,SOLID,ADVANCED,NMA,0,M,10,29",
			"T4,P4,C9,2022-02-28,AUTO,,BM,mm,intermediate,mac,100,m,100,",
		},
		evHeader,
		[]string{
			"T1,AGVHD,2020-01-20,ii,",
			"T1,agvhd,2020-01-21,IV,",
			"T1,cgvhd,2020-05-01,Mild,",
			"T1,Infection,2020-01-10,3,\"CMV, \"\"pp65\"\"\nreactivation\"",
			"T1,death,2020-06-01,, =cmd|' /C calc'!A0 ",
			"T2,Neutrophil_Engraftment,2021-06-30,,",
			"T4,last_contact,2023-01-01,,",
		})
	db, sum, err := ingestFiles(t, files, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejects != 0 {
		t.Fatalf("%d rejects: %v", sum.Rejects, queryStrings(t, db, "SELECT * FROM rejects"))
	}
	gotTx := queryStrings(t, db, `SELECT transplant_id, patient_id, center_id, CAST(transplant_date AS VARCHAR), transplant_type, donor_type,
		graft_source, indication, disease_status, conditioning, CAST(age_years AS VARCHAR), sex, karnofsky, hct_ci, source_line
		FROM transplants ORDER BY transplant_id`)
	wantTx := []string{
		`T1|P1|=HYPERLINK("http://evil")|2020-01-01|ALLO|MUD|PB|AML|EARLY|RIC|45.5|F|90|0|2`,
		`T2|P1|∅|2021-06-30|ALLO|UNKNOWN|∅|HGB|∅|∅|∅|∅|∅|∅|3`,
		`T3|P3|∅|2021-06-30|ALLO|UNKNOWN|CB|SOLID|ADVANCED|NMA|0.0|M|10|29|4`,
		`T4|P4|C9|2022-02-28|AUTO|∅|BM|MM|INTERMEDIATE|MAC|100.0|M|100|∅|5`,
	}
	if !slices.Equal(gotTx, wantTx) {
		t.Errorf("transplants:\n%s\nwant:\n%s", strings.Join(gotTx, "\n"), strings.Join(wantTx, "\n"))
	}
	gotEv := queryStrings(t, db, `SELECT transplant_id, event, CAST(event_date AS VARCHAR), grade, detail, source_line FROM events ORDER BY source_line`)
	wantEv := []string{
		"T1|agvhd|2020-01-20|2|∅|2",
		"T1|agvhd|2020-01-21|4|∅|3",
		"T1|cgvhd|2020-05-01|MILD|∅|4",
		"T1|infection|2020-01-10|3|CMV, \"pp65\"\nreactivation|5",
		"T1|death|2020-06-01|∅| =cmd|' /C calc'!A0 |7",
		"T2|neutrophil_engraftment|2021-06-30|∅|∅|8",
		"T4|last_contact|2023-01-01|∅|∅|9",
	}
	if !slices.Equal(gotEv, wantEv) {
		t.Errorf("events:\n%q\nwant:\n%q", gotEv, wantEv)
	}
}

func TestIngestQualityFlags(t *testing.T) {
	tx := []string{
		"D1,P1,,2020-01-01,ALLO,MSD,,AML,,,,,,", // two deaths, events after death
		"D2,P2,,2020-01-01,AUTO,,,MM,,,,,,",     // gvhd in auto, grades
		"D3,P3,,2020-01-01,ALLO,,,AML,,,,,,",    // no donor type, last contact before event
		"D4,P4,,2020-01-01,ALLO,HAPLO,,ALL,,,,,,",
		"D5,P5,,2020-01-01,ALLO,MUD,,ALL,,,,,,",       // same-day death and relapse: no flag
		"D6,P6,,2020-01-01,AUTO,MSD,,MM,,,-3,,150,-1", // donor on AUTO, three values out of range
		"D7,P7,,2020-01-01,ALLO,MUD,,AML,,,101,,5,0",  // age out of range; karnofsky 5
	}
	ev := []string{
		"D1,death,2020-03-01,,",          // 2: first death
		"D1,death,2020-03-05,,",          // 3: two_deaths
		"D1,relapse,2020-04-01,,",        // 4: relapse_after_death
		"D1,infection,2020-03-02,,",      // 5: event_after_death
		"D1,last_contact,2020-03-10,,",   // 6: last_contact_after_death
		"D1,death,2020-03-01,,",          // 7: two_deaths (same day as the first, later line)
		"D2,agvhd,2020-02-01,,",          // 8: agvhd_without_grade + gvhd_in_auto
		"D2,cgvhd,2020-05-01,,",          // 9: cgvhd_without_grade + gvhd_in_auto
		"D2,infection,2020-02-01,3,",     // 10: grade_on_other_event
		"D2,last_contact,2020-06-01,,",   // 11
		"D3,last_contact,2020-02-01,,",   // 12
		"D3,relapse,2020-03-01,,",        // 13
		"D3,last_contact,2020-02-15,,",   // 14: latest last_contact, 15 days before the relapse
		"D5,relapse,2020-04-01,,",        // 15
		"D5,death,2020-04-01,,",          // 16
		"D5,last_contact,2020-04-01,,",   // 17
		"D7,agvhd,2020-01-20,5,",         // 18: unknown_grade
		"D7,cgvhd,2020-06-01,extensive,", // 19: unknown_grade (kept as EXTENSIVE)
		"D6,last_contact,2020-06-01,,",   // 20
		"D7,agvhd,2020-01-10,0,",         // 21: unknown_grade
	}
	db, sum, err := ingestFiles(t, extract(txHeader, tx, evHeader, ev), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"agvhd_without_grade|D2|events.csv|8|event=agvhd",
		"allo_without_donor_type|D3|transplants.csv|4|donor_type=UNKNOWN",
		"cgvhd_without_grade|D2|events.csv|9|event=cgvhd",
		"event_after_death|D1|events.csv|5|event=infection days_after_death=1 death_line=2",
		"grade_on_other_event|D2|events.csv|10|event=infection",
		"gvhd_in_auto|D2|events.csv|8|event=agvhd transplant_line=3",
		"gvhd_in_auto|D2|events.csv|9|event=cgvhd transplant_line=3",
		"last_contact_after_death|D1|events.csv|6|days_after_death=9 death_line=2",
		"last_contact_before_event|D1|events.csv|6|days_before=22 event_line=4",
		"last_contact_before_event|D3|events.csv|14|days_before=15 event_line=13",
		"no_events|D4|transplants.csv|5|events=0",
		"relapse_after_death|D1|events.csv|4|days_after_death=31 death_line=2",
		"two_deaths|D1|events.csv|3|n_deaths=3 first_death_line=2",
		"two_deaths|D1|events.csv|7|n_deaths=3 first_death_line=2",
		"donor_type_on_auto|D6|transplants.csv|7|donor_type=MSD",
		"unknown_grade|D7|events.csv|18|event=agvhd",
		"unknown_grade|D7|events.csv|19|event=cgvhd",
		"unknown_grade|D7|events.csv|21|event=agvhd",
		"value_out_of_range|D6|transplants.csv|7|column=age_years",
		"value_out_of_range|D6|transplants.csv|7|column=hct_ci",
		"value_out_of_range|D6|transplants.csv|7|column=karnofsky",
		"value_out_of_range|D7|transplants.csv|8|column=age_years",
		"value_out_of_range|D7|transplants.csv|8|column=karnofsky",
	}
	slices.Sort(want)
	got := queryStrings(t, db, "SELECT flag, transplant_id, file, line, note FROM quality ORDER BY flag, transplant_id, file, line, note")
	if !slices.Equal(got, want) {
		t.Errorf("quality:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	counts := map[string]int64{}
	for _, w := range want {
		counts[strings.Split(w, "|")[0]]++
	}
	for _, f := range QualityFlagNames {
		if sum.QualityFlags[f] != counts[f] {
			t.Errorf("summary: %s = %d, want %d", f, sum.QualityFlags[f], counts[f])
		}
		if counts[f] == 0 {
			t.Errorf("flag %s not exercised", f)
		}
	}
	if len(sum.QualityFlags) != len(QualityFlagNames) {
		t.Errorf("summary flags %v, want exactly %v", sum.QualityFlags, QualityFlagNames)
	}
}

// readRecords counts an extract file's records and reads its header with
// encoding/csv, independently of the ingest's reader.
func readRecords(tb testing.TB, path string) (header []string, n int64) {
	tb.Helper()
	header, rows := readRefCSV(tb, path)
	return header, int64(len(rows))
}

func fileSHA256(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestIngestRefdata(t *testing.T) {
	// Flags the reference cohorts are known to carry (PROVENANCE.md: bmt
	// row 127 has chronic GVHD recorded 32 days after death, after its
	// last contact on the day of death).
	wantFlags := map[string][]string{
		"bmt": {
			"event_after_death|BMT-T0127|events.csv|430|event=cgvhd days_after_death=32 death_line=428",
			"last_contact_before_event|BMT-T0127|events.csv|429|days_before=32 event_line=430",
		},
	}
	for _, name := range []string{"bmt", "bmtcrr", "ebmt2", "ebmt3", "ebmt4"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("../testdata/refdata", name, "extract")
			db := ingestDB(t, 2)
			sum, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 0})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rejects != 0 {
				t.Errorf("%d rejects: %q", sum.Rejects, queryStrings(t, db, "SELECT * FROM rejects ORDER BY file, line"))
			}
			for i, table := range []string{"transplants", "events"} {
				f := sum.Files[i]
				path := filepath.Join(dir, table+".csv")
				header, n := readRecords(t, path)
				if f.File != table+".csv" || f.RowsRead != n || f.RowsAccepted != n || f.RowsRejected != 0 {
					t.Errorf("%s: %+v, want %d rows read and accepted", table, f, n)
				}
				if f.SHA256 != fileSHA256(t, path) {
					t.Errorf("%s: sha256 %s, want %s", table, f.SHA256, fileSHA256(t, path))
				}
				var unknown []string
				for _, h := range header {
					if !slices.ContainsFunc([]*fileSpec{&transplantsSpec, &eventsSpec}[i].columns, func(c columnSpec) bool { return c.name == h }) {
						unknown = append(unknown, h)
					}
				}
				if !slices.Equal(f.UnknownColumns, unknown) {
					t.Errorf("%s: unknown columns %q, want %q", table, f.UnknownColumns, unknown)
				}
				got := queryStrings(t, db, "SELECT count(*) FROM "+table)
				if got[0] != fmt.Sprint(n) {
					t.Errorf("%s table has %s rows, want %d", table, got[0], n)
				}
			}
			got := queryStrings(t, db, "SELECT flag, transplant_id, file, line, note FROM quality ORDER BY flag, transplant_id, file, line, note")
			if !slices.Equal(got, wantFlags[name]) {
				t.Errorf("quality:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFlags[name], "\n"))
			}
			summary := queryStrings(t, db, "SELECT file, sha256, rows_read, rows_accepted, rows_rejected, unknown_columns FROM ingest_summary ORDER BY file")
			var want []string
			for _, f := range []FileSummary{sum.Files[1], sum.Files[0]} {
				want = append(want, fmt.Sprintf("%s|%s|%d|%d|%d|%s", f.File, f.SHA256, f.RowsRead, f.RowsAccepted, f.RowsRejected, strings.Join(f.UnknownColumns, ",")))
			}
			if !slices.Equal(summary, want) {
				t.Errorf("ingest_summary:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestIngestRejectRate(t *testing.T) {
	tx := []string{}
	for i := range 100 {
		tx = append(tx, fmt.Sprintf("T%d,P%d,,2020-01-01,AUTO,,,MM,,,,,,", i, i))
	}
	bad := func(n int) []string {
		out := slices.Clone(tx)
		for i := range n {
			out[10*i] = strings.Replace(out[10*i], "2020-01-01", "2020-01-32", 1)
		}
		return out
	}
	cases := []struct {
		name    string
		bad     int
		rate    float64
		wantErr string
	}{
		{"1% allowed", 1, 0.01, ""},
		{"2% over 1%", 2, 0.01, `transplants.csv: 2 of 100 rows rejected (2%), above max_reject_rate 1%; first: transplants.csv:2:4: transplant_date: invalid date "2020-01-32"`},
		{"none allowed", 1, 0, `transplants.csv: 1 of 100 rows rejected (1%), above max_reject_rate 0%; first: transplants.csv:2:4: transplant_date: invalid date "2020-01-32"`},
		{"all allowed", 10, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, sum, err := ingestFiles(t, extract(txHeader, bad(c.bad), evHeader, nil), c.rate)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RejectRateError
			if !errors.As(err, &re) || err.Error() != c.wantErr {
				t.Fatalf("error %v, want %s", err, c.wantErr)
			}
			// The tables stay for inspection, with the summary.
			if sum == nil || sum.Files[0].RowsRejected != int64(c.bad) {
				t.Fatalf("summary %+v", sum)
			}
			if got := queryStrings(t, db, "SELECT count(*) FROM rejects"); got[0] != fmt.Sprint(c.bad) {
				t.Errorf("rejects table has %s rows, want %d", got[0], c.bad)
			}
		})
	}
}
