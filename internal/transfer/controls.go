package transfer

// The controls users of jcjohnson/neural-style reach for (issue 12): several
// styles blended, style scale, colour preservation, a starting image from a file,
// Adam, average pooling and style masks. Each is off in Defaults(), and then Run
// takes exactly the notebook's path.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/neuralstyle/neuralstyle/optimize"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Pooling selects VGG16's pools: max (VGG16's and the notebook's) or avg, average
// pooling, which Gatys et al. found gives smoother pictures (the model's avg_*
// signatures).
type Pooling string

const (
	PoolingMax Pooling = "max"
	PoolingAvg Pooling = "avg"
)

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

// Optimizer selects the minimiser.
type Optimizer string

const (
	// OptimizerLBFGS is the notebook's: Iterations calls of L-BFGS-B (SciPy 1.14's,
	// bit for bit), each from an empty memory, of at most MaxFun evaluations.
	OptimizerLBFGS Optimizer = "lbfgs"
	// OptimizerAdam is jcjohnson/neural-style's Adam (torch's optim.adam, learning
	// rate LearningRate in pixel units): one run of Iterations x MaxFun steps of one
	// evaluation each, reported every MaxFun steps as an iteration.
	OptimizerAdam Optimizer = "adam"
)

// InitImage starts from Inputs.Init, resized to the run's size.
const InitImage Init = "image"

// InitStylized starts from a feed-forward network's picture of the content in
// the style (Inputs.Stylizer: the arbitrary network of make fastnets), painted
// from the content as resized to the run's size and preprocessed as the other
// starts are.
const InitStylized Init = "stylized"

// Stylizer paints content in the manner of style with a feed-forward network,
// at content's size; f resizes what the network needs resized (the style).
// *fastnet.Model is one.
type Stylizer interface {
	Stylize(content, style *preprocess.Image, f resample.Filter) (*preprocess.Image, error)
}

// DefaultLearningRate is jcjohnson/neural-style's Adam learning rate.
const DefaultLearningRate = 10.0

func checkInitImage(c *Config) error {
	if c.Content == "" { // settings alone: Run checks the images it is given
		return nil
	}
	if (c.Init == InitImage) != (c.InitImage != "") {
		if c.InitImage == "" {
			return errors.New("init image needs a starting image file")
		}
		return fmt.Errorf("%s: a starting image is given but init is %s; choose init image", c.InitImage, c.Init)
	}
	return nil
}

func checkRate(c *Config) error {
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return fmt.Errorf("%v: want a finite number > 0", c.LearningRate)
	}
	return nil
}

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

// CheckInputs checks what the settings need of the inputs, before any work: the
// number of blend weights and masks against the number of styles, a starting
// image for InitImage, and the graph and signatures the controls need.
func CheckInputs(in Inputs, s *Settings) error {
	styles := in.styles()
	if len(styles) == 0 {
		return errors.New("no style image")
	}
	if in.Style != nil && len(in.Styles) > 0 {
		return errors.New("inputs: give Style or Styles, not both")
	}
	if s.StyleBlend != nil && len(s.StyleBlend) != len(styles) {
		return fmt.Errorf("%d style blend weights for %d style images", len(s.StyleBlend), len(styles))
	}
	if in.StyleMasks != nil {
		if len(in.StyleMasks) != len(styles) {
			return fmt.Errorf("%d style masks for %d style images: give one mask per style", len(in.StyleMasks), len(styles))
		}
		if s.StyleBlend != nil {
			return errors.New("style blend weights and style masks exclude each other: with masks each style applies where its mask is")
		}
	}
	if (s.Init == InitImage) != (in.Init != nil) {
		if in.Init == nil {
			return errors.New("init image needs a starting image file")
		}
		return fmt.Errorf("a starting image file was given but init is %s; use init image", s.Init)
	}
	if s.Init == InitStylized && len(styles) > 1 {
		return fmt.Errorf("init stylized: the feed-forward network paints in one style, and %d style images are given; give one style image or another init", len(styles))
	}
	if s.TemporalWeight != 0 && (in.Previous == nil || in.PreviousContent == nil) {
		return errors.New("the temporal weight needs the previous frame's result and input: it applies to a video's frames after the first")
	}
	if s.Graph == GraphRecipe && (len(styles) > 1 || s.StyleScale != 1 || in.StyleMasks != nil) {
		return errors.New("the recipe graph takes one style at the content's size without masks; use the fast graph for several styles, a style scale or masks")
	}
	return nil
}

