package transfer

import (
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
)

// Colour controls of Gatys et al. 2016 (issue 12's controls; off in
// Defaults()): the result in the content's colours, or the style's colours
// matched to the content's first.

// ColorTransfer selects a colour control of Gatys et al. 2016, "Preserving color
// in neural artistic style transfer".
type ColorTransfer string

const (
	// ColorNone transfers the style's colours with its texture (the notebook).
	ColorNone ColorTransfer = "none"
	// ColorLuminance transfers on luminance only: the content's luminance and the
	// style's, matched to the content's mean and deviation, both as grey images;
	// the result's luminance then gets the content's chroma (YUV).
	ColorLuminance ColorTransfer = "luminance"
	// ColorHistogram first gives the style image the content's colour mean and
	// covariance, then transfers as usual.
	ColorHistogram ColorTransfer = "histogram"
)

// colorInputs applies the colour control to the images the network sees: the
// content (resized to the run's size) and the styles (before their resizing).
func colorInputs(content *preprocess.Image, styles []*preprocess.Image, c ColorTransfer) (*preprocess.Image, []*preprocess.Image) {
	out := make([]*preprocess.Image, len(styles))
	switch c {
	case ColorLuminance:
		for i, st := range styles {
			out[i] = color.MatchLuminance(st, content)
		}
		return color.Luminance(content), out
	case ColorHistogram:
		for i, st := range styles {
			out[i] = color.MatchHistogram(st, content)
		}
		return content, out
	}
	return content, styles
}
