package transfer

import (
	"errors"
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// The style's Gram targets beyond the notebook's one style image (issue 12's
// controls): several styles blended, the style's scale, style masks and
// average pooling, with the model's signatures that take them. Each is off in
// Defaults(), and then a run takes exactly the notebook's path.

// Pooling selects VGG16's pools: max (VGG16's and the notebook's) or avg, average
// pooling, which Gatys et al. found gives smoother pictures (the model's avg_*
// signatures).
type Pooling string

const (
	PoolingMax Pooling = "max"
	PoolingAvg Pooling = "avg"
)

func checkBlend(c *Config) error {
	if c.StyleBlend == nil {
		return nil
	}
	sum := 0.0
	for _, w := range c.StyleBlend {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("weight %v: want a finite number >= 0", w)
		}
		sum += w
	}
	if sum == 0 {
		return errors.New("all weights are zero: at least one style needs a weight")
	}
	if n := len(c.Style); n > 0 && n != len(c.StyleBlend) {
		return fmt.Errorf("%d weights for %d style images", len(c.StyleBlend), n)
	}
	return nil
}

func checkStyleScale(c *Config) error {
	if !(c.StyleScale > 0) || math.IsInf(c.StyleScale, 0) {
		return fmt.Errorf("%v: want a finite number > 0", c.StyleScale)
	}
	if c.StyleScale == 1 {
		return nil
	}
	w, h := c.styleSize()
	if w < minImageSide || h < minImageSide {
		return fmt.Errorf("%v makes the style images %dx%d, smaller than the model's %dx%d", c.StyleScale, w, h, minImageSide, minImageSide)
	}
	if w*h > maxPixels {
		return fmt.Errorf("%v makes the style images %dx%d, more than %d pixels", c.StyleScale, w, h, maxPixels)
	}
	if c.Graph == GraphRecipe {
		return errors.New("needs the fast graph (the recipe graph takes the style at the content's size)")
	}
	return nil
}

func checkMasks(c *Config) error {
	if len(c.StyleMask) == 0 {
		return nil
	}
	if n, m := len(c.Style), len(c.StyleMask); n > 0 && n != m {
		return fmt.Errorf("%d masks for %d style images: give one mask per style", m, n)
	}
	if c.StyleBlend != nil {
		return errors.New("excludes style-blend: with masks each style applies where its mask is")
	}
	if c.Graph == GraphRecipe {
		return errors.New("needs the fast graph")
	}
	return nil
}

// styleSize is the size the style images are resized to: StyleScale times the
// content's, rounded.
func (s *Settings) styleSize() (w, h int) {
	if s.StyleScale == 1 {
		return s.Width, s.Height
	}
	return int(math.Round(s.StyleScale * float64(s.Width))), int(math.Round(s.StyleScale * float64(s.Height)))
}

// signatureNames returns the model signatures a run with these settings uses
// for a graph's base signature names (recipe, or fast_targets and fast).
func controlSignature(base string, s *Settings, masked bool, w weightInputs) string {
	prefix := ""
	if s.Pooling == PoolingAvg {
		prefix = "avg_"
	}
	if masked && base == sigFast {
		return prefix + "masked_fast"
	}
	if prefix != "" {
		return prefix + base
	}
	return signature(base, w, s.Precision)
}

// CheckControlsModel reports whether m has the signatures the controls need, so an
// export from before them fails before any image is read.
func CheckControlsModel(m *tfgraph.Model, s *Settings, masked bool) error {
	var need []string
	if s.Pooling == PoolingAvg {
		need = append(need, "avg_recipe", "avg_fast_targets", "avg_fast")
	}
	if masked {
		need = append(need, controlSignature(sigFast, s, true, weightInputs{}))
	}
	for _, name := range need {
		if _, err := m.Signature(name); err != nil {
			return fmt.Errorf("%s was exported before the style model had the signature %s (pooling, masks); export it again (make model)", m.Dir(), name)
		}
	}
	return nil
}

