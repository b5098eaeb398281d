package synth

import (
	"math"
	"math/rand/v2"
	"slices"
)

// event is one events.csv row; day is days since the transplant.
type event struct {
	day    int32
	kind   uint8
	grade  uint8
	detail uint16
}

// outcome is a simulated follow-up.
type outcome struct {
	events  []event
	relapse bool // a relapse row was written
	plan    secondPlan
}

var inf = math.Inf(1)

// Non-relapse mortality has a Weibull cumulative hazard
// H(t) = λ (t/365)^nrmShape: a shape below 1 gives the falling hazard seen
// after transplant (most NRM in the first months, a long low tail).
const nrmShape = 0.45

// ltfuPerYear is the yearly hazard of loss to follow-up.
const ltfuPerYear = 0.015

// contactDays are the follow-up forms' days; later forms are yearly.
var contactDays = [...]float64{100, 180, 365, 730}

// simulate draws the follow-up of transplant t into o. With allowSecond,
// a second transplant may be planned (o.plan): the events then stop at its
// day with a second_transplant row, and the caller appends the patient's
// later relapse, death and contacts from the second transplant's outcome.
func simulate(r *rand.Rand, t *txRec, o *outcome, allowSecond bool) {
	o.events = o.events[:0]
	o.relapse = false
	o.plan = secondPlan{}

	ind := &indications[t.ind]
	isAllo := t.typ == allo
	var dm *donorModel
	if isAllo {
		dm = &donors[t.donor]
	}
	age := t.age()
	paed := age < 18

	admin := float64(extractDay-t.date) - uniform(r, 0, 90)
	admin = math.Max(admin, 0)
	ltfu := r.ExpFloat64() * 365 / ltfuPerYear

	// Engraftment. Primary graft failure: neutrophils never engraft.
	neutMed := 11.0
	switch {
	case isAllo && t.graft == cb:
		neutMed = 25
	case isAllo && t.graft == bm:
		neutMed = 20
	case isAllo:
		neutMed = 16
	case t.graft == bm:
		neutMed = 16
	}
	pGF := 0.004
	if isAllo {
		neutMed += dm.neutDelay
		pGF = dm.primaryGF
		if t.ind == saa || t.ind == hgb {
			pGF *= 1.8
		}
	}
	neut, plt, gf := inf, inf, inf
	gfPrimary := false
	if bern(r, pGF) {
		gf, gfPrimary = uniform(r, 25, 42), true
	} else {
		neut = math.Max(7, lognormal(r, neutMed, 0.2))
	}
	if neut < inf {
		pPlt, pltMed := 0.97, 5.0
		if isAllo {
			pPlt, pltMed = 0.92, 9
			switch t.graft {
			case cb:
				pPlt, pltMed = 0.80, 28
			case bm:
				pltMed = 14
			}
		}
		if bern(r, pPlt) {
			plt = neut + math.Max(1, lognormal(r, pltMed, 0.5))
		}
		pSecGF := 0.002
		if isAllo {
			pSecGF = 0.015
			if t.donor == cord || t.donor == haplo {
				pSecGF = 0.03
			}
		}
		if bern(r, pSecGF) {
			gf = neut + uniform(r, 20, 150)
		}
	}

	// Baseline non-relapse mortality.
	nrmMult := 1.0
	switch {
	case paed:
		nrmMult = 0.6
	case age < 40:
		nrmMult = 0.8
	case age < 60:
	case age < 70:
		nrmMult = 1.4
	default:
		nrmMult = 1.8
	}
	switch {
	case t.karn <= 70:
		nrmMult *= 1.5
	case t.karn == 80:
		nrmMult *= 1.15
	}
	switch {
	case t.hct >= 3:
		nrmMult *= 1.4
	case t.hct >= 1:
		nrmMult *= 1.1
	}
	if ind.malignant {
		nrmMult *= [3]float64{1, 1.1, 1.3}[t.status]
	}
	if isAllo && t.cond == mac && age >= 50 {
		nrmMult *= 1.3
	}
	if t.second {
		nrmMult *= 1.8
	}
	if t.nrmHR > 0 {
		nrmMult *= t.nrmHR // a planted centre effect (centres.go)
	}
	p1 := ind.nrmAuto1y
	if isAllo {
		p1 = dm.nrm1y * ind.nrmAlloMult
	}
	lambda := -math.Log1p(-p1) * nrmMult
	nrm := 365 * math.Pow(r.ExpFloat64()/lambda, 1/nrmShape)

	// Acute GVHD: onset around day 28, reported again as the grade rises.
	type row struct {
		t     float64
		grade uint8
	}
	var agRows [4]row
	nAg, agMax := 0, uint8(0)
	agDeath := inf
	cg, cgDeath := inf, inf
	var cgRows [2]row
	nCg := 0
	if isAllo && neut < inf {
		p := dm.agvhd
		switch t.graft {
		case pb:
			p *= 1.1
		case bm:
			p *= 0.9
		}
		if paed {
			p *= 0.7
		}
		if !ind.malignant {
			p *= 0.8
		}
		if bern(r, p) {
			onset := math.Max(math.Max(neut-3, 8), lognormal(r, 28, 0.45))
			agMax = uint8(1 + choose(r, 40, 37, 16, 7))
			g := agMax
			if agMax > 1 && bern(r, 0.5) {
				g = uint8(1 + r.IntN(int(agMax-1)))
			}
			for tt := onset; ; tt += uniform(r, 7, 25) {
				agRows[nAg] = row{tt, g}
				nAg++
				if g == agMax {
					break
				}
				g++
			}
			if (agMax == 3 && bern(r, 0.22)) || (agMax == 4 && bern(r, 0.5)) {
				agDeath = agRows[nAg-1].t + lognormal(r, 50, 0.7)
			}
		}

		// Chronic GVHD after day 100, more after acute GVHD and PB grafts.
		p = dm.cgvhd
		switch t.graft {
		case pb:
			p *= 1.2
		case bm:
			p *= 0.8
		}
		if agMax >= 2 {
			p *= 1.4
		}
		if paed {
			p *= 0.6
		}
		if bern(r, math.Min(p, 0.8)) {
			cg = 100 + lognormal(r, 90, 0.8)
			g := uint8(mild + choose(r, 40, 40, 20))
			cgRows[0] = row{cg, g}
			nCg = 1
			if g < severe && bern(r, 0.15) {
				cgRows[1] = row{cg + uniform(r, 60, 300), g + 1}
				nCg = 2
			}
			last := cgRows[nCg-1]
			if (last.grade == severe && bern(r, 0.2)) || (last.grade == moderate && bern(r, 0.04)) {
				cgDeath = last.t + lognormal(r, 300, 0.8)
			}
		}
	}

	// Relapse: a cure fraction, then a log-normal time.
	rel, relDeath := inf, inf
	pRel, relMed, postMed := ind.relAuto[t.status], ind.relMedAuto, ind.postRelMedAuto
	if isAllo {
		pRel, relMed, postMed = ind.relAllo[t.status], ind.relMedAllo, ind.postRelMedAllo
		switch t.cond {
		case ric, nma:
			pRel *= 1.2
		case mac:
			pRel *= 0.9
		}
	}
	if bern(r, math.Min(pRel, 0.95)) {
		rel = math.Max(21, lognormal(r, relMed, 0.8))
		if bern(r, ind.postRelDeath) {
			relDeath = rel + math.Max(1, lognormal(r, postMed, 0.9))
		}
	}

	// Graft failure leads to a second transplant or often to death.
	gfDeath := inf
	if gf < inf {
		pSecond := 0.4
		if gfPrimary {
			pSecond = 0.6
		}
		if allowSecond && bern(r, pSecond) {
			donor := [...]uint8{haplo, t.donor, mud, cord}[choose(r, 50, 25, 15, 10)]
			if !isAllo {
				donor = [...]uint8{haplo, mud, msd}[choose(r, 40, 40, 20)]
			}
			o.plan = secondPlan{secondGraftFailure, gf + uniform(r, 10, 45), allo, donor}
		} else if bern(r, 0.5) {
			gfDeath = gf + lognormal(r, 40, 0.6)
		}
	}
	if allowSecond && o.plan.reason == secondNone && rel < inf {
		p := ind.pSecondAfterRelapse
		switch {
		case age >= 65:
			p *= 0.3
		case age >= 55:
			p *= 0.6
		}
		if bern(r, p) {
			plan := secondPlan{reason: secondRelapse, day: rel + uniform(r, 60, 240), typ: allo}
			plan.donor = [...]uint8{haplo, mud, msd, mmud}[choose(r, 40, 35, 15, 10)]
			if t.ind == mm && !isAllo && bern(r, 0.7) {
				plan.typ, plan.donor = auto, 0
			}
			o.plan = plan
		}
	}
	if allowSecond && o.plan.reason == secondNone && !isAllo && t.ind == mm && bern(r, 0.05) {
		o.plan = secondPlan{secondTandem, uniform(r, 60, 180), auto, 0}
		if o.plan.day >= rel {
			o.plan = secondPlan{}
		}
	}

	// The first death wins; follow-up ends at death, loss or the extract.
	death, cause := nrm, uint8(causeNRM)
	for _, c := range [...]struct {
		t     float64
		cause uint8
	}{{agDeath, causeAGVHD}, {cgDeath, causeCGVHD}, {gfDeath, causeGF}, {relDeath, causeRelapse}} {
		if c.t < death {
			death, cause = c.t, c.cause
		}
	}
	end, endKind := death, endDeath
	if ltfu < end {
		end, endKind = ltfu, endLost
	}
	if admin < end {
		end, endKind = admin, endAdmin
	}
	if o.plan.reason != secondNone {
		if o.plan.day < end {
			end, endKind = o.plan.day, endSecond
		} else {
			o.plan = secondPlan{}
		}
	}

	add := func(tt float64, kind, grade uint8, detail uint16) {
		if tt <= end {
			o.events = append(o.events, event{int32(tt), kind, grade, detail})
		}
	}
	add(neut, evNeutrophil, gradeNone, dNone)
	add(plt, evPlatelet, gradeNone, dNone)
	if gf < inf {
		d := uint16(dGFPrimary)
		if !gfPrimary {
			d = [...]uint16{dGFSecondary, dGFPoor, dNone}[choose(r, 60, 25, 15)]
		}
		add(gf, evGraftFailure, gradeNone, d)
	}
	if nAg > 0 {
		organ := [...]uint16{dNone, dGvhdSkin, dGvhdSkinGut, dGvhdLiverGut}[choose(r, 70, 15, 10, 5)]
		for _, x := range agRows[:nAg] {
			g := x.grade
			if bern(r, 0.005) {
				g = gradeNone
			}
			add(x.t, evAgvhd, g, organ)
		}
	}
	if nCg > 0 {
		organ := [...]uint16{dNone, dCgvhdSkinMouth, dCgvhdLung, dCgvhdEyesMouth, dCgvhdLiver}[choose(r, 70, 12, 5, 9, 4)]
		for _, x := range cgRows[:nCg] {
			g := x.grade
			if bern(r, 0.01) {
				g = gradeNone
			}
			add(x.t, evCgvhd, g, organ)
		}
	}

	// Infections: most in the first 100 days, more after severe GVHD.
	mean := 0.6
	if isAllo {
		mean = dm.infections
		if agMax >= 3 {
			mean += 0.8
		}
	}
	for range poisson(r, mean) {
		tt := uniform(r, 2, 100)
		if bern(r, 0.35) {
			tt = 100 + 200*r.ExpFloat64()
		}
		add(tt, evInfection, gradeNone, infectionDetail(r, isAllo))
	}

	// Organ toxicity in the first weeks; VOD/SOS after myeloablation.
	pTox := 0.12
	if isAllo {
		pTox = [3]float64{0.22, 0.12, 0.06}[t.cond]
	}
	for k := 0; k < 2 && bern(r, pTox); k++ {
		add(uniform(r, 3, 35), evToxicity, gradeNone, toxicityDetail(r, isAllo && t.cond == mac, paed))
		pTox = 0.1
	}

	if rel <= end {
		o.relapse = true
		if endKind == endDeath && cause == causeRelapse && sameDayRelapse(t, death) {
			// The centre reports the relapse with the death form: the
			// relapse row carries the death day, as registries do.
			rel = death
		}
		add(rel, evRelapse, gradeNone, [...]uint16{dNone, dRelMolecular, dRelHaem, dRelCNS, dRelProgression}[choose(r, 70, 8, 12, 3, 7)])
	}
	if endKind == endDeath {
		d := deathDetail(r, cause, isAllo, death)
		if d >= dDeathInfBact && d <= dDeathCovid {
			// A patient dying of an infection had it reported first.
			add(math.Max(0, death-float64(r.IntN(8))), evInfection, gradeNone, infectionDetail(r, isAllo))
		}
		add(death, evDeath, gradeNone, d)
	}

	// Follow-up forms, skipped now and then; the final contact at loss or
	// administrative censoring.
	for k := 0; ; k++ {
		s := float64(365 * (k - len(contactDays) + 3))
		if k < len(contactDays) {
			s = contactDays[k]
		}
		s += uniform(r, -10, 10)
		if s >= end {
			break
		}
		if bern(r, 0.9) {
			add(s, evLastContact, gradeNone, contactDetail(r))
		}
	}
	switch endKind {
	case endDeath:
		// Registries mostly close follow-up with a contact on the day of
		// death; a few leave the earlier contact as the latest.
		if bern(r, 0.97) {
			add(end, evLastContact, gradeNone, dNone)
		}
	case endLost, endAdmin:
		add(end, evLastContact, gradeNone, contactDetail(r))
	case endSecond:
		d := uint16(dSecondAllo)
		switch {
		case o.plan.typ == auto && o.plan.reason == secondTandem:
			d = dSecondTandem
		case o.plan.typ == auto:
			d = dSecondAutoRelapse
		case o.plan.donor == haplo:
			d = dSecondAlloHaplo
		}
		if bern(r, 0.2) {
			d = dNone
		}
		add(end, evSecond, gradeNone, d)
	}
	slices.SortStableFunc(o.events, func(a, b event) int { return int(a.day - b.day) })
}