// styles returns the style images: Styles, or Style alone.
func (in Inputs) styles() []*preprocess.Image {
	if len(in.Styles) > 0 {
		return in.Styles
	}
	if in.Style != nil {
		return []*preprocess.Image{in.Style}
	}
	return nil
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

// runAdam minimises with Adam: one run of Iterations x MaxFun steps (its moments
// carry over), reported to obs as Iterations iterations of MaxFun evaluations. It
// returns the last point evaluated, whose terms the last iteration reports.
func runAdam(ctx context.Context, eval lossEvaluator, x0 []float64, s *Settings, obs Observer, res *Result, post func(*preprocess.Image) (*preprocess.Image, error)) ([]float64, error) {
	i, calls := 0, 0
	start := time.Now()
	var last Terms
	var first float64 // the loss where this outer iteration starts
	if obs.Start != nil {
		obs.Start(0)
	}
	f := func(x, grad []float64) (float64, error) {
		t, err := eval.evaluate(x, grad)
		if err != nil {
			return 0, err
		}
		calls++
		if calls == 1 {
			first = float64(t.Loss)
		}
		last = t
		if obs.Evaluation != nil {
			obs.Evaluation(i, calls, t, time.Since(start))
		}
		return float64(t.Loss), nil
	}
	settings := optimize.DefaultAdamSettings()
	settings.LearningRate = s.LearningRate
	settings.Steps = s.Iterations * s.MaxFun
	settings.Callback = func(st optimize.Iteration) error {
		if calls < s.MaxFun {
			return nil
		}
		it := Iteration{
			Iteration: i, Terms: last, Loss: st.F, Evaluations: calls, Steps: calls,
			Status: optimize.IterationLimit, Elapsed: time.Since(start), X: st.X,
			Image: picture(st.X, s.Width, s.Height, s.Preprocess, post),
		}
		if obs.Done != nil {
			if err := obs.Done(it); err != nil {
				return err
			}
		}
		it.X, it.Image = nil, nil
		res.Iterations = append(res.Iterations, it)
		i, calls, start = i+1, 0, time.Now()
		if improvedLessThan(first, st.F, s.StopImprovement) {
			return optimize.ErrHalt // no error: the run ends here, its image kept
		}
		if i < s.Iterations && obs.Start != nil {
			obs.Start(i)
		}
		return nil
	}
	r, err := optimize.Adam(ctx, f, x0, settings)
	if r.LastX == nil {
		return x0, err
	}
	return append([]float64(nil), r.LastX...), err
}

// ReadInputs decodes the images c names (the content, each style, each mask, the
// starting image). Prepare checks them against the settings, before any model
// loads.
func (c *Config) ReadInputs() (Inputs, error) { return c.InputsFrom(c.decode) }

// ReadStyleInputs decodes the images c names other than the content (each style,
// each mask, the starting image), for commands whose content images come one at
// a time (batch, video): each run's Inputs are these with its Content.
func (c *Config) ReadStyleInputs() (Inputs, error) {
	styles := *c
	styles.Content = ""
	return styles.InputsFrom(c.decode)
}

func (c *Config) decode(path string) (*preprocess.Image, error) {
	return imagefile.ReadFile(path, c.DecodeOptions())
}

// InputsFrom assembles the Inputs of the images c names, in that order: the
// content (none when Content is empty), each style, each mask, the starting
// image. read gets each image: ReadInputs decodes its file; a sweep takes it
// from the images it decoded once for all its points.
func (c *Config) InputsFrom(read func(path string) (*preprocess.Image, error)) (Inputs, error) {
	var in Inputs
	readAll := func(files []string) ([]*preprocess.Image, error) {
		out := make([]*preprocess.Image, len(files))
		for i, f := range files {
			var err error
			if out[i], err = read(f); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	if c.Content != "" {
		if in.Content, err = read(c.Content); err != nil {
			return in, err
		}
	}
	styles, err := readAll(c.Style)
	if err != nil {
		return in, err
	}
	if len(styles) == 1 {
		in.Style = styles[0]
	} else {
		in.Styles = styles
	}
	if len(c.StyleMask) > 0 {
		if in.StyleMasks, err = readAll(c.StyleMask); err != nil {
			return in, err
		}
	}
	if c.InitImage != "" {
		if in.Init, err = read(c.InitImage); err != nil {
			return in, err
		}
	}
	return in, nil
}
