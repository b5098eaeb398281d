package synth

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
)

// subject is one transplant of the analysis cohort with its endpoint
// times (days; -1 = no such event) as SPEC §3 defines them.
type subject struct {
	t                                         *tx
	end                                       int // follow-up end: the latest event day
	death, relapse                            int
	agvhd2, agvhd3, cgvhd, cgvhdModSev        int
	neutrophil, platelet, infection, toxicity int
}

// cohort derives the endpoints of each patient's first transplant of each
// type, from good rows only.
func cohort(p *parsed) []subject {
	subj := map[string]*subject{}
	var order []*subject
	first := map[string]bool{} // patient|type
	for i := range p.txs {
		t := &p.txs[i]
		key := t.patient + "|" + t.typ
		if first[key] {
			continue // rows come in transplant order; a patient's second transplant is later
		}
		first[key] = true
		s := &subject{t: t, death: -1, relapse: -1, agvhd2: -1, agvhd3: -1, cgvhd: -1, cgvhdModSev: -1,
			neutrophil: -1, platelet: -1, infection: -1, toxicity: -1}
		subj[t.id] = s
		order = append(order, s)
	}
	setFirst := func(x *int, day int) {
		if *x < 0 || day < *x {
			*x = day
		}
	}
	for _, e := range p.evs {
		s, ok := subj[e.id]
		if !ok {
			continue
		}
		s.end = max(s.end, e.day)
		switch e.event {
		case "death":
			setFirst(&s.death, e.day)
		case "relapse":
			setFirst(&s.relapse, e.day)
		case "agvhd":
			g := agvhdGrades[strings.ToUpper(e.grade)]
			if g >= 2 {
				setFirst(&s.agvhd2, e.day)
			}
			if g >= 3 {
				setFirst(&s.agvhd3, e.day)
			}
		case "cgvhd":
			setFirst(&s.cgvhd, e.day)
			if g := strings.ToUpper(e.grade); g == "MODERATE" || g == "SEVERE" {
				setFirst(&s.cgvhdModSev, e.day)
			}
		case "neutrophil_engraftment":
			setFirst(&s.neutrophil, e.day)
		case "platelet_engraftment":
			setFirst(&s.platelet, e.day)
		case "infection":
			setFirst(&s.infection, e.day)
		case "organ_toxicity":
			setFirst(&s.toxicity, e.day)
		}
	}
	out := make([]subject, len(order))
	for i, s := range order {
		out[i] = *s
	}
	return out
}

// kmAt is the Kaplan–Meier survival at day t of (time, event) pairs: the
// product over event times u ≤ t of 1 − d(u)/n(u).
func kmAt(times []int, events []bool, t int) float64 {
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	s, n := 1.0, len(times)
	for i := 0; i < len(idx); {
		u := times[idx[i]]
		if u > t {
			break
		}
		d, j := 0, i
		for ; j < len(idx) && times[idx[j]] == u; j++ {
			if events[idx[j]] {
				d++
			}
		}
		s *= 1 - float64(d)/float64(n)
		n -= j - i
		i = j
	}
	return s
}

// os365 is the 1-year overall survival of the subjects that keep returns
// true for, and how many there are.
func os365(subjects []subject, keep func(*subject) bool) (float64, int) {
	var times []int
	var events []bool
	for i := range subjects {
		s := &subjects[i]
		if !keep(s) {
			continue
		}
		if s.death >= 0 {
			times, events = append(times, s.death), append(events, true)
		} else {
			times, events = append(times, s.end), append(events, false)
		}
	}
	return kmAt(times, events, 365), len(times)
}

func TestKMAt(t *testing.T) {
	// Hand-computed: times 1,2+,3,3,4+ → S(3) = (1 − 1/5)(1 − 2/3) = 4/15.
	got := kmAt([]int{3, 1, 4, 2, 3}, []bool{true, true, false, false, true}, 3)
	if want := 4.0 / 15; math.Abs(got-want) > 1e-12 {
		t.Errorf("kmAt = %v, want %v", got, want)
	}
	if got := kmAt([]int{5}, []bool{true}, 4); got != 1 {
		t.Errorf("kmAt before the first event = %v, want 1", got)
	}
}

