// Command centrepower measures how often the centre benchmark (SPEC §6)
// flags the centres that marrow synth --centre-effects plants with a true
// effect (a hazard ratio of 2 or 1/2 on non-relapse mortality), and how
// often it flags the others (false alarms):
//
//	go run -tags duckdb_arrow ./scripts/centrepower [-n 100000] [-seeds 1,2,3,4,5]
//
// For each seed it writes the synthetic extract, runs the whole pipeline
// and reads results/centres.csv. A planted centre is detected when it is
// flagged in the direction of its effect (worse or worse95 for a hazard
// ratio of 2 — higher NRM, lower survival — better or better95 for 1/2),
// at the 95% level (any flag) and at 99.8% (better/worse only). A false
// alarm is any flag on an assessed centre without an effect. Only
// assessed centres count.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"marrow/pipeline"
	"marrow/synth"
)

type tally struct{ n, at95, at998 int }

func (t tally) String() string {
	if t.n == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d (%.0f%%) · %d/%d (%.0f%%)", t.at95, t.n, 100*float64(t.at95)/float64(t.n),
		t.at998, t.n, 100*float64(t.at998)/float64(t.n))
}

func main() {
	n := flag.Int("n", 100000, "transplants per extract")
	seedList := flag.String("seeds", "1,2,3,4,5", "comma-separated seeds")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "centrepower-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	type key struct{ typ, ep, kind string }
	tallies := map[key]*tally{}
	add := func(k key, flag string, want []string) {
		t := tallies[k]
		if t == nil {
			t = &tally{}
			tallies[k] = t
		}
		t.n++
		for _, w := range want {
			if flag == w || flag == w+"95" {
				t.at95++
			}
			if flag == w {
				t.at998++
			}
		}
	}
	for _, s := range strings.Split(*seedList, ",") {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(err)
		}
		dir := filepath.Join(tmp, s)
		ctx := context.Background()
		if _, err := synth.Write(ctx, filepath.Join(dir, "extract"), synth.Options{Transplants: *n, Seed: seed, CentreEffects: true}); err != nil {
			fail(err)
		}
		cfg := pipeline.DefaultConfig()
		if _, err := pipeline.Run(ctx, pipeline.RunOptions{Extract: filepath.Join(dir, "extract"), Out: filepath.Join(dir, "out"), Config: cfg}); err != nil {
			fail(err)
		}
		planted := synth.PlantedCentres(seed)
		rows := readCSV(filepath.Join(dir, "out", "results", "centres.csv"))
		for _, r := range rows {
			if r["flag"] == "not_assessed" {
				continue
			}
			hr, ok := planted[r["center_id"]]
			switch {
			case !ok:
				add(key{r["transplant_type"], r["endpoint"], "no effect: false alarm"}, r["flag"], []string{"better", "worse"})
			case hr > 1:
				add(key{r["transplant_type"], r["endpoint"], "HR 2: flagged worse"}, r["flag"], []string{"worse"})
			default:
				add(key{r["transplant_type"], r["endpoint"], "HR 0.5: flagged better"}, r["flag"], []string{"better"})
			}
		}
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "seed %d done\n", seed)
	}
	fmt.Printf("%d transplants, seeds %s; flagged/assessed at 95%% · at 99.8%%\n\n", *n, *seedList)
	fmt.Println("| type | endpoint | centres | flagged at 95% · at 99.8% |")
	fmt.Println("|---|---|---|---|")
	for _, typ := range []string{"ALLO", "AUTO"} {
		for _, ep := range []string{"nrm", "os"} {
			for _, kind := range []string{"HR 2: flagged worse", "HR 0.5: flagged better", "no effect: false alarm"} {
				if t := tallies[key{typ, ep, kind}]; t != nil {
					fmt.Printf("| %s | %s | %s | %s |\n", typ, ep, kind, t)
				}
			}
		}
	}
}

func readCSV(path string) []map[string]string {
	f, err := os.Open(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		fail(err)
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "centrepower:", err)
	os.Exit(1)
}
