package report

import (
	"slices"
	"strconv"
	"strings"
)

// suppressor applies the small-cell rule of Config.MinCell to the counts
// the report shows, in two steps.
//
// Primary suppression hides every count from 1 to min-1: a stratum with
// fewer than min transplants loses all its numbers, a cohort-table count
// reads "<min".
//
// Complementary suppression then protects the hidden counts from
// subtraction. The report publishes sums: the strata of SPEC §3 add up
// (the transplant types to all transplants, the indications to their
// type or to all, the donor types of ALLO to ALLO, ...), and in the cohort
// table each variable's levels add up to the column's n and the type
// columns to the All column; so do the follow-up completeness counts. Wherever such a sum has exactly one hidden
// term (the total counts as a term), one more term is hidden, and this
// repeats until no sum has exactly one: then no hidden count is a shown
// total minus shown terms. The term hidden is, by preference, one pooled
// over transplant types (a "*" stratum, the All column), which mixes
// autologous and allogeneic transplants and matters least clinically;
// otherwise the smallest. A count hidden this way has n >= min and reads
// "≥min"; its stratum's estimates are withheld like a small one's.
//
// This is a greedy heuristic, not an optimal cell suppression: it may hide
// more than needed, never less for the sums listed.
type suppressor struct {
	min    int
	hidden map[string]bool // cell key → hidden by either step
}

// hides reports whether a count of n is below the small-cell threshold.
func (s suppressor) hides(n int) bool { return s.min > 0 && n < s.min }

// count formats a count by the small-cell rule alone: "<10" for 1..min-1,
// the number otherwise.
func (s suppressor) count(n int) string {
	if n > 0 && s.hides(n) {
		return "<" + strconv.Itoa(s.min)
	}
	return strconv.Itoa(n)
}

// label is the text that replaces a small stratum's numbers.
func (s suppressor) label() string {
	return "suppressed (n < " + strconv.Itoa(s.min) + ")"
}

// cellHidden reports whether the count n of cell key is hidden.
func (s suppressor) cellHidden(key string, n int) bool {
	return n > 0 && (s.hides(n) || s.hidden[key])
}

// cellCount formats the count n of cell key: "<10" when small, "≥10" when
// hidden to protect another, the number otherwise.
func (s suppressor) cellCount(key string, n int) string {
	if s.cellHidden(key, n) && !s.hides(n) {
		return "≥" + strconv.Itoa(s.min)
	}
	return s.count(n)
}

// stratumHidden reports whether a stratum of n transplants is withheld.
func (s suppressor) stratumHidden(st Stratum, n int) bool {
	return s.cellHidden(stratumCell(st), n)
}

// stratumCount formats a stratum's n.
func (s suppressor) stratumCount(st Stratum, n int) string {
	return s.cellCount(stratumCell(st), n)
}

// stratumLabel is the text that replaces a withheld stratum's numbers.
func (s suppressor) stratumLabel(n int) string {
	if s.hides(n) {
		return s.label()
	}
	return complementaryLabel
}

const complementaryLabel = "suppressed (complementary)"

func stratumCell(st Stratum) string { return "stratum\x00" + st.key() }

// summaryCell is the cell of a cohort-table count. A column's n is the
// stratum of its transplant type and an indication's count the stratum
// (type, *, indication), so that the cohort table and the strata tables
// hide the same numbers.
func summaryCell(column, variable, level string) string {
	tt := column
	if column == allColumn {
		tt = "*"
	}
	switch variable {
	case "":
		return stratumCell(Stratum{tt, "*", "*"})
	case "Indication":
		return stratumCell(Stratum{tt, "*", level})
	}
	return "level\x00" + variable + "\x00" + level + "\x00" + tt
}

// followUpCell is the cell of a follow-up completeness count (what is
// "eligible" or "complete") of transplant type tt ("*" for all).
func followUpCell(what, tt string) string { return "followup\x00" + what + "\x00" + tt }

// allColumn is the cohort-table column of all transplants (Summary.Columns).
const allColumn = "All"

