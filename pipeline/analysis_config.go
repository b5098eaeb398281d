package pipeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"marrow/endpoints"
	"marrow/transforms"
)

// EndpointConfig is one [[endpoint]] of the config file (SPEC §5).
type EndpointConfig struct {
	Name       string   `toml:"name" json:"name"`
	Label      string   `toml:"label" json:"label,omitempty"`
	Estimator  string   `toml:"estimator" json:"estimator"`
	Event      []string `toml:"event" json:"event"`
	Competing  []string `toml:"competing" json:"competing,omitempty"`
	SameDay    string   `toml:"same_day" json:"same_day,omitempty"`
	Population string   `toml:"population" json:"population,omitempty"`
}

// AnalysisConfig is one [[analysis]] of the config file (SPEC §5).
type AnalysisConfig struct {
	Name  string   `toml:"name" json:"name"`
	Title string   `toml:"title" json:"title,omitempty"`
	By    []string `toml:"by" json:"by"`
	// Where maps a column to a list of codes or, for a number or
	// transplant_year, to [min, max].
	Where     map[string]any        `toml:"where" json:"where,omitempty"`
	Bands     map[string]BandConfig `toml:"bands" json:"bands,omitempty"`
	Endpoints []string              `toml:"endpoints" json:"endpoints,omitempty"`
	Landmarks []int                 `toml:"landmarks" json:"landmarks,omitempty"`
}

// BandConfig cuts a number into groups at ascending edges.
type BandConfig struct {
	From  string    `toml:"from" json:"from"`
	Edges []float64 `toml:"edges" json:"edges"`
}

// reservedAnalyses are the built-in analyses' names (SPEC §5).
var reservedAnalyses = []string{"default", "by_year"}

// codeColumns are the transplant columns a dimension or a code filter may
// name; the closed-list ones are checked against the SPEC §1 codes.
var codeColumns = []string{"center_id", "transplant_type", "donor_type", "graft_source", "indication",
	"disease_status", "conditioning", "sex"}

// numberColumns may be filtered by [min, max] and cut into bands, as may
// transplant_year.
var numberColumns = []string{"age_years", "karnofsky", "hct_ci", "transplant_year"}

// Missing and None are the group labels of a transplant without a value,
// and of an AUTO transplant's donor_type (SPEC §5).
const (
	groupMissing = "MISSING"
	groupNone    = "NONE"
)

// EndpointSet returns the built-in endpoints, then the declared ones, in
// config order. Call it on a validated config.
func (c *Config) EndpointSet() endpoints.Set {
	set := endpoints.Default()
	for _, ec := range c.Endpoints {
		e, err := ec.definition()
		if err != nil {
			panic("EndpointSet on an unvalidated config: " + err.Error())
		}
		set = append(set, e)
	}
	return set
}

// definition turns an [[endpoint]] into its definition.
func (ec EndpointConfig) definition() (endpoints.Endpoint, error) {
	e := endpoints.Endpoint{Name: ec.Name, Estimator: endpoints.Estimator(ec.Estimator), SameDay: ec.SameDay,
		Population: ec.Population, Label: ec.Label, Declared: true}
	if e.SameDay == "" {
		e.SameDay = endpoints.SameDayEvent
	}
	if e.Population == "" {
		e.Population = endpoints.PopulationAll
	}
	for _, list := range []struct {
		key   string
		codes []string
		into  *[]endpoints.Term
	}{{"event", ec.Event, &e.Event}, {"competing", ec.Competing, &e.Competing}} {
		for _, s := range list.codes {
			t, err := endpoints.ParseTerm(s)
			if err != nil {
				return e, fmt.Errorf("%s: %w", list.key, err)
			}
			*list.into = append(*list.into, t)
		}
	}
	if err := e.Validate(); err != nil {
		return e, err
	}
	if e.Label == "" {
		e.Label = e.Name
	}
	e.Definition = e.Describe()
	return e, nil
}

