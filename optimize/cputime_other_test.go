//go:build !unix

package optimize

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
