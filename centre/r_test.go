package centre

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The R cases of testdata/centres (testdata/r/centres.R): per benchmark
// transplant the banded covariates R used and survival::pseudo's
// pseudo-values, and R's centres and model tables.
var rCases = []string{"synth", "ebmt2c"}

var covariateNames = []string{"age", "indication", "disease_status", "donor_type", "graft_source",
	"conditioning", "karnofsky", "hct_ci", "sex", "transplant_year"}

func readTable(tb testing.TB, path string) []map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r *csv.Reader
	if filepath.Ext(path) == ".gz" {
		z, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatal(err)
		}
		r = csv.NewReader(z)
	} else {
		r = csv.NewReader(f)
	}
	recs, err := r.ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func num(tb testing.TB, s string) float64 {
	tb.Helper()
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestAgainstR runs Benchmark on R's design of each case and compares the
// pseudo-values (1e-9), coefficients and robust SEs (1e-6), the centres'
// observed estimates, std_err and completeness (1e-9), expected values and
// limits (1e-6), and counts, flags and reasons exactly.
func TestAgainstR(t *testing.T) {
	for _, name := range rCases {
		dir := filepath.Join("..", "testdata", "centres", name, "want")
		design := readTable(t, filepath.Join(dir, "design.csv.gz"))
		wantCentres := map[string]map[string]string{}
		for _, r := range readTable(t, filepath.Join(dir, "centres.csv")) {
			wantCentres[r["center_id"]+"/"+r["transplant_type"]+"/"+r["endpoint"]] = r
		}
		wantModel := map[string]map[string]string{}
		for _, r := range readTable(t, filepath.Join(dir, "centre_model.csv")) {
			wantModel[r["transplant_type"]+"/"+r["endpoint"]+"/"+r["term"]] = r
		}
		for _, typ := range []string{"ALLO", "AUTO"} {
			for _, ep := range []Endpoint{NRM, OS} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, typ, ep.Name), func(t *testing.T) {
					c, want := cohortOf(t, design, typ, ep)
					if len(c.Time) == 0 {
						t.Skip("no transplants of this type")
					}
					res, err := Benchmark(c, ep, Options{Day: 365, MinCentre: 20}, typ+" "+ep.Name)
					if err != nil {
						t.Fatal(err)
					}
					for i, w := range want {
						near(t, fmt.Sprintf("pseudo[%d]", i), res.Pseudo[i], w, 1e-9)
					}
					for k, term := range res.Model {
						w := wantModel[fmt.Sprintf("%s/%s/%d", typ, ep.Name, k+1)]
						if w == nil || w["covariate"] != term.Covariate || w["level"] != term.Level || w["note"] != term.Note {
							t.Fatalf("term %d: got %+v, R has %v", k+1, term, w)
						}
						near(t, "estimate "+term.Covariate+" "+term.Level, term.Estimate, num(t, w["estimate"]), 1e-6)
						near(t, "robust_se "+term.Covariate+" "+term.Level, term.RobustSE, num(t, w["robust_se"]), 1e-6)
						if term.Note == "" && strconv.FormatInt(term.N, 10) != w["n"] {
							t.Errorf("term %d n %d, R %s", k+1, term.N, w["n"])
						}
					}
					if w := wantModel[fmt.Sprintf("%s/%s/%d", typ, ep.Name, len(res.Model)+1)]; w != nil {
						t.Errorf("R has more terms: %v", w)
					}
					for _, r := range res.Centres {
						w := wantCentres[r.Centre+"/"+typ+"/"+ep.Name]
						if w == nil {
							t.Fatalf("centre %s not in R's answer", r.Centre)
						}
						delete(wantCentres, r.Centre+"/"+typ+"/"+ep.Name)
						what := r.Centre + " "
						if strconv.FormatInt(r.N, 10) != w["n"] || strconv.FormatInt(r.NEvents, 10) != w["n_events"] ||
							r.Flag != w["flag"] || r.Reason != w["reason"] {
							t.Errorf("%s: n %d events %d flag %s (%s); R %s %s %s (%s)", r.Centre, r.N, r.NEvents,
								r.Flag, r.Reason, w["n"], w["n_events"], w["flag"], w["reason"])
						}
						near(t, what+"observed", r.Observed, num(t, w["observed"]), 1e-9)
						near(t, what+"std_err", r.StdErr, num(t, w["std_err"]), 1e-9)
						near(t, what+"completeness", r.Completeness, num(t, w["completeness"]), 1e-9)
						near(t, what+"expected", r.Expected, num(t, w["expected"]), 1e-6)
						near(t, what+"lower95", r.Lower95, num(t, w["lower95"]), 1e-6)
						near(t, what+"upper95", r.Upper95, num(t, w["upper95"]), 1e-6)
						near(t, what+"lower998", r.Lower998, num(t, w["lower998"]), 1e-6)
						near(t, what+"upper998", r.Upper998, num(t, w["upper998"]), 1e-6)
					}
				})
			}
		}
		for k := range wantCentres {
			t.Errorf("%s: R's centre row %s not produced", name, k)
		}
	}
}

// cohortOf builds one type's Cohort from R's design and returns R's
// pseudo-values for the endpoint.
func cohortOf(tb testing.TB, design []map[string]string, typ string, ep Endpoint) (Cohort, []float64) {
	c := Cohort{Covariates: make([]Covariate, len(covariateNames))}
	for k, n := range covariateNames {
		c.Covariates[k].Name = n
	}
	var want []float64
	for _, r := range design {
		if r["transplant_type"] != typ {
			continue
		}
		c.Centre = append(c.Centre, r["center_id"])
		c.Time = append(c.Time, int64(num(tb, r[ep.Name+"_time"])))
		c.Status = append(c.Status, int8(num(tb, r[ep.Name+"_status"])))
		c.OSTime = append(c.OSTime, int64(num(tb, r["os_time"])))
		c.OSStatus = append(c.OSStatus, int8(num(tb, r["os_status"])))
		for k, n := range covariateNames {
			c.Covariates[k].Levels = append(c.Covariates[k].Levels, r[n])
		}
		want = append(want, num(tb, r["pseudo_"+ep.Name]))
	}
	return c, want
}
