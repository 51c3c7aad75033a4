package main

// The package is imported as mem: inspect.go has a function named memory.
import (
	"fmt"

	mem "github.com/neuralstyle/neuralstyle/internal/memory"
)

// checkMemory refuses, before the model loads, a workload on a w x h image that
// would not fit in the memory this process may use (see package memory), naming
// the flag that sets the size.
func checkMemory(wl mem.Workload, w, h int, flag string) error {
	if err := mem.Check(mem.Estimate(wl, w, h), 0); err != nil {
		return fmt.Errorf("%s %dx%d: %s %v; give a smaller %s", flag, w, h, wl, err, flag)
	}
	return nil
}
