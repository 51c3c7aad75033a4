package transfer

import (
	"errors"
	"fmt"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// The temporal term of a video's frames (issue 15): it holds the result where
// the input did not change between two frames to the previous frame's result,
//
//	temporal = W * mean over pixels and channels of m * (x - prev)^2,
//
// with x and prev in the network's preprocessed space and m the static mask:
// 1 at a pixel whose luminance moved less than TemporalThreshold between the
// two input frames and that has no such moving pixel among its eight
// neighbours (so the edges of what moves are free), 0 elsewhere. There is no
// optical flow: what moves (a pan) is not followed, only left free. The term
// is computed in Go on the image and added to the model's loss and gradient.

// TemporalThreshold is the luminance change (of 255) between two input frames
// below which a pixel counts as unchanged: the 8-bit noise and compression
// ripple of a still camera stay under it, an edge moving by a pixel does not.
const TemporalThreshold = 8

func checkTemporal(c *Config) error {
	if err := checkWeight(c.TemporalWeight); err != nil {
		return err
	}
	// A Config with a content image is one transfer (transfer, a sweep point,
	// a web job): it has no previous frame.
	if c.TemporalWeight != 0 && c.Content != "" {
		return errors.New("applies to the frames of a video (neuralstyle video): a single transfer has no previous frame")
	}
	// The previous result has the content's colours put back; the image
	// being optimised does not.
	if c.TemporalWeight != 0 && (c.OriginalColors || c.ColorTransfer == ColorLuminance) {
		return errors.New("excludes original-colors and color-transfer luminance: the previous frame's result has the content's colours, the image being optimised does not")
	}
	return nil
}

// temporalTerm is the term of one frame.
type temporalTerm struct {
	weight float64
	prev   []float64 // the previous result, preprocessed, H x W x 3
	mask   []float64 // per pixel, H x W
}

// value returns the term at x and adds its gradient to grad.
func (t *temporalTerm) value(x, grad []float64) float64 {
	scale := t.weight / float64(len(x))
	sum := 0.0
	for i, v := range x {
		m := t.mask[i/3]
		if m == 0 {
			continue
		}
		d := v - t.prev[i]
		sum += m * d * d
		grad[i] += 2 * scale * m * d
	}
	return scale * sum
}

// staticMask is m for two input frames resized to w x h with filter f.
func staticMask(cur, prev *preprocess.Image, w, h int, f resample.Filter) ([]float64, error) {
	var r [2]*preprocess.Image
	for k, img := range []*preprocess.Image{cur, prev} {
		var err error
		if r[k], err = resample.Resize(img, w, h, f); err != nil {
			return nil, err
		}
	}
	mask := make([]float64, w*h)
	for i, still := range color.Still(r[0], r[1], TemporalThreshold) {
		if still {
			mask[i] = 1
		}
	}
	return mask, nil
}

// newTemporalTerm builds the term of a w x h frame from the previous frame's
// result and input, or nil when the weight is 0.
func newTemporalTerm(in Inputs, s *Settings, w, h int) (*temporalTerm, error) {
	if s.TemporalWeight == 0 {
		return nil, nil
	}
	prev, err := prepare(in.Previous, w, h, s)
	if err != nil {
		return nil, fmt.Errorf("previous frame's result: %w", err)
	}
	mask, err := staticMask(in.Content, in.PreviousContent, w, h, s.Resample)
	if err != nil {
		return nil, fmt.Errorf("previous frame: %w", err)
	}
	return &temporalTerm{weight: s.TemporalWeight, prev: widen(prev), mask: mask}, nil
}

// withTemporal adds a video frame's temporal term to the loss and gradient of
// the evaluator it wraps (whole image or tiles alike).
type withTemporal struct {
	lossEvaluator
	term *temporalTerm
}

func (e withTemporal) evaluate(x, grad []float64) (Terms, error) {
	t, err := e.lossEvaluator.evaluate(x, grad)
	if err != nil {
		return t, err
	}
	v := e.term.value(x, grad)
	t.Temporal = float32(v)
	t.Loss = float32(float64(t.Loss) + v)
	return t, nil
}
