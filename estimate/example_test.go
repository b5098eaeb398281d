package estimate_test

import (
	"fmt"

	"marrow/estimate"
)

// A stratum of six transplants: on day 30 a death and a censoring, on day
// 90 two deaths, on day 200 a censoring, on day 400 a death. S(100) =
// (5/6)(2/4) = 5/12, Greenwood se = S·sqrt(1/30 + 1/4); day 10 is before
// the first time (S = 1), day 500 after the last (not estimable).
func ExampleNewKaplanMeier() {
	rows := []estimate.RiskRow{
		{Time: 30, NRisk: 6, NEvent: 1, NCensor: 1},
		{Time: 90, NRisk: 4, NEvent: 2},
		{Time: 200, NRisk: 2, NCensor: 1},
		{Time: 400, NRisk: 1, NEvent: 1},
	}
	km, err := estimate.NewKaplanMeier(rows, estimate.LogLog)
	if err != nil {
		panic(err)
	}
	for _, l := range km.Landmarks([]int64{10, 100, 365, 500}) {
		fmt.Printf("day %3d  n_risk %d  n_events %d  S %.4f  se %.4f  CI %.4f–%.4f\n",
			l.Day, l.NRisk, l.NEvents, l.Estimate, l.StdErr, l.Lower, l.Upper)
	}
	m, _ := km.Median()
	fmt.Printf("median %v (%v, %v)\n", m.Median, m.Lower, m.Upper)
	// Output:
	// day  10  n_risk 6  n_events 0  S 1.0000  se 0.0000  CI NaN–NaN
	// day 100  n_risk 2  n_events 3  S 0.4167  se 0.2218  CI 0.0560–0.7665
	// day 365  n_risk 1  n_events 3  S 0.4167  se 0.2218  CI 0.0560–0.7665
	// day 500  n_risk 0  n_events 4  S NaN  se NaN  CI NaN–NaN
	// median 90 (30, NaN)
}

// Relapse with non-relapse death as the competing event, and Gray's test
// between two indications. F(365) = 1/5 + (3/5)(2/3) = 0.6; its cmprsk
// variance is 0.01 + 0.017778 + 0.04 (one term per event time).
func ExampleGray() {
	aml := []estimate.RiskRow{
		{Time: 60, NRisk: 5, NEvent: 1},
		{Time: 120, NRisk: 4, NCompete: 1},
		{Time: 300, NRisk: 3, NEvent: 2},
		{Time: 700, NRisk: 1, NCensor: 1},
	}
	all := []estimate.RiskRow{
		{Time: 45, NRisk: 4, NCompete: 1},
		{Time: 200, NRisk: 3, NEvent: 1, NCensor: 1},
		{Time: 500, NRisk: 1, NCensor: 1},
	}
	ci, err := estimate.NewCumulativeIncidence(aml)
	if err != nil {
		panic(err)
	}
	l := ci.At(365)
	fmt.Printf("relapse at 1 year: %.4f (se %.4f)\n", l.Estimate, l.StdErr)
	t, err := estimate.Gray([][]estimate.RiskRow{aml, all})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: chi2 %.4f on %d df, p %.4f\n", t.Method, t.Statistic, t.DF, t.PValue)
	// Output:
	// relapse at 1 year: 0.6000 (se 0.2603)
	// gray: chi2 0.2813 on 1 df, p 0.5958
}
