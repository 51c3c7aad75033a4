// Package memory tells, before a model loads, whether a command will fit in the
// memory it may use: Estimate is the peak resident memory a workload needs at an
// image size (a fixed part plus a part per pixel, fitted to measured runs),
// Available is what the process may grow to (cgroup limit, the kernel's
// MemAvailable), and Check refuses with a message saying both. CheckWorkload
// also holds the address space a workload maps (EstimateAddress) to ulimit -v.
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
// sizes (scripts/experiments/measure_memory.py: GNU time's maximum resident set size, on the
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
	return scaled(m, width, height)
}

func scaled(m model, width, height int) uint64 {
	v := margin * (m.fixed + m.perPixel*float64(width)*float64(height))
	if v >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(v)
}

// addressModels are the peak address space (VmPeak, sampled every 20 ms) of
// runs at two sizes each, the line through them (memory_test.go). It grows several times faster than resident
// memory (TensorFlow's allocators map more than they touch, and each thread
// maps a stack and a malloc arena), so under ulimit -v a size fails long before
// its resident memory runs out. The fixed part grows with the thread count: it
// was measured with TensorFlow's default pools on 2 cores.
var addressModels = map[Workload]model{
	Features:       {fixed: 3_489_188_864, perPixel: 2883.95},
	TransferFast:   {fixed: 2_990_265_685, perPixel: 8954.67},
	TransferRecipe: {fixed: 3_156_064_939, perPixel: 11070.83},
}

// EstimateAddress is the peak address space, in bytes, that the workload maps
// on a width x height image; 0 for a workload without a measured model.
func EstimateAddress(w Workload, width, height int) uint64 {
	m, ok := addressModels[w]
	if !ok || width <= 0 || height <= 0 {
		return 0
	}
	return scaled(m, width, height)
}

// CheckWorkload checks the workload on a width x height image against every
// limit: its resident memory (Estimate) against Available, and its address
// space (EstimateAddress) against the address-space limit (ulimit -v).
func CheckWorkload(w Workload, width, height int) error {
	if err := Check(Estimate(w, width, height), 0); err != nil {
		return err
	}
	if limit, ok := AddressLimit(); ok {
		if need := EstimateAddress(w, width, height); need > limit {
			return &Error{Need: need, Limit: limit, Source: "the address-space limit (ulimit -v)", Address: true}
		}
	}
	return nil
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
	// Address is set when Need and Limit are address space, not resident memory.
	Address bool
}

func (e *Error) Error() string {
	if e.Address {
		return fmt.Sprintf("needs about %s of address space but %s allows %s",
			Format(e.Need), e.Source, Format(e.Limit))
	}
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
