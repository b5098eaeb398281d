package report

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// This file builds a realistic Data from a simulated cohort, for the
// rendering tests and the browser check. The estimators here are plain
// textbook versions good enough to draw plausible curves; the report does
// not estimate anything, so their exactness is not under test.

type simSubject struct {
	tt, donor, ind string
	// per endpoint: time (days) and status 0 censored, 1 event, 2 competing
	time   map[string]int
	status map[string]int
}

var simIndications = map[string][]string{
	"ALLO": {"AML", "ALL", "MDS", "CML", "MPN", "NHL", "SAA", "HGB", "IMD"},
	"AUTO": {"MM", "NHL", "HL", "AML", "SOLID"},
}

var simDonors = []string{"MSD", "MUD", "MMUD", "HAPLO", "CORD", "UNKNOWN"}

// simCohort draws n transplants with a fixed seed.
func simCohort(n int, seed uint64, inds map[string][]string) []simSubject {
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(xs []string, w []float64) string {
		u := rng.Float64() * w[len(w)-1]
		return xs[sort.SearchFloat64s(w, u)]
	}
	cum := func(ws ...float64) []float64 {
		out := make([]float64, len(ws))
		s := 0.0
		for i, w := range ws {
			s += w
			out[i] = s
		}
		return out
	}
	allo := cum(40, 18, 14, 3, 6, 8, 4, 3, 0.5)
	if k := len(inds["ALLO"]); k != 9 {
		ws := make([]float64, k)
		for i := range ws {
			ws[i] = 40 / float64(i+1)
		}
		allo = cum(ws...)
	}
	auto := cum(55, 25, 12, 1, 0.4)
	donors := cum(30, 35, 10, 18, 5, 2)
	subs := make([]simSubject, n)
	for i := range subs {
		s := simSubject{time: map[string]int{}, status: map[string]int{}}
		s.tt = "ALLO"
		if rng.Float64() < 0.45 {
			s.tt = "AUTO"
		}
		if s.tt == "ALLO" {
			s.ind = pick(inds["ALLO"], allo)
			s.donor = pick(simDonors, donors)
		} else {
			s.ind = pick(inds["AUTO"], auto)
		}
		risk := 1.0
		if s.tt == "ALLO" {
			risk = 1.3
		}
		if s.ind == "ALL" || s.ind == "MDS" {
			risk *= 1.4
		}
		fu := 30 + rng.Float64()*2500
		death := rng.ExpFloat64() * 2400 / risk
		relapse := rng.ExpFloat64() * 2000 / risk
		if s.ind == "SAA" || s.ind == "HGB" || s.ind == "IMD" {
			relapse = math.Inf(1)
		}
		set := func(ep string, event, compete float64) {
			t, st := fu, 0
			if event <= t && event <= compete {
				t, st = event, 1
			} else if compete <= t {
				t, st = compete, 2
			}
			s.time[ep], s.status[ep] = int(math.Round(t)), st
		}
		set("os", death, math.Inf(1))
		set("relapse", relapse, death)
		set("nrm", death, relapse)
		set("neutrophil", 10+rng.ExpFloat64()*8, death)
		if s.tt == "ALLO" {
			set("agvhd24", rng.ExpFloat64()*250, death)
		}
		subs[i] = s
	}
	return subs
}

// simEstimate is a textbook KM (Greenwood, log-log CI) or Aalen–Johansen
// curve with an approximate variance.
func simEstimate(times, status []int, km bool) Curve {
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	const z = 1.959963984540054
	c := Curve{N: len(times)}
	s, f, gw := 1.0, 0.0, 0.0
	r := len(times)
	for i := 0; i < len(idx); {
		t := times[idx[i]]
		d1, d2, m := 0, 0, 0
		for i < len(idx) && times[idx[i]] == t {
			switch status[idx[i]] {
			case 1:
				d1++
			case 2:
				d2++
			}
			m++
			i++
		}
		p := Point{Time: t, NRisk: r, NEvent: d1}
		if km {
			if d1 > 0 {
				s *= 1 - float64(d1)/float64(r)
				if r > d1 {
					gw += float64(d1) / float64(r*(r-d1))
				}
			}
			p.Estimate, p.Lower, p.Upper = s, math.NaN(), math.NaN()
			if s > 0 && s < 1 {
				e := z * math.Sqrt(gw) / math.Log(s)
				p.Lower, p.Upper = math.Pow(s, math.Exp(-e)), math.Pow(s, math.Exp(e))
			}
		} else {
			f += s * float64(d1) / float64(r)
			s *= 1 - float64(d1+d2)/float64(r)
			p.Estimate, p.Lower, p.Upper = f, math.NaN(), math.NaN()
			if f > 0 && f < 1 {
				sd := math.Sqrt(f * (1 - f) / float64(len(times)))
				e := z * sd / (f * math.Log(f))
				p.Lower, p.Upper = math.Pow(f, math.Exp(-e)), math.Pow(f, math.Exp(e))
			}
		}
		c.Points = append(c.Points, p)
		r -= m
	}
	return c
}

