package transfer

import (
	"math"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/memory"
)

func TestPlan(t *testing.T) {
	in := Inputs{Content: testImage(4000, 3000, 1), Style: testImage(600, 800, 2)}
	const gib = 1 << 30
	s := Defaults()
	s.LongSide = 2048
	s.Scales = []int{512, 1024}

	// The whole image fits a large limit.
	p, err := s.Plan(in, 1<<50)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 2048 || p.Height != 1536 || p.StyleWidth != 1536 || p.StyleHeight != 2048 || p.Tile != 0 || len(p.Scales) != 3 {
		t.Errorf("plan %+v", p)
	}
	if want := memory.Estimate(memory.TransferFast, 2048, 1536); p.Peak != want {
		t.Errorf("peak %d, want memory's estimate %d", p.Peak, want)
	}

	// Not in 8 GiB: the error suggests tiles.
	if _, err := s.Plan(in, 8*gib); err == nil || !strings.Contains(err.Error(), "tile auto") {
		t.Errorf("whole image in 8 GiB: %v, want a refusal suggesting --tile auto", err)
	}

	// Auto: the largest tile that fits.
	s.Tile = TileAuto
	p, err = s.Plan(in, 8*gib)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tile < tileAlign || p.Peak > 8*gib {
		t.Fatalf("auto tile %d, peak %d in 8 GiB", p.Tile, p.Peak)
	}
	if next := tiledPeak(p.Width, p.Height, p.Tile+tileAlign, p.Halo, 3, s.Optimizer); next <= 8*gib {
		t.Errorf("auto chose tiles of %d, but %d fit too (%d bytes)", p.Tile, p.Tile+tileAlign, next)
	}
	t.Logf("2048x1536 in 8 GiB: tiles of %d, %s", p.Tile, memory.Format(p.Peak))

	// Adam keeps three vectors where L-BFGS-B keeps about twenty-eight: 600
	// bytes less per pixel of the whole image, with the margin.
	s.Tile = 256
	lbfgs, err := s.Plan(in, 1<<50)
	if err != nil {
		t.Fatal(err)
	}
	s.Optimizer = OptimizerAdam
	adam, err := s.Plan(in, 1<<50)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := float64(lbfgs.Peak-adam.Peak), tiledMargin*600*2048*1536; math.Abs(got-want) > 2 {
		t.Errorf("Adam's tiled estimate %d bytes below L-BFGS-B's, want %.0f", lbfgs.Peak-adam.Peak, want)
	}
	s.Optimizer, s.Tile = OptimizerLBFGS, TileAuto

	// A limit below the smallest tile's need.
	if _, err := s.Plan(in, 100<<20); err == nil || !strings.Contains(err.Error(), "even tiles of 16 pixels need about") {
		t.Errorf("100 MiB: %v, want a refusal", err)
	}
	// A given tile too large for the limit.
	s.Tile = 2048
	if _, err := s.Plan(in, 8*gib); err == nil || !strings.Contains(err.Error(), "a smaller tile") {
		t.Errorf("tile 2048 in 8 GiB: %v, want a refusal", err)
	}
}

// TestTiledPeakMeasured holds the tiled estimate to scripts/benchmarks/bench_sizes.py's
// runs: peak RSS of one iteration of at most two evaluations (random weights at
// 256 with style layers to block3_conv3, a 32-pixel halo; HED's weights at 512
// and above with the notebook's layers, a 96-pixel halo).
func TestTiledPeakMeasured(t *testing.T) {
	cl, _ := layerIndex(NotebookContentLayer)
	for _, m := range []struct {
		side, tile, halo int
		opt              Optimizer
		peak             uint64
	}{
		{256, 64, 32, OptimizerLBFGS, 1_071_861_760},
		{256, 128, 32, OptimizerLBFGS, 1_079_685_120},
		{512, 256, 96, OptimizerLBFGS, 2_948_820_992},
		{1024, 512, 96, OptimizerLBFGS, 3_634_466_816},
		{2048, 512, 96, OptimizerLBFGS, 5_543_960_576},
		{4096, 512, 96, OptimizerAdam, 8_942_448_640},
	} {
		est := tiledPeak(m.side, m.side, m.tile, m.halo, cl, m.opt)
		ratio := float64(est) / float64(m.peak)
		t.Logf("%dx%d tiles of %d, %v: estimate %s, measured %s (%.3f)", m.side, m.side, m.tile, m.opt, memory.Format(est), memory.Format(m.peak), ratio)
		// The estimate must not fall below a measured peak; measured ratios
		// 1.01 to 1.77 (TensorFlow's share of a tile is not proportional to its
		// pixels, and the fit covers the costliest).
		if ratio < 1 || ratio > 1.8 {
			t.Errorf("%dx%d tiles of %d: estimate %d is %.2f of the measured %d", m.side, m.side, m.tile, est, ratio, m.peak)
		}
	}
}
