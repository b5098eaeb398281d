// Package report renders marrow's report from plain data: report/index.html
// (one self-contained page: inline CSS and SVG, no script, no external URL,
// printable) and report/report.md (a short summary: the first page and the
// quality flags).
//
// The pipeline fills a Data from the warehouse and results/ tables and calls
// Write. The package runs no query and estimates nothing: it sorts strata,
// formats numbers, applies the small-cell rule of Config.MinCell, and lays
// the result out with html/template.
//
// Sections. The page is an ordered list of sections (sections.go): each
// part registers a renderer with addSection(order, name, fn) in its own
// file — summary.go (the first page), endpoint.go (one section per
// endpoint), quality.go, methods.go; changes, centres and the declared
// analyses add theirs the same way at the orders reserved for them, in the
// SPEC §4 order of ids (summary first, then the endpoints, quality, methods,
// analysis-<name>, centres). A renderer prints every count through
// renderer.count and declares the sums its tables publish with
// renderer.sum.
//
// Small counts (cells.go, disclosure.go). Every printed count is a cell with
// a key; the page is rendered once to record every cell and sum, the
// suppressor decides over all tables together (counts 1..MinCell−1 read
// "<10"; complementary suppression hides more, "≥10", wherever the audit —
// linear algebra over the sums and interval reasoning on the labels' bounds —
// could pin a protected count), and rendered again to print. A stratum whose
// count is hidden is neither plotted nor tabulated.
//
// Data has no field that could carry a patient or transplant identifier, a
// date or free text; centre ids (SPEC §6) and codes do appear, escaped.
//
// The figures are hand-written SVG (svg.go): step paths, a band polygon per
// curve, axes, legend and a numbers-at-risk table in one <svg>; at most six
// curves a plot, small multiples with the pooled curve in grey beyond. That
// keeps the at-risk rows aligned with the ticks, gives byte-identical
// output with fixed one-decimal coordinates, embeds no font, and adds no
// module dependency.
//
// Determinism: the same Data gives the same bytes. Strata are sorted as
// results/landmarks.csv; every other slice is shown in the order given; maps
// are iterated sorted; floats have fixed precision; no clock is read
// (GeneratedAt comes from the caller).
package report