// simLandmark reads a curve at day t as SPEC §3.
func simLandmark(c *Curve, st Stratum, day int, km bool) Landmark {
	lm := Landmark{Stratum: st, Day: day, N: c.N, Estimate: math.NaN(), StdErr: math.NaN(), Lower: math.NaN(), Upper: math.NaN()}
	lm.NRisk = atRisk(c, day)
	est := 0.0
	if km {
		est = 1
	}
	lo, hi := math.NaN(), math.NaN()
	for _, p := range c.Points {
		if p.Time > day {
			break
		}
		lm.NEvents += p.NEvent
		est, lo, hi = p.Estimate, p.Lower, p.Upper
	}
	if len(c.Points) > 0 && day <= c.Points[len(c.Points)-1].Time {
		lm.Estimate, lm.Lower, lm.Upper = est, lo, hi
		lm.StdErr = 0.01
	}
	return lm
}

// simMedian finds the median and its limits as survfit does for a KM curve.
func simMedian(c *Curve, st Stratum) Median {
	m := Median{Stratum: st, N: c.N, Median: math.NaN(), Lower: math.NaN(), Upper: math.NaN()}
	for _, p := range c.Points {
		if empty(m.Median) && p.Estimate <= 0.5 {
			m.Median = float64(p.Time)
		}
		if empty(m.Lower) && !empty(p.Lower) && p.Lower <= 0.5 {
			m.Lower = float64(p.Time)
		}
		if empty(m.Upper) && !empty(p.Upper) && p.Upper <= 0.5 {
			m.Upper = float64(p.Time)
		}
	}
	return m
}

// simData builds a full Data from a simulated cohort of n transplants.
func simData(n int, seed uint64) *Data { return simDataWith(n, seed, simIndications) }

// simWide is a registry with 15 allogeneic indications.
func simWide(n int, seed uint64) *Data {
	inds := map[string][]string{
		"ALLO": {"AML", "ALL", "MDS", "CML", "MPN", "NHL", "SAA", "HGB", "IMD", "CLL", "HL", "MM", "PCD", "AL", "OTHER"},
		"AUTO": simIndications["AUTO"],
	}
	return simDataWith(n, seed, inds)
}

