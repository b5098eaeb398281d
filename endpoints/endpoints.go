// Package endpoints is the one place marrow's endpoints are defined: the
// twelve built-ins of SPEC §3 as definitions of the SPEC §5 form, and the
// declared ones of a config file. The cohort SQL, the risk sets, the choice
// of estimator, the report's sections and the data dictionary all read
// these definitions, so an endpoint added here reaches every one of them.
//
// A definition says which events count (event codes, optionally restricted
// to grades), which compete, which wins on the same day and which
// transplants are in the population. Times are whole days since the
// transplant date; a subject's status is 0 censored, 1 event, 2 competing
// event (SPEC §3).
package endpoints

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Estimator is how an endpoint is estimated, spelt as in the config.
type Estimator string

const (
	// KaplanMeier: survival free of the event (no competing event).
	KaplanMeier Estimator = "kaplan_meier"
	// CumulativeIncidence: Aalen–Johansen incidence of the event with the
	// competing events as competing risks.
	CumulativeIncidence Estimator = "cumulative_incidence"
)

// Same-day rules: which wins when the event and a competing event fall on
// the same day.
const (
	SameDayEvent     = "event"
	SameDayCompeting = "competing"
)

// Populations: the transplant types an endpoint is defined for.
const (
	PopulationAll  = "all"
	PopulationAllo = "ALLO"
	PopulationAuto = "AUTO"
)

// Term is one event code, optionally restricted to grades (stored form:
// agvhd "1".."4", cgvhd "MILD", "MODERATE", "SEVERE"). No grades means any
// row of the code, with or without a grade.
type Term struct {
	Code   string
	Grades []string
}

// String is the config spelling: "code" or "code:g1,g2".
func (t Term) String() string {
	if len(t.Grades) == 0 {
		return t.Code
	}
	return t.Code + ":" + strings.Join(t.Grades, ",")
}

// Column is the name of the term's day column in the cohort SQL: the code,
// then its grades, lower-case ("agvhd_3_4", "cgvhd_moderate_severe").
func (t Term) Column() string {
	parts := append([]string{t.Code}, t.Grades...)
	return strings.ToLower(strings.Join(parts, "_"))
}

// Endpoint is one endpoint's definition.
type Endpoint struct {
	// Name is the endpoint's name in every output: [a-z][a-z0-9_]*.
	Name      string
	Estimator Estimator
	// Event: the earliest of these is the event of interest.
	Event []Term
	// Competing: the earliest of these competes (cumulative incidence
	// only).
	Competing []Term
	// SameDay is SameDayEvent or SameDayCompeting.
	SameDay string
	// Population is PopulationAll, PopulationAllo or PopulationAuto.
	Population string

	// Label is the report's heading for the endpoint.
	Label string
	// Definition is the methods text: event, competing event, population.
	Definition string
	// Horizon is the last day the report's figures show; 0 = the largest
	// landmark.
	Horizon int
	// Declared is true for an endpoint of the config file.
	Declared bool
}

// KM reports whether the endpoint is estimated by Kaplan–Meier.
func (e Endpoint) KM() bool { return e.Estimator == KaplanMeier }

// Terms returns the event terms, then the competing ones.
func (e Endpoint) Terms() []Term { return append(slices.Clone(e.Event), e.Competing...) }

func term(s string) Term {
	t, err := ParseTerm(s)
	if err != nil {
		panic(err)
	}
	return t
}

func terms(ss ...string) []Term {
	out := make([]Term, len(ss))
	for i, s := range ss {
		out[i] = term(s)
	}
	return out
}

// Builtins returns the built-in endpoints: the twelve of SPEC §3 in SPEC
// order, with the report's labels, definitions and figure horizons
// (engraftment within 100 days, acute GVHD within 180 days, the largest
// landmark otherwise).
func Builtins() []Endpoint { return slices.Clone(builtins) }

// builtins is the registry. Adding an endpoint here is all it takes to have
// it in the cohort, the results, the report and the dictionary.
var builtins = specEndpoints()

// Register appends e to the built-ins until undo is called. It exists for
// tests that show a new registry entry reaches every output; the product
// never calls it.
func Register(e Endpoint) (undo func()) {
	saved := builtins
	builtins = append(slices.Clone(builtins), e)
	return func() { builtins = saved }
}