// sameDayRelapseShare is the share of deaths from relapse whose relapse is
// reported on the day of death (the relapse date is not known, or only the
// death form came in): in the EBMT's ebmt2 every death from relapse has its
// relapse on the death day; 40% is a registry where most centres send a
// relapse form first.
const sameDayRelapseShare = 0.4

// sameDayRelapse decides, with probability sameDayRelapseShare, whether a
// death from relapse is reported with its relapse on the death day. It
// hashes the transplant number and the simulated death time (a function
// of the seed) instead of drawing from the transplant's stream, so every
// other value of the extract is what it was before this rule.
func sameDayRelapse(t *txRec, death float64) bool {
	u := splitmix64(math.Float64bits(death) ^ uint64(t.num)*0x9e3779b97f4a7c15)
	return float64(u>>11)/(1<<53) < sameDayRelapseShare
}

// mergeSecond appends to the first transplant's outcome what the registry
// reports against it after the second transplant, gap days later: the
// first relapse (if the first had none), death and contacts.
func mergeSecond(first, second *outcome, gap int32) {
	relapse := first.relapse
	for _, e := range second.events {
		switch e.kind {
		case evRelapse:
			if relapse {
				continue
			}
			relapse = true
		case evDeath, evLastContact:
		default:
			continue
		}
		e.day += gap
		first.events = append(first.events, e)
	}
}

