package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// One plan per run: Prepare checks the settings against the decoded images
// once and works out everything a run needs to know before it loads a model;
// Bind checks the plan against the model once; Execute runs it without
// checking again, the way optimize checks a problem once before it minimises.

// MemoryLimit is the memory a run may use, and what set it in a person's terms
// ("--max-memory"); zero Bytes: what memory.Available finds.
type MemoryLimit struct {
	Bytes  uint64
	Source string
}

// Scale is one scale of a plan: its size, its style images' size and its
// outer iterations. A run without Settings.Scales has one.
type Scale struct {
	LongSide                int
	Width, Height           int
	StyleWidth, StyleHeight int
	Iterations              int
	Tiled                   bool // the loss is evaluated tile by tile at this scale
}

// step is a Scale with the settings its run takes.
type step struct {
	settings                               Settings
	width, height, styleWidth, styleHeight int
}

// tiled reports whether the step evaluates its loss tile by tile: a tile
// smaller than its image.
func (st step) tiled() bool {
	t := st.settings.Tile
	return t > 0 && (t < st.width || t < st.height)
}

// Prepare checks s against the images of in and plans the run: the sizes of
// its scales and style images, its tiles (Settings.TileAuto resolved, once, at
// the final size), the signatures it will run and its estimated peak memory,
// which must fit limit. The plan is returned with an error too when only the
// memory does not fit, so that a dry run can print it.
func Prepare(s Settings, in Inputs, limit MemoryLimit) (*Plan, error) {
	return newPlan(s, in, limit, true)
}

// newPlan is Prepare; refuse false leaves a run unchecked against memory
// unless it asks tile auto to fit it (as transfer.Run has always done).
func newPlan(s Settings, in Inputs, limit MemoryLimit, refuse bool) (*Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := CheckInputs(in, &s); err != nil {
		return nil, err
	}
	p, sizeErr, memErr := s.plan(in, limit.Bytes, limit.Source)
	if sizeErr != nil {
		return nil, sizeErr
	}
	plan := &p
	plan.Settings = s
	if s.Tile == TileAuto {
		plan.Settings.Tile = p.Tile
	}
	plan.Styles, plan.Masked = len(in.styles()), in.StyleMasks != nil
	if err := plan.steps(in); err != nil {
		return nil, err
	}
	for _, st := range plan.scaleSteps {
		if st.tiled() {
			if err := tileRefusal(plan.Styles, plan.Masked, &plan.Settings); err != nil {
				return nil, &SettingError{Setting: "tile", Err: fmt.Errorf("%d: %w", plan.Settings.Tile, err)}
			}
		}
	}
	plan.Signatures = plan.signatures()
	if memErr != nil && (refuse || s.Tile == TileAuto) {
		return plan, memErr
	}
	return plan, nil
}

// steps works out each scale's settings and sizes, as the scales run them:
// each scale a run of its own at its long side, the final one's last.
func (p *Plan) steps(in Inputs) error {
	s := p.Settings
	if !s.coarseToFine() {
		p.scaleSteps = []step{{settings: s, width: p.Width, height: p.Height, styleWidth: p.StyleWidth, styleHeight: p.StyleHeight}}
	} else {
		p.scaleSteps = nil
		for k, long := range p.Scales {
			sk := s
			sk.Scales, sk.ScaleFractions, sk.ScaleIterations = nil, nil, nil
			sk.Iterations = p.Iterations[k]
			if k < len(p.Scales)-1 {
				sk.StopImprovement = 0 // the coarser scales run their budgets; the tolerance ends the run
				sk.ContentWeight = s.scaleContentWeight(long, p.Scales[len(p.Scales)-1])
			}
			if s.LongSide > 0 {
				sk.LongSide = long
			} else {
				sk.Width, sk.Height = fitLongSide(s.Width, s.Height, long)
			}
			w, h, sw, sh, err := sk.shapes(in)
			if err != nil {
				return fmt.Errorf("scale %d (long side %d): %w", k, long, err)
			}
			p.scaleSteps = append(p.scaleSteps, step{settings: sk, width: w, height: h, styleWidth: sw, styleHeight: sh})
		}
	}
	p.PerScale = nil
	for _, st := range p.scaleSteps {
		p.PerScale = append(p.PerScale, Scale{LongSide: max(st.width, st.height), Width: st.width, Height: st.height,
			StyleWidth: st.styleWidth, StyleHeight: st.styleHeight, Iterations: st.settings.Iterations, Tiled: st.tiled()})
	}
	return nil
}

// signatures are the model signatures the run's evaluators take, in the order
// they first run, for the plan's precision (Bind resolves auto first).
func (p *Plan) signatures() []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	for _, st := range p.scaleSteps {
		s := &st.settings
		s.Precision = p.Settings.Precision
		weights := newWeightInputs(s)
		plain := p.Styles == 1 && !p.Masked && s.Pooling == PoolingMax && st.styleWidth == st.width && st.styleHeight == st.height
		switch {
		case st.tiled():
			add(sigTileTargets, sigTileGradient)
		case s.Graph == GraphFast && plain:
			add(signature(sigFastTargets, weights, s.Precision), signature(sigFast, weights, s.Precision))
		case s.Graph == GraphFast:
			add(controlSignature(sigFastTargets, s, false, weights), controlSignature(sigFast, s, p.Masked, weights))
		default:
			add(controlSignature(sigRecipe, s, false, weights))
		}
	}
	return out
}

