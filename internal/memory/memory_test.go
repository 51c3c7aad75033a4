package memory

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// measurement is one run of scripts/experiments/measure_memory.py: a square side and the
// peak RSS in bytes.
type measurement struct {
	side int
	peak float64
}

// measured are scripts/experiments/measure_memory.py's results on the development machine
// (x86-64, 2 cores, TensorFlow 2.18.1 CPU, default thread pools), 2026-11-28.
// Features ran --layer block5_pool, the whole network; transfer ran
// --iterations 1 --maxfun 2.
var measured = map[Workload][]measurement{
	Features:       {{256, 921821184}, {512, 1018695680}, {768, 1203068928}},
	TransferFast:   {{128, 853422080}, {256, 1220091904}, {384, 1729679360}},
	TransferRecipe: {{128, 900038656}, {256, 1311571968}, {384, 1963143168}},
}

// measuredAddress are the same runs' peak address space (VmPeak of
// /proc/PID/status, sampled every 20 ms), at two sizes each.
var measuredAddress = map[Workload][]measurement{
	Features:       {{256, 3678191616}, {768, 5190213632}},
	TransferFast:   {{128, 3136978944}, {256, 3577118720}},
	TransferRecipe: {{128, 3337449472}, {256, 3881603072}},
}

// TestAddressModelsFitMeasurements: the address-space models are the lines
// through the measurements, and each estimate is above them.
func TestAddressModelsFitMeasurements(t *testing.T) {
	for w, ms := range measuredAddress {
		fixed, perPixel := fit(ms)
		m := addressModels[w]
		if math.Abs(m.fixed-fixed) > 1 || math.Abs(m.perPixel-perPixel) > 0.01 {
			t.Errorf("%v: model %.0f + %.2f/pixel, the data fit %.0f + %.2f/pixel", w, m.fixed, m.perPixel, fixed, perPixel)
		}
		for _, x := range ms {
			if e := EstimateAddress(w, x.side, x.side); float64(e) < x.peak {
				t.Errorf("%v at %d: estimate %s below the measured %s", w, x.side, Format(e), Format(uint64(x.peak)))
			}
		}
	}
	// The case: features at 9000x9000 under ulimit -v 5 GB.
	if e := EstimateAddress(Features, 9000, 9000); e < 5e9 {
		t.Errorf("features at 9000x9000 maps %s, within 5 GB", Format(e))
	}
}

// fit is the least-squares line peak = fixed + perPixel * side².
func fit(ms []measurement) (fixed, perPixel float64) {
	var n, sx, sy, sxx, sxy float64
	for _, m := range ms {
		x := float64(m.side * m.side)
		n++
		sx += x
		sy += m.peak
		sxx += x * x
		sxy += x * m.peak
	}
	perPixel = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return (sy - perPixel*sx) / n, perPixel
}

// TestModelsFitMeasurements: the coefficients are the fit of the data (to the
// rounding they were written with), the fit is within 3% of every measurement
// (the largest residual is 2.0%, transfer fast at 256), and every estimate,
// margin included, is above what was measured.
func TestModelsFitMeasurements(t *testing.T) {
	for w, ms := range measured {
		fixed, perPixel := fit(ms)
		m := models[w]
		extra := 0.0
		if w == TransferFast || w == TransferRecipe {
			extra = lbfgsPairs
		}
		if math.Abs(m.fixed-fixed) > 1 || math.Abs(m.perPixel-extra-perPixel) > 0.01 {
			t.Errorf("%v: model %.0f + %.2f/pixel, the data fit %.0f + %.2f/pixel", w, m.fixed, m.perPixel-extra, fixed, perPixel)
		}
		for _, x := range ms {
			px := float64(x.side * x.side)
			if r := (fixed + perPixel*px - x.peak) / x.peak; math.Abs(r) > 0.03 {
				t.Errorf("%v at %d: fit off by %.1f%%", w, x.side, 100*r)
			}
			if e := Estimate(w, x.side, x.side); float64(e) < x.peak {
				t.Errorf("%v at %d: estimate %s below the measured %s", w, x.side, Format(e), Format(uint64(x.peak)))
			}
		}
	}
}

func TestEstimate(t *testing.T) {
	tests := []struct {
		w             Workload
		width, height int
		lo, hi        uint64 // bounds that follow from the models, in bytes
	}{
		// The case: features at 9000x9000 needs tens of GiB, not 5.
		{Features, 9000, 9000, 40 << 30, 60 << 30},
		{TransferFast, 512, 512, 2 << 30, 4 << 30},
		{TransferRecipe, 512, 512, 2 << 30, 4 << 30},
		{Features, 0, 10, 0, 0},
		{Workload(99), 10, 10, 0, 0},
	}
	for _, tt := range tests {
		got := Estimate(tt.w, tt.width, tt.height)
		if got < tt.lo || got > tt.hi {
			t.Errorf("Estimate(%v, %d, %d) = %s, want %s to %s", tt.w, tt.width, tt.height, Format(got), Format(tt.lo), Format(tt.hi))
		}
	}
	if a, b := Estimate(TransferRecipe, 256, 256), Estimate(TransferFast, 256, 256); a <= b {
		t.Errorf("recipe %s not above fast %s", Format(a), Format(b))
	}
}

func TestCheck(t *testing.T) {
	if err := Check(1<<30, 2<<30); err != nil {
		t.Errorf("1 GiB in 2 GiB: %v", err)
	}
	err := Check(50<<30, 5<<30)
	var e *Error
	if !errors.As(err, &e) || e.Need != 50<<30 || e.Limit != 5<<30 {
		t.Fatalf("50 GiB in 5 GiB: %v", err)
	}
	if want := "needs about 50.0 GiB of memory but only 5.0 GiB is available (the limit given)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// Against this machine: nothing needs an exabyte.
	if err := Check(math.MaxUint64-1, 0); err == nil || !strings.Contains(err.Error(), "is available (") {
		t.Errorf("an exabyte fits here: %v", err)
	}
}

func TestFormat(t *testing.T) {
	for b, want := range map[uint64]string{
		512: "512 bytes", 3 << 20: "3 MiB", 5 << 30: "5.0 GiB", 3 << 40: "3.0 TiB", math.MaxUint64: "unlimited",
	} {
		if got := Format(b); got != want {
			t.Errorf("Format(%d) = %q, want %q", b, got, want)
		}
	}
}