func specEndpoints() []Endpoint {
	const death = " Competing event: death before it. "
	ci := func(name, label string, event []Term, def string, pop string, horizon int) Endpoint {
		return Endpoint{Name: name, Estimator: CumulativeIncidence, Event: event, Competing: terms("death"),
			SameDay: SameDayEvent, Population: pop, Label: label, Definition: def, Horizon: horizon}
	}
	km := func(name, label string, event []Term, def string, pop string) Endpoint {
		return Endpoint{Name: name, Estimator: KaplanMeier, Event: event, SameDay: SameDayEvent,
			Population: pop, Label: label, Definition: def}
	}
	nrm := ci("nrm", "Non-relapse mortality", terms("death"),
		"Event: death without prior or same-day relapse. Competing event: relapse (a relapse on the day of death is a relapse). Population: all transplants.", PopulationAll, 0)
	nrm.Competing, nrm.SameDay = terms("relapse"), SameDayCompeting
	return []Endpoint{
		km("os", "Overall survival", terms("death"),
			"Event: death from any cause. Population: all transplants.", PopulationAll),
		km("lfs", "Leukaemia-free survival", terms("relapse", "death"),
			"Event: relapse or death, whichever comes first. Population: all transplants.", PopulationAll),
		ci("relapse", "Relapse incidence", terms("relapse"),
			"Event: relapse (also on the day of death). Competing event: death without prior or same-day relapse. Population: all transplants.", PopulationAll, 0),
		nrm,
		ci("agvhd24", "Acute GVHD grade II–IV", terms("agvhd:2,3,4"),
			"Event: first acute GVHD of grade 2 or more (a row without grade does not count)."+death+"Population: allogeneic transplants.", PopulationAllo, 180),
		ci("agvhd34", "Acute GVHD grade III–IV", terms("agvhd:3,4"),
			"Event: first acute GVHD of grade 3 or more (a row without grade does not count)."+death+"Population: allogeneic transplants.", PopulationAllo, 180),
		ci("cgvhd", "Chronic GVHD", terms("cgvhd"),
			"Event: first chronic GVHD of any grade."+death+"Population: allogeneic transplants.", PopulationAllo, 0),
		km("grfs", "GVHD-free, relapse-free survival", terms("agvhd:3,4", "cgvhd:MODERATE,SEVERE", "relapse", "death"),
			"Event: first of acute GVHD grade 3 or more, moderate or severe chronic GVHD, relapse, death. Population: allogeneic transplants.", PopulationAllo),
		ci("neutrophil", "Neutrophil engraftment", terms("neutrophil_engraftment"),
			"Event: neutrophil engraftment."+death+"Population: all transplants.", PopulationAll, 100),
		ci("platelet", "Platelet engraftment", terms("platelet_engraftment"),
			"Event: platelet engraftment."+death+"Population: all transplants.", PopulationAll, 100),
		ci("infection", "Infection", terms("infection"),
			"Event: first infection."+death+"Population: all transplants.", PopulationAll, 0),
		ci("toxicity", "Organ toxicity", terms("organ_toxicity"),
			"Event: first organ toxicity."+death+"Population: all transplants.", PopulationAll, 0),
	}
}

// Set is the endpoints of a run: the built-ins, then the declared ones in
// config order.
type Set []Endpoint

// Default is the set of the built-ins alone.
func Default() Set { return Builtins() }

