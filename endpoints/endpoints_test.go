package endpoints

import (
	"strings"
	"testing"
)

// TestBuiltins: the twelve SPEC §3 endpoints, each a valid definition, in
// the §5 form the SPEC spells out.
func TestBuiltins(t *testing.T) {
	want := map[string]string{
		"os":         "kaplan_meier death |  | event all",
		"lfs":        "kaplan_meier relapse,death |  | event all",
		"relapse":    "cumulative_incidence relapse | death | event all",
		"nrm":        "cumulative_incidence death | relapse | competing all",
		"agvhd24":    "cumulative_incidence agvhd:2,3,4 | death | event ALLO",
		"agvhd34":    "cumulative_incidence agvhd:3,4 | death | event ALLO",
		"cgvhd":      "cumulative_incidence cgvhd | death | event ALLO",
		"grfs":       "kaplan_meier agvhd:3,4,cgvhd:MODERATE,SEVERE,relapse,death |  | event ALLO",
		"neutrophil": "cumulative_incidence neutrophil_engraftment | death | event all",
		"platelet":   "cumulative_incidence platelet_engraftment | death | event all",
		"infection":  "cumulative_incidence infection | death | event all",
		"toxicity":   "cumulative_incidence organ_toxicity | death | event all",
	}
	b := Builtins()
	if len(b) != len(want) {
		t.Fatalf("%d built-ins, want %d", len(b), len(want))
	}
	str := func(ts []Term) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.String())
		}
		return join(s)
	}
	for _, e := range b {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		got := string(e.Estimator) + " " + str(e.Event) + " | " + str(e.Competing) + " | " + e.SameDay + " " + e.Population
		if got != want[e.Name] {
			t.Errorf("%s = %q, want %q", e.Name, got, want[e.Name])
		}
		if e.Label == "" || e.Definition == "" {
			t.Errorf("%s: no label or definition", e.Name)
		}
	}
}

func join(s []string) string { return strings.Join(s, ",") }

func TestParseTerm(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"death", "death", ""},
		{"AGVHD:iv,II,3", "agvhd:2,3,4", ""},
		{"cgvhd:severe,moderate", "cgvhd:MODERATE,SEVERE", ""},
		{"agvhd:2,2", "agvhd:2", ""},
		{"graft_failure", "graft_failure", ""},
		{"last_contact", "", `unknown event code "last_contact"`},
		{"dead", "", `unknown event code "dead"`},
		{"agvhd:5", "", `unknown agvhd grade "5"`},
		{"cgvhd:LIMITED", "", `unknown cgvhd grade "LIMITED"`},
		{"relapse:1", "", `event code "relapse" has no grades`},
	} {
		got, err := ParseTerm(tc.in)
		switch {
		case tc.err != "" && (err == nil || !contains(err.Error(), tc.err)):
			t.Errorf("ParseTerm(%q) error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseTerm(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestRegister(t *testing.T) {
	undo := Register(Endpoint{Name: "throwaway"})
	if _, ok := Default().Lookup("throwaway"); !ok {
		t.Error("registered endpoint not in Default()")
	}
	undo()
	if _, ok := Default().Lookup("throwaway"); ok {
		t.Error("undo left the endpoint in")
	}
}
