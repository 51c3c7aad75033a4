package transfer

import "math"

// termTracker remembers the loss terms of each evaluation in one L-BFGS-B call by
// a hash of the point, so the terms at the point the call returns can be reported
// without evaluating it again. The returned point is always one that was
// evaluated: the last accepted iterate.
type termTracker struct {
	byPoint map[uint64]Terms
}

func newTermTracker() *termTracker { return &termTracker{byPoint: map[uint64]Terms{}} }

func (t *termTracker) record(x []float64, terms Terms) { t.byPoint[hashPoint(x)] = terms }

// at returns the terms recorded for x; NaN terms if x was never evaluated.
func (t *termTracker) at(x []float64) Terms {
	if terms, ok := t.byPoint[hashPoint(x)]; ok {
		return terms
	}
	nan := float32(math.NaN())
	return Terms{nan, nan, nan, nan, nan}
}

// hashPoint is FNV-1a over the values' bits, eight bytes at a time.
func hashPoint(x []float64) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range x {
		h ^= math.Float64bits(v)
		h *= 1099511628211
	}
	return h
}
