package report

import (
	"bytes"
	"html/template"
	"sort"
)

// The report is an ordered list of sections. Each part of the report adds
// its sections from its own file with addSection in an init function, at
// an order that SPEC §4 fixes for the ids tools read: summary first, then
// the endpoints, quality, methods, the declared analyses, centres.
//
// A section renderer reads r.d, prints every count through r.count (the
// one small-cell rule, see cells.go) and declares the sums its tables
// publish with r.sum, so that the complementary suppression covers it too.
// It is called twice: a recording pass, whose output is thrown away, then
// the printing pass; it must not keep state between the two.

// Orders of the built-in sections; a section file picks a free number
// between them.
const (
	orderSummary   = 100
	orderEndpoints = 200
	orderQuality   = 300
	orderChanges   = 350 // what changed since the previous output (changes.go)
	orderMethods   = 400
	orderAnalyses  = 500 // analysis-<name>, one per declared analysis
	orderCentres   = 600
)

// Section is one <section> of index.html.
type Section struct {
	ID    string // the <section id>, unique
	Title string // its <h2> and table-of-contents entry
	Class string // extra class of the <section>, e.g. "endpoint"
	// Body is the section's HTML after its <h2>. Every text in it must be
	// escaped (html/template does it; r.table renders a table).
	Body template.HTML
	// Markdown is the section's part of report.md ("" = none): report.md is
	// a short summary, so most sections add nothing.
	Markdown string
}

type sectionSource struct {
	order  int
	name   string
	render func(r *renderer) []Section
}

var sectionSources []sectionSource

// addSection registers a section renderer at an order (see the order
// constants). name identifies it in errors and tests.
func addSection(order int, name string, render func(r *renderer) []Section) {
	sectionSources = append(sectionSources, sectionSource{order, name, render})
	sort.SliceStable(sectionSources, func(i, j int) bool { return sectionSources[i].order < sectionSources[j].order })
}

// renderer is what a section renderer works with.
type renderer struct {
	d *Data
	c *counter
	// paths is shared by the passes of one report (nil: none).
	paths *pathCache
}

// count prints a count through the small-cell rule. table names the
// printing table (for the disclosure test's bypass check).
func (r *renderer) count(table, key string, n int) string { return r.c.show(table, key, n) }

// hidden reports whether table must withhold the count n of key (and
// whatever it would reveal, e.g. a stratum's estimates).
func (r *renderer) hidden(table, key string, n int) bool { return r.c.isHidden(table, key, n) }

// note records a count a sum needs but no table prints.
func (r *renderer) note(key string, n int) { r.c.note(key, n) }

// sum declares a published sum: the terms add up to the total.
func (r *renderer) sum(total string, terms ...string) { r.c.sum(total, terms...) }

// small reports whether n is below the small-cell threshold.
func (r *renderer) small(n int) bool { return r.c.small(n) }

// minCell is the small-cell threshold (0 = off).
func (r *renderer) minCell() int { return r.c.min }

// exec runs one of index.html.tmpl's named templates. A recording pass's
// page is thrown away, so it runs none: templates only lay out strings the
// section has already printed through the counter.
func (r *renderer) exec(name string, data any) template.HTML {
	if r.c.record {
		return ""
	}
	var b bytes.Buffer
	if err := htmlTmpl.ExecuteTemplate(&b, name, data); err != nil {
		// The templates are fixed and the data typed: a failure is a
		// programming error, caught by every test that renders.
		panic("report: template " + name + ": " + err.Error())
	}
	return template.HTML(b.String())
}

// table renders a table as HTML.
func (r *renderer) table(t table) template.HTML { return r.exec("table", t) }

// summaryFunnel draws the first page's centre funnel plots; the centres
// section's file sets it. nil leaves the slot with a note.
var summaryFunnel func(r *renderer) template.HTML

// sections renders every section in order.
func (r *renderer) sections() []Section {
	var out []Section
	for _, s := range sectionSources {
		out = append(out, s.render(r)...)
	}
	return out
}
