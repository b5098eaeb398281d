package synth

import (
	"math"
	"math/rand/v2"
	"sort"

	"marrow/internal/civil"
)

// Calendar of the synthetic registry (days since 1970-01-01).
var (
	firstTxDay = civil.Days(2010, 1, 1)
	lastTxDay  = civil.Days(2025, 3, 31)
	extractDay = civil.Days(2025, 6, 30)
)

// Centres C001..C200; the last 20 are paediatric. Sizes are Zipf-like.
const (
	nCentres        = 200
	nPaedCentres    = 20
	firstPaedCentre = nCentres - nPaedCentres + 1
)

var adultCentreCum, paedCentreCum = func() ([]float64, []float64) {
	zipf := func(n int) []float64 {
		cum := make([]float64, n)
		s := 0.0
		for i := range n {
			s += 1 / math.Pow(float64(i+1), 0.9)
			cum[i] = s
		}
		return cum
	}
	return zipf(nCentres - nPaedCentres), zipf(nPaedCentres)
}()

// Centre habits: some write GVHD grades in roman numerals, a few write
// codes in lower case.
func romanCentre(c int32) bool { return c%6 == 0 }
func lowerCentre(c int32) bool { return c%29 == 0 }

// Missing-value bits of txRec.miss.
const (
	missCentre = 1 << iota
	missDonor
	missGraft
	missStatus
	missCond
	missAge
	missSex
	missKarn
	missHct
)

// txRec is one transplant row.
type txRec struct {
	num, patient int64 // transplant and patient numbers (T…, P…)
	centre       int32
	date         int32 // days since 1970-01-01
	typ, donor   uint8
	graft, ind   uint8
	status, cond uint8
	sex          uint8
	ageTenths    int32
	karn, hct    int8
	miss         uint16
	second       bool    // the patient's second transplant
	nrmHR        float64 // CentreEffects: the centre's NRM hazard ratio (0 = none)
}

func (t *txRec) age() float64 { return float64(t.ageTenths) / 10 }

// ageModel draws an age in years: paediatric (below 18) with probability
// pPaed, else adult, each a normal truncated to its range.
type ageModel struct {
	pPaed              float64
	adultMean, adultSD float64
	paedMean, paedSD   float64
	adultMin, adultMax float64
}

// indication holds what the simulation needs to know per indication.
// Probabilities of relapse are "ever" (cure-fraction) by disease status
// early, intermediate, advanced; medians are days.
type indication struct {
	malignant           bool
	wAllo, wAuto        float64 // share among ALLO / AUTO transplants (relative)
	ageAllo, ageAuto    ageModel
	relAllo, relAuto    [3]float64
	relMedAllo          float64 // median day of relapse
	relMedAuto          float64
	postRelDeath        float64 // probability that relapse leads to death
	postRelMedAllo      float64 // median days from relapse to death
	postRelMedAuto      float64
	nrmAuto1y           float64 // 1-year NRM after AUTO
	nrmAlloMult         float64 // multiplier of the donor's ALLO NRM
	pSecondAfterRelapse float64 // chance of a second transplant after relapse
}

func adult(mean, sd float64) ageModel { return ageModel{0, mean, sd, 0, 0, 18, 78} }
func mixed(p, mean, sd, pm, psd float64) ageModel {
	return ageModel{p, mean, sd, pm, psd, 18, 78}
}

