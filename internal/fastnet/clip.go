package fastnet

import (
	"fmt"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Clip paints a clip's frames one after another with the 26-style network.
// A feed-forward network paints each frame alone, and its instance norms
// renormalise every frame by that frame's own statistics, so colours and
// contrast jump from frame to frame (flicker). With Smoothing above 0 each
// frame is normalised instead with an exponential moving average of the
// frames' statistics: the frame's own (multistyle_moments) mixed with the
// average so far, Smoothing the share kept from before. It costs a second
// forward pass per frame.
type Clip struct {
	m         *Model
	weights   *tfgraph.Tensor
	smoothing float64
	moments   []float32 // the average so far; nil before the first frame
}

// NewClip starts a clip in styles s; smoothing is from 0 (every frame alone)
// to below 1.
func (m *Model) NewClip(s Styles, smoothing float64) (*Clip, error) {
	if smoothing < 0 || smoothing >= 1 || smoothing != smoothing {
		return nil, fmt.Errorf("smoothing %g: want from 0 (none) to below 1", smoothing)
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
	return &Clip{m: m, weights: w, smoothing: smoothing}, nil
}

const sigMoments = "multistyle_moments"

// Next paints the next frame.
func (c *Clip) Next(frame *preprocess.Image) (*preprocess.Image, error) {
	if c.smoothing == 0 {
		out, err := c.m.tf.Run("multistyle", map[string]*tfgraph.Tensor{"image": toTensor(frame), "style_weights": c.weights})
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
			c.moments[i] = float32(c.smoothing*float64(c.moments[i]) + (1-c.smoothing)*float64(v))
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