// blendWeights returns the styles' weights normalised to sum 1: StyleBlend, or
// equal weights.
func (s *Settings) blendWeights(n int) []float64 {
	w := make([]float64, n)
	sum := 0.0
	for i := range w {
		w[i] = 1
		if s.StyleBlend != nil {
			w[i] = s.StyleBlend[i]
		}
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// layerPositions is h*w of layer i's activations for an image of w x h: the
// network halves each side (rounding down) at every pool before the layer's block.
func layerPositions(i, w, h int) float64 {
	pools := int(Layers[i][len("block")]-'0') - 1
	return float64(w>>pools) * float64(h>>pools)
}

// scaleGram makes the Gram matrix of a style image of sw x sh comparable with the
// combination's of w x h: a Gram matrix is a sum over the layer's positions, so it
// is multiplied by the ratio of the layer's positions (combination / style). At
// the same size nothing changes, bit for bit (savedmodel/README.md, "Style scale").
func scaleGram(g *tfgraph.Tensor, layer, w, h, sw, sh int) *tfgraph.Tensor {
	if sw == w && sh == h {
		return g
	}
	f := layerPositions(layer, w, h) / layerPositions(layer, sw, sh)
	out := &tfgraph.Tensor{Shape: g.Shape, Data: make([]float32, len(g.Data))}
	for i, v := range g.Data {
		out.Data[i] = float32(float64(v) * f)
	}
	return out
}

// blendGrams returns sum_k w_k G_k in float64, rounded to float32 once. A weight
// of 1 with the others 0 gives that style's matrix bit for bit.
func blendGrams(grams []*tfgraph.Tensor, w []float64) *tfgraph.Tensor {
	if len(grams) == 1 {
		return grams[0]
	}
	out := &tfgraph.Tensor{Shape: grams[0].Shape, Data: make([]float32, len(grams[0].Data))}
	for i := range out.Data {
		s := 0.0
		for k, g := range grams {
			if w[k] != 0 {
				s += w[k] * float64(g.Data[i])
			}
		}
		out.Data[i] = float32(s)
	}
	return out
}

// stackGrams stacks K (C, C) matrices into the (K, C, C) input of masked_fast.
func stackGrams(grams []*tfgraph.Tensor) *tfgraph.Tensor {
	c := grams[0].Shape[0]
	out := tfgraph.NewTensor(int64(len(grams)), c, c)
	for k, g := range grams {
		copy(out.Data[k*len(g.Data):], g.Data)
	}
	return out
}

// maskTensor resizes each mask to w x h (bilinear, Pillow's) and reads its
// luminance scaled to [0, 1]: (K, H, W).
func maskTensor(masks []*preprocess.Image, w, h int) (*tfgraph.Tensor, error) {
	out := tfgraph.NewTensor(int64(len(masks)), int64(h), int64(w))
	for k, m := range masks {
		r, err := resample.Resize(m, w, h, resample.Bilinear)
		if err != nil {
			return nil, fmt.Errorf("style mask %d: %w", k+1, err)
		}
		g := color.Luminance(r)
		for i := range w * h {
			out.Data[k*w*h+i] = float32(g.Pix[3*i]) / 255
		}
	}
	return out, nil
}

// newControlledFastEvaluator is the fast graph with the controls that change its
// targets or signatures: several styles (blended Gram targets, or one per mask),
// a style scale (Gram targets scaled to the combination's size) and average
// pooling. fast_targets runs once per style, on the same content.
func newControlledFastEvaluator(m *tfgraph.Model, content []float32, styles [][]float32, masks []*preprocess.Image, w, h, sw, sh int, s *Settings) (*evaluator, error) {
	return newCachedControlledFastEvaluator(m, content, styles, masks, w, h, sw, sh, s, nil)
}

// newCachedControlledFastEvaluator is newControlledFastEvaluator taking each
// style's Gram targets from cache when it holds them (nil: always computed).
func newCachedControlledFastEvaluator(m *tfgraph.Model, content []float32, styles [][]float32, masks []*preprocess.Image, w, h, sw, sh int, s *Settings, cache *GramCache) (*evaluator, error) {
	shape := []int64{1, int64(h), int64(w), 3}
	styleShape := []int64{1, int64(sh), int64(sw), 3}
	weights := newWeightInputs(s)
	contentFeatures, styleGrams, err := fastTargets(m, controlSignature(sigFastTargets, s, false, weights), content, shape, styles, styleShape, weights, cache)
	if err != nil {
		return nil, err
	}
	grams := make([][]*tfgraph.Tensor, len(Layers)) // [layer][style]
	for _, g := range styleGrams {
		for i := range Layers {
			grams[i] = append(grams[i], scaleGram(g[i], i, w, h, sw, sh))
		}
	}
	masked := masks != nil
	e := &evaluator{model: m, sig: controlSignature(sigFast, s, masked, weights), combo: tfgraph.NewTensor(shape...), width: w}
	e.inputs = map[string]*tfgraph.Tensor{
		inCombination:    e.combo,
		inContentFeature: contentFeatures,
		inContentWeights: weights.content,
		inStyleWeights:   weights.style,
		inTVWeight:       weights.tv,
	}
	blend := s.blendWeights(len(styles))
	for i := range Layers {
		if masked {
			e.inputs[gramName(i)] = stackGrams(grams[i])
		} else {
			e.inputs[gramName(i)] = blendGrams(grams[i], blend)
		}
	}
	if masked {
		t, err := maskTensor(masks, w, h)
		if err != nil {
			return nil, err
		}
		e.inputs["masks"] = t
	}
	return e, nil
}