// validateAnalyses checks [[endpoint]] and [[analysis]] before any work:
// every error names the key and the reason.
func (c *Config) validateAnalyses() error {
	builtins := endpoints.Default()
	names := map[string]bool{}
	for i, ec := range c.Endpoints {
		key := fmt.Sprintf("endpoint[%d]", i+1)
		if ec.Name != "" {
			key = fmt.Sprintf("endpoint %q", ec.Name)
		}
		if _, ok := builtins.Lookup(ec.Name); ok {
			return fmt.Errorf("%s: name: %q is a built-in endpoint", key, ec.Name)
		}
		if names[ec.Name] {
			return fmt.Errorf("%s: name: declared twice", key)
		}
		names[ec.Name] = true
		if _, err := ec.definition(); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	eps := c.EndpointSet()
	seen := map[string]bool{}
	for i, ac := range c.Analyses {
		key := fmt.Sprintf("analysis[%d]", i+1)
		if ac.Name != "" {
			key = fmt.Sprintf("analysis %q", ac.Name)
		}
		switch {
		case !endpoints.NameRE.MatchString(ac.Name):
			return fmt.Errorf("%s: name %q: want [a-z][a-z0-9_]*", key, ac.Name)
		case slices.Contains(reservedAnalyses, ac.Name):
			return fmt.Errorf("%s: name: %q is reserved for a built-in analysis", key, ac.Name)
		case seen[ac.Name]:
			return fmt.Errorf("%s: name: declared twice", key)
		}
		seen[ac.Name] = true
		if _, err := ac.spec(eps); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		for _, d := range ac.Landmarks {
			if d < 0 {
				return fmt.Errorf("%s: landmarks: negative day %d", key, d)
			}
		}
	}
	return nil
}

// analysis is one analysis to estimate: the default, a built-in one or a
// declared one.
type analysis struct {
	name, title string
	dims        []string
	eps         endpoints.Set
	landmarks   []int
	spec        transforms.RiskSpec
	// order, parallel to dims, lists a band dimension's labels from the
	// lowest edge up, MISSING last, for the report; nil for other
	// dimensions.
	order [][]string
}

// spec builds an [[analysis]]'s risk-set spec over the endpoint set eps,
// checking every name and value on the way.
func (ac AnalysisConfig) spec(eps endpoints.Set) (transforms.RiskSpec, error) {
	spec := transforms.RiskSpec{TypeDim: -1, AlloOnlyDim: -1}
	if len(ac.By) < 1 || len(ac.By) > transforms.MaxDimensions {
		return spec, fmt.Errorf("by: want 1 to %d dimensions, got %d", transforms.MaxDimensions, len(ac.By))
	}
	bandNames := make([]string, 0, len(ac.Bands))
	for name := range ac.Bands {
		bandNames = append(bandNames, name)
	}
	sort.Strings(bandNames)
	for _, name := range bandNames {
		b := ac.Bands[name]
		switch {
		case !endpoints.NameRE.MatchString(name):
			return spec, fmt.Errorf("bands.%s: name: want [a-z][a-z0-9_]*", name)
		case slices.Contains(codeColumns, name) || slices.Contains(numberColumns, name):
			return spec, fmt.Errorf("bands.%s: name: %q is a transplant column", name, name)
		case !slices.Contains(numberColumns, b.From):
			return spec, fmt.Errorf("bands.%s.from: %q: want one of %s", name, b.From, strings.Join(numberColumns, ", "))
		case len(b.Edges) == 0:
			return spec, fmt.Errorf("bands.%s.edges: at least one edge is needed", name)
		case !slices.Contains(ac.By, name):
			return spec, fmt.Errorf("bands.%s: not named in by", name)
		}
		for i := 1; i < len(b.Edges); i++ {
			if !(b.Edges[i] > b.Edges[i-1]) {
				return spec, fmt.Errorf("bands.%s.edges: not strictly ascending (%v after %v)", name, b.Edges[i], b.Edges[i-1])
			}
		}
		for _, e := range b.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) {
				return spec, fmt.Errorf("bands.%s.edges: %v is not a number", name, e)
			}
		}
	}
	for i, d := range ac.By {
		if slices.Contains(ac.By[:i], d) {
			return spec, fmt.Errorf("by: %q named twice", d)
		}
		var expr string
		switch {
		case ac.Bands[d].From != "":
			expr = bandExpr(numberExpr(ac.Bands[d].From), ac.Bands[d].Edges)
		case d == "transplant_year":
			expr = "CAST(year(c.transplant_date) AS VARCHAR)"
		case slices.Contains(codeColumns, d):
			expr = codeExpr(d)
		default:
			return spec, fmt.Errorf("by: unknown dimension %q (want a band, transplant_year or one of %s)", d, strings.Join(codeColumns, ", "))
		}
		if d == "transplant_type" {
			spec.TypeDim = i
		}
		spec.Dims = append(spec.Dims, transforms.Dimension{Name: d, Expr: expr})
	}
	cols := make([]string, 0, len(ac.Where))
	for col := range ac.Where {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		cond, err := whereCond(col, ac.Where[col])
		if err != nil {
			return spec, fmt.Errorf("where.%s: %w", col, err)
		}
		spec.Where = append(spec.Where, cond)
	}
	if len(ac.Endpoints) == 0 {
		spec.Endpoints = eps
	}
	for _, name := range ac.Endpoints {
		e, ok := eps.Lookup(name)
		if !ok {
			return spec, fmt.Errorf("endpoints: unknown endpoint %q", name)
		}
		if _, dup := spec.Endpoints.Lookup(name); dup {
			return spec, fmt.Errorf("endpoints: %q named twice", name)
		}
		spec.Endpoints = append(spec.Endpoints, e)
	}
	// Every subset of by, from all pooled to all real.
	for mask := range 1 << len(ac.By) {
		keep := make([]bool, len(ac.By))
		for d := range keep {
			keep[d] = mask&(1<<d) != 0
		}
		spec.Sets = append(spec.Sets, transforms.GroupingSet{Name: strconv.Itoa(mask), Keep: keep})
	}
	return spec, nil
}

