package transforms

import (
	"context"
	"path/filepath"
	"testing"

	"marrow/internal/demo"
	"marrow/synth"
)

// TestIngestCleanExtracts ingests the hand-made adversarial extracts and
// the bundled demo: all their rows are valid.
func TestIngestCleanExtracts(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/adversarial/*/extract")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no adversarial extracts: %v", err)
	}
	demoDir := t.TempDir()
	if err := demo.WriteTo(demoDir); err != nil {
		t.Fatal(err)
	}
	for _, dir := range append(dirs, demoDir) {
		name := filepath.Base(filepath.Dir(dir))
		if dir == demoDir {
			name = "demo"
		}
		t.Run(name, func(t *testing.T) {
			sum, err := Ingest(context.Background(), ingestDB(t, 2), dir, IngestOptions{MaxRejectRate: 0})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range sum.Files {
				if f.RowsRead == 0 || f.RowsAccepted != f.RowsRead {
					t.Errorf("%s: %+v", f.File, f)
				}
			}
		})
	}
}

// TestIngestSynthBadRows ingests a synthetic extract with bad rows of
// every SPEC §1 kind injected by synth, which counts them independently:
// exactly those must be rejected.
func TestIngestSynthBadRows(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		dir := t.TempDir()
		st, err := synth.Write(context.Background(), dir, synth.Options{Transplants: 3000, Seed: seed, BadRows: 0.02})
		if err != nil {
			t.Fatal(err)
		}
		if st.BadTransplantRows == 0 || st.BadEventRows == 0 {
			t.Fatalf("synth injected no bad rows: %+v", st)
		}
		db := ingestDB(t, 2)
		sum, err := Ingest(context.Background(), db, dir, IngestOptions{MaxRejectRate: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := [2][2]int64{{st.Transplants, st.BadTransplantRows}, {st.Events, st.BadEventRows}}
		for i, f := range sum.Files {
			if f.RowsAccepted != want[i][0] || f.RowsRejected != want[i][1] {
				t.Errorf("seed %d, %s: accepted %d, rejected %d; synth wrote %d good and %d bad rows",
					seed, f.File, f.RowsAccepted, f.RowsRejected, want[i][0], want[i][1])
			}
		}
		if t.Failed() {
			t.Logf("rejects by reason: %q", queryStrings(t, db, `SELECT file, reason, count(*) FROM rejects GROUP BY ALL ORDER BY ALL`))
		}
	}
}