var indications = [nInd]indication{
	aml: {true, 36, 1, mixed(0.10, 53, 13, 9, 5), adult(48, 12),
		[3]float64{0.22, 0.32, 0.48}, [3]float64{0.45, 0.55, 0.65}, 170, 240, 0.82, 160, 250, 0.03, 1.0, 0.18},
	all: {true, 13, 0.3, mixed(0.35, 35, 14, 8, 4.5), adult(40, 12),
		[3]float64{0.22, 0.32, 0.50}, [3]float64{0.5, 0.6, 0.7}, 220, 240, 0.8, 150, 200, 0.03, 1.0, 0.18},
	cml: {true, 2, 0, mixed(0.05, 45, 13, 12, 4), adult(45, 12),
		[3]float64{0.12, 0.25, 0.40}, [3]float64{0.4, 0.5, 0.6}, 300, 300, 0.5, 500, 500, 0.03, 1.0, 0.08},
	cll: {true, 1.5, 0.4, adult(57, 8), adult(56, 8),
		[3]float64{0.25, 0.32, 0.42}, [3]float64{0.5, 0.6, 0.7}, 400, 600, 0.6, 600, 700, 0.03, 1.1, 0.05},
	mds: {true, 10, 0, mixed(0.04, 60, 10, 10, 5), adult(55, 10),
		[3]float64{0.20, 0.30, 0.42}, [3]float64{0.4, 0.5, 0.6}, 200, 200, 0.85, 150, 150, 0.03, 1.1, 0.10},
	mpn: {true, 5, 0, mixed(0.01, 58, 8, 10, 5), adult(55, 10),
		[3]float64{0.15, 0.22, 0.35}, [3]float64{0.3, 0.4, 0.5}, 300, 300, 0.7, 250, 250, 0.03, 1.3, 0.10},
	nhl: {true, 5.5, 25, mixed(0.03, 50, 12, 12, 4), mixed(0.01, 54, 12, 12, 4),
		[3]float64{0.20, 0.28, 0.40}, [3]float64{0.25, 0.35, 0.50}, 200, 220, 0.65, 250, 300, 0.03, 1.1, 0.25},
	hl: {true, 2.5, 10, mixed(0.05, 30, 9, 15, 2), mixed(0.04, 31, 10, 15, 2),
		[3]float64{0.25, 0.35, 0.45}, [3]float64{0.20, 0.30, 0.45}, 220, 240, 0.45, 450, 500, 0.02, 1.0, 0.25},
	mm: {true, 2, 52, adult(52, 8), adult(59, 8),
		[3]float64{0.40, 0.50, 0.60}, [3]float64{0.60, 0.72, 0.85}, 450, 700, 0.88, 500, 600, 0.05, 1.2, 0.17},
	saa: {false, 4.5, 0, mixed(0.40, 28, 12, 10, 5), adult(30, 10),
		[3]float64{0.03, 0.03, 0.03}, [3]float64{}, 200, 200, 0.3, 200, 200, 0.03, 0.9, 0.1},
	imd: {false, 3, 0, mixed(0.90, 25, 10, 2.5, 3), adult(30, 10),
		[3]float64{0.02, 0.02, 0.02}, [3]float64{}, 200, 200, 0.3, 300, 300, 0.03, 1.0, 0.1},
	iem: {false, 1.5, 0, mixed(0.95, 20, 5, 1.5, 1.5), adult(30, 10),
		[3]float64{0.03, 0.03, 0.03}, [3]float64{}, 250, 250, 0.2, 400, 400, 0.03, 0.9, 0.1},
	hgb: {false, 4.5, 0, mixed(0.75, 22, 6, 8, 4.5), adult(30, 10),
		[3]float64{0.04, 0.04, 0.04}, [3]float64{}, 200, 200, 0.1, 400, 400, 0.03, 0.6, 0.1},
	solid: {true, 0.2, 6, mixed(0.6, 30, 10, 8, 5), mixed(0.7, 30, 9, 4, 3.5),
		[3]float64{0.5, 0.5, 0.6}, [3]float64{0.35, 0.45, 0.60}, 250, 240, 0.85, 250, 300, 0.04, 1.0, 0.02},
	otherInd: {true, 2.5, 4, mixed(0.2, 40, 15, 8, 5), mixed(0.05, 38, 12, 12, 4),
		[3]float64{0.15, 0.18, 0.25}, [3]float64{0.25, 0.30, 0.40}, 300, 400, 0.4, 400, 400, 0.03, 1.0, 0.05},
}

// Donor-dependent rates for ALLO.
type donorModel struct {
	wAdult, wPaed float64 // share of ALLO adult / paediatric transplants
	nrm1y         float64 // baseline 1-year NRM (before GVHD and graft-failure deaths)
	agvhd         float64 // any acute GVHD
	cgvhd         float64 // any chronic GVHD
	primaryGF     float64 // primary graft failure
	infections    float64 // mean number of infections
	neutDelay     float64 // extra days to neutrophil engraftment
}