func simDataWith(n int, seed uint64, simIndications map[string][]string) *Data {
	subs := simCohort(n, seed, simIndications)
	d := &Data{
		Title:         "marrow registry outcomes (simulated)",
		Cutoff:        "2025-06-30",
		MarrowVersion: "0.1.0-test",
		DuckDBVersion: "v1.4.2",
		Config: Config{
			Landmarks: []int{100, 180, 365, 730, 1095, 1825},
			ConfType:  "log-log", MinCell: 10, Cohort: "first", MaxRejectRate: 0.01,
		},
	}
	type stratDef struct {
		st Stratum
		in func(s *simSubject) bool
	}
	var strata []stratDef
	add := func(tt, donor, ind string) {
		strata = append(strata, stratDef{Stratum{tt, donor, ind}, func(s *simSubject) bool {
			return (tt == "*" || s.tt == tt) && (donor == "*" || s.donor == donor) && (ind == "*" || s.ind == ind)
		}})
	}
	add("*", "*", "*")
	inds := map[string]bool{}
	for _, tt := range []string{"ALLO", "AUTO"} {
		add(tt, "*", "*")
		for _, ind := range simIndications[tt] {
			add(tt, "*", ind)
			inds[ind] = true
		}
	}
	var indList []string
	for ind := range inds {
		indList = append(indList, ind)
	}
	sort.Strings(indList)
	for _, ind := range indList {
		add("*", "*", ind)
	}
	for _, dn := range simDonors {
		add("ALLO", dn, "*")
		for _, ind := range simIndications["ALLO"] {
			add("ALLO", dn, ind)
		}
	}
	info := map[string]EndpointInfo{}
	for _, e := range StandardEndpoints() {
		info[e.Name] = e
	}
	for _, name := range []string{"os", "relapse", "nrm", "agvhd24", "neutrophil"} {
		in := info[name]
		e := Endpoint{Name: in.Name, Label: in.Label, Estimator: in.Estimator, Definition: in.Definition, Horizon: in.Horizon}
		km := e.KaplanMeier()
		for _, sd := range strata {
			if name == "agvhd24" && sd.st.TransplantType != "ALLO" {
				continue
			}
			var ts, ss []int
			for i := range subs {
				s := &subs[i]
				if _, ok := s.time[name]; ok && sd.in(s) {
					ts = append(ts, s.time[name])
					ss = append(ss, s.status[name])
				}
			}
			if len(ts) == 0 {
				continue
			}
			c := simEstimate(ts, ss, km)
			c.Stratum = sd.st
			e.Curves = append(e.Curves, c)
			for _, day := range d.Config.Landmarks {
				e.Landmarks = append(e.Landmarks, simLandmark(&c, sd.st, day, km))
			}
			if km {
				e.Medians = append(e.Medians, simMedian(&c, sd.st))
			}
		}
		method := "gray"
		if km {
			method = "logrank"
		}
		e.Tests = []Test{
			{Comparison: "indication", Within: "ALLO", Statistic: 31.4159, DF: 8, PValue: 0.000123, Method: method},
			{Comparison: "indication", Within: "AUTO", Statistic: 5.2, DF: 4, PValue: 0.267, Method: method},
			{Comparison: "transplant_type", Within: "AML", Statistic: 4.01, DF: 1, PValue: 0.0452, Method: method},
		}
		d.Endpoints = append(d.Endpoints, e)
	}

	d.Analyses = simAnalyses(subs, d.Config.Landmarks)

	// Summary by column: All, ALLO, AUTO.
	cols := []string{"*", "ALLO", "AUTO"}
	d.Summary.Columns = []string{"All", "ALLO", "AUTO"}
	inCol := func(s *simSubject, c string) bool { return c == "*" || s.tt == c }
	for _, c := range cols {
		k := 0
		for i := range subs {
			if inCol(&subs[i], c) {
				k++
			}
		}
		d.Summary.N = append(d.Summary.N, k)
		d.Summary.Age = append(d.Summary.Age, AgeSummary{Known: k, Median: 52.5, Min: 0.8, Max: 76, Q1: 41.2, Q3: 61})
	}
	variable := func(name string, levels []string, of func(s *simSubject) string) {
		v := Variable{Name: name}
		for _, lv := range levels {
			l := Level{Label: lv}
			for _, c := range cols {
				k := 0
				for i := range subs {
					if inCol(&subs[i], c) && of(&subs[i]) == lv {
						k++
					}
				}
				l.Counts = append(l.Counts, k)
			}
			v.Levels = append(v.Levels, l)
		}
		d.Summary.Variables = append(d.Summary.Variables, v)
	}
	variable("Indication", indList, func(s *simSubject) string { return s.ind })
	variable("Donor type", simDonors, func(s *simSubject) string { return s.donor })
	variable("Sex", []string{"F", "M"}, func(s *simSubject) string {
		if len(s.ind)%2 == 0 {
			return "F"
		}
		return "M"
	})
	d.FollowUp = []FollowUp{
		{TransplantType: "*", N: d.Summary.N[0], Median: 1210, Lower: 1150, Upper: 1302, Q1: 640, Q3: 1830, Eligible: n * 8 / 10, Complete: n * 7 / 10},
		{TransplantType: "ALLO", N: d.Summary.N[1], Median: 1190, Lower: 1101, Upper: 1290, Q1: 620, Q3: 1800, Eligible: d.Summary.N[1] * 8 / 10, Complete: d.Summary.N[1] * 7 / 10},
		{TransplantType: "AUTO", N: d.Summary.N[2], Median: 1250, Lower: 1160, Upper: 1351, Q1: 660, Q3: 1850, Eligible: d.Summary.N[2] * 8 / 10, Complete: d.Summary.N[2] * 7 / 10},
	}
	d.Ingest = Ingest{
		Files: []FileCount{
			{File: "transplants.csv", RowsRead: n + 15, RowsAccepted: n + 12, RowsRejected: 3, UnknownColumns: []string{"ward"}},
			{File: "events.csv", RowsRead: 4 * n, RowsAccepted: 4*n - 29, RowsRejected: 29},
		},
		Rejects: []RejectCount{
			{File: "transplants.csv", Column: "transplant_date", Reason: "invalid date", Count: 2},
			{File: "transplants.csv", Column: "indication", Reason: "unknown code", Count: 1},
			{File: "events.csv", Column: "event_date", Reason: "invalid date", Count: 4},
			{File: "events.csv", Column: "transplant_id", Reason: "unknown transplant", Count: 25},
		},
		Quality: []FlagCount{
			{Flag: "agvhd_without_grade", Count: 7, Centres: []CentreCount{{"C01", 4}, {"C02", 2}, {"C03", 1}}},
			{Flag: "no_events", Count: n / 40, Centres: []CentreCount{{"C01", n / 80}, {"C04", n/40 - n/80 - 12}, {"C02", 9}, {"C03", 3}}},
			{Flag: "two_deaths", Count: 1, Centres: []CentreCount{{"C02", 1}}},
			{Flag: "value_out_of_range", Count: 40, Centres: []CentreCount{{"C05", 35}, {"C06", 5}}},
		},
	}
	d.Flow = Flow{Known: true, Accepted: n + 12, Later: 9, AfterCutoff: 3, Analysed: n}
	d.Config.MinGroup = 10
	// A plausible trend: 1-year OS and NRM per year, both types.
	rng := rand.New(rand.NewPCG(seed, 2))
	for year := 2012; year <= 2024; year++ {
		for _, tt := range []string{"ALLO", "AUTO"} {
			k := 20 + rng.IntN(n/20+1)
			os := 0.72 + 0.01*float64(year-2012) + 0.04*rng.NormFloat64()
			nrm := 0.2 - 0.006*float64(year-2012) + 0.02*rng.NormFloat64()
			if tt == "AUTO" {
				os, nrm = os+0.08, nrm/2
			}
			for _, p := range []struct {
				ep  string
				est float64
			}{{"os", os}, {"nrm", nrm}} {
				se := math.Sqrt(p.est * (1 - p.est) / float64(k))
				d.Trend = append(d.Trend, TrendPoint{Endpoint: p.ep, TransplantType: tt, Year: year, Day: 365, N: k,
					Estimate: p.est, Lower: math.Max(0, p.est-1.96*se), Upper: math.Min(1, p.est+1.96*se)})
			}
		}
	}
	return d
}