// Bind checks the plan against model once: the signatures its graph and
// controls need, and the precision: auto (or bf16 where the hardware lacks
// it) is resolved for model's devices and this CPU. It returns what a person
// should know of that choice ("" for none). Execute runs a plan on the model
// it was bound to.
func (p *Plan) Bind(model *tfgraph.Model) (notice string, err error) {
	s := &p.Settings
	if err := CheckModel(model, s.Graph); err != nil {
		return "", err
	}
	if notice, err = ResolvePrecision(model, s, p.Masked); err != nil {
		return "", err
	}
	if err := CheckControlsModel(model, s, p.Masked); err != nil {
		return "", err
	}
	if err := checkPrecision(model, s, p.Masked); err != nil {
		return "", err
	}
	for i := range p.scaleSteps {
		p.scaleSteps[i].settings.Precision = s.Precision
	}
	p.Signatures = p.signatures()
	for _, name := range p.Signatures {
		if _, err := model.Signature(name); err != nil {
			return "", fmt.Errorf("%s has no signature %s, which this run needs; export it again (make model)", model.Dir(), name)
		}
	}
	p.model = model
	return notice, nil
}

// Execute runs a plan that Bind has bound to model on the images it was
// prepared for (in may add the Stylizer, the Gram cache and a video's previous
// frame). When ctx is cancelled it stops at the end of the current evaluation
// and returns the best image so far with ctx's error.
func Execute(ctx context.Context, model *tfgraph.Model, p *Plan, in Inputs, obs Observer) (*Result, error) {
	if p.model == nil || p.model != model {
		return nil, errors.New("transfer: the plan is not bound to this model (Plan.Bind)")
	}
	if p.Settings.Init == InitStylized && in.Stylizer == nil {
		return nil, errors.New("init stylized: no feed-forward network given to paint the start (make fastnets)")
	}
	if !p.Settings.coarseToFine() {
		return runScale(ctx, model, p, p.scaleSteps[0], in, nil, obs)
	}
	// Coarse to fine: each scale a run of its own, the previous result
	// upsampled (bicubic) as its start. The observer sees iterations numbered
	// on across scales; Iteration.Scale says which.
	total := &Result{}
	var prev *preprocess.Image
	for k, st := range p.scaleSteps {
		var start []float64
		if prev != nil {
			var err error
			if start, err = upsample(prev, st.width, st.height, st.settings.Preprocess); err != nil {
				return nil, err
			}
		}
		offset := len(total.Iterations)
		kobs := Observer{}
		if obs.Start != nil {
			kobs.Start = func(i int) { obs.Start(offset + i) }
		}
		if obs.Evaluation != nil {
			kobs.Evaluation = func(i, e int, t Terms, d time.Duration) { obs.Evaluation(offset+i, e, t, d) }
		}
		kobs.Done = func(it Iteration) error {
			it.Iteration += offset
			it.Scale = k
			if obs.Done != nil {
				return obs.Done(it)
			}
			return nil
		}
		res, err := runScale(ctx, model, p, st, in, start, kobs)
		if res != nil {
			for _, it := range res.Iterations {
				it.Iteration += offset
				it.Scale = k
				total.Iterations = append(total.Iterations, it)
			}
			total.Image, total.X = res.Image, res.X
		}
		if err != nil {
			if res == nil {
				return nil, fmt.Errorf("scale %d (long side %d): %w", k, max(st.width, st.height), err)
			}
			return total, err
		}
		prev = res.Image
	}
	return total, nil
}

// upsample resizes a scale's result to the next scale's size (bicubic) and
// returns it in preprocessed space. The result goes through its 8-bit picture
// (float64 -> 8-bit -> resize -> float32 -> float64) because resample resizes
// 8-bit images byte for byte as Pillow does: the next scale starts from the
// picture the coarser scale would have saved, resized as a starting image
// read from that file would be (init image), colour controls included. The
// rounding to 8 bits is part of that arithmetic, not an accident of it.
func upsample(img *preprocess.Image, w, h int, m vggtensor.Mode) ([]float64, error) {
	big, err := resample.Resize(img, w, h, resample.Bicubic)
	if err != nil {
		return nil, err
	}
	x, err := vggtensor.Preprocess(big, m)
	if err != nil {
		return nil, err
	}
	return widen(x), nil
}

// String describes the plan in a few lines, as --dry-run prints it.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "size %dx%d, style image %dx%d\n", p.Width, p.Height, p.StyleWidth, p.StyleHeight)
	if len(p.Scales) > 1 {
		parts := make([]string, len(p.Scales))
		for i, n := range p.Scales {
			noun := "iterations"
			if p.Iterations[i] == 1 {
				noun = "iteration"
			}
			parts[i] = fmt.Sprintf("%d (%d %s)", n, p.Iterations[i], noun)
		}
		fmt.Fprintf(&b, "scales (long side) %s\n", strings.Join(parts, ", "))
		for i, sc := range p.PerScale {
			fmt.Fprintf(&b, "  scale %d: %dx%d, style image %dx%d\n", i, sc.Width, sc.Height, sc.StyleWidth, sc.StyleHeight)
		}
	}
	if p.Tile > 0 {
		fmt.Fprintf(&b, "tiles of %dx%d pixels plus a %d-pixel halo\n", p.Tile, p.Tile, p.Halo)
	} else {
		b.WriteString("the whole image at once (no tiles)\n")
	}
	if len(p.Signatures) > 0 {
		fmt.Fprintf(&b, "signatures %s", strings.Join(p.Signatures, ", "))
		if p.model == nil && p.Settings.Precision == PrecisionAuto {
			b.WriteString(" (precision auto: fp32's until the model's devices are known)")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "peak memory about %s of %s available (%s)\n", memory.Format(p.Peak), memory.Format(p.Limit), p.LimitSource)
	return b.String()
}
