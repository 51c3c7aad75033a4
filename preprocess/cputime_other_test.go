//go:build !unix

package preprocess_test

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