// Causes of death and why follow-up ended.
const (
	causeNRM = iota
	causeAGVHD
	causeCGVHD
	causeGF
	causeRelapse
)

const (
	endDeath = iota
	endLost
	endAdmin
	endSecond
)

func deathDetail(r *rand.Rand, cause uint8, isAllo bool, day float64) uint16 {
	if bern(r, 0.08) {
		return dNone
	}
	switch cause {
	case causeRelapse:
		return [...]uint16{dDeathRelapse, dDeathProgression, dDeathRelapseOf}[choose(r, 60, 25, 15)]
	case causeAGVHD:
		return [...]uint16{dDeathAGVHD, dDeathAGVHDGut}[choose(r, 70, 30)]
	case causeCGVHD:
		return [...]uint16{dDeathCGVHD, dDeathCGVHDLung}[choose(r, 70, 30)]
	case causeGF:
		return dDeathGF
	}
	gvhd := 0.0
	if isAllo {
		gvhd = 10
	}
	switch choose(r, 40, 15, gvhd, 35) {
	case 0:
		cmv := 0.0
		if isAllo {
			cmv = 15
		}
		return [...]uint16{dDeathInfBact, dDeathInfFungal, dDeathInfSepsis, dDeathCMV, dDeathCovid}[choose(r, 35, 25, 20, cmv, 5)]
	case 1:
		vod := 30.0
		if day > 60 {
			vod = 0
		}
		return [...]uint16{dDeathVOD, dDeathIPS, dDeathMOF}[choose(r, vod, 30, 40)]
	case 2:
		return [...]uint16{dDeathAGVHD, dDeathCGVHD}[choose(r, 50, 50)]
	}
	smn := 5.0
	if day > 730 {
		smn = 40
	}
	return [...]uint16{dDeathCardiac, dDeathSMN, dDeathHaem, dDeathUnknown, dDeathOther}[choose(r, 25, smn, 15, 20, 20)]
}

var (
	infAllo = [...]float64{20, 18, 14, 10, 5, 6, 4, 5, 4, 3, 2, 2, 3, 4, 3, 3}
	infAuto = [...]float64{3, 25, 22, 3, 3, 1, 1, 1, 6, 6, 4, 1, 6, 8, 1, 4}
)

func infectionDetail(r *rand.Rand, isAllo bool) uint16 {
	if bern(r, 0.1) {
		return dNone
	}
	w := infAuto[:]
	if isAllo {
		w = infAllo[:]
	}
	return uint16(dInfCMV + choose(r, w...))
}

func toxicityDetail(r *rand.Rand, mac, paed bool) uint16 {
	vod := 5.0
	if mac {
		vod = 25
		if paed {
			vod = 40
		}
	}
	return [...]uint16{dToxVOD, dToxMucositis, dToxAKI, dToxCardiac, dToxTMA, dToxHC, dToxIPS, dToxPRES, dToxLiver, dNone}[choose(r, vod, 25, 15, 8, 5, 6, 4, 3, 8, 8)]
}

func contactDetail(r *rand.Rand) uint16 {
	switch u := r.Float64(); {
	case u < 0.05:
		return dContactAlive
	case u < 0.08:
		return dContactCR
	}
	return dNone
}
