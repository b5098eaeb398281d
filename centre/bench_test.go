package centre

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkBenchmark times one model on 500,000 transplants (the synth
// case's design resampled), the size of a type at 1,000,000 transplants.
func BenchmarkBenchmark(b *testing.B) {
	design := readTable(b, filepath.Join("..", "testdata", "centres", "synth", "want", "design.csv.gz"))
	c0, _ := cohortOf(b, design, "ALLO", NRM)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 500000
	c := Cohort{Covariates: make([]Covariate, len(c0.Covariates))}
	for k := range c.Covariates {
		c.Covariates[k].Name = c0.Covariates[k].Name
		c.Covariates[k].Levels = make([]string, n)
	}
	for i := 0; i < n; i++ {
		j := r.IntN(len(c0.Time))
		c.Centre = append(c.Centre, fmt.Sprintf("C%03d", r.IntN(200)))
		c.Time = append(c.Time, c0.Time[j])
		c.Status = append(c.Status, c0.Status[j])
		c.OSTime = append(c.OSTime, c0.OSTime[j])
		c.OSStatus = append(c.OSStatus, c0.OSStatus[j])
		for k := range c.Covariates {
			c.Covariates[k].Levels[i] = c0.Covariates[k].Levels[j]
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Benchmark(c, NRM, Options{Day: 365, MinCentre: 20}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
