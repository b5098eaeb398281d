// Package report renders marrow's report from plain data: report/index.html
// (one self-contained page: inline CSS and SVG, no script, no external URL,
// printable) and report/report.md (the same tables in Markdown).
//
// The pipeline fills a Data from the warehouse and results/ tables and calls
// Write. The package runs no query and estimates nothing: it sorts strata,
// formats numbers (percentages with one decimal, p-values as "<0.001" or
// three decimals), applies the small-cell rule of Config.MinCell, and lays
// the result out with html/template and text/template. Both templates are
// embedded and parsed once, and both read the same preformatted view, so
// the Markdown and HTML tables cannot disagree.
//
// Small-cell suppression: a stratum with fewer than MinCell transplants is
// not plotted, its table cells read "suppressed (n < 10)" and its n reads
// "<10"; cohort counts from 1 to MinCell-1 read "<10". Complementary
// suppression (suppress.go) then hides one more term of every published
// sum left with exactly one hidden term, so that no hidden count is a
// shown total minus shown counts; such counts read "≥10". Ingest and
// quality counts are rows and flags, not patients, and are shown as they
// are.
// Data has no field that could carry an identifier or free text.
//
// The figures are hand-written SVG rather than a plotting library's
// output: a Kaplan–Meier or cumulative incidence figure is only step
// paths, a band polygon per curve, two axes, a legend and a numbers-at-risk
// table, which is little code to write and to test (the tests parse every
// path). Writing it by hand keeps the numbers-at-risk rows aligned with the
// x ticks inside the same <svg>, keeps the markup small (steps closer than
// half a pixel are merged, so a stratum with thousands of distinct times
// stays a few kilobytes), gives byte-identical output with fixed one-decimal
// coordinates, embeds no font, and adds no module dependency.
//
// Determinism: the same Data gives the same bytes. Strata are sorted as
// results/landmarks.csv (transplant_type, donor_type, indication, "*"
// first); every other slice is shown in the order given; no map is
// iterated unsorted; floats are formatted with fixed precision; no clock is
// read (GeneratedAt comes from the caller).
package report
