package transfer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Layers are VGG16's conv layers in network order, as Keras names them. The
// model's weight vectors have one entry per layer, in this order.
var Layers = []string{
	"block1_conv1", "block1_conv2",
	"block2_conv1", "block2_conv2",
	"block3_conv1", "block3_conv2", "block3_conv3",
	"block4_conv1", "block4_conv2", "block4_conv3",
	"block5_conv1", "block5_conv2", "block5_conv3",
}

// The notebook's choices (docs/recipe.md, section 3).
var (
	NotebookContentLayer = "block2_conv2"
	NotebookStyleLayers  = []string{"block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"}
)

// layerIndex returns the index of a conv layer, or an error naming the known ones.
func layerIndex(name string) (int, error) {
	if i := slices.Index(Layers, name); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("unknown layer %q; VGG16's conv layers are %s", name, strings.Join(Layers, ", "))
}

// minImageSide is the smallest image side the model accepts, whatever the
// layers: it always runs VGG16 to block5_conv3, which sits behind four 2x2
// max-pools (neuralstyle.json's min_side, which CheckModel holds it to).
const minImageSide = 16

// The model's signatures and tensors (savedmodel/README.md). The notebook_*
// signatures are the notebook's own graph with its layers fixed; they give the
// notebook's float32 results bit for bit and are used whenever the chosen layers
// are the notebook's. The others choose layers at run time from the weights.
const (
	sigRecipe      = "recipe"
	sigFastTargets = "fast_targets"
	sigFast        = "fast"

	notebookPrefix = "notebook_"

	inContent        = "content"
	inStyle          = "style"
	inCombination    = "combination"
	inContentWeights = "content_weights"
	inStyleWeights   = "style_weights"
	inTVWeight       = "tv_weight"
	inContentFeature = "content_features"

	outLoss     = "loss"
	outContent  = "content_loss"
	outStyle    = "style_loss"
	outTV       = "tv_loss"
	outGradient = "gradient"
)

func gramName(layer int) string { return "gram_" + Layers[layer] }

// CheckModel reports whether m has the signatures a graph kind needs (for any
// layer choice), so a wrong model directory fails before any image is read.
func CheckModel(m *tfgraph.Model, g Graph) error {
	if err := checkRecord(m.Dir()); err != nil {
		return err
	}
	need := []string{sigRecipe}
	if g == GraphFast {
		need = []string{sigFastTargets, sigFast}
	}
	for _, name := range need {
		if _, err := m.Signature(name); err != nil {
			return fmt.Errorf("%s is not a neuralstyle style model (make model writes one): %w", m.Dir(), err)
		}
	}
	for _, name := range need {
		if _, err := m.Signature(notebookPrefix + name); err != nil {
			return fmt.Errorf("%s was exported before the style model had the notebook's own graph (signature %s%s); export it again (make model)",
				m.Dir(), notebookPrefix, name)
		}
	}
	return nil
}

// notebookLayers reports whether the layers with a nonzero weight are exactly the
// notebook's (content block2_conv2, style its five layers), the choice the
// notebook_* signatures are built for. Their weights may differ from the notebook's.
func notebookLayers(w weightInputs) bool {
	content, style := notebookWeightMask()
	for i := range Layers {
		if (w.content.Data[i] != 0) != content[i] || (w.style.Data[i] != 0) != style[i] {
			return false
		}
	}
	return true
}

func notebookWeightMask() (content, style []bool) {
	content = make([]bool, len(Layers))
	style = make([]bool, len(Layers))
	i, _ := layerIndex(NotebookContentLayer)
	content[i] = true
	for _, name := range NotebookStyleLayers {
		i, _ := layerIndex(name)
		style[i] = true
	}
	return content, style
}

// bf16Suffix names the signatures with bfloat16 convolutions (fast only).
const bf16Suffix = "_bf16"

