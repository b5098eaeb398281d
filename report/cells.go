package report

import (
	"sort"
	"strconv"
	"strings"
)

// Every count the report prints is a cell: a key naming what it counts and
// its value. Every table prints its counts through one rule (counter.show),
// and the report is rendered twice: the first pass only records the cells
// and the sums between them that the tables publish; then the suppressor
// decides, over all tables together, which cells are hidden; the second
// pass prints. A table cannot print a count the rule has not seen.
//
// Keys are "quantity|dim=value|dim=value…", with "*" for a value pooled
// over that dimension, e.g. "n|tt=ALLO|donor=*|ind=AML" (transplants of a
// stratum) or "risk|ep=os|day=365|tt=*|donor=*|ind=*" (at risk). A count
// printed in several tables has one key, so it is hidden everywhere or
// nowhere.

// cellKey builds a key from a quantity and name=value pairs.
func cellKey(q string, kv ...string) string {
	n := len(q)
	for i := 0; i+1 < len(kv); i += 2 {
		n += 2 + len(kv[i]) + len(kv[i+1])
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(q)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte('|')
		b.WriteString(kv[i])
		b.WriteByte('=')
		if v := kv[i+1]; plainValue(v) {
			b.WriteString(v)
		} else {
			b.WriteString(keyValue.Replace(v))
		}
	}
	return b.String()
}

// keyValue keeps a key parseable whatever a value (a centre id) holds.
var keyValue = strings.NewReplacer("|", "/", "=", ":", "⟦", "[", "⟧", "]")

// plainValue reports whether keyValue leaves v as it is: no '|', no '='
// and no byte 0xE2 (the first of ⟦ and ⟧ in UTF-8; a value with another
// character starting so just takes the replacer).
func plainValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '|' || c == '=' || c == 0xE2 {
			return false
		}
	}
	return true
}

// stratumCell is the key of a stratum's number of transplants.
func stratumCell(st Stratum) string {
	return cellKey("n", "tt", st.TransplantType, "donor", st.DonorType, "ind", st.Indication)
}

// riskCell is the key of the number at risk of an endpoint's stratum at a
// day. Day 0 is the stratum's n (every time is >= 0).
func riskCell(ep string, day int, st Stratum) string {
	if day == 0 {
		return stratumCell(st)
	}
	return cellKey("risk", "ep", ep, "day", strconv.Itoa(day), "tt", st.TransplantType, "donor", st.DonorType, "ind", st.Indication)
}

// sumRel is a published sum: the terms add up to the total plus the
// minus terms (total + Σ minus = Σ terms; minus is usually empty).
type sumRel struct {
	total string
	terms []string
	minus []string
}

// cells are every cell of the relation.
func (s sumRel) cells() []string {
	return append(append([]string{s.total}, s.terms...), s.minus...)
}

// counter records the cells and sums of the first pass and applies the
// suppressor's decisions in the second.
type counter struct {
	min    int
	record bool
	value  map[string]int  // every cell's count, shown or not
	shown  map[string]bool // printed somewhere
	clash  []string        // keys recorded with two different values
	sums   []sumRel
	hidden map[string]bool // decided by the suppressor (second pass)
	// printed are the cells a printing pass printed: fewer than the
	// recording pass's shown once strata are withheld.
	printed map[string]bool
	// mark wraps every printed count as ⟦key⟧text⟦/⟧, for the disclosure
	// test to read what was published; bypass names a table that ignores
	// the suppressor (the test shows the check then fails).
	mark   bool
	bypass string
	// bypassComplementary names a table that applies the primary rule only.
	bypassComplementary string
}

func newCounter(min int) *counter {
	return &counter{min: min, record: true, value: map[string]int{}, shown: map[string]bool{}, hidden: map[string]bool{}}
}

// note records the count of a cell without printing it (a term of a
// published sum that is itself not printed, e.g. a small stratum's number
// at risk).
func (c *counter) note(key string, n int) {
	if !c.record {
		return
	}
	if v, ok := c.value[key]; ok && v != n {
		c.clash = append(c.clash, key)
	}
	c.value[key] = n
}

