package pipeline

import (
	"strings"

	"marrow/report"
)

// analysisData copies the declared analyses' estimates into the report,
// one section each (the built-in by_year is the report's own to use).
func (s *session) analysisData(d *report.Data) {
	for _, r := range s.analysisResults {
		if r.name == "by_year" {
			continue
		}
		ra := report.Analysis{Name: r.name, Title: r.title, Dims: r.dims, Landmarks: r.landmarks, Order: r.order}
		for _, e := range r.eps {
			re := report.AnalysisEndpoint{Name: e.Name, Label: e.Label, Estimator: report.EstimatorOf(e), Horizon: e.Horizon}
			for i, t := range r.est.tables {
				if t.Endpoint != e.Name {
					continue
				}
				c := r.est.curves[i]
				rc := report.AnalysisCurve{Groups: t.Groups, N: int(c.N)}
				for _, p := range c.Points {
					rc.Points = append(rc.Points, report.Point{Time: int(p.Time), NRisk: int(p.NRisk), NEvent: int(p.NEvent),
						Estimate: p.Estimate, Lower: p.Lower, Upper: p.Upper})
				}
				rc.Points = thinPoints(rc.Points, plotEnd(e.Horizon, r.landmarks))
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
