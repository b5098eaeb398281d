package report

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The audit of a rendered report (SPEC §4: no count from 1 to min_cell−1
// anywhere, and no hidden count recoverable exactly from the report's other
// numbers). It renders the report with every printed count marked by its
// cell, reads back what was published — the number, "<10", "≥10", or
// nothing — collects every sum relation between the counts independently
// of the tables' own declarations (from the cells' keys and from the
// tables' structure), and lets the audit of disclosure.go try to pin every
// protected count. Write runs it and refuses to write a report it can
// break; the disclosure tests run it on simulated registries, and with one
// table bypassing the rule to show that it then fails.

var marked = regexp.MustCompile(`⟦([^⟧]*)⟧([^⟦]*)⟦/⟧`)

// published renders d with marked counts and returns what each cell shows
// (cells never printed are absent), the true counts, and the report.
func published(d *Data) (shown map[string]string, truth map[string]int, doc string, clash []string, err error) {
	return decidePage(d, true).published()
}

// published is published for a settled decision. The true counts are those
// of its recording pass (the counter records only there).
func (p *decided) published() (shown map[string]string, truth map[string]int, doc string, clash []string, err error) {
	h, m, err := p.page(p.markedSecs)
	if err != nil {
		return nil, nil, "", nil, err
	}
	doc = string(h) + "\n" + string(m)
	shown = map[string]string{}
	for _, mm := range marked.FindAllStringSubmatch(doc, -1) {
		key, text := html.UnescapeString(mm[1]), html.UnescapeString(mm[2])
		text = strings.TrimPrefix(text, `\`) // Markdown's escaped "<"
		if prev, ok := shown[key]; ok && prev != text {
			clash = append(clash, key+": printed as "+prev+" and "+text)
		}
		shown[key] = text
	}
	for _, k := range p.c.clash {
		clash = append(clash, k+": two values")
	}
	return shown, p.c.value, doc, clash, nil
}

// parsedKey is a cell key split into quantity and dimensions.
type parsedKey struct {
	q     string
	names []string
	vals  []string
}

func parseKey(k string) parsedKey {
	parts := strings.Split(k, "|")
	p := parsedKey{q: parts[0]}
	for _, d := range parts[1:] {
		n, v, _ := strings.Cut(d, "=")
		p.names = append(p.names, n)
		p.vals = append(p.vals, v)
	}
	return p
}

// relations derives the report's sums from the cells themselves: a count
// pooled ("*") over one dimension is the sum of the counts that differ from
// it in that dimension only (kept where the true counts agree, as a reader
// checking them would find); and from the tables' structure: the cohort
// table's levels add up to its Transplants row and its type columns to the
// All column, the cohort flow's steps add up.
func relations(truth map[string]int, doc string) []sumRel {
	var rels []sumRel
	keys := sortedKeys(truth)
	// sig is a key with dimension i blanked: the counts that differ from a
	// total only in dimension i share it.
	sig := func(p parsedKey, i int) string {
		var b strings.Builder
		b.WriteString(p.q)
		for j := range p.vals {
			b.WriteString("|" + p.names[j] + "=")
			if j == i {
				b.WriteString("\x00")
			} else {
				b.WriteString(p.vals[j])
			}
		}
		return b.String()
	}
	terms := map[string][]string{} // signature → keys with a real value there
	for _, k := range keys {
		p := parseKey(k)
		for i, v := range p.vals {
			if v != "*" {
				terms[sig(p, i)] = append(terms[sig(p, i)], k)
			}
		}
	}
	holds := func(total string, terms []string) bool {
		s := 0
		for _, t := range terms {
			s += truth[t]
		}
		return s == truth[total]
	}
	// The total of a signature is its key with the blank pooled, which for
	// a declared analysis's stratum may be a default stratum's key
	// (canonicalCell): an analysis's groups add up to the stratum they split.
	for _, s := range sortedKeys(terms) {
		total := canonicalCell(strings.Replace(s, "=\x00", "=*", 1))
		if _, ok := truth[total]; ok && holds(total, terms[s]) {
			rels = append(rels, sumRel{total: total, terms: terms[s]})
		}
	}
	// The changes section: this run's accepted transplants are the previous
	// output's plus those added minus those removed.
	now, prev := rowsCell("transplants.csv", "accepted", "*"), changeCell("file", "transplants.csv", "side", "previous", "status", "accepted")
	add, rem := changeCell("what", "added"), changeCell("what", "removed")
	if _, ok := truth[prev]; ok {
		if _, ok := truth[add]; ok && truth[now]+truth[rem] == truth[prev]+truth[add] {
			rels = append(rels, sumRel{total: now, terms: []string{prev, add}, minus: []string{rem}})
		}
	}
	// The centre benchmark: per transplant type, the centres' n add up,
	// with the transplants in no centre's row, to the type's benchmark
	// cohort and to its cohort n (exactly, where nothing is left over).
	centreN := map[string][]string{} // type → its centres' n cells
	for _, k := range keys {
		if p := parseKey(k); p.q == "ctr" && len(p.names) == 3 && p.names[0] == "c" && p.names[1] == "tt" && p.names[2] == "q" && p.vals[2] == "n" {
			centreN[p.vals[1]] = append(centreN[p.vals[1]], k)
		}
	}
	for _, tt := range sortedKeys(centreN) {
		sum := 0
		for _, k := range centreN[tt] {
			sum += truth[k]
		}
		has := func(k string) bool { _, ok := truth[k]; return ok }
		for _, total := range centreTotals(tt, has) {
			if !has(total) || truth[total] < sum {
				continue
			}
			terms := append([]string(nil), centreN[tt]...)
			if truth[total] > sum {
				terms = append(terms, centreRestCell(tt, total))
			}
			rels = append(rels, sumRel{total: total, terms: terms})
		}
	}
	// Table structure, read from the HTML.
	tables := regexp.MustCompile(`(?s)<table class="(cohort|flow)">(.*?)</table>`).FindAllStringSubmatch(doc, -1)
	for _, tb := range tables {
		var grid [][]string // per row, the cell key of each column ("" = none)
		var group []bool
		for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(tb[2], -1) {
			var rowKeys []string
			for _, td := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
				k := ""
				if m := marked.FindStringSubmatch(td[1]); m != nil {
					k = html.UnescapeString(m[1])
				}
				rowKeys = append(rowKeys, k)
			}
			if len(rowKeys) == 0 {
				continue
			}
			grid = append(grid, rowKeys)
			group = append(group, strings.Contains(tr[0], `class="group"`))
		}
		add := func(total string, terms []string) {
			if total != "" && len(terms) > 0 && holds(total, terms) {
				rels = append(rels, sumRel{total: total, terms: terms})
			}
		}
		if tb[1] == "flow" && len(grid) >= 3 && len(grid[0]) > 1 && len(grid[1]) > 1 && len(grid[2]) > 1 {
			add(grid[0][1], []string{grid[1][1], grid[2][1]})
			if len(grid) > 3 {
				var ex []string
				for _, rw := range grid[3:] {
					if len(rw) > 1 {
						ex = append(ex, rw[1])
					}
				}
				add(grid[2][1], ex)
			}
			continue
		}
		if len(grid) == 0 || len(grid[0]) < 2 {
			continue // no column: nothing adds up
		}
		n := grid[0] // the Transplants row
		add(n[1], n[2:])
		var block [][]string
		flush := func() {
			for c := 1; c < len(n); c++ {
				var terms []string
				for _, rw := range block {
					if c < len(rw) && rw[c] != "" {
						terms = append(terms, rw[c])
					}
				}
				add(n[c], terms)
			}
			block = nil
		}
		for i, rw := range grid[1:] {
			if group[i+1] {
				flush()
				continue
			}
			if len(rw) < 2 || rw[1] == "" {
				continue // age
			}
			block = append(block, rw)
			add(rw[1], rw[2:])
		}
		flush()
	}
	return rels
}

// Audit returns what a reader of d's report could learn exactly that the
// small-count rule hides (empty when nothing), each as "key: what".
func Audit(d *Data) ([]string, error) { return decidePage(d, true).audit() }

// audit is Audit for a settled decision.
func (p *decided) audit() ([]string, error) {
	shown, truth, doc, clash, err := p.published()
	if err != nil {
		return nil, err
	}
	min := p.d.Config.MinCell
	var out []string
	out = append(out, clash...)
	sys := linSystem{known: map[string]float64{}, lo: map[string]float64{}, hi: map[string]float64{}, truth: truth, protect: map[string]bool{}}
	for _, k := range sortedKeys(truth) {
		text, ok := shown[k]
		// Protected: every small count, and every count printed as hidden.
		sys.protect[k] = truth[k] > 0 && truth[k] < min || ok && (strings.HasPrefix(text, "<") || strings.HasPrefix(text, "≥"))
		switch {
		case !ok:
			sys.lo[k], sys.hi[k] = 0, inf
		case text == "<"+strconv.Itoa(min):
			sys.lo[k], sys.hi[k] = 1, float64(min-1)
		case text == "≥"+strconv.Itoa(min):
			sys.lo[k], sys.hi[k] = float64(min), inf
		default:
			v, err := strconv.Atoi(strings.ReplaceAll(text, ",", ""))
			if err != nil {
				out = append(out, k+": printed as "+text)
				continue
			}
			if v != truth[k] {
				out = append(out, fmt.Sprintf("%s: printed %d, true %d", k, v, truth[k]))
			}
			if v > 0 && v < min {
				out = append(out, fmt.Sprintf("%s: a count of %d printed", k, v))
			}
			sys.known[k] = float64(v)
		}
	}
	sys.rels = relations(truth, doc)
	for _, k := range audit(sys) {
		out = append(out, fmt.Sprintf("%s: hidden (%s) but derivable, true %d", k, orDash(shown[k]), truth[k]))
	}
	sort.Strings(out)
	return out, nil
}
