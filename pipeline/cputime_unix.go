//go:build unix

package pipeline

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the whole process has used so
// far, DuckDB's threads included: the stage logs give it beside the wall
// time, which on a 2-core machine says how much of a stage ran in
// parallel.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