// publishedSums lists the sums d publishes, each as its terms' cell keys
// followed by the total's, with every cell's count.
func publishedSums(d *Data) (sums [][]string, count map[string]int) {
	count = map[string]int{}
	strata := map[Stratum]int{}
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		for _, lm := range e.Landmarks {
			strata[lm.Stratum] = lm.N
		}
		for _, c := range e.Curves {
			strata[c.Stratum] = c.N
		}
		for _, m := range e.Medians {
			strata[m.Stratum] = m.N
		}
	}
	// Each stratum is a term of the strata that pool one more of its
	// dimensions (SPEC §3's six sets).
	type sumKey struct {
		total Stratum
		kind  string // which dimension the terms vary in
	}
	terms := map[sumKey][]string{}
	for st, n := range strata {
		count[stratumCell(st)] = n
		add := func(total Stratum, kind string) {
			k := sumKey{total, kind}
			terms[k] = append(terms[k], stratumCell(st))
		}
		switch {
		case st.TransplantType == "*" && st.Indication == "*": // all
		case st.TransplantType == "*": // indication
			add(Stratum{"*", "*", "*"}, "indication")
		case st.DonorType == "*" && st.Indication == "*": // type
			add(Stratum{"*", "*", "*"}, "type")
		case st.DonorType == "*": // type × indication
			add(Stratum{st.TransplantType, "*", "*"}, "indication")
			add(Stratum{"*", "*", st.Indication}, "type")
		case st.Indication == "*": // ALLO × donor
			add(Stratum{st.TransplantType, "*", "*"}, "donor")
		default: // ALLO × donor × indication
			add(Stratum{st.TransplantType, st.DonorType, "*"}, "indication")
			add(Stratum{st.TransplantType, "*", st.Indication}, "donor")
		}
	}
	for k, cells := range terms {
		if _, ok := strata[k.total]; ok {
			sums = append(sums, append(cells, stratumCell(k.total)))
		}
	}

	sm := &d.Summary
	for c, col := range sm.Columns {
		if c < len(sm.N) {
			count[summaryCell(col, "", "")] = sm.N[c]
		}
	}
	byType := len(sm.Columns) > 1 && sm.Columns[0] == allColumn
	if byType && len(sm.N) == len(sm.Columns) {
		var cells []string
		for _, col := range sm.Columns[1:] {
			cells = append(cells, summaryCell(col, "", ""))
		}
		sums = append(sums, append(cells, summaryCell(allColumn, "", "")))
	}
	for _, v := range sm.Variables {
		for c, col := range sm.Columns {
			var cells []string
			for _, lv := range v.Levels {
				if c < len(lv.Counts) {
					key := summaryCell(col, v.Name, lv.Label)
					count[key] = lv.Counts[c]
					cells = append(cells, key)
				}
			}
			if c < len(sm.N) {
				sums = append(sums, append(cells, summaryCell(col, "", "")))
			}
		}
		if byType {
			for _, lv := range v.Levels {
				var cells []string
				for _, col := range sm.Columns[1:] {
					cells = append(cells, summaryCell(col, v.Name, lv.Label))
				}
				sums = append(sums, append(cells, summaryCell(allColumn, v.Name, lv.Label)))
			}
		}
	}
	// Follow-up completeness counts transplants too: per type and all.
	var eligible, complete []string
	hasAll := false
	for _, f := range d.FollowUp {
		e, c := followUpCell("eligible", f.TransplantType), followUpCell("complete", f.TransplantType)
		count[e], count[c] = f.Eligible, f.Complete
		if f.TransplantType == "*" {
			hasAll = true
			continue
		}
		eligible, complete = append(eligible, e), append(complete, c)
	}
	if hasAll && len(eligible) > 0 {
		sums = append(sums, append(eligible, followUpCell("eligible", "*")), append(complete, followUpCell("complete", "*")))
	}
	for i := range sums {
		slices.Sort(sums[i][:len(sums[i])-1])
	}
	slices.SortFunc(sums, slices.Compare)
	return sums, count
}

// pooledOverType reports whether a cell counts transplants of every type:
// a "*" stratum or a cohort-table count of the All column.
func pooledOverType(key string) bool {
	return strings.HasPrefix(key, "stratum\x00*\x00") ||
		(strings.HasPrefix(key, "level\x00") || strings.HasPrefix(key, "followup\x00")) && strings.HasSuffix(key, "\x00*")
}

// newSuppressor decides the hidden cells of d (see suppressor).
func newSuppressor(d *Data) suppressor {
	s := suppressor{min: d.Config.MinCell, hidden: map[string]bool{}}
	if s.min <= 0 {
		return s
	}
	sums, count := publishedSums(d)
	for key, n := range count {
		if n > 0 && s.hides(n) {
			s.hidden[key] = true
		}
	}
	// better reports whether a is a better complement than b.
	better := func(a, b string) bool {
		if pa, pb := pooledOverType(a), pooledOverType(b); pa != pb {
			return pa
		}
		if count[a] != count[b] {
			return count[a] < count[b]
		}
		return a < b
	}
	for changed := true; changed; {
		changed = false
		for _, sum := range sums {
			hidden, pick := 0, ""
			for _, key := range sum {
				switch {
				case s.hidden[key]:
					hidden++
				case count[key] > 0 && (pick == "" || better(key, pick)):
					pick = key
				}
			}
			if hidden == 1 && pick != "" {
				s.hidden[pick] = true
				changed = true
			}
		}
	}
	return s
}