// checkPrecision reports whether m has the signatures precision p needs.
func checkPrecision(m *tfgraph.Model, s *Settings, masked bool) error {
	if s.Precision != PrecisionBF16 {
		return nil
	}
	// The bfloat16 signatures are the fast graph's with max pooling only.
	if s.Pooling != PoolingMax || masked {
		return errors.New("precision bf16 runs max pooling without style masks; choose precision fp32 for average pooling or style masks")
	}
	for _, name := range []string{sigFastTargets + bf16Suffix, sigFast + bf16Suffix} {
		if _, err := m.Signature(name); err != nil {
			return fmt.Errorf("%s was exported before the style model had bfloat16 signatures (%s); export it again (make model)", m.Dir(), name)
		}
	}
	return nil
}

// signature returns the name of the signature to run: the bfloat16 variant of
// base for PrecisionBF16, else the notebook_* variant of base when the layers
// are the notebook's.
func signature(base string, w weightInputs, p Precision) string {
	if p == PrecisionBF16 {
		return base + bf16Suffix
	}
	if notebookLayers(w) {
		return notebookPrefix + base
	}
	return base
}

// Terms are the loss and its parts at one point, as the model computes them in
// float32. Temporal is a video frame's temporal term (0 when off), computed in
// float64 and added to the model's loss before its rounding to float32.
type Terms struct {
	Loss, Content, Style, TV float32
	Temporal                 float32
}

// weightInputs are the run-time layer and weight choices, as the model takes them.
type weightInputs struct {
	content, style, tv *tfgraph.Tensor
}

func newWeightInputs(s *Settings) weightInputs {
	cw := tfgraph.NewTensor(int64(len(Layers)))
	sw := tfgraph.NewTensor(int64(len(Layers)))
	ci, _ := layerIndex(s.ContentLayer)
	cw.Data[ci] = float32(s.ContentWeight)
	for i, name := range s.StyleLayers {
		li, _ := layerIndex(name)
		// The notebook's (style_weight / len(feature_layers)) is Python float64
		// arithmetic, rounded to float32 when it meets the tensor.
		sw.Data[li] = float32(s.styleLayerWeight(i))
	}
	return weightInputs{content: cw, style: sw, tv: tfgraph.Scalar(float32(s.TVWeight))}
}

// lossEvaluator is what the optimizers call: the whole image's evaluator, or
// the tiled one (tiles.go).
type lossEvaluator interface {
	evaluate(x, grad []float64) (Terms, error)
	signature() string
}

// evaluator computes the loss and its gradient for a combination image given
// in the optimizer's float64, by running one model signature. Its two
// constructors differ only in what they feed the model besides the image.
type evaluator struct {
	model  *tfgraph.Model
	sig    string                     // the signature it runs
	inputs map[string]*tfgraph.Tensor // every input, combo among them
	combo  *tfgraph.Tensor            // the combination image, refilled each evaluation
	width  int                        // of the image, to name a bad gradient value's pixel
}

// newRecipeEvaluator runs the notebook's graph: content, style and combination
// in one batch, every evaluation.
func newRecipeEvaluator(m *tfgraph.Model, content, style []float32, w, h int, s *Settings) *evaluator {
	shape := []int64{1, int64(h), int64(w), 3}
	weights := newWeightInputs(s)
	e := &evaluator{model: m, sig: signature(sigRecipe, weights, s.Precision), combo: tfgraph.NewTensor(shape...), width: w}
	e.inputs = map[string]*tfgraph.Tensor{
		inContent:        {Shape: shape, Data: content},
		inStyle:          {Shape: shape, Data: style},
		inCombination:    e.combo,
		inContentWeights: weights.content,
		inStyleWeights:   weights.style,
		inTVWeight:       weights.tv,
	}
	return e
}

// newFastEvaluator computes the content features and style Gram matrices once
// and then runs VGG16 on the combination image alone: a third of the network
// work, the same bits.
func newFastEvaluator(m *tfgraph.Model, content, style []float32, w, h int, s *Settings) (*evaluator, error) {
	return newCachedFastEvaluator(m, content, style, w, h, s, nil)
}