// simAnalyses are two declared analyses of the simulated cohort: one of
// every transplant by transplant type × year (whose pooled strata are the
// default analysis's), one of a subset by a centre with more than six
// groups (small multiples).
func simAnalyses(subs []simSubject, landmarks []int) []Analysis {
	year := func(i int) string { return strconv.Itoa(2012 + (i*7+i/5)%9) }
	centre := func(i int) string { return "C" + strconv.Itoa(1+(i*13)%8) }
	type def struct {
		a   Analysis
		dim func(i int, s *simSubject) []string // the subject's groups, nil if not in the analysis
	}
	defs := []def{
		{Analysis{Name: "by_type_year", Title: "By type and year", Dims: []string{"transplant_type", "transplant_year"}, Landmarks: landmarks},
			func(i int, s *simSubject) []string { return []string{s.tt, year(i)} }},
		{Analysis{Name: "centre", Title: "Allogeneic by centre", Subset: true, Dims: []string{"center_id"}, Landmarks: landmarks},
			func(i int, s *simSubject) []string {
				if s.tt != "ALLO" {
					return nil
				}
				return []string{centre(i)}
			}},
	}
	var out []Analysis
	for _, df := range defs {
		a := df.a
		for _, name := range []string{"os", "nrm"} {
			e := AnalysisEndpoint{Name: name, Label: name, Estimator: EstimatorCI, Population: "all"}
			km := name == "os"
			if km {
				e.Estimator = EstimatorKM
			}
			strata := map[string][]int{}
			var order []string
			for i := range subs {
				g := df.dim(i, &subs[i])
				if g == nil {
					continue
				}
				// Every combination of pooled and real groups.
				for mask := 0; mask < 1<<len(g); mask++ {
					sg := make([]string, len(g))
					for d := range g {
						sg[d] = "*"
						if mask&(1<<d) != 0 {
							sg[d] = g[d]
						}
					}
					k := strings.Join(sg, "\x00")
					if _, ok := strata[k]; !ok {
						order = append(order, k)
					}
					strata[k] = append(strata[k], i)
				}
			}
			sort.Strings(order)
			for _, k := range order {
				var ts, ss []int
				for _, i := range strata[k] {
					ts = append(ts, subs[i].time[name])
					ss = append(ss, subs[i].status[name])
				}
				c := simEstimate(ts, ss, km)
				g := strings.Split(k, "\x00")
				e.Curves = append(e.Curves, AnalysisCurve{Groups: g, N: c.N, Points: c.Points})
				for _, day := range landmarks {
					lm := simLandmark(&c, Stratum{}, day, km)
					e.Landmarks = append(e.Landmarks, AnalysisLandmark{Groups: g, Day: day, N: lm.N, NRisk: lm.NRisk,
						NEvents: lm.NEvents, Estimate: lm.Estimate, Lower: lm.Lower, Upper: lm.Upper})
				}
			}
			a.Endpoints = append(a.Endpoints, e)
		}
		out = append(out, a)
	}
	return out
}
