package report

import (
	"flag"
	"testing"
)

var demoDir = flag.String("demo", "", "write a report of a simulated cohort to this directory (for scripts/browser-check.sh)")

// TestDemo writes the simulated report when -demo is given; it is how the
// browser check is tried on a full-size report without the pipeline.
func TestDemo(t *testing.T) {
	if *demoDir == "" {
		t.Skip("no -demo directory")
	}
	if err := Write(*demoDir, simData(1500, 7)); err != nil {
		t.Fatal(err)
	}
}
