// Package transfer is the article's style-transfer notebook in Go: it reads and
// preprocesses the content and style images, starts from noise, and runs the outer
// iterations of L-BFGS-B on the loss that the SavedModel computes, exactly as the
// notebook's loop did (docs/recipe.md).
package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/optimize"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Graph selects which of the model's graphs computes the loss. When the layers
// with a nonzero weight are the notebook's, either graph runs the model's
// notebook_* signature, the notebook's own graph with its layers fixed: then
// recipe and fast give the same float32 bits, and the same as the Python
// reference of the notebook with the same TensorFlow and thread count
// (scripts/testdata/transfer; measured in this package's tests). Other layers
// run the signatures that choose layers at run time, equal to float32 rounding.
type Graph string

const (
	// GraphRecipe is the notebook's graph: content, style and combination images
	// in one VGG16 batch at every evaluation.
	GraphRecipe Graph = "recipe"
	// GraphFast computes the content and style targets once and runs VGG16 on the
	// combination image alone; the same loss for a third of the work.
	GraphFast Graph = "fast"
)

// Precision is the arithmetic of the network's convolutions.
type Precision string

const (
	// PrecisionFP32 is float32 throughout, the notebook's arithmetic.
	PrecisionFP32 Precision = "fp32"
	// PrecisionBF16 runs the convolutions in bfloat16 (the model's *_bf16
	// signatures, fast graph only); Gram matrices, loss sums and the optimizer
	// stay float32 or wider. Never bit for bit the notebook.
	PrecisionBF16 Precision = "bf16"
	// PrecisionAuto is bf16 where it pays (a GPU, or a CPU with AVX512-BF16 or
	// AMX-BF16) and the run can use it, fp32 elsewhere; Run resolves it
	// (ChoosePrecision) and says which it chose and why.
	PrecisionAuto Precision = "auto"
)

// Init selects the starting image.
type Init string

const (
	InitNoise   Init = "noise"   // the notebook's uniform noise in preprocessed space
	InitContent Init = "content" // the preprocessed content image
	InitStyle   Init = "style"   // the preprocessed style image
)

// Settings are a run's parameters. Defaults returns the notebook's.
type Settings struct {
	Width, Height int

	ContentWeight, StyleWeight, TVWeight float64
	ContentLayer                         string
	StyleLayers                          []string
	// StyleLayerWeights, when not nil, gives each style layer its own weight in
	// place of StyleWeight / len(StyleLayers).
	StyleLayerWeights []float64

	Iterations int // outer iterations: calls of L-BFGS-B, each from an empty memory
	MaxFun     int // fmin_l_bfgs_b's maxfun per call
	// Memory, MemoryKeep, makes the outer iterations one L-BFGS-B run whose
	// memory carries over (memory.go); MemoryReset is the notebook's.
	Memory Memory
	// Bounds, BoundsPixels, keeps the image's values within 0..255 (memory.go);
	// BoundsNone is the notebook's.
	Bounds Bounds
	// StopImprovement, when not 0, ends the run after an outer iteration at the
	// final size that lowers the loss by less than this fraction of its value at
	// the iteration's start (stop.go). 0: every iteration runs, as the notebook's.
	StopImprovement float64

	Seed       uint32 // for InitNoise: np.random.seed(Seed)
	Init       Init
	Graph      Graph
	Resample   resample.Filter
	Preprocess vggtensor.Mode
	// IgnoreEXIF keeps the images' stored pixels where their EXIF orientation
	// says to show them turned, as the notebook's Pillow did.
	IgnoreEXIF bool

	// Sizes beyond the notebook's (sizes.go). LongSide, when not 0, replaces
	// Width x Height: the content's aspect ratio with this long side, and the
	// style image's own aspect ratio with the same long side. Scales are the long
	// sides of coarser runs before the final size, each upsampled as the next
	// one's start. Tile, when not 0, evaluates the loss tile by tile with interiors
	// of Tile x Tile pixels (tiles.go).
	LongSide int
	Scales   []int
	// ScaleFractions, in place of Scales, are the coarser scales' long sides
	// as fractions of the final size's (0.25, 0.5): the same ladder at every
	// size, for a preset. One that rounds below 16 pixels, or to the final
	// size or past it, is left out, with its count in ScaleIterations.
	ScaleFractions []float64
	// ScaleIterations, when not nil, gives each of Scales coarser than the final
	// size its own number of iterations (the final size runs Iterations); nil:
	// Iterations at every scale.
	ScaleIterations []int
	// ScaleContent, ScaleContentArea, weighs the content term at each coarser
	// scale by the final size's area over its own (sizes.go); ScaleContentFixed
	// gives every scale ContentWeight.
	ScaleContent ScaleContent
	Tile         int

	// Issue 12's controls (inputs.go, grams.go, colors.go, adam.go); Defaults() turns them all off.
	Pooling Pooling
	// StyleBlend weighs the style images' Gram matrices (normalised to sum 1);
	// nil: equal weights. One entry per style image.
	StyleBlend []float64
	// StyleScale resizes the style images to StyleScale times the run's size.
	StyleScale    float64
	ColorTransfer ColorTransfer
	// OriginalColors keeps the content's colours: the result's luminance with the
	// content's chroma (jcjohnson/neural-style's -original_colors).
	OriginalColors bool
	Optimizer      Optimizer
	LearningRate   float64 // Adam's, in pixel units

	// Precision of the convolutions; PrecisionFP32 unless asked.
	Precision Precision

	// TemporalWeight weighs a video frame's temporal term (temporal.go); it
	// needs Inputs.Previous and PreviousContent. 0: off.
	TemporalWeight float64
}

