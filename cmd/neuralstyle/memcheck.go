package main

import (
	"fmt"

	// Imported as mem: inspect.go has a function named memory.
	mem "github.com/neuralstyle/neuralstyle/internal/memory"
)

// checkMemory refuses, before the model loads, a workload on a width x height
// image that would not fit in the memory this process may use (see package
// memory). what says which work and the flag that sizes it ("--size 9000x9000:
// features"); remedy what to change.
func checkMemory(w mem.Workload, width, height int, what, remedy string) error {
	if err := mem.CheckWorkload(w, width, height); err != nil {
		return fmt.Errorf("%s %v; %s", what, err, remedy)
	}
	return nil
}