// Lookup returns the endpoint named name.
func (s Set) Lookup(name string) (Endpoint, bool) {
	for _, e := range s {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Names returns the endpoint names in set order.
func (s Set) Names() []string {
	out := make([]string, len(s))
	for i, e := range s {
		out[i] = e.Name
	}
	return out
}

// Sorted returns the endpoints sorted by name: the column order of the
// cohort table and the row order of every results/ table.
func (s Set) Sorted() Set {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// KM reports whether the endpoint named name is a Kaplan–Meier endpoint.
func (s Set) KM(name string) bool {
	e, _ := s.Lookup(name)
	return e.KM()
}

// EventCodes are the §1 event codes an endpoint may count. last_contact is
// follow-up, never an event.
var EventCodes = []string{"death", "relapse", "agvhd", "cgvhd", "neutrophil_engraftment", "platelet_engraftment",
	"graft_failure", "infection", "organ_toxicity", "second_transplant"}

// agvhdGrades maps accepted acute GVHD grades, arabic or roman, to the
// stored form; cgvhdGrades are the chronic GVHD grades (stored upper-case).
var (
	agvhdGrades = map[string]string{"1": "1", "2": "2", "3": "3", "4": "4", "I": "1", "II": "2", "III": "3", "IV": "4"}
	cgvhdGrades = []string{"MILD", "MODERATE", "SEVERE"}
)

// ParseTerm reads "code" or "code:g1,g2" (codes case-insensitive; agvhd
// grades 1-4 or I-IV, cgvhd grades MILD, MODERATE, SEVERE). Grades are
// stored in their canonical form and order, without repeats.
func ParseTerm(s string) (Term, error) {
	code, grades, hasGrades := strings.Cut(strings.TrimSpace(s), ":")
	code = strings.ToLower(strings.TrimSpace(code))
	if !slices.Contains(EventCodes, code) {
		return Term{}, fmt.Errorf("unknown event code %q (want one of %s)", code, strings.Join(EventCodes, ", "))
	}
	t := Term{Code: code}
	if !hasGrades {
		return t, nil
	}
	for _, g := range strings.Split(grades, ",") {
		g = strings.ToUpper(strings.TrimSpace(g))
		var stored string
		switch code {
		case "agvhd":
			stored = agvhdGrades[g]
		case "cgvhd":
			if slices.Contains(cgvhdGrades, g) {
				stored = g
			}
		default:
			return Term{}, fmt.Errorf("event code %q has no grades (%q)", code, s)
		}
		if stored == "" {
			return Term{}, fmt.Errorf("unknown %s grade %q", code, g)
		}
		if !slices.Contains(t.Grades, stored) {
			t.Grades = append(t.Grades, stored)
		}
	}
	order := func(g string) int {
		if i := slices.Index(cgvhdGrades, g); i >= 0 {
			return i
		}
		return int(g[0])
	}
	slices.SortFunc(t.Grades, func(a, b string) int { return order(a) - order(b) })
	return t, nil
}

// NameRE is the form of endpoint and analysis names.
var NameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks a definition: its name, estimator, terms, same-day rule
// and population. Errors name the field.
func (e Endpoint) Validate() error {
	switch {
	case !NameRE.MatchString(e.Name):
		return fmt.Errorf("name %q: want [a-z][a-z0-9_]*", e.Name)
	case e.Estimator != KaplanMeier && e.Estimator != CumulativeIncidence:
		return fmt.Errorf("estimator %q: want kaplan_meier or cumulative_incidence", e.Estimator)
	case len(e.Event) == 0:
		return fmt.Errorf("event: at least one event code is needed")
	case e.KM() && len(e.Competing) > 0:
		return fmt.Errorf("competing: a kaplan_meier endpoint has no competing event")
	case !e.KM() && len(e.Competing) == 0:
		return fmt.Errorf("competing: a cumulative_incidence endpoint needs a competing event")
	case e.SameDay != SameDayEvent && e.SameDay != SameDayCompeting:
		return fmt.Errorf("same_day %q: want event or competing", e.SameDay)
	case e.Population != PopulationAll && e.Population != PopulationAllo && e.Population != PopulationAuto:
		return fmt.Errorf("population %q: want all, ALLO or AUTO", e.Population)
	}
	for _, c := range e.Competing {
		for _, ev := range e.Event {
			if c.Column() == ev.Column() {
				return fmt.Errorf("competing %q is also an event", c)
			}
		}
	}
	return nil
}

// Describe writes a definition text for a declared endpoint, in the words
// of the built-ins' definitions.
func (e Endpoint) Describe() string {
	list := func(ts []Term) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.String()
		}
		return strings.Join(s, ", ")
	}
	var b strings.Builder
	if len(e.Event) == 1 {
		fmt.Fprintf(&b, "Event: first %s.", list(e.Event))
	} else {
		fmt.Fprintf(&b, "Event: first of %s.", list(e.Event))
	}
	if !e.KM() {
		if len(e.Competing) == 1 {
			fmt.Fprintf(&b, " Competing event: %s before it", list(e.Competing))
		} else {
			fmt.Fprintf(&b, " Competing event: first of %s before it", list(e.Competing))
		}
		if e.SameDay == SameDayCompeting {
			b.WriteString(" or on the same day")
		}
		b.WriteString(".")
	}
	switch e.Population {
	case PopulationAllo:
		b.WriteString(" Population: allogeneic transplants.")
	case PopulationAuto:
		b.WriteString(" Population: autologous transplants.")
	default:
		b.WriteString(" Population: all transplants.")
	}
	return b.String()
}
