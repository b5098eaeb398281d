package dictionary

import (
	"strings"
	"testing"

	"marrow/endpoints"
)

func TestRender(t *testing.T) {
	eps := endpoints.Default()
	text, err := Render("t", "intro", []Table{
		{Name: "cohort", Files: "cohort.parquet", Columns: []Column{{"transplant_id", "VARCHAR"}, {"os_time", "BIGINT"}}},
		{Name: "landmarks", Files: "analyses/a/landmarks.csv", Columns: []Column{{"endpoint", "VARCHAR"}, {"center_id", "VARCHAR"}}, Dims: []string{"center_id"}},
	}, eps)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| os_time | BIGINT | days | time to os:",
		"| center_id | VARCHAR |  | group of the dimension center_id",
		"| nrm | Non-relapse mortality | cumulative_incidence | death | relapse | competing | all |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("dictionary lacks %q", want)
		}
	}
	// A column nobody documented is an error, not a silent gap.
	if _, err := Render("t", "", []Table{{Name: "cohort", Columns: []Column{{"new_column", "BIGINT"}}}}, eps); err == nil ||
		!strings.Contains(err.Error(), "new_column") {
		t.Errorf("undocumented column: err %v", err)
	}
	if _, err := Render("t", "", []Table{{Name: "new_table"}}, eps); err == nil {
		t.Error("undocumented table: no error")
	}
}
