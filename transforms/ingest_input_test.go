package transforms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIngestStructuralFaults(t *testing.T) {
	tx := txHeader + "\n" + okTx + "\n"
	ev := evHeader + "\n" + okEv + "\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing transplants", map[string]string{"events.csv": ev}, "transplants.csv: missing file"},
		{"missing events", map[string]string{"transplants.csv": tx}, "events.csv: missing file"},
		{"empty file", map[string]string{"transplants.csv": "", "events.csv": ev}, "transplants.csv: empty file (no header)"},
		{"blank lines only", map[string]string{"transplants.csv": tx, "events.csv": "\n\r\n\n"}, "events.csv: empty file (no header)"},
		{"BOM only", map[string]string{"transplants.csv": "\uFEFF", "events.csv": ev}, "transplants.csv: empty file (no header)"},
		{"missing required column", map[string]string{"transplants.csv": tx, "events.csv": "transplant_id,event,date\nT1,relapse,2020-03-01\n"},
			`events.csv: missing required column "event_date"`},
		{"duplicate column", map[string]string{"transplants.csv": txHeader + ",Indication\n", "events.csv": ev},
			`transplants.csv:1:15: duplicate column "indication" (also column 8)`},
		{"invalid UTF-8", map[string]string{"transplants.csv": tx + "T2,P\xff2,,2020-01-01,AUTO,,,MM,,,,,,\n", "events.csv": ev},
			"transplants.csv:3:2: invalid UTF-8"},
		{"invalid UTF-8 in an ignored column", map[string]string{"transplants.csv": tx, "events.csv": evHeader + ",note\n" + "T1,relapse,2020-03-01,,,\xc3\x28\n"},
			"events.csv:2:6: invalid UTF-8"},
		{"invalid UTF-8 in header", map[string]string{"transplants.csv": tx, "events.csv": "transplant_id,event,event_date,gr\xe2de\n"},
			"events.csv:1:4: invalid UTF-8 in header"},
		{"unterminated quote", map[string]string{"transplants.csv": tx, "events.csv": ev + "T1,death,2020-04-01,,\"cause\nT1,last_contact,2020-04-01,,\n"},
			`events.csv:3: invalid CSV: extraneous or missing " in quoted field`},
		{"text after closing quote", map[string]string{"transplants.csv": tx + `"T2"x,P2,,2020-01-01,AUTO,,,MM,,,,,,` + "\n", "events.csv": ev},
			`transplants.csv:3: invalid CSV: extraneous or missing " in quoted field`},
		{"bare quote", map[string]string{"transplants.csv": tx + `T2,P"2,,2020-01-01,AUTO,,,MM,,,,,,` + "\n", "events.csv": ev},
			`transplants.csv:3: invalid CSV: bare " in non-quoted field`},
		{"bad quote in header", map[string]string{"transplants.csv": `transplant_id,"patient_id` + "\n", "events.csv": ev},
			`transplants.csv:1: invalid CSV: extraneous or missing " in quoted field`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, sum, err := ingestFiles(t, c.files, 1)
			var se *StructuralError
			if !errors.As(err, &se) || err.Error() != c.want {
				t.Fatalf("error %v, want *StructuralError %q", err, c.want)
			}
			if sum != nil {
				t.Errorf("summary %+v with a structural fault", sum)
			}
			if got := queryStrings(t, db, "SELECT table_name FROM information_schema.tables ORDER BY table_name"); len(got) != 0 {
				t.Errorf("tables left behind: %v", got)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := writeExtract(t, map[string]string{"transplants.csv": tx})
		if err := os.Mkdir(filepath.Join(dir, "events.csv"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Ingest(context.Background(), ingestDB(t, 1), dir, IngestOptions{})
		if err == nil || err.Error() != "events.csv: is a directory, not a file" {
			t.Fatalf("error %v", err)
		}
	})
}

func TestIngestCSVVariety(t *testing.T) {
	big := strings.Repeat("é", 5<<20) // 10 MB of two-byte characters
	var wide strings.Builder          // 100,000 columns, the known ones last
	var wideRow strings.Builder
	for i := range 100000 - 14 {
		fmt.Fprintf(&wide, "x%d,", i)
		wideRow.WriteString(",")
	}
	wide.WriteString(txHeader)
	cases := []struct {
		name        string
		files       map[string]string
		wantRead    [2]int64
		wantUnknown [2]int
		check       string // a query whose rows, joined by "\n", must be want
		want        string
	}{
		{
			name: "BOM, CRLF, mixed case, any order, unknown columns, quoted newlines, blank trailing lines",
			files: map[string]string{
				"transplants.csv": "\uFEFFIndication,Transplant_Date,TRANSPLANT_ID,patient_id,Transplant_Type,Notes,donor_type\r\n" +
					"AML,2020-01-01,T1,P1,ALLO,\"free, text\r\nspanning \"\"lines\"\"\",MSD\r\n" +
					"MM,2020-02-01,T2,P2,AUTO,,\r\n\r\n\r\n",
				"events.csv": "transplant_id,event_date,event,grade,Detail,Comment\r\n" +
					"T1,2020-02-01,AGVHD,II,\"Skin, stage 2 — “quoted” ünïcode 😀\",x\r\n" +
					"T2,2020-03-01,relapse,,,\n",
			},
			wantRead:    [2]int64{2, 2},
			wantUnknown: [2]int{1, 1},
			check:       "SELECT t.transplant_id || ':' || t.source_line || ':' || e.event || ':' || coalesce(e.grade, '-') || ':' || coalesce(e.detail, '-') || ':' || e.source_line FROM transplants t JOIN events e USING (transplant_id) ORDER BY t.transplant_id",
			want:        "T1:2:agvhd:2:Skin, stage 2 — “quoted” ünïcode 😀:2\nT2:4:relapse:-:-:3",
		},
		{
			name: "10 MB field",
			files: map[string]string{
				"transplants.csv": txHeader + "\n" + okTx + "\n",
				"events.csv":      evHeader + "\n" + okEv + "\"" + big + "\"\nT1,last_contact,2020-04-01,,\n",
			},
			wantRead: [2]int64{1, 2},
			check:    "SELECT source_line || ':' || length(coalesce(detail, '')) || ':' || strlen(coalesce(detail, '')) FROM events ORDER BY source_line",
			want:     fmt.Sprintf("2:%d:%d\n3:0:0", 5<<20, 10<<20),
		},
		{
			name: "100,000 columns",
			files: map[string]string{
				"transplants.csv": wide.String() + "\n" + wideRow.String() + okTx + "\n" + wideRow.String() + "T2,P2,,2020-01-01,AUTO,,,MM,,,,,,\n",
				"events.csv":      evHeader + "\n" + okEv + "\n",
			},
			wantRead:    [2]int64{2, 1},
			wantUnknown: [2]int{100000 - 14, 0},
			check:       "SELECT transplant_id || ':' || transplant_type || ':' || source_line FROM transplants ORDER BY transplant_id",
			want:        "T1:ALLO:2\nT2:AUTO:3",
		},
		{
			name: "no final line end",
			files: map[string]string{
				"transplants.csv": txHeader + "\n" + okTx,
				"events.csv":      evHeader + "\r\n" + okEv + "\r",
			},
			wantRead: [2]int64{1, 1},
			check:    "SELECT transplant_id || ':' || event || ':' || coalesce(detail, '-') FROM events",
			want:     "T1:relapse:-",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, sum, err := ingestFiles(t, c.files, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range sum.Files {
				if f.RowsRead != c.wantRead[i] || f.RowsAccepted != c.wantRead[i] || len(f.UnknownColumns) != c.wantUnknown[i] {
					t.Errorf("%s: read %d, accepted %d, %d unknown columns; want %d read and accepted, %d unknown",
						f.File, f.RowsRead, f.RowsAccepted, len(f.UnknownColumns), c.wantRead[i], c.wantUnknown[i])
				}
			}
			if got := strings.Join(queryStrings(t, db, c.check), "\n"); got != c.want {
				if len(got) > 500 {
					got = got[:500] + "..."
				}
				t.Errorf("%s:\n%s\nwant:\n%s", c.check, got, c.want)
			}
		})
	}
}

// TestIngestHostile runs the cases of testdata/hostile: each folder holds
// an extract (files may be missing or broken on purpose) and want, the
// outcome written by hand: "error: <message>", or per file the counts and
// the source lines of the accepted rows, then the rejects.
func TestIngestHostile(t *testing.T) {
	dirs, err := filepath.Glob("testdata/hostile/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no hostile cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, "want"))
			if err != nil {
				t.Fatal(err)
			}
			db := ingestDB(t, 2)
			sum, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1})
			var got bytes.Buffer
			if err != nil {
				fmt.Fprintf(&got, "error: %v\n", err)
			} else {
				for _, f := range sum.Files {
					table := strings.TrimSuffix(f.File, ".csv")
					lines := queryStrings(t, db, "SELECT source_line FROM "+table+" ORDER BY source_line")
					fmt.Fprintf(&got, "%s: read %d, accepted %d, rejected %d, lines [%s]\n",
						f.File, f.RowsRead, f.RowsAccepted, f.RowsRejected, strings.Join(lines, " "))
				}
				for _, r := range queryStrings(t, db, `SELECT file, line, column_name, value, reason FROM rejects ORDER BY file, line`) {
					fmt.Fprintf(&got, "reject: %s\n", r)
				}
			}
			if got.String() != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

func TestIngestDeterministic(t *testing.T) {
	// An extract with rejects, flags and unsorted rows, ingested twice
	// with different thread counts and read sizes.
	tx := []string{"T3,P3,,2020-03-01,ALLO,,,AML,,,,,,", okTx, "T2,P2,,2020-02-30,AUTO,,,MM,,,,,,", "T0,P0,,2019-01-01,AUTO,,,MM,,,61.25,F,80,3"}
	ev := []string{"T3,death,2020-06-01,,", "T3,death,2020-06-02,,", okEv, "T2,relapse,2020-04-01,,", "T0,agvhd,2019-02-01,,", "T1,cgvhd,2020-05-01,severe,x"}
	for i := range 3000 {
		ev = append(ev, fmt.Sprintf("T%d,last_contact,2021-01-%02d,,", i%4, 1+i%28))
	}
	files := extract(txHeader, tx, evHeader, ev)
	dir := writeExtract(t, files)
	var outs [2]string
	for i, threads := range []int{1, 2} {
		db := ingestDB(t, threads)
		if _, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1}); err != nil {
			t.Fatal(err)
		}
		outs[i] = t.TempDir()
		if err := WriteWarehouse(context.Background(), db, outs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range WarehouseTables {
		a, err := os.ReadFile(filepath.Join(outs[0], table+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs[1], table+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s.parquet differs between two ingests", table)
		}
	}
	// The files have the schema's types and are sorted on their keys.
	db := ingestDB(t, 2)
	for table, want := range map[string][]string{
		"transplants":    {"transplant_date DATE", "age_years DOUBLE", "karnofsky INTEGER", "hct_ci INTEGER", "source_line BIGINT"},
		"events":         {"event_date DATE", "source_line BIGINT"},
		"rejects":        {"line BIGINT"},
		"quality":        {"line BIGINT"},
		"ingest_summary": {"rows_read BIGINT"},
	} {
		got := queryStrings(t, db, `SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))
			WHERE column_name IN ('transplant_date', 'event_date', 'karnofsky', 'hct_ci', 'source_line', 'line', 'age_years', 'rows_read')`,
			filepath.Join(outs[0], table+".parquet"))
		if !slices.Equal(got, want) {
			t.Errorf("%s.parquet types %q, want %q", table, got, want)
		}
	}
	for table, key := range map[string]string{
		"transplants": "transplant_id", "events": "source_line", "rejects": "file, line",
		"quality": "flag, transplant_id, file, line, note", "ingest_summary": "file",
	} {
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT row_number() OVER () AS pos, row_number() OVER (ORDER BY %s) AS sorted
			FROM read_parquet($1)) WHERE pos <> sorted`, key)
		if got := queryStrings(t, db, q, filepath.Join(outs[0], table+".parquet")); got[0] != "0" {
			t.Errorf("%s.parquet: %s rows out of %s order", table, got[0], key)
		}
	}
}

func TestIngestCancelled(t *testing.T) {
	dir := t.TempDir()
	writeBenchExtract(t, dir, 20000)
	for _, after := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			db := ingestDB(t, 2)
			ctx, cancel := context.WithCancel(context.Background())
			if after == 0 {
				cancel()
			} else {
				time.AfterFunc(after, cancel)
			}
			_, err := Ingest(ctx, db, dir, IngestOptions{})
			cancel()
			if err == nil {
				t.Skip("ingest finished before the cancel")
			}
			if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "nterrupt") {
				t.Fatalf("error %v, want cancellation", err)
			}
			if got := queryStrings(t, db, "SELECT table_name FROM information_schema.tables ORDER BY table_name"); len(got) != 0 {
				t.Errorf("tables left behind: %v", got)
			}
		})
	}
}

func TestWriteWarehouseBadTable(t *testing.T) {
	db := ingestDB(t, 1)
	for _, name := range []string{"no_such_table", `events"; DROP TABLE x; --`, ""} {
		if err := WriteWarehouse(context.Background(), db, t.TempDir(), name); err == nil {
			t.Errorf("WriteWarehouse(%q) succeeded", name)
		}
	}
}
