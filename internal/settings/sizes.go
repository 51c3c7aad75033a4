package settings

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// sizes are the run's final size: the notebook's W x H, or a long side.
var sizes = []Setting{
	{Name: "size", Kind: KindText, Category: CategoryNotebook, Sweep: true, Placeholder: "WxH",
		Usage: "`WxH` both images are resized to (aspect ratio not kept), or N for NxN",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.Width, c.Height, err = transfer.ParseSize(v)
			return err
		},
		Format: func(c *transfer.Config) string { return fmt.Sprintf("%dx%d", c.Width, c.Height) }},
	{Name: "long-side", Kind: KindInteger, Category: CategorySize, Sweep: true, Placeholder: "N",
		Usage:     "resize the content image to long side `N` keeping its aspect ratio, and the style image to long side N keeping its own (0: use --size); needs --graph fast",
		FormUsage: "resize the content image to long side N keeping its aspect ratio, and the style image to long side N keeping its own (0: use the size); needs the fast graph",
		Parse: func(c *transfer.Config, v string) (err error) {
			if c.LongSide, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return fmt.Errorf("%q: want a whole number of pixels", v)
			}
			return nil
		},
		Format: func(c *transfer.Config) string { return strconv.Itoa(c.LongSide) }},
}

// scales are coarse-to-fine runs and tiles: how a large size is reached.
var scales = []Setting{
	{Name: "scales", Kind: KindText, Category: CategorySize, List: true, Sweep: true, Advanced: true, Placeholder: "N,N,...",
		Usage: "coarse to fine: `N,N,...` are the long sides of runs before the final size, increasing (e.g. 512,1024), or fractions of its long side (e.g. 0.25,0.5; " +
			"one that comes to under 16 pixels is left out); each runs --iterations (or its --scale-iterations) and starts the next, upsampled",
		FormUsage: "coarse to fine: N,N,... are the long sides of runs before the final size, increasing (e.g. 512,1024), or fractions of its long side (e.g. 0.25,0.5; " +
			"one that comes to under 16 pixels is left out); each runs the iterations (or its scale iterations) and starts the next, upsampled",
		Parse: func(c *transfer.Config, v string) error {
			var ok bool
			c.ScaleFractions = nil
			if c.Scales, ok = parseInts(v); ok {
				return nil
			}
			c.Scales = nil
			if c.ScaleFractions, ok = parseFractions(v); !ok {
				return fmt.Errorf("%q: want long sides such as 512,1024, or fractions of the final size's such as 0.25,0.5", v)
			}
			return nil
		},
		Format: func(c *transfer.Config) string {
			if len(c.ScaleFractions) > 0 {
				return formatFloats(c.ScaleFractions)
			}
			return formatInts(c.Scales)
		}},
	{Name: "scale-iterations", Kind: KindText, Category: CategorySize, List: true, Sweep: true, Advanced: true, Placeholder: "N,N,...",
		Usage:     "coarse to fine: `N,N,...` outer iterations at each of --scales below the final size, one count each (the final size runs --iterations; empty: --iterations at every scale)",
		FormUsage: "coarse to fine: N,N,... outer iterations at each of the scales below the final size, one count each (the final size runs the iterations; empty: the iterations at every scale)",
		Parse: func(c *transfer.Config, v string) error {
			var ok bool
			if c.ScaleIterations, ok = parseInts(v); !ok || slices.ContainsFunc(c.ScaleIterations, func(n int) bool { return n < 1 || n > math.MaxInt32 }) {
				return fmt.Errorf("%q: want counts of at least 1 such as 6,3", v)
			}
			return nil
		},
		Format: func(c *transfer.Config) string { return formatInts(c.ScaleIterations) }},
	advanced(withFormUsage(choiceSetting("scale-content-weight", scaleContentUsage("--content-weight"),
		[]transfer.ScaleContent{transfer.ScaleContentFixed, transfer.ScaleContentArea}, func(s *transfer.Settings) *transfer.ScaleContent { return &s.ScaleContent }),
		scaleContentUsage("the content weight")), CategorySize),
	{Name: "tile", Kind: KindInteger, Category: CategorySize, Sweep: true, Advanced: true, Placeholder: "N",
		Usage: "evaluate the loss tile by tile, `N`xN pixels each plus a halo (a multiple of 16; 0: the whole image at once; auto: tiles only when the whole image does not fit in memory): the same numbers in less memory, for more work (a second forward pass, and halos up to 96 pixels wide)",
		Parse: func(c *transfer.Config, v string) (err error) {
			if strings.TrimSpace(v) == "auto" {
				c.Tile = transfer.TileAuto
				return nil
			}
			if c.Tile, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return fmt.Errorf("%q: want a whole number of pixels, or auto", v)
			}
			return nil
		},
		Format: func(c *transfer.Config) string {
			if c.Tile == transfer.TileAuto {
				return "auto"
			}
			return strconv.Itoa(c.Tile)
		}},
}

// scaleContentUsage is scale-content-weight's help, naming the content weight as weight.
func scaleContentUsage(weight string) string {
	return "coarse to fine: fixed (every scale weighs the content by " + weight + ") or area (a scale below the final size multiplies it by " +
		"the final size's area over its own: its content loss, a sum over positions, is that much smaller, while each style term is divided by " +
		"its layer's size): the coarser scales keep the final size's balance, and the final size reaches the notebook's loss in fewer evaluations"
}

// parseInts reads a comma-separated list of whole numbers, empty items
// skipped; nil for none. ok is false when an item is not a number.
func parseInts(v string) (out []int, ok bool) {
	for _, f := range SplitList(v) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// parseFractions reads numbers with a decimal point, such as 0.25,0.5 (a
// whole number is a long side: parseInts).
func parseFractions(v string) (out []float64, ok bool) {
	for _, f := range SplitList(v) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !strings.Contains(f, ".") {
			return nil, false
		}
		out = append(out, x)
	}
	return out, len(out) > 0
}

func formatFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

func formatInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
