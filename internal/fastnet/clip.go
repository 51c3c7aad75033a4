package fastnet

import (
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Clip paints a clip's frames one after another with the 26-style network.
// A feed-forward network paints each frame alone, and its instance norms
// renormalise every frame by that frame's own statistics, so colours and
// contrast jump from frame to frame (flicker). With Smoothing above 0 each
// frame is normalised instead with an exponential moving average of the
// frames' statistics: the frame's own (multistyle_moments) mixed with the
// average so far, Smoothing the share kept from before. It costs a second
// forward pass per frame. With Hold above 0, where the input frame did not
// change (its luminance moved less than HoldThreshold there and at the eight
// neighbours: the mask of transfer's temporal term) the picture keeps that
// share of the previous frame's: the previous output warped by a flow of zero,
// which is the right flow exactly there.
type Clip struct {
	m       *Model
	frame   func(*preprocess.Image) (*preprocess.Image, error) // paints a frame alone, in place of m (NewClipOf)
	weights *tfgraph.Tensor
	t       Temporal
	moments []float32 // the average so far; nil before the first frame
	// The previous frame and its picture, for Hold.
	prevIn, prevOut *preprocess.Image
}

// Temporal are a clip's settings against flicker; the zero value paints
// every frame alone.
type Temporal struct {
	Smoothing float64 // share of the statistics kept from the frames before, 0 to below 1
	Hold      float64 // share of the previous picture kept where the frame did not change, 0 to 1
}

// HoldThreshold is the luminance change (of 255) below which a pixel counts as
// unchanged for Hold: transfer.TemporalThreshold.
const HoldThreshold = 8

// NewClip starts a clip in styles s.
func (m *Model) NewClip(s Styles, t Temporal) (*Clip, error) {
	smoothing := t.Smoothing
	if smoothing < 0 || smoothing >= 1 || smoothing != smoothing {
		return nil, fmt.Errorf("smoothing %g: want from 0 (none) to below 1", smoothing)
	}
	if t.Hold < 0 || t.Hold > 1 || t.Hold != t.Hold {
		return nil, fmt.Errorf("hold %g: want from 0 (none) to 1", t.Hold)
	}
	if smoothing > 0 {
		if err := m.checkTiled(); err != nil {
			return nil, err
		}
		if _, err := m.tf.Signature(sigMoments); err != nil {
			return nil, fmt.Errorf("%w: %s", err, MakeHint)
		}
	}
	w := tfgraph.NewTensor(NumStyles)
	copy(w.Data, s[:])
	return &Clip{m: m, weights: w, t: t}, nil
}

const sigMoments = "multistyle_moments"

// NewClipOf starts a clip painted by paint, a network that paints each frame
// alone (one of neuralstyle train's): Hold applies as for the 26-style
// network, while Smoothing needs that network's statistics and is refused.
func NewClipOf(paint func(frame *preprocess.Image) (*preprocess.Image, error), t Temporal) (*Clip, error) {
	if t.Smoothing != 0 {
		return nil, fmt.Errorf("smoothing %g: smooths the 26-style network's instance-norm statistics, which this network does not give; leave it 0 (hold applies)", t.Smoothing)
	}
	if t.Hold < 0 || t.Hold > 1 || t.Hold != t.Hold {
		return nil, fmt.Errorf("hold %g: want from 0 (none) to 1", t.Hold)
	}
	return &Clip{frame: paint, t: t}, nil
}

// Next paints the next frame.
func (c *Clip) Next(frame *preprocess.Image) (*preprocess.Image, error) {
	out, err := c.paint(frame)
	if err != nil || c.t.Hold == 0 {
		return out, err
	}
	if p := c.prevIn; p != nil && p.Width == frame.Width && p.Height == frame.Height {
		hold(out, c.prevOut, staticMask(frame, p), c.t.Hold)
	}
	c.prevIn, c.prevOut = frame, out
	return out, nil
}

// hold mixes share of prev into out where mask is set.
func hold(out, prev *preprocess.Image, mask []bool, share float64) {
	for i, still := range mask {
		if !still {
			continue
		}
		for ch := 3 * i; ch < 3*i+3; ch++ {
			v := (1-share)*float64(out.Pix[ch]) + share*float64(prev.Pix[ch])
			out.Pix[ch] = uint8(math.Round(v))
		}
	}
}

// staticMask is true where cur's luminance moved less than HoldThreshold from
// prev's, there and at the eight neighbours.
func staticMask(cur, prev *preprocess.Image) []bool {
	return color.Still(cur, prev, HoldThreshold)
}

// paint runs the network on one frame, with the smoothed statistics if any.
func (c *Clip) paint(frame *preprocess.Image) (*preprocess.Image, error) {
	if c.frame != nil {
		return c.frame(frame)
	}
	if c.t.Smoothing == 0 {
		out, err := c.m.tf.Run(c.m.multistyle, map[string]*tfgraph.Tensor{"image": toTensor(frame), "style_weights": c.weights})
		if err != nil {
			return nil, err
		}
		return fromTensor(out["stylized"])
	}
	pw, ph := roundUp(frame.Width, TileAlign), roundUp(frame.Height, TileAlign)
	padded, err := reflectPad(frame, pw, ph)
	if err != nil {
		return nil, err
	}
	img := toTensor(padded)
	out, err := c.m.tf.Run(sigMoments, map[string]*tfgraph.Tensor{"image": img, "style_weights": c.weights})
	if err != nil {
		return nil, err
	}
	own := out["moments"].Data
	if c.moments == nil {
		c.moments = append([]float32(nil), own...)
	} else {
		if len(own) != len(c.moments) {
			return nil, fmt.Errorf("fastnet: %d moments, the frame before had %d", len(own), len(c.moments))
		}
		for i, v := range own {
			c.moments[i] = float32(c.t.Smoothing*float64(c.moments[i]) + (1-c.t.Smoothing)*float64(v))
		}
	}
	given := tfgraph.NewTensor(int64(len(c.moments)))
	copy(given.Data, c.moments)
	res, err := c.m.tf.Run(sigTile, map[string]*tfgraph.Tensor{
		"image": img, "style_weights": c.weights, "moments": given,
		"fed": tfgraph.Scalar(float32(len(c.m.Meta.Moments))), "margins": tfgraph.NewTensor(4),
	})
	if err != nil {
		return nil, err
	}
	st := res["stylized"]
	if len(st.Shape) != 4 || st.Shape[1] != int64(ph) || st.Shape[2] != int64(pw) || st.Shape[3] != 3 {
		return nil, fmt.Errorf("fastnet: output of shape %v, want [1,%d,%d,3]", st.Shape, ph, pw)
	}
	result := preprocess.NewImage(frame.Width, frame.Height)
	for y := 0; y < frame.Height; y++ {
		for x := 0; x < frame.Width; x++ {
			for ch := 0; ch < 3; ch++ {
				result.Pix[3*(y*frame.Width+x)+ch] = toByte(st.Data[3*(y*pw+x)+ch])
			}
		}
	}
	return result, nil
}