// newCachedFastEvaluator is newFastEvaluator taking the style's Gram targets
// from cache when it holds them (nil: always computed).
func newCachedFastEvaluator(m *tfgraph.Model, content, style []float32, w, h int, s *Settings, cache *GramCache) (*evaluator, error) {
	shape := []int64{1, int64(h), int64(w), 3}
	weights := newWeightInputs(s)
	features, grams, err := fastTargets(m, signature(sigFastTargets, weights, s.Precision), content, shape, [][]float32{style}, shape, weights, cache)
	if err != nil {
		return nil, err
	}
	e := &evaluator{model: m, sig: signature(sigFast, weights, s.Precision), combo: tfgraph.NewTensor(shape...), width: w}
	e.inputs = map[string]*tfgraph.Tensor{
		inCombination:    e.combo,
		inContentFeature: features,
		inContentWeights: weights.content,
		inStyleWeights:   weights.style,
		inTVWeight:       weights.tv,
	}
	for i := range Layers {
		e.inputs[gramName(i)] = grams[0][i]
	}
	return e, nil
}

// signature returns the name of the model signature the evaluator runs.
func (e *evaluator) signature() string { return e.sig }

// evaluate feeds x as float32, as the notebook's Keras function did, and returns
// the float32 loss and terms, with the float32 gradient widened to float64 into
// grad. A loss, term or gradient value that is NaN or infinite, which L-BFGS-B
// cannot step from, is an error (ErrNotFinite) that says which.
func (e *evaluator) evaluate(x, grad []float64) (Terms, error) {
	for i, v := range x {
		e.combo.Data[i] = float32(v)
	}
	out, err := e.model.Run(e.sig, e.inputs)
	if err != nil {
		return Terms{}, err
	}
	g := out[outGradient].Data
	if len(g) != len(grad) {
		return Terms{}, fmt.Errorf("model returned a gradient of %d values for an image of %d", len(g), len(grad))
	}
	gradErr := widenGradient(grad, g, e.width)
	t := Terms{
		Loss:    out[outLoss].Data[0],
		Content: out[outContent].Data[0],
		Style:   out[outStyle].Data[0],
		TV:      out[outTV].Data[0],
	}
	if err := t.checkFinite(); err != nil {
		return t, err
	}
	return t, gradErr
}

// widenGradient copies the model's float32 gradient g into grad and reports
// NaN or infinite values in the same pass: how many, and where the first is in
// an image width pixels wide (channels in the model's B, G, R order).
func widenGradient(grad []float64, g []float32, width int) error {
	bad, first := 0, -1
	for i, v := range g {
		grad[i] = float64(v)
		if v-v != 0 { // NaN or ±Inf: finite values give exactly 0
			if bad++; first < 0 {
				first = i
			}
		}
	}
	if bad == 0 {
		return nil
	}
	pix := first / 3
	return fmt.Errorf("%w: the gradient has %d of %d values NaN or infinite, the first (%v) at pixel x %d, y %d, channel %d (weights too large for float32?)",
		ErrNotFinite, bad, len(g), g[first], pix%width, pix/width, first%3)
}

// ErrNotFinite is wrapped by the error of an evaluation whose loss, one of its
// terms, or its gradient is NaN or infinite; the message says which.
var ErrNotFinite = errors.New("not finite")

// checkFinite names the terms that are NaN or infinite, or, when they are all
// finite, a loss whose float32 sum overflowed.
func (t Terms) checkFinite() error {
	var bad []string
	for _, v := range []struct {
		name string
		v    float32
	}{{"content", t.Content}, {"style", t.Style}, {"tv", t.TV}} {
		if f := float64(v.v); math.IsNaN(f) || math.IsInf(f, 0) {
			bad = append(bad, fmt.Sprintf("the %s loss is %v", v.name, v.v))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s (loss %v; weights too large for float32?)", ErrNotFinite, strings.Join(bad, ", "), t.Loss)
	}
	if f := float64(t.Loss); math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: the loss is %v although its terms are finite (content %v, style %v, tv %v): their float32 sum overflows; lower the weights",
			ErrNotFinite, t.Loss, t.Content, t.Style, t.TV)
	}
	return nil
}