// Defaults returns the notebook's run: 512x512, content 0.025 on block2_conv2, style
// 5.0 over its five layers, total variation 1.0, ten iterations of maxfun 20 from
// noise, nearest-neighbour resizing and the notebook's preprocessing. The graph is
// the fast one: its evaluations equal the recipe graph's bit for bit (the regression
// tests hold both to the Python reference) for a third of the work.
func Defaults() Settings {
	return Settings{
		Width: 512, Height: 512,
		ContentWeight: 0.025, StyleWeight: 5.0, TVWeight: 1.0,
		ContentLayer: NotebookContentLayer,
		StyleLayers:  append([]string(nil), NotebookStyleLayers...),
		Iterations:   10, MaxFun: 20, Memory: MemoryReset, Bounds: BoundsNone,
		ScaleContent: ScaleContentFixed,
		Init:         InitNoise,
		Graph:        GraphFast,
		Resample:     resample.Nearest,
		Preprocess:   vggtensor.ModeRecipe,

		Pooling: PoolingMax, StyleScale: 1, ColorTransfer: ColorNone,
		Optimizer: OptimizerLBFGS, LearningRate: DefaultLearningRate,
		Precision: PrecisionFP32,
	}
}

// DecodeOptions are how the settings read image files.
func (s *Settings) DecodeOptions() *imagefile.DecodeOptions {
	return &imagefile.DecodeOptions{IgnoreOrientation: s.IgnoreEXIF}
}

func (s *Settings) styleLayerWeight(i int) float64 {
	if s.StyleLayerWeights != nil {
		return s.StyleLayerWeights[i]
	}
	return s.StyleWeight / float64(len(s.StyleLayers))
}

// Iteration is what an observer learns after each outer iteration.
type Iteration struct {
	Iteration   int     // from 0, as the notebook counts
	Terms       Terms   // at the point L-BFGS-B returned
	Loss        float64 // the value fmin_l_bfgs_b returned, which the notebook prints
	Evaluations int     // in this iteration's L-BFGS-B call
	Steps       int     // L-BFGS-B iterations in this call
	Status      optimize.Status
	Elapsed     time.Duration // of this iteration
	X           []float64     // the image in preprocessed space; valid during the call
	// Width and Height are X's; Scale counts the run's scales from 0 (always 0
	// without Settings.Scales).
	Width, Height, Scale int
	// Image returns the picture of X (deprocessed, with the colour controls);
	// valid during the call.
	Image func() (*preprocess.Image, error)
}

