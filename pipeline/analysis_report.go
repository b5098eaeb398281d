package pipeline

import (
	"strconv"
	"strings"

	"marrow/report"
)

// trendDay is the day of the first page's trend estimates.
const trendDay = 365

// analysisData copies the declared analyses' estimates into the report,
// one section each; the built-in by_year gives the first page's trend.
func (s *session) analysisData(d *report.Data) {
	for _, r := range s.analysisResults {
		if r.name == "by_year" {
			s.trendData(d, r)
			continue
		}
		ra := report.Analysis{Name: r.name, Title: r.title, Subset: len(r.spec.Where) > 0, Dims: r.dims, Landmarks: r.landmarks, Order: r.order}
		for _, e := range r.eps {
			re := report.AnalysisEndpoint{Name: e.Name, Label: e.Label, Estimator: report.EstimatorOf(e), Population: e.Population, Horizon: e.Horizon}
			for i, t := range r.est.tables {
				if t.Endpoint != e.Name {
					continue
				}
				c := r.est.curves[i]
				rc := report.AnalysisCurve{Groups: t.Groups, N: int(c.N), Points: reportPoints(c.Points, plotEnd(e.Horizon, r.landmarks))}
				re.Curves = append(re.Curves, rc)
				for _, day := range r.landmarks {
					l := c.At(int64(day))
					re.Landmarks = append(re.Landmarks, report.AnalysisLandmark{Groups: t.Groups, Day: day, N: int(l.N),
						NRisk: int(l.NRisk), NEvents: int(l.NEvents), Estimate: l.Estimate, Lower: l.Lower, Upper: l.Upper})
				}
			}
			for _, t := range r.est.tests {
				if t.Endpoint == e.Name {
					re.Tests = append(re.Tests, report.AnalysisTest{Comparison: t.Comparison, Within: t.Within, Method: t.Method,
						Excluded: strings.Join(t.Excluded, ";"), Statistic: t.Statistic, PValue: t.PValue, DF: t.DF})
				}
			}
			ra.Endpoints = append(ra.Endpoints, re)
		}
		d.Analyses = append(d.Analyses, ra)
	}
}

// trendData is the first page's trend: 1-year OS and NRM per transplant
// type and year of transplant, read from the by_year analysis's curves
// (transplant_type × transplant_year, the results' estimators).
func (s *session) trendData(d *report.Data, r analysisResult) {
	for i, t := range r.est.tables {
		if t.Endpoint != "os" && t.Endpoint != "nrm" || len(t.Groups) != 2 || t.Groups[0] == "*" || t.Groups[1] == "*" {
			continue
		}
		year, err := strconv.Atoi(t.Groups[1])
		if err != nil {
			continue // no year: not on the trend's axis
		}
		c := r.est.curves[i]
		l := c.At(trendDay)
		d.Trend = append(d.Trend, report.TrendPoint{Endpoint: t.Endpoint, TransplantType: t.Groups[0], Year: year, Day: trendDay,
			N: int(c.N), Estimate: l.Estimate, Lower: l.Lower, Upper: l.Upper})
	}
}
