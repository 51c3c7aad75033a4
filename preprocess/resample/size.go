package resample

import (
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// The notebook resizes both images to exactly W x H, ignoring their aspect
// ratios (pass those sizes to Resize directly). FitLongestSide is the other
// sizing: the longest side becomes n and the other keeps the aspect ratio.

// FitLongestSide returns the size of a w x h image scaled so that its longest
// side is n and its aspect ratio is kept as closely as whole pixels allow.
//
// The rounding is Pillow's Image.thumbnail((n, n)): the short side is the floor
// or the ceiling of n*short/long, whichever gives the aspect ratio
// (long/short, in float64) closer to the original's, the floor on a tie, and at
// least 1. For example 4000x3000 gives 512x384 for n = 512, and 1000x1 gives
// 100x1 for n = 100. Unlike thumbnail, FitLongestSide also enlarges (n above the
// longest side) with the same rule.
func FitLongestSide(w, h, n int) (int, int, error) {
	if err := preprocess.CheckSize(w, h, -1); err != nil {
		return 0, 0, fmt.Errorf("resample: fit %dx%d to longest side %d: %w", w, h, n, err)
	}
	if err := preprocess.CheckSize(n, n, -1); err != nil {
		return 0, 0, fmt.Errorf("resample: fit %dx%d to longest side %d: %w", w, h, n, err)
	}
	aspect := float64(w) / float64(h)
	size := float64(n)
	if aspect <= 1 {
		// Portrait or square: the height becomes n. Pillow compares
		// |aspect - width/n| for each candidate width.
		return roundAspect(size*aspect, func(v float64) float64 { return math.Abs(aspect - v/size) }), n, nil
	}
	// Landscape: the width becomes n; Pillow compares |aspect - n/height| (and
	// prefers a height of 0, which then becomes 1).
	return n, roundAspect(size/aspect, func(v float64) float64 {
		if v == 0 {
			return 0
		}
		return math.Abs(aspect - size/v)
	}), nil
}

// roundAspect picks floor(x) or ceil(x), whichever has the smaller key, floor
// on a tie, and at least 1.
func roundAspect(x float64, key func(float64) float64) int {
	lo, hi := math.Floor(x), math.Ceil(x)
	v := lo
	if key(hi) < key(lo) {
		v = hi
	}
	return max(int(v), 1)
}