// Observer follows a run. Each method may be nil.
type Observer struct {
	// Notice, when not nil, receives what a person should know before the run
	// starts: the precision --precision auto chose and why, or that bf16 will be
	// slow on this CPU. Each is said once per Run.
	Notice     func(msg string)
	Start      func(iteration int)
	Evaluation func(iteration, evaluation int, t Terms, elapsed time.Duration)
	Done       func(it Iteration) error // an error stops the run
}

// Result is a finished (or interrupted) run.
type Result struct {
	Image      *preprocess.Image // the last iterate, deprocessed
	Iterations []Iteration       // completed ones; X is nil
	X          []float64
}

// Inputs are the decoded content and style images.
type Inputs struct {
	Content, Style *preprocess.Image
	// Styles, in place of Style, are several style images, blended (StyleBlend)
	// or each applied where its mask is (StyleMasks).
	Styles []*preprocess.Image
	// StyleMasks, one per style, say where each style applies: greyscale, white
	// where it does, resized to the run's size (bilinear).
	StyleMasks []*preprocess.Image
	// Init, when not nil, is the starting image, resized to the run's size: the
	// file of InitImage, or in place of Settings.Init's choice (a video's
	// previous frame's result).
	Init *preprocess.Image
	// Stylizer paints the starting image of InitStylized (make fastnets'
	// arbitrary network); only that init needs it.
	Stylizer Stylizer
	// Grams, when not nil, keeps the fast graph's style Gram targets between
	// runs: those that share a style, size and style settings compute them once
	// (a batch's photos, a clip's frames). The results are the same bits.
	Grams *GramCache
	// Previous and PreviousContent are the previous video frame's result and
	// input, for the temporal term (Settings.TemporalWeight).
	Previous, PreviousContent *preprocess.Image
}

// ResolvePrecision replaces s.Precision auto by what ChoosePrecision picks for
// model's devices and this CPU, and returns ChoosePrecision's message (empty
// for fp32 asked for, and for bf16 where it pays). Plan.Bind does this for a
// run; a command calls it to say the choices of many runs once.
func ResolvePrecision(model *tfgraph.Model, s *Settings, masked bool) (string, error) {
	if s.Precision != PrecisionAuto && s.Precision != PrecisionBF16 {
		return "", nil
	}
	devices, err := model.Devices()
	if err != nil {
		return "", err
	}
	p, msg := ChoosePrecision(model, s, masked, devices, HostCPU())
	s.Precision = p
	return msg, nil
}

// Run performs the transfer: it plans the run (Prepare, without refusing it
// for memory), binds the plan to model (Plan.Bind, whose notice goes to
// obs.Notice) and executes it. A caller that plans first, to say the plan or
// check it before the model loads, calls those three itself. When ctx is
// cancelled it stops at the end of the current evaluation and returns the best
// image so far with ctx's error.
func Run(ctx context.Context, model *tfgraph.Model, in Inputs, s Settings, obs Observer) (*Result, error) {
	p, err := newPlan(s, in, MemoryLimit{}, false)
	if err != nil {
		return nil, err
	}
	msg, err := p.Bind(model)
	if err != nil {
		return nil, err
	}
	if msg != "" && obs.Notice != nil {
		obs.Notice(msg)
	}
	return Execute(ctx, model, p, in, obs)
}

