package report

import (
	"os"
	"strings"
	"testing"
)

// The disclosure test (SPEC §4: no count from 1 to min_cell−1 anywhere,
// and no hidden count recoverable exactly from the report's other
// numbers). For each simulated registry it renders the report with every
// printed count marked by its cell, reads back what was published — the
// number, "<10", "≥10", or nothing — collects every sum relation between
// the counts independently of the report's own list, and lets the audit
// (linear algebra over the sums plus interval reasoning on the labels'
// bounds) try to pin every hidden nonzero count. It must find nothing; and
// with any one table bypassing the suppressor it must find something.

type disclosureCase struct {
	name string
	d    func() *Data
}

func disclosureCases() []disclosureCase {
	withMin := func(d *Data, m int) *Data { d.Config.MinCell = m; return d }
	return []disclosureCase{
		{"small", smallData},
		{"small min 20", func() *Data { return withMin(smallData(), 20) }},
		{"small with changes", changesData},
		{"small with centres", func() *Data { d := smallData(); d.Centres = centresData(); return d }},
		{"small with two centres", twoCentresData},
		{"sim 300", func() *Data { return simData(300, 1) }},
		{"sim 1500", func() *Data { return simData(1500, 7) }},
		{"sim 800 min 30", func() *Data { return withMin(simData(800, 3), 30) }},
		{"wide 4000", func() *Data { return simWide(4000, 5) }},
	}
}

// twoCentresData is smallData with a benchmark of two centres whose n
// add up to the completeness table's benchmark cohort (every ALLO
// transplant dated a year before the cutoff has a centre): C2's 2 would
// follow from 20 − 18 unless the suppressor knows that sum.
func twoCentresData() *Data {
	d := smallData()
	row := func(id string, n int) CentreRow {
		return CentreRow{Centre: id, N: n, NEvents: n / 3, Observed: 0.7, Expected: 0.7, Lower95: 0.5, Upper95: 0.85,
			Lower998: 0.4, Upper998: 0.9, NEff: float64(n), Completeness: 0.95, Flag: "not_assessed", Reason: "fewer than 20 transplants"}
	}
	d.Centres = &Centres{Day: 365, MinCentre: 20, Panels: []CentrePanel{
		{TransplantType: "ALLO", Endpoint: "os", Registry: 0.7, Rows: []CentreRow{row("C1", 18), row("C2", 2)}},
		{TransplantType: "AUTO", Endpoint: "os", Registry: 0.7, Rows: []CentreRow{row("C1", 10)}},
	}}
	return d
}

func TestDisclosure(t *testing.T) {
	for _, tc := range disclosureCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d()
			found := findDisclosures(t, d)
			for i, f := range found {
				if i == 20 {
					t.Errorf("... %d more", len(found)-20)
					break
				}
				t.Error(f)
			}
			// The case must exercise the rule: some count is hidden.
			shown, _, _, _, err := published(d)
			if err != nil {
				t.Fatal(err)
			}
			hidden := 0
			for _, v := range shown {
				if strings.HasPrefix(v, "<") || strings.HasPrefix(v, "≥") {
					hidden++
				}
			}
			if hidden == 0 {
				t.Error("no count hidden: the case tests nothing")
			}
		})
	}
}

// TestDisclosureBypass: the same check fails when any one table prints
// its counts without the suppressor.
func TestDisclosureBypass(t *testing.T) {
	tables := []string{"lead", "flow", "outcomes", "followup", "cohort", "verdict", "files", "rejects", "flags",
		"completeness", "figures", "atrisk", "landmarks", "quality", "changes", anFigures, anAtRisk, anLandmarks,
		ctrListed, ctrCompleteness, ctrModel}
	defer func() { bypassTable = "" }()
	for _, table := range tables {
		t.Run(table, func(t *testing.T) {
			for _, tc := range disclosureCases() {
				bypassTable = table
				found := findDisclosures(t, tc.d())
				bypassTable = ""
				if len(found) > 0 {
					return
				}
			}
			t.Errorf("table %s printed without the rule, yet no registry shows a disclosure", table)
		})
	}
}

// TestDisclosureComplementaryBypass: the check also fails when one table
// applies the primary rule ("<10") but not the complementary step: the
// hidden small counts then follow from the table's other numbers.
func TestDisclosureComplementaryBypass(t *testing.T) {
	tables := []string{"lead", "flow", "outcomes", "followup", "cohort", "verdict", "files", "rejects", "flags",
		"completeness", "figures", "atrisk", "landmarks", "quality", "changes", anFigures, anAtRisk, anLandmarks}
	defer func() { bypassComplementary = "" }()
	for _, table := range tables {
		t.Run(table, func(t *testing.T) {
			for _, tc := range disclosureCases() {
				bypassComplementary = table
				found := findDisclosures(t, tc.d())
				bypassComplementary = ""
				if len(found) > 0 {
					t.Logf("%s: %s", tc.name, found[0])
					return
				}
			}
			t.Errorf("table %s without complementary suppression, yet no registry shows a disclosure", table)
		})
	}
}

func findDisclosures(t testing.TB, d *Data) []string {
	t.Helper()
	found, err := Audit(d)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestWriteRefusesDisclosure: Write audits the report and writes nothing
// when a hidden count could be derived (here: one table bypasses the rule).
func TestWriteRefusesDisclosure(t *testing.T) {
	dir := t.TempDir()
	bypassTable = "cohort"
	err := Write(dir, smallData())
	bypassTable = ""
	if err == nil || !strings.Contains(err.Error(), "small-count audit") {
		t.Fatalf("Write with a leaking table: err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Write left %d files behind", len(entries))
	}
	if err := Write(dir, smallData()); err != nil {
		t.Fatalf("Write of a sound report: %v", err)
	}
}
