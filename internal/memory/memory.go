// Package memory tells, before a model loads, whether a command will fit in the
// memory it may use: Estimate is the peak resident memory a workload needs at an
// image size (a fixed part plus a part per pixel, fitted to measured runs),
// Available is what the process may grow to (cgroup limit, ulimit -v, the
// kernel's MemAvailable), and Check refuses with a message saying both.
//
// A refusal up front matters because TensorFlow's CPU kernels (oneDNN) abort the
// process when an allocation fails, and the kernel's OOM killer ends it without a
// word: neither gives the user an error to act on.
package memory

import (
	"fmt"
	"math"
)

// Workload is a computation whose peak memory Estimate knows.
type Workload int

const (
	// Features is the features command: the classifier model's features
	// signature (VGG16's convolutions, up to block5_pool at most) on one image.
	Features Workload = iota
	// TransferFast is a transfer with the fast graph in float32.
	TransferFast
	// TransferRecipe is a transfer with the notebook's recipe graph (a batch of
	// three images per evaluation) in float32.
	TransferRecipe
)

func (w Workload) String() string {
	switch w {
	case Features:
		return "features"
	case TransferFast:
		return "transfer (fast graph)"
	case TransferRecipe:
		return "transfer (recipe graph)"
	}
	return fmt.Sprintf("memory.Workload(%d)", int(w))
}

// model is a workload's peak resident memory: fixed + perPixel * width * height
// bytes.
type model struct{ fixed, perPixel float64 }

// The models are least-squares fits to the peak RSS of runs at three square
// sizes (scripts/measure_memory.py: GNU time's maximum resident set size, on the
// CPU, TensorFlow 2.18.1, random weights, which take the bytes ImageNet's do;
// the data and the fit are in memory_test.go, which checks one against the
// other). The fixed part is mostly TensorFlow's runtime and the weights: 58 MB
// for the style model, 553 MB for the classifier.
//
// Transfer was measured with one iteration of at most two evaluations, which
// touches at most one of L-BFGS-B's ten correction pairs; the model adds the
// other pairs' bytes, lbfgsPairs, which a full run fills.
var models = map[Workload]model{
	Features:       {fixed: 882_982_327, perPixel: 539.11},
	TransferFast:   {fixed: 760_207_067, perPixel: 6637.89 + lbfgsPairs},
	TransferRecipe: {fixed: 772_665_929, perPixel: 8094.81 + lbfgsPairs},
}

// lbfgsPairs is the bytes per pixel of L-BFGS-B's ten (s, y) correction pairs:
// 2 x 10 float64 vectors of 3 values per pixel.
const lbfgsPairs = 2 * 10 * 3 * 8

// margin scales every estimate: runs differ from the measured ones in thread
// count (per-thread buffers) and in the Go collector's timing.
const margin = 1.15

// Estimate is the peak resident memory, in bytes, that the workload needs on an
// image of width x height pixels. An unknown workload estimates 0.
func Estimate(w Workload, width, height int) uint64 {
	m, ok := models[w]
	if !ok || width <= 0 || height <= 0 {
		return 0
	}
	v := margin * (m.fixed + m.perPixel*float64(width)*float64(height))
	if v >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(v)
}

// Check returns nil when need fits in limit, and otherwise an error saying how
// much is needed and how much there is. A limit of 0 means Available().
func Check(need, limit uint64) error {
	source := "the limit given"
	if limit == 0 {
		limit, source = Available()
	}
	if need <= limit {
		return nil
	}
	return &Error{Need: need, Limit: limit, Source: source}
}

// Error is Check's refusal.
type Error struct {
	Need, Limit uint64
	Source      string // what set Limit, e.g. "the cgroup's memory.max 5.0 GiB"
}

func (e *Error) Error() string {
	return fmt.Sprintf("needs about %s of memory but only %s is available (%s)",
		Format(e.Need), Format(e.Limit), e.Source)
}

// Format writes a byte count for people: 512 MiB, 5.0 GiB.
func Format(b uint64) string {
	const (
		mib = 1 << 20
		gib = 1 << 30
	)
	switch {
	case b == math.MaxUint64:
		return "unlimited"
	case b >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(b)/(1<<40))
	case b >= gib:
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	case b >= mib:
		return fmt.Sprintf("%d MiB", (b+mib/2)/mib)
	}
	return fmt.Sprintf("%d bytes", b)
}