var donors = [nDonors]donorModel{
	msd:        {25, 30, 0.07, 0.38, 0.35, 0.015, 1.2, 0},
	mud:        {40, 30, 0.09, 0.48, 0.38, 0.025, 1.4, 0},
	mmud:       {8, 8, 0.13, 0.58, 0.42, 0.04, 1.6, 1},
	haplo:      {20, 17, 0.12, 0.42, 0.28, 0.05, 1.7, 2},
	cord:       {5, 13, 0.14, 0.45, 0.18, 0.10, 2.0, 0},
	otherDonor: {2, 2, 0.10, 0.45, 0.33, 0.03, 1.4, 1},
}

var (
	indCumAllo, indCumAuto [nInd]float64
	donorCumAdult          [nDonors]float64
	donorCumPaed           [nDonors]float64
)

func init() {
	var a, u float64
	for i, ind := range indications {
		a += ind.wAllo
		u += ind.wAuto
		indCumAllo[i], indCumAuto[i] = a, u
	}
	var s, p float64
	for i, d := range donors {
		s += d.wAdult
		p += d.wPaed
		donorCumAdult[i], donorCumPaed[i] = s, p
	}
}

// pick draws an index from cumulative weights.
func pick(r *rand.Rand, cum []float64) int {
	u := r.Float64() * cum[len(cum)-1]
	return sort.SearchFloat64s(cum, u) // first cum ≥ u
}

// choose draws from explicit weights (a short list).
func choose(r *rand.Rand, w ...float64) int {
	s := 0.0
	for _, x := range w {
		s += x
	}
	u := r.Float64() * s
	for i, x := range w {
		u -= x
		if u < 0 {
			return i
		}
	}
	return len(w) - 1
}

