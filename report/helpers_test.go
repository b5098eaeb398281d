package report

import "math"

var nan = math.NaN()

func pt(t, nrisk, nevent int, est, lo, hi float64) Point {
	return Point{Time: t, NRisk: nrisk, NEvent: nevent, Estimate: est, Lower: lo, Upper: hi}
}

func lm(st Stratum, day, n, nrisk, nev int, est, se, lo, hi float64) Landmark {
	return Landmark{Stratum: st, Day: day, N: n, NRisk: nrisk, NEvents: nev, Estimate: est, StdErr: se, Lower: lo, Upper: hi}
}
