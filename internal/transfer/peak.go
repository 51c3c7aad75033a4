package transfer

import (
	"cmp"
	"fmt"

	"github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// TileAuto as Settings.Tile chooses the tile size from the memory available:
// the whole image when it fits, else the largest tile that does.
const TileAuto = -1

// Plan is what a run will do, known before the model loads: its settings,
// checked, the sizes of its scales, how it evaluates the loss, and its
// estimated peak memory (Prepare, plan.go); then the signatures it runs and its
// precision, checked against the model (Plan.Bind).
type Plan struct {
	// Settings are the run's, checked, with Tile auto resolved and, once Bind
	// has run, Precision auto.
	Settings                Settings
	Width, Height           int     // the final size (the content's shape with LongSide)
	StyleWidth, StyleHeight int     // the style image's at the final size
	Scales                  []int   // the long sides of its scales, the final one's last
	Iterations              []int   // the outer iterations at each scale
	PerScale                []Scale // each scale's sizes and iterations
	Tile                    int     // tile interior side; 0: the whole image at once
	Halo                    int     // pixels around each tile
	Styles                  int     // style images
	Masked                  bool    // each style applies where its mask is
	Signatures              []string
	Peak                    uint64
	Limit                   uint64 // the memory allowed
	LimitSource             string

	scaleSteps []step
	model      *tfgraph.Model // Bind's
}

// The tiled estimate: fixed + perPixel * the image's pixels + perTilePixel * the
// pixels of the largest tile with its halo, times tiledMargin.
//
// The fixed part is internal/memory's measured model of a whole-image fast
// evaluation. The per-pixel part is counted, not fitted: what the Go side keeps
// for every pixel of the whole image (tiledGoBytes). The per-tile-pixel part is
// fitted to the costliest tile measured, so that no measured peak is above the
// estimate: scripts/benchmarks/bench_sizes.py's peak RSS (one iteration of at most two
// evaluations; TestTiledPeakMeasured lists them) gave TensorFlow's share per
// pixel of the largest tile with its halo as 6,600 bytes at 4096x4096 with tiles
// of 512, but 9,700 at 512x512 with tiles of 256. The whole-image model's 6,638
// bytes per pixel left that run's estimate 9% under its peak; 7,830 covers it.
var (
	tiledFixed        = 760_207_067.0
	tiledPerTilePixel = 7830.0
)

// tiledMargin scales the tiled estimate as memory's margin scales its own.
const tiledMargin = 1.15

// tiledGoBytes is what the Go side of a tiled run keeps per pixel of the whole
// image: the iterate and gradient in float64 (48), the optimiser's vectors,
// the float32 copy the model reads (12), the prepared content and style images
// (24), decoded and resized images (about 10), and the content features of
// every tile, 4 * C / s^2 bytes at a content layer of C channels and stride s
// (128 for block2_conv2). L-BFGS-B keeps ten correction pairs (480) and about
// eight other vectors (192); Adam its two moments and the point evaluated last
// (72). At 16 megapixels that difference is 9.6 GB.
func tiledGoBytes(contentLayer int, opt Optimizer) float64 {
	s := 1 << (layerBlock(contentLayer) - 1)
	optimiser := 480.0 + 192
	if opt == OptimizerAdam {
		optimiser = 72
	}
	return 48 + optimiser + 12 + 24 + 10 + 4*float64(layerChannels[contentLayer])/float64(s*s)
}

// tiledPeak estimates the peak bytes of a tiled run on a w x h image.
func tiledPeak(w, h, tile, halo, contentLayer int, opt Optimizer) uint64 {
	tw, th := min(w, tile+2*halo), min(h, tile+2*halo)
	v := tiledFixed + tiledGoBytes(contentLayer, opt)*float64(w)*float64(h) + tiledPerTilePixel*float64(tw)*float64(th)
	return uint64(tiledMargin * v)
}

// Plan works out the run's sizes and memory before the model loads. limit is
// the memory the run may use (0: what memory.Available finds; LimitSource says
// which, and a caller may name its own source of limit there). A Tile of
// TileAuto is resolved here: Plan.Tile says what it became. A run that will not
// fit is an error saying what it needs and what would fit.
func (s *Settings) Plan(in Inputs, limit uint64) (Plan, error) {
	p, sizeErr, memErr := s.plan(in, limit, "")
	return p, cmp.Or(sizeErr, memErr)
}

// plan is Plan with its errors apart: sizeErr when the sizes cannot be worked
// out, memErr when the run does not fit limit, which source names ("": the
// limit given, or what memory.Available finds).
func (s *Settings) plan(in Inputs, limit uint64, source string) (p Plan, sizeErr, memErr error) {
	p = Plan{Limit: limit, LimitSource: cmp.Or(source, "the limit given")}
	if limit == 0 {
		p.Limit, p.LimitSource = memory.Available()
	}
	var err error
	if p.Width, p.Height, p.StyleWidth, p.StyleHeight, err = s.shapes(in); err != nil {
		return p, err, nil
	}
	p.Scales = s.ladder(max(p.Width, p.Height))
	p.Iterations = s.iterationsPerScale(max(p.Width, p.Height))
	p.Halo = tileHalo(deepestLayer(newWeightInputs(s)))
	cl, err := layerIndex(s.ContentLayer)
	if err != nil {
		return p, err, nil
	}
	whole := memory.Estimate(memory.TransferFast, p.Width, p.Height)
	if s.Graph == GraphRecipe {
		whole = memory.Estimate(memory.TransferRecipe, p.Width, p.Height)
	}
	switch {
	case s.Tile > 0:
		p.Tile, p.Peak = s.Tile, tiledPeak(p.Width, p.Height, s.Tile, p.Halo, cl, s.Optimizer)
	case s.Tile == TileAuto && whole > p.Limit:
		// The largest tile that fits; a tile past the image's sides is the image.
		for t := (max(p.Width, p.Height) + tileAlign - 1) / tileAlign * tileAlign; t >= tileAlign; t -= tileAlign {
			if peak := tiledPeak(p.Width, p.Height, t, p.Halo, cl, s.Optimizer); peak <= p.Limit {
				p.Tile, p.Peak = t, peak
				break
			}
		}
		if p.Tile == 0 {
			// The plan --dry-run prints is the smallest tile's, which
			// does not fit either (not "the whole image ... about 0 bytes").
			p.Tile, p.Peak = tileAlign, tiledPeak(p.Width, p.Height, tileAlign, p.Halo, cl, s.Optimizer)
			return p, nil, fmt.Errorf("size %dx%d: even tiles of %d pixels need about %s of memory, but %s is available (%s): choose a smaller size",
				p.Width, p.Height, tileAlign, memory.Format(p.Peak), memory.Format(p.Limit), p.LimitSource)
		}
	default:
		p.Peak = whole
	}
	if p.Peak > p.Limit {
		hint := "tile auto chooses tiles that fit"
		if p.Tile > 0 {
			hint = "a smaller tile, or tile auto, needs less"
		}
		return p, nil, fmt.Errorf("size %dx%d needs about %s of memory, but %s is available (%s): %s",
			p.Width, p.Height, memory.Format(p.Peak), memory.Format(p.Limit), p.LimitSource, hint)
	}
	return p, nil, nil
}