func bern(r *rand.Rand, p float64) bool { return r.Float64() < p }

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// poisson draws a Poisson count by Knuth's method (small means only).
func poisson(r *rand.Rand, mean float64) int {
	l := math.Exp(-mean)
	k, p := 0, r.Float64()
	for p > l {
		k++
		p *= r.Float64()
	}
	return k
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// newTransplant draws the characteristics of a patient's first transplant.
func newTransplant(r *rand.Rand, t *txRec, num int64) {
	*t = txRec{num: num, patient: num}
	// Activity grows over time: density ∝ 1 + x on [0, 1).
	x := math.Sqrt(1+3*r.Float64()) - 1
	t.date = firstTxDay + int32(x*float64(lastTxDay-firstTxDay+1))
	if t.date > lastTxDay {
		t.date = lastTxDay
	}
	if bern(r, 0.57) {
		t.typ = allo
		t.ind = uint8(pick(r, indCumAllo[:]))
	} else {
		t.typ = auto
		t.ind = uint8(pick(r, indCumAuto[:]))
	}
	ind := &indications[t.ind]
	am := ind.ageAllo
	if t.typ == auto {
		am = ind.ageAuto
	}
	var age float64
	if bern(r, am.pPaed) {
		age = clamp(am.paedMean+am.paedSD*r.NormFloat64(), 0.1, 17.9)
	} else {
		age = clamp(am.adultMean+am.adultSD*r.NormFloat64(), am.adultMin, am.adultMax)
	}
	t.ageTenths = int32(age * 10)
	paed := age < 18

	t.sex = male
	if t.ind == hgb || t.ind == iem {
		if bern(r, 0.5) {
			t.sex = female
		}
	} else if bern(r, 0.42) {
		t.sex = female
	}

	if paed && bern(r, 0.8) {
		t.centre = firstPaedCentre + int32(pick(r, paedCentreCum))
	} else {
		t.centre = 1 + int32(pick(r, adultCentreCum))
	}

	if t.typ == allo {
		if paed {
			t.donor = uint8(pick(r, donorCumPaed[:]))
		} else {
			t.donor = uint8(pick(r, donorCumAdult[:]))
		}
		t.graft = alloGraft(r, t.donor, paed || t.ind == saa)
	} else {
		t.graft = pb
		if bern(r, 0.01) {
			t.graft = bm
		}
	}

	switch {
	case !ind.malignant:
		t.status = early
		if bern(r, 0.6) {
			t.miss |= missStatus
		}
	case t.ind == otherInd:
		t.status = uint8(choose(r, 50, 30, 20))
		if bern(r, 0.6) {
			t.miss |= missStatus
		}
	case t.ind == mm:
		t.status = uint8(choose(r, 40, 42, 18))
	default:
		t.status = uint8(choose(r, 50, 28, 22))
	}

	t.cond = conditioning(r, t.typ, t.ind, age)
	t.karn = karnofsky(r, age)
	mean := 0.6 + age/40
	if paed {
		mean = 0.5
	}
	t.hct = int8(min(poisson(r, mean), 10))
	t.missing(r)
}

func alloGraft(r *rand.Rand, donor uint8, bmFirst bool) uint8 {
	switch {
	case donor == cord:
		return cb
	case donor == haplo:
		if bern(r, 0.3) {
			return bm
		}
		return pb
	case bmFirst:
		if bern(r, 0.65) {
			return bm
		}
		return pb
	default:
		if bern(r, 0.15) {
			return bm
		}
		return pb
	}
}

func conditioning(r *rand.Rand, typ, ind uint8, age float64) uint8 {
	switch {
	case typ == auto:
		if bern(r, 0.04) {
			return ric
		}
		return mac
	case ind == saa:
		return uint8(choose(r, 15, 70, 15))
	case age < 18:
		return uint8(choose(r, 75, 22, 3))
	case age < 50:
		return uint8(choose(r, 65, 30, 5))
	default:
		return uint8(choose(r, 25, 60, 15))
	}
}

func karnofsky(r *rand.Rand, age float64) int8 {
	k := int8(100 - 10*choose(r, 25, 45, 20, 7, 2, 1))
	if age > 60 && k > 50 && bern(r, 0.3) {
		k -= 10
	}
	return k
}

// missing blanks a small share of the optional values.
func (t *txRec) missing(r *rand.Rand) {
	for _, m := range [...]struct {
		bit uint16
		p   float64
	}{
		{missCentre, 0.003}, {missGraft, 0.01}, {missStatus, 0.02}, {missCond, 0.015},
		{missAge, 0.003}, {missSex, 0.002}, {missKarn, 0.04}, {missHct, 0.08},
	} {
		if bern(r, m.p) {
			t.miss |= m.bit
		}
	}
	if t.typ == allo && bern(r, 0.005) {
		t.miss |= missDonor
	}
}

// Why a second transplant is planned.
const (
	secondNone = iota
	secondGraftFailure
	secondRelapse
	secondTandem
)

// secondPlan is a second transplant decided while simulating the first.
type secondPlan struct {
	reason uint8
	day    float64 // days after the first transplant
	typ    uint8
	donor  uint8
}

// newSecond draws the characteristics of a patient's second transplant,
// plan.day days after first.
func newSecond(r *rand.Rand, first, t *txRec, plan secondPlan) {
	*t = *first
	t.num = first.num + 1
	t.second = true
	gap := int32(plan.day)
	t.date = first.date + gap
	t.ageTenths += gap * 10 / 365
	t.typ, t.donor = plan.typ, plan.donor
	t.miss &^= missDonor | missGraft | missCond
	if bern(r, 0.1) {
		t.centre = 1 + int32(pick(r, adultCentreCum))
	}
	paed := t.age() < 18
	if t.typ == allo {
		t.graft = alloGraft(r, t.donor, paed)
	} else {
		t.graft = pb
	}
	switch plan.reason {
	case secondGraftFailure:
		t.cond = uint8(choose(r, 10, 60, 30))
	case secondRelapse:
		if indications[t.ind].malignant {
			t.status = uint8(1 + choose(r, 40, 60))
		}
		t.cond = uint8(choose(r, 30, 60, 10))
		if t.typ == auto {
			t.cond = mac
		}
	}
	if t.karn > 60 && bern(r, 0.5) {
		t.karn -= 10
	}
	if bern(r, 0.3) {
		t.hct++
	}
	t.missing(r)
}