// codeExpr is a code dimension's group: the cohort's value (MISSING where
// empty); donor_type is NONE for an AUTO transplant.
func codeExpr(col string) string {
	switch col {
	case "transplant_type", "indication":
		return "c." + col
	case "donor_type":
		return "CASE WHEN c.transplant_type = 'AUTO' THEN '" + groupNone + "' ELSE COALESCE(c.donor_type, '" + groupMissing + "') END"
	}
	return "COALESCE(c." + col + ", '" + groupMissing + "')"
}

// numberExpr is a number column's value; transplant_year is the year of
// the transplant date.
func numberExpr(col string) string {
	if col == "transplant_year" {
		return "year(c.transplant_date)"
	}
	return "c." + col
}

// bandExpr cuts x at edges: below the first, between edges (lower edge
// included), from the last up; MISSING where x is missing.
func bandExpr(x string, edges []float64) string {
	labels := bandLabels(edges)
	var b strings.Builder
	b.WriteString("CASE WHEN " + x + " IS NULL THEN '" + groupMissing + "'")
	for i, e := range edges {
		fmt.Fprintf(&b, " WHEN %s < %s THEN '%s'", x, num(e), labels[i])
	}
	fmt.Fprintf(&b, " ELSE '%s' END", labels[len(edges)])
	return b.String()
}

// bandLabels are the groups' labels: <18, 18-39, 40-59, 60+ for integer
// edges 18, 40, 60; with a fractional edge, 17.5-<40 (the upper edge
// excluded).
func bandLabels(edges []float64) []string {
	integer := true
	for _, e := range edges {
		integer = integer && e == math.Trunc(e)
	}
	out := []string{"<" + num(edges[0])}
	for i := 1; i < len(edges); i++ {
		if integer {
			out = append(out, num(edges[i-1])+"-"+num(edges[i]-1))
		} else {
			out = append(out, num(edges[i-1])+"-<"+num(edges[i]))
		}
	}
	return append(out, num(edges[len(edges)-1])+"+")
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// whereCond is one filter's SQL condition: a code column IN its codes, a
// number within [min, max] (a missing value never passes).
func whereCond(col string, v any) (string, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return "", fmt.Errorf("want a list of codes or [min, max]")
	}
	switch {
	case slices.Contains(codeColumns, col):
		codes := make([]string, len(list))
		for i, x := range list {
			s, ok := x.(string)
			if !ok {
				return "", fmt.Errorf("want a list of codes, got %v", x)
			}
			s = strings.TrimSpace(s)
			if col != "center_id" {
				s = strings.ToUpper(s)
				if known := transforms.Codes(col); !slices.Contains(known, s) && s != groupMissing &&
					!(col == "donor_type" && s == groupNone) {
					return "", fmt.Errorf("unknown code %q (want one of %s)", s, strings.Join(known, ", "))
				}
			}
			codes[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		return codeExpr(col) + " IN (" + strings.Join(codes, ", ") + ")", nil
	case slices.Contains(numberColumns, col):
		if len(list) != 2 {
			return "", fmt.Errorf("want [min, max]")
		}
		var lim [2]float64
		for i, x := range list {
			switch n := x.(type) {
			case int64:
				lim[i] = float64(n)
			case float64:
				lim[i] = n
			default:
				return "", fmt.Errorf("want [min, max] numbers, got %v", x)
			}
		}
		if lim[0] > lim[1] {
			return "", fmt.Errorf("min %s > max %s", num(lim[0]), num(lim[1]))
		}
		return fmt.Sprintf("%s BETWEEN %s AND %s", numberExpr(col), num(lim[0]), num(lim[1])), nil
	}
	return "", fmt.Errorf("unknown filter column %q (want one of %s, %s)", col,
		strings.Join(codeColumns, ", "), strings.Join(numberColumns, ", "))
}

// declaredAnalyses returns the config's analyses, ready to estimate.
func (c *Config) declaredAnalyses() []analysis {
	eps := c.EndpointSet()
	var out []analysis
	for _, ac := range c.Analyses {
		spec, err := ac.spec(eps)
		if err != nil {
			panic("declaredAnalyses on an unvalidated config: " + err.Error())
		}
		a := analysis{name: ac.Name, title: ac.Title, dims: ac.By, eps: spec.Endpoints, landmarks: ac.Landmarks, spec: spec,
			order: make([][]string, len(ac.By))}
		for i, d := range ac.By {
			if b, ok := ac.Bands[d]; ok {
				a.order[i] = append(bandLabels(b.Edges), groupMissing)
			}
		}
		if a.title == "" {
			a.title = a.name
		}
		if len(a.landmarks) == 0 {
			a.landmarks = c.Landmarks
		} else {
			a.landmarks = slices.Compact(slices.Sorted(slices.Values(a.landmarks)))
		}
		out = append(out, a)
	}
	return out
}