// sum records a published sum (first pass only).
func (c *counter) sum(total string, terms ...string) {
	if c.record && len(terms) > 0 {
		c.sums = append(c.sums, sumRel{total: total, terms: append([]string(nil), terms...)})
	}
}

// sumSigned records total + Σ minus = Σ terms (first pass only).
func (c *counter) sumSigned(total string, terms, minus []string) {
	if c.record {
		c.sums = append(c.sums, sumRel{total, append([]string(nil), terms...), append([]string(nil), minus...)})
	}
}

// small reports whether a count is below the small-cell threshold.
func (c *counter) small(n int) bool { return c.min > 0 && n > 0 && n < c.min }

// isHidden reports whether table must withhold the count n of key.
func (c *counter) isHidden(table, key string, n int) bool {
	if c.min <= 0 || table == c.bypass && c.bypass != "" {
		return false
	}
	c.note(key, n)
	if table == c.bypassComplementary && table != "" {
		return c.small(n)
	}
	return c.small(n) || n > 0 && c.hidden[key]
}

// show is the one rule by which every table prints a count: "<10" from 1
// to min−1, "≥10" for a count hidden so that a smaller one cannot be
// recovered, the number otherwise.
func (c *counter) show(table, key string, n int) string {
	c.note(key, n)
	if c.record {
		c.shown[key] = true
	} else if c.printed != nil {
		c.printed[key] = true
	}
	s := grouped(n)
	if c.isHidden(table, key, n) {
		if c.small(n) {
			s = "<" + strconv.Itoa(c.min)
		} else {
			s = "≥" + strconv.Itoa(c.min)
		}
	}
	if c.mark {
		return "⟦" + key + "⟧" + s + "⟦/⟧"
	}
	return s
}

// decide runs the suppressor over the recorded cells (end of the first
// pass) and switches the counter to printing.
func (c *counter) decide() {
	c.record = false
	c.printed = map[string]bool{}
	if c.min <= 0 {
		return
	}
	c.hidden = suppress(c.min, c.value, c.shown, c.sums, c.hidden)
}

// settle compares what the last printing pass printed with what the
// decision assumed. Withholding a stratum also withholds its numbers at
// risk, which then are unknowns a reader might derive: if the printed set
// shrank, the suppressor decides again on it (keeping every cell already
// hidden) and settle reports false, asking for another printing pass.
func (c *counter) settle() bool {
	if c.min <= 0 {
		return true
	}
	same := len(c.printed) == len(c.shown)
	for k := range c.printed {
		if !c.shown[k] {
			same = false
		}
	}
	if same {
		return true
	}
	c.shown = c.printed
	c.hidden = suppress(c.min, c.value, c.shown, c.sums, c.hidden)
	c.printed = map[string]bool{}
	return false
}

