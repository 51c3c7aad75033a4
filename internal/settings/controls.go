package settings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// controls are the controls users of jcjohnson/neural-style reach for (issue
// 12): several styles blended or masked, style scale, a starting image, colour
// preservation, Adam and average pooling. Sweeps take them all: a point's files
// (several styles, masks, a starting image) are hashed into its key like its
// content and style.
var controls = []Setting{
	{Name: "style-blend", Kind: KindText, Category: CategoryControls, List: true, Sweep: true, SeveralStyles: true, Advanced: true, Placeholder: "WEIGHTS",
		Usage: "comma-separated weights of the --style images' Gram matrices, one per image (normalised to sum 1; default equal)",
		Parse: func(c *transfer.Config, v string) error {
			c.StyleBlend = nil
			for _, f := range SplitList(v) {
				w, err := strconv.ParseFloat(f, 64)
				if err != nil {
					return fmt.Errorf("%q: %q is not a number", v, f)
				}
				c.StyleBlend = append(c.StyleBlend, w)
			}
			return nil
		},
		Format: func(c *transfer.Config) string {
			parts := make([]string, len(c.StyleBlend))
			for i, w := range c.StyleBlend {
				parts[i] = formatFloat(w)
			}
			return strings.Join(parts, ",")
		}},
	{Name: "style-scale", Kind: KindNumber, Category: CategoryControls, Sweep: true, Advanced: true, Placeholder: "S",
		Usage:     "resize the style images to S times --size (their Gram targets scaled to the content's size)",
		FormUsage: "resize the style image to S times the size (its Gram targets scaled to the content's size)",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.StyleScale, err = parseFloat(v)
			return err
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.StyleScale) }},
	{Name: "style-mask", Kind: KindFile, Category: CategoryControls, List: true, Sweep: true, Advanced: true, Placeholder: "FILES", Role: "style mask",
		Usage:  "comma-separated greyscale image files, one per --style image: where each style applies (white)",
		Parse:  func(c *transfer.Config, v string) error { c.StyleMask = SplitList(v); return nil },
		Format: func(c *transfer.Config) string { return strings.Join(c.StyleMask, ",") }},
	{Name: "init-image", Kind: KindFile, Category: CategoryControls, Sweep: true, Advanced: true, Placeholder: "FILE", Role: "starting image",
		Usage:  "starting image file for --init image, resized to --size",
		Parse:  func(c *transfer.Config, v string) error { c.InitImage = strings.TrimSpace(v); return nil },
		Format: func(c *transfer.Config) string { return c.InitImage }},
	{Name: "original-colors", Kind: KindBool, Category: CategoryControls, Sweep: true,
		Usage: "keep the content's colours: the result's luminance with the content's chroma (YUV)",
		Parse: func(c *transfer.Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			c.OriginalColors = b
			return nil
		},
		Format: func(c *transfer.Config) string { return strconv.FormatBool(c.OriginalColors) }},
	control(choiceSetting("color-transfer", "none, luminance (transfer on luminance only, the style's matched to the content's, then the content's chroma) or histogram (the style's colours matched to the content's first)",
		[]transfer.ColorTransfer{transfer.ColorNone, transfer.ColorLuminance, transfer.ColorHistogram},
		func(s *transfer.Settings) *transfer.ColorTransfer { return &s.ColorTransfer })),
	control(withFormUsage(choiceSetting("optimizer", "lbfgs (the notebook's L-BFGS-B) or adam (--iterations x --maxfun steps of one evaluation, rate --learning-rate)",
		[]transfer.Optimizer{transfer.OptimizerLBFGS, transfer.OptimizerAdam}, func(s *transfer.Settings) *transfer.Optimizer { return &s.Optimizer }),
		"lbfgs (the notebook's L-BFGS-B) or adam (iterations x maxfun steps of one evaluation, at the learning rate)")),
	{Name: "learning-rate", Kind: KindNumber, Category: CategoryControls, Sweep: true, Advanced: true,
		Usage: "Adam's step size in pixel units (jcjohnson/neural-style's 10)",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.LearningRate, err = parseFloat(v)
			return err
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.LearningRate) }},
	control(choiceSetting("pooling", "max (VGG16's) or avg (average pooling: smoother)",
		[]transfer.Pooling{transfer.PoolingMax, transfer.PoolingAvg}, func(s *transfer.Settings) *transfer.Pooling { return &s.Pooling })),
}

// video are the settings of a video's frames.
var video = []Setting{
	{Name: "temporal-weight", Kind: KindNumber, Category: CategoryControls, Advanced: true, VideoOnly: true, Placeholder: "W",
		Usage: "video only: weight of a term that keeps each frame's result where the input frame did not change " +
			"equal to the previous frame's result (mean squared difference over the unchanged pixels; 0: off)",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.TemporalWeight, err = parseFloat(v)
			return err
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.TemporalWeight) }},
}

// control is s in help's controls.
func control(s Setting) Setting {
	s.Category = CategoryControls
	return s
}