func TestRealism(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	dir, st := generate(t, Options{Transplants: n, Seed: 42})
	p := parseExtract(t, dir)
	if len(p.txBad)+len(p.evBad) > 0 {
		t.Fatalf("bad rows without BadRows: %v %v", p.txBad, p.evBad)
	}
	if int64(len(p.txs)) != st.Transplants || int64(len(p.evs)) != st.Events || len(p.txs) != n {
		t.Fatalf("read %d transplants, %d events; Stats %+v", len(p.txs), len(p.evs), st)
	}

	share := func(keep func(*tx) bool, among func(*tx) bool) float64 {
		k, m := 0, 0
		for i := range p.txs {
			if among(&p.txs[i]) {
				m++
				if keep(&p.txs[i]) {
					k++
				}
			}
		}
		return float64(k) / float64(m)
	}
	everyone := func(*tx) bool { return true }
	isAllo := func(x *tx) bool { return x.typ == "ALLO" }
	isAuto := func(x *tx) bool { return x.typ == "AUTO" }
	patients := map[string]int{}
	for _, x := range p.txs {
		patients[x.patient]++
	}
	second := 0
	for _, k := range patients {
		if k > 1 {
			second++
		}
	}

	t.Run("population", func(t *testing.T) {
		// Tolerances are the brief's "roughly" ranges, wide enough for the
		// sampling error of n = 5000 (a share's SE is at most 0.007).
		checks := []struct {
			name   string
			got    float64
			lo, hi float64
		}{
			{"share ALLO", share(isAllo, everyone), 0.53, 0.62},
			{"events per transplant", float64(len(p.evs)) / float64(len(p.txs)), 8, 12},
			{"patients with a second transplant", float64(second) / float64(len(patients)), 0.03, 0.08},
			{"MUD among ALLO", share(func(x *tx) bool { return x.donor == "MUD" }, isAllo), 0.34, 0.46},
			{"MSD among ALLO", share(func(x *tx) bool { return x.donor == "MSD" }, isAllo), 0.20, 0.31},
			{"HAPLO among ALLO", share(func(x *tx) bool { return x.donor == "HAPLO" }, isAllo), 0.15, 0.25},
			{"MMUD among ALLO", share(func(x *tx) bool { return x.donor == "MMUD" }, isAllo), 0.05, 0.11},
			{"CORD among ALLO", share(func(x *tx) bool { return x.donor == "CORD" }, isAllo), 0.03, 0.09},
			{"empty donor among ALLO", share(func(x *tx) bool { return x.donor == "" }, isAllo), 0.001, 0.02},
			{"AML among ALLO", share(func(x *tx) bool { return x.ind == "AML" }, isAllo), 0.30, 0.45},
			{"MM among AUTO", share(func(x *tx) bool { return x.ind == "MM" }, isAuto), 0.42, 0.60},
			{"lymphoma among AUTO", share(func(x *tx) bool { return x.ind == "NHL" || x.ind == "HL" }, isAuto), 0.25, 0.45},
			{"PB among non-cord ALLO", share(func(x *tx) bool { return x.graft == "PB" }, func(x *tx) bool { return isAllo(x) && x.donor != "CORD" && x.graft != "" }), 0.6, 0.9},
			{"CB among CORD", share(func(x *tx) bool { return x.graft == "CB" }, func(x *tx) bool { return x.donor == "CORD" && x.graft != "" }), 1, 1},
			{"MAC among AUTO", share(func(x *tx) bool { return x.cond == "MAC" }, func(x *tx) bool { return isAuto(x) && x.cond != "" }), 0.9, 1},
			{"children among IMD/IEM/HGB", share(func(x *tx) bool { return x.age >= 0 && x.age < 18 }, func(x *tx) bool { return x.ind == "IMD" || x.ind == "IEM" || x.ind == "HGB" }), 0.6, 0.95},
			{"children among AUTO MM", share(func(x *tx) bool { return x.age >= 0 && x.age < 18 }, func(x *tx) bool { return isAuto(x) && x.ind == "MM" }), 0, 0},
		}
		for _, c := range checks {
			t.Logf("%-32s %.3f", c.name, c.got)
			if c.got < c.lo || c.got > c.hi {
				t.Errorf("%s = %.3f, want %g to %g", c.name, c.got, c.lo, c.hi)
			}
		}
		centres := map[string]bool{}
		for _, x := range p.txs {
			centres[x.centre] = true
		}
		if len(centres) < 100 || len(centres) > 301 {
			t.Errorf("%d centres, want about 100 to 300", len(centres))
		}
		years := map[int]bool{}
		for _, x := range p.txs {
			years[x.date.Year()] = true
		}
		if len(years) < 14 {
			t.Errorf("transplants in %d calendar years, want about 15", len(years))
		}
	})

	subjects := cohort(p)

	t.Run("one-year survival", func(t *testing.T) {
		group := func(typ, donor, ind, status string) func(*subject) bool {
			return func(s *subject) bool {
				return (typ == "" || s.t.typ == typ) && (donor == "" || s.t.donor == donor) &&
					(ind == "" || s.t.ind == ind) && (status == "" || s.t.status == status)
			}
		}
		// The brief: 60-90% depending on the group, AUTO myeloma about
		// 90%, advanced AML and HAPLO lower. Published registry figures
		// (EBMT, CIBMTR) put AUTO myeloma at 90-95% and ALLO at 65-80%.
		checks := []struct {
			name                    string
			typ, donor, ind, status string
			lo, hi                  float64
		}{
			{"AUTO MM", "AUTO", "", "MM", "", 0.86, 0.96},
			{"AUTO", "AUTO", "", "", "", 0.84, 0.95},
			{"ALLO", "ALLO", "", "", "", 0.62, 0.82},
			{"ALLO AML early", "ALLO", "", "AML", "EARLY", 0.65, 0.88},
			{"ALLO AML advanced", "ALLO", "", "AML", "ADVANCED", 0.40, 0.70},
			{"ALLO MSD", "ALLO", "MSD", "", "", 0.65, 0.88},
			{"ALLO HAPLO", "ALLO", "HAPLO", "", "", 0.55, 0.80},
		}
		got := map[string]float64{}
		for _, c := range checks {
			s, n := os365(subjects, group(c.typ, c.donor, c.ind, c.status))
			got[c.name] = s
			t.Logf("OS(365) %-18s n=%5d %.3f", c.name, n, s)
			if s < c.lo || s > c.hi {
				t.Errorf("1-year OS of %s = %.3f, want %g to %g", c.name, s, c.lo, c.hi)
			}
		}
		for _, o := range [][2]string{{"ALLO AML advanced", "ALLO AML early"}, {"ALLO HAPLO", "ALLO MSD"}, {"ALLO", "AUTO MM"}} {
			if got[o[0]] >= got[o[1]] {
				t.Errorf("1-year OS of %s (%.3f) not below %s (%.3f)", o[0], got[o[0]], o[1], got[o[1]])
			}
		}
		// Every sizeable indication × type group lands in a plausible band.
		for _, typ := range specCodes["transplant_type"] {
			for _, ind := range specCodes["indication"] {
				s, n := os365(subjects, group(typ, "", ind, ""))
				if n < 150 {
					continue
				}
				t.Logf("OS(365) %s %-6s n=%5d %.3f", typ, ind, n, s)
				if s < 0.5 || s > 0.98 {
					t.Errorf("1-year OS of %s %s = %.3f, want 0.5 to 0.98", typ, ind, s)
				}
			}
		}
	})

	t.Run("endpoints have events", func(t *testing.T) {
		type count struct{ allo, auto int }
		counts := map[string]*count{}
		add := func(name string, s *subject, ok bool) {
			c := counts[name]
			if c == nil {
				c = &count{}
				counts[name] = c
			}
			if !ok {
				return
			}
			if s.t.typ == "ALLO" {
				c.allo++
			} else {
				c.auto++
			}
		}
		before := func(x, y int) bool { return x >= 0 && (y < 0 || x <= y) } // x happens, not after y
		for i := range subjects {
			s := &subjects[i]
			add("os", s, s.death >= 0)
			add("lfs", s, s.death >= 0 || s.relapse >= 0)
			add("relapse", s, s.relapse >= 0)
			add("nrm", s, s.death >= 0 && !before(s.relapse, s.death))
			add("neutrophil", s, before(s.neutrophil, s.death))
			add("platelet", s, before(s.platelet, s.death))
			add("infection", s, before(s.infection, s.death))
			add("toxicity", s, before(s.toxicity, s.death))
			add("agvhd24", s, before(s.agvhd2, s.death))
			add("agvhd34", s, before(s.agvhd3, s.death))
			add("cgvhd", s, before(s.cgvhd, s.death))
			add("grfs", s, s.death >= 0 || s.relapse >= 0 || s.agvhd3 >= 0 || s.cgvhdModSev >= 0)
		}
		alloOnly := []string{"agvhd24", "agvhd34", "cgvhd", "grfs"}
		names := make([]string, 0, len(counts))
		for k := range counts {
			names = append(names, k)
		}
		slices.Sort(names)
		if len(names) != 12 {
			t.Fatalf("%d endpoints, want the 12 of SPEC §3", len(names))
		}
		nAllo, nAuto := 0, 0
		for _, s := range subjects {
			if s.t.typ == "ALLO" {
				nAllo++
			} else {
				nAuto++
			}
		}
		for _, name := range names {
			c := counts[name]
			t.Logf("%-10s ALLO %5.1f%%  AUTO %5.1f%%", name, 100*float64(c.allo)/float64(nAllo), 100*float64(c.auto)/float64(nAuto))
			// At least 1% of the population, so every stratum of a
			// demo-sized extract has some.
			if float64(c.allo) < 0.01*float64(nAllo) {
				t.Errorf("%s: %d ALLO events", name, c.allo)
			}
			if !slices.Contains(alloOnly, name) && float64(c.auto) < 0.01*float64(nAuto) {
				t.Errorf("%s: %d AUTO events", name, c.auto)
			}
			if name != "grfs" && slices.Contains(alloOnly, name) && c.auto > 0 {
				t.Errorf("%s: %d AUTO events; GVHD is an ALLO complication", name, c.auto)
			}
		}
	})

	t.Run("same-day relapse and death", func(t *testing.T) {
		// A share of deaths from relapse come with the relapse on the death
		// day, as registries receive them (SPEC §3: a relapse, for nrm too).
		byID := map[string]*subject{}
		for i := range subjects {
			byID[subjects[i].t.id] = &subjects[i]
		}
		diseaseDeath := map[string]bool{"Relapse/progression": true, "Disease progression": true, "Relapse of original disease": true}
		deaths, sameDay := 0, 0
		for _, e := range p.evs {
			s := byID[e.id]
			if s == nil || e.event != "death" || e.day != s.death || !diseaseDeath[e.detail] || s.relapse < 0 {
				continue
			}
			deaths++
			if s.relapse == s.death {
				sameDay++
			}
		}
		share := float64(sameDay) / float64(deaths)
		t.Logf("deaths from relapse %d, with the relapse on the death day %d (%.3f)", deaths, sameDay, share)
		if deaths < 100 || share < 0.3 || share > 0.5 {
			t.Errorf("%d of %d deaths from relapse have the relapse on the death day (%.3f), want 30%% to 50%%", sameDay, deaths, share)
		}
	})

	t.Run("event plausibility", func(t *testing.T) {
		var neut []int
		gradeRise, agvhdRepeat := 0, 0
		lastAgvhd := map[string]int{}
		perTx := map[string]map[string]int{}
		for _, e := range p.evs {
			if perTx[e.id] == nil {
				perTx[e.id] = map[string]int{}
			}
			perTx[e.id][e.event]++
			switch e.event {
			case "neutrophil_engraftment":
				neut = append(neut, e.day)
			case "cgvhd":
				if e.day <= 100 {
					t.Errorf("%s: cgvhd on day %d, want after day 100", e.id, e.day)
				}
			case "agvhd":
				g := agvhdGrades[strings.ToUpper(e.grade)]
				if prev, ok := lastAgvhd[e.id]; ok {
					agvhdRepeat++
					if g > prev {
						gradeRise++
					}
				}
				lastAgvhd[e.id] = g
			}
			if tx := p.byID[e.id]; (e.event == "agvhd" || e.event == "cgvhd") && tx.typ != "ALLO" {
				t.Errorf("%s: %s after an AUTO transplant", e.id, e.event)
			}
		}
		slices.Sort(neut)
		if med := neut[len(neut)/2]; med < 10 || med > 30 {
			t.Errorf("median neutrophil engraftment day %d, want 10 to 30", med)
		}
		if gradeRise == 0 || agvhdRepeat == 0 {
			t.Errorf("no repeated agvhd rows with a rising grade")
		}
		deaths, twice := 0, 0
		for _, m := range perTx {
			if m["death"] > 0 {
				deaths++
			}
			if m["death"] > 1 || m["relapse"] > 1 || m["neutrophil_engraftment"] > 1 {
				twice++
			}
		}
		if deaths == 0 || twice > 0 {
			t.Errorf("%d transplants with deaths, %d with a repeated death, relapse or engraftment", deaths, twice)
		}
		t.Logf("median neutrophil day %d; %d agvhd follow-up rows, %d with a higher grade", neut[len(neut)/2], agvhdRepeat, gradeRise)
	})

	t.Run("second transplants", func(t *testing.T) {
		// The first transplant of a patient with two has a
		// second_transplant event on the second's date.
		byPatient := map[string][]*tx{}
		for i := range p.txs {
			x := &p.txs[i]
			byPatient[x.patient] = append(byPatient[x.patient], x)
		}
		secondEvent := map[string]string{}
		for _, e := range p.evs {
			if e.event == "second_transplant" {
				secondEvent[e.id] = e.date.Format("2006-01-02")
			}
		}
		kinds := map[string]int{}
		for _, xs := range byPatient {
			if len(xs) < 2 {
				continue
			}
			if len(xs) > 2 {
				t.Errorf("patient %s has %d transplants", xs[0].patient, len(xs))
				continue
			}
			first, second := xs[0], xs[1]
			if got, want := secondEvent[first.id], second.date.Format("2006-01-02"); got != want {
				t.Errorf("%s: second_transplant on %q, want %q (date of %s)", first.id, got, want, second.id)
			}
			kinds[first.typ+" then "+second.typ]++
		}
		t.Logf("second transplants: %v", kinds)
		if kinds["AUTO then ALLO"] == 0 || kinds["ALLO then ALLO"] == 0 || kinds["AUTO then AUTO"] == 0 {
			t.Errorf("second transplants %v, want AUTO→ALLO, ALLO→ALLO and tandem AUTO", kinds)
		}
	})

	t.Run("messy but valid values", func(t *testing.T) {
		lower, roman, quoted := 0, 0, 0
		for _, c := range p.rawTxCodes {
			if c != strings.ToUpper(c) {
				lower++
			}
		}
		for _, c := range p.rawEvCodes {
			if c != strings.ToLower(c) {
				lower++
			}
		}
		for _, g := range p.rawGrades {
			if strings.Trim(g, "IV") == "" && g != "" {
				roman++
			}
		}
		for _, d := range p.rawDetails {
			if strings.ContainsAny(d, `,"`) {
				quoted++
			}
		}
		t.Logf("codes in lower or mixed case %d, roman grades %d, details needing quotes %d", lower, roman, quoted)
		if lower == 0 || roman == 0 || quoted == 0 {
			t.Error("want some codes in other cases, roman grades and details that need quoting")
		}
	})
}
