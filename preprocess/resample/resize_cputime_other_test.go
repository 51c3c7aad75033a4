//go:build !unix

package preprocess

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
