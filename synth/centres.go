package synth

import (
	"fmt"
	"math/rand/v2"
)

// Centre effects (Options.CentreEffects) turn the extract into a test bed
// for the centre benchmark of SPEC §6. Centre sizes are Zipf-like in every
// extract (a few large centres, many small ones; paediatric patients go
// mostly to the 20 paediatric centres). With CentreEffects:
//
//   - Case mix differs by centre beyond that: half of the adult patients
//     aged 60 or more or with advanced disease are referred to the 30
//     largest adult centres (C001-C030, Zipf-weighted among them), which
//     therefore treat older and sicker patients than the rest.
//   - A seeded set of plantedCentres adult centres among C001-C080 has a
//     true effect: a hazard ratio on non-relapse mortality for every
//     transplant there, PlantedHR for the first half of the set (worse
//     centres) and 1/PlantedHR for the second (better). PlantedCentres
//     lists them for a seed.
//
// The extract stays a function of Options; without CentreEffects it is
// byte-identical to an extract written before centre effects existed.
const (
	plantedCentres = 10
	plantedPool    = 80 // planted centres are drawn from C001..C080
	referralPool   = 30 // older and advanced patients are referred to C001..C030
	PlantedHR      = 2.0
)

var referralCum = func() []float64 {
	cum := make([]float64, referralPool)
	copy(cum, adultCentreCum[:referralPool])
	return cum
}()

// PlantedCentres returns the centres with a true effect in an extract of
// the seed written with CentreEffects: centre id (C001...) → hazard ratio
// on non-relapse mortality.
func PlantedCentres(seed int64) map[string]float64 {
	out := map[string]float64{}
	for c, hr := range plantedSet(seed) {
		out[fmt.Sprintf("C%03d", c)] = hr
	}
	return out
}

func plantedSet(seed int64) map[int32]float64 {
	s := splitmix64(uint64(seed) ^ 0x63656e7472657321) // "centres!"
	r := rand.New(rand.NewPCG(splitmix64(s), splitmix64(s^0x5851f42d4c957f2d)))
	perm := r.Perm(plantedPool)[:plantedCentres]
	ids := make([]int, plantedCentres)
	for i, p := range perm {
		ids[i] = p + 1
	}
	out := map[int32]float64{}
	for i, c := range ids {
		hr := PlantedHR
		if i >= plantedCentres/2 {
			hr = 1 / PlantedHR
		}
		out[int32(c)] = hr
	}
	return out
}

// centreEffects applies the case-mix referral to a first transplant, and
// sets the planted hazard ratio of its centre.
func (g *generator) centreEffects(r *rand.Rand, t *txRec, referral bool) {
	if referral && t.centre < firstPaedCentre && (t.age() >= 60 || t.status == advanced) && bern(r, 0.5) {
		t.centre = 1 + int32(pick(r, referralCum))
	}
	t.nrmHR = g.planted[t.centre]
}
