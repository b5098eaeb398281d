//go:build !unix

package pipeline

import "time"

// processCPU is not measured here: the stage logs then give 0.
func processCPU() time.Duration { return 0 }
