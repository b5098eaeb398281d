package pipeline

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"marrow/centre"
	"marrow/report"
)

// centresReport reads results/centres.csv and results/centre_model.csv of
// dir (this run's, or an analyzed output's for marrow report) into the
// report's Centres; nil when the benchmark was not written.
func centresReport(dir string, minCentre int) (*report.Centres, error) {
	rows, err := readResultCSV(filepath.Join(dir, "centres.csv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	model, err := readResultCSV(filepath.Join(dir, "centre_model.csv"))
	if err != nil {
		return nil, err
	}
	c := &report.Centres{Day: centreDay, MinCentre: minCentre}
	panel := func(typ, ep string) *report.CentrePanel {
		for i := range c.Panels {
			if c.Panels[i].TransplantType == typ && c.Panels[i].Endpoint == ep {
				return &c.Panels[i]
			}
		}
		c.Panels = append(c.Panels, report.CentrePanel{TransplantType: typ, Endpoint: ep, Registry: math.NaN()})
		return &c.Panels[len(c.Panels)-1]
	}
	for _, typ := range []string{"ALLO", "AUTO"} {
		for _, ep := range []string{"os", "nrm"} {
			for _, m := range model {
				if m["transplant_type"] == typ && m["endpoint"] == ep {
					p := panel(typ, ep)
					t := report.CentreTerm{Covariate: m["covariate"], Level: m["level"], N: atoi(m["n"]),
						Estimate: atof(m["estimate"]), RobustSE: atof(m["robust_se"]), Rule: m["note"]}
					p.Model = append(p.Model, t)
				}
			}
			for _, r := range rows {
				if r["transplant_type"] != typ || r["endpoint"] != ep {
					continue
				}
				p := panel(typ, ep)
				n := atoi(r["n"])
				obs, se := atof(r["observed"]), atof(r["std_err"])
				p.Rows = append(p.Rows, report.CentreRow{
					Centre: r["center_id"], N: n, NEvents: atoi(r["n_events"]), Observed: obs, Expected: atof(r["expected"]),
					Lower95: atof(r["lower95"]), Upper95: atof(r["upper95"]), Lower998: atof(r["lower998"]), Upper998: atof(r["upper998"]),
					NEff: centre.EffectiveN(obs, se, int64(n)), Completeness: atof(r["completeness"]), Flag: r["flag"], Reason: r["reason"]})
			}
		}
	}
	for i := range c.Panels {
		c.Panels[i].Registry = registryLine(c.Panels[i].Rows)
	}
	return c, nil
}

// registryLine is the registry's overall expected value: the mean of the
// centres' expected values weighted by their transplants, i.e. the mean
// prediction over every transplant with a centre.
func registryLine(rows []report.CentreRow) float64 {
	var s, n float64
	for _, r := range rows {
		if !math.IsNaN(r.Expected) {
			s += r.Expected * float64(r.N)
			n += float64(r.N)
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

func readResultCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("report: %s: empty", path)
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atof(s string) float64 {
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}
