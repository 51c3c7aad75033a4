package transfer

import (
	"fmt"
	"math"
)

// checkStopImprovement checks Settings.StopImprovement: a fraction from 0
// (off, the notebook's) to below 1.
func checkStopImprovement(c *Config) error {
	if r := c.StopImprovement; math.IsNaN(r) || r < 0 || r >= 1 {
		return fmt.Errorf("%s: want a fraction from 0 (off) to below 1", formatFloat(r))
	}
	return nil
}

// improvedLessThan reports whether an outer iteration that took the loss from
// first to last lowered it by less than the fraction r of first; never when r
// is 0, so that the notebook runs every iteration.
func improvedLessThan(first, last, r float64) bool {
	return r > 0 && first > 0 && (first-last)/first < r
}