// runScale runs one scale of a plan: st's settings at its size, from start
// when not nil (the coarser scale's result), else from the settings' start.
// Nothing is checked again: Prepare and Bind have.
func runScale(ctx context.Context, model *tfgraph.Model, p *Plan, st step, in Inputs, start []float64, obs Observer) (*Result, error) {
	s := st.settings
	w, h, sw, sh := st.width, st.height, st.styleWidth, st.styleHeight

	// Images in: resize to exactly W x H, preprocess to float32 (docs/recipe.md section 1);
	// the colour controls change what the network sees, the style scale the styles' size.
	resizedContent, err := resample.Resize(in.Content, w, h, s.Resample)
	if err != nil {
		return nil, fmt.Errorf("content image: %w", err)
	}
	netContent, netStyles := colorInputs(resizedContent, in.styles(), s.ColorTransfer)
	content, err := vggtensor.Preprocess(netContent, s.Preprocess)
	if err != nil {
		return nil, fmt.Errorf("content image: %w", err)
	}
	styles := make([][]float32, len(netStyles))
	for i, img := range netStyles {
		if styles[i], err = prepare(img, sw, sh, &s); err != nil {
			return nil, fmt.Errorf("style image %d: %w", i+1, err)
		}
	}
	post := func(img *preprocess.Image) (*preprocess.Image, error) {
		if s.OriginalColors || s.ColorTransfer == ColorLuminance {
			return color.OriginalColors(img, resizedContent)
		}
		return img, nil
	}

	// The loss: tile by tile (sizes.go), the notebook's graph, or the fast one.
	var eval lossEvaluator
	plain := len(styles) == 1 && in.StyleMasks == nil && s.Pooling == PoolingMax && sw == w && sh == h
	switch {
	case st.tiled():
		if eval, err = newTiledEvaluator(model, content, w, h, styles[0], sw, sh, &s, s.Tile); err != nil {
			return nil, err
		}
	case s.Graph == GraphFast && plain:
		if eval, err = newCachedFastEvaluator(model, content, styles[0], w, h, &s, in.Grams); err != nil {
			return nil, err
		}
	case s.Graph == GraphFast:
		if eval, err = newCachedControlledFastEvaluator(model, content, styles, in.StyleMasks, w, h, sw, sh, &s, in.Grams); err != nil {
			return nil, err
		}
	default:
		e := newRecipeEvaluator(model, content, styles[0], w, h, &s)
		e.sig = controlSignature(sigRecipe, &s, false, newWeightInputs(&s))
		eval = e
	}

	// The signature the evaluator chose is one the plan named and Bind found.
	if !slices.Contains(p.Signatures, eval.signature()) {
		return nil, fmt.Errorf("transfer: the evaluator runs signature %s, which the plan (%s) does not name", eval.signature(), strings.Join(p.Signatures, ", "))
	}
	if term, err := newTemporalTerm(in, &s, w, h); err != nil {
		return nil, err
	} else if term != nil {
		eval = withTemporal{eval, term}
	}

	// The starting image (docs/recipe.md section 4).
	var x []float64
	switch {
	case in.Init != nil:
		start, err := prepare(in.Init, w, h, &s)
		if err != nil {
			return nil, fmt.Errorf("starting image: %w", err)
		}
		x = widen(start)
	case s.Init == InitNoise:
		if x, err = vggtensor.Noise(s.Seed, w, h); err != nil {
			return nil, err
		}
	case s.Init == InitContent:
		x = widen(content)
	case s.Init == InitStyle:
		if sw == w && sh == h {
			x = widen(styles[0])
		} else {
			st, err := prepare(netStyles[0], w, h, &s)
			if err != nil {
				return nil, fmt.Errorf("style image 1: %w", err)
			}
			x = widen(st)
		}
	case s.Init == InitStylized && start == nil:
		// The network paints what the loss sees: the content at the run's
		// size and the style, after the colour controls.
		pic, err := in.Stylizer.Stylize(netContent, netStyles[0], s.Resample)
		if err != nil {
			return nil, fmt.Errorf("stylized start: %w", err)
		}
		if pic.Width != w || pic.Height != h {
			return nil, fmt.Errorf("stylized start: the network painted %dx%d for a %dx%d run", pic.Width, pic.Height, w, h)
		}
		start, err := vggtensor.Preprocess(pic, s.Preprocess)
		if err != nil {
			return nil, fmt.Errorf("stylized start: %w", err)
		}
		x = widen(start)
	case s.Init == InitImage:
		return nil, errors.New("init image: no starting image given")
	}
	if start != nil { // the coarser scale's result (Execute)
		x = start
	}

	res := &Result{}
	if s.Optimizer == OptimizerAdam {
		x, err = runAdam(ctx, eval, x, w, h, &s, obs, res, post)
		return res.finish(x, w, h, s.Preprocess, post, err)
	}
	if s.Memory == MemoryKeep {
		x, err = runKeptMemory(ctx, eval, x, w, h, &s, obs, res, post)
		return res.finish(x, w, h, s.Preprocess, post, err)
	}
	var work optimize.Workspace // the optimizer's storage, shared by the calls
	settings, err := lbfgsSettings(&s, len(x))
	if err != nil {
		return nil, err
	}
	for i := range s.Iterations {
		if obs.Start != nil {
			obs.Start(i)
		}
		start := time.Now()
		calls := 0
		var first float64 // the loss where this iteration starts
		tracker := newTermTracker()
		f := func(x, grad []float64) (float64, error) {
			t, err := eval.evaluate(x, grad)
			if err != nil {
				return 0, err
			}
			calls++
			if calls == 1 {
				first = float64(t.Loss)
			}
			tracker.record(x, t)
			if obs.Evaluation != nil {
				obs.Evaluation(i, calls, t, time.Since(start))
			}
			return float64(t.Loss), nil
		}
		// Each call starts with an empty memory; only x carries over.
		r, err := work.Minimize(ctx, f, x, settings)
		if r.X != nil {
			x = r.X
		}
		if err != nil {
			return res.finish(x, w, h, s.Preprocess, post, err)
		}
		it := Iteration{
			Iteration: i, Terms: tracker.at(x), Loss: r.F,
			Evaluations: r.Evaluations, Steps: r.Iterations, Status: r.Status,
			Elapsed: time.Since(start), X: x, Width: w, Height: h,
			Image: picture(x, w, h, s.Preprocess, post),
		}
		if obs.Done != nil {
			if err := obs.Done(it); err != nil {
				return res.finish(x, w, h, s.Preprocess, post, err)
			}
		}
		it.X, it.Image = nil, nil
		res.Iterations = append(res.Iterations, it)
		if improvedLessThan(first, r.F, s.StopImprovement) {
			break
		}
	}

	return res.finish(x, w, h, s.Preprocess, post, nil)
}

// picture returns the function that turns x into the image: deprocessed, then
// post (the colour controls).
func picture(x []float64, w, h int, m vggtensor.Mode, post func(*preprocess.Image) (*preprocess.Image, error)) func() (*preprocess.Image, error) {
	return func() (*preprocess.Image, error) {
		img, err := vggtensor.Deprocess(x, w, h, m)
		if err != nil {
			return nil, err
		}
		return post(img)
	}
}

// finish turns the last point into the image (docs/recipe.md section 5, then the colour
// controls), also when the run stopped early with runErr, so the caller can save
// what was reached.
func (res *Result) finish(x []float64, w, h int, m vggtensor.Mode, post func(*preprocess.Image) (*preprocess.Image, error), runErr error) (*Result, error) {
	img, err := picture(x, w, h, m, post)()
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	res.X, res.Image = x, img
	return res, runErr
}

func prepare(img *preprocess.Image, w, h int, s *Settings) ([]float32, error) {
	resized, err := resample.Resize(img, w, h, s.Resample)
	if err != nil {
		return nil, err
	}
	return vggtensor.Preprocess(resized, s.Preprocess)
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}