// suppress decides the hidden cells. Primary suppression hides every count
// from 1 to min−1; a cell that is recorded but never printed is unknown to
// a reader as well. The complementary step then works on every published
// sum of every table together:
//
//  1. a sum with exactly one unknown term (the total counts as a term)
//     would give it away by subtraction: where that term is small or
//     printed as hidden, one more term is hidden (a count the report never
//     prints and that is not small, such as the all-types number at risk at
//     a tick no all-types figure shows, needs no protection);
//  2. a reader can do more than subtract: with the bounds the labels give
//     ("<10" is 1–9, "≥10" is at least 10, an unprinted count at least 0),
//     linear combinations of sums and interval reasoning can still pin a
//     hidden count (two hidden cells of 1 under a total of 2). The audit of
//     disclosure.go finds every such count; for each, one more term of a sum
//     holding it is hidden.
//
// Both repeat until the audit finds nothing. The term hidden is, by
// preference, one pooled over transplant types ("*" type, the All column),
// which mixes autologous and allogeneic transplants and matters least
// clinically; then a file's rows read rather than its accepted rows; the
// changes section's added and removed transplants last (hideRank); then
// the most specific (fewest pooled dimensions), so that
// the totals a reader looks for stay; then the smallest; then the first
// key. Zero counts are never
// hidden (nothing to protect, and a zero printed as "≥10" would be false).
// The result is not an optimal suppression; it never leaves a count the
// audit can pin.
func suppress(min int, value map[string]int, shown map[string]bool, sums []sumRel, already map[string]bool) map[string]bool {
	hidden := map[string]bool{}
	for k := range already {
		hidden[k] = true
	}
	for k, v := range value {
		if (v > 0 && v < min) || !shown[k] {
			hidden[k] = true
		}
	}
	better := func(a, b string) bool {
		if ra, rb := hideRank(a), hideRank(b); ra != rb {
			return ra < rb
		}
		// A more specific count (fewer pooled dimensions) before a total a
		// reader looks for.
		if sa, sb := strings.Count(a, "=*"), strings.Count(b, "=*"); sa != sb {
			return sa < sb
		}
		if value[a] != value[b] {
			return value[a] < value[b]
		}
		return a < b
	}
	// pick returns the best printed nonzero cell of the sums, "" if none.
	pick := func(rels []int) string {
		best := ""
		for _, i := range rels {
			s := sums[i]
			for _, k := range s.cells() {
				if !hidden[k] && value[k] > 0 && (best == "" || better(k, best)) {
					best = k
				}
			}
		}
		return best
	}
	holding := map[string][]int{} // cell → sums it is in
	for i, s := range sums {
		for _, k := range s.cells() {
			holding[k] = append(holding[k], i)
		}
	}
	for round := 0; round < 10000; round++ {
		// Step 1, to a fixed point: cheap and catches most.
		for changed := true; changed; {
			changed = false
			for i, s := range sums {
				unknown, last := 0, ""
				for _, k := range s.cells() {
					if hidden[k] {
						unknown++
						last = k
					}
				}
				if unknown == 1 && value[last] > 0 && (value[last] < min || shown[last]) {
					if k := pick([]int{i}); k != "" {
						hidden[k] = true
						changed = true
					}
				}
			}
		}
		// Step 2: the audit.
		pinned := audit(auditSystem(min, value, shown, hidden, sums))
		if len(pinned) == 0 {
			break
		}
		progress := false
		for _, x := range pinned {
			// Widen the search from the sums holding x to their cells'
			// sums until a printed cell is found.
			rels := holding[x]
			seen := map[int]bool{}
			for _, i := range rels {
				seen[i] = true
			}
			k := pick(rels)
			for depth := 0; k == "" && depth < 4; depth++ {
				var next []int
				for _, i := range rels {
					s := sums[i]
					for _, c := range s.cells() {
						for _, j := range holding[c] {
							if !seen[j] {
								seen[j] = true
								next = append(next, j)
							}
						}
					}
				}
				rels = next
				k = pick(rels)
			}
			if k != "" && !hidden[k] {
				hidden[k] = true
				progress = true
			}
		}
		if !progress {
			break // nothing left to hide near the pinned cells
		}
	}
	return hidden
}

// auditSystem states what a reader knows: printed counts, the bounds of
// hidden ones, and the sums.
func auditSystem(min int, value map[string]int, shown, hidden map[string]bool, sums []sumRel) linSystem {
	sys := linSystem{known: map[string]float64{}, lo: map[string]float64{}, hi: map[string]float64{}, truth: map[string]int{}, protect: map[string]bool{}}
	for k, v := range value {
		sys.protect[k] = v > 0 && (v < min || shown[k] && hidden[k])
		switch {
		case !hidden[k]:
			sys.known[k] = float64(v)
		case !shown[k]:
			sys.lo[k], sys.hi[k] = 0, inf
		case v > 0 && v < min:
			sys.lo[k], sys.hi[k] = 1, float64(min-1)
		default:
			sys.lo[k], sys.hi[k] = float64(min), inf
		}
		sys.truth[k] = v
	}
	for _, s := range sums {
		sys.rels = append(sys.rels, s)
	}
	return sys
}

// hideRank orders the candidates of the complementary step: counts pooled
// over transplant types first, then rows-read totals (a file's accepted
// and rejected rows are what a reader checks), then the rest, and the
// transplants added, removed or changed since the previous output last.
func hideRank(key string) int {
	switch {
	case strings.Contains(key, "|tt=*"):
		return 0
	case strings.Contains(key, "|status=*"):
		return 1
	case strings.HasPrefix(key, "chg|what="):
		return 3
	}
	return 2
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// grouped formats a count with thousands separators: 96,005.
func grouped(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + grouped(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
