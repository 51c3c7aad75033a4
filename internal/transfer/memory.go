package transfer

import (
	"context"
	"math"
	"time"

	"github.com/neuralstyle/neuralstyle/optimize"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// Memory is what L-BFGS-B's limited memory does from one outer iteration to
// the next.
type Memory string

const (
	// MemoryReset is the notebook's: each outer iteration is its own call of
	// fmin_l_bfgs_b, which starts from an empty memory and a first step of
	// length one over the gradient's norm; only the image carries over.
	MemoryReset Memory = "reset"
	// MemoryKeep runs one L-BFGS-B through all the outer iterations: the
	// correction pairs and the step carry over. An outer iteration ends where
	// a call of MemoryReset would: after the L-BFGS-B iteration whose
	// evaluations pass MaxFun. The same budget, without the restarts: on the
	// HED weights at 512 it reaches the notebook's loss in 0.54 to 0.77 of
	// the evaluations (docs/time-to-quality.md).
	MemoryKeep Memory = "keep"
)

// Bounds says whether the optimiser keeps the image's values within what a
// picture can hold.
type Bounds string

const (
	// BoundsNone is the notebook's: fmin_l_bfgs_b without bounds. The run may
	// leave values outside 0..255, which the picture then clips, so the loss
	// it reports can be below its picture's (by up to 30% measured on the HED
	// weights from the content start; docs/time-to-quality.md, "clipping").
	BoundsNone Bounds = "none"
	// BoundsPixels bounds every value to 0..255 once the mean is added back:
	// L-BFGS-B's box constraints (Adam's steps are projected onto them), so
	// the loss the run reports is its picture's, but for 8-bit rounding.
	BoundsPixels Bounds = "pixels"
)

// bounds returns s's bounds for an image of n values; nil for BoundsNone.
func bounds(s *Settings, n int) (lower, upper []float64, err error) {
	if s.Bounds != BoundsPixels {
		return nil, nil, nil
	}
	return vggtensor.PixelBounds(n, s.Preprocess)
}

// lbfgsSettings are fmin_l_bfgs_b's defaults with s's maxfun, and its
// bounds for an image of n values.
func lbfgsSettings(s *Settings, n int) (optimize.Settings, error) {
	settings := optimize.DefaultSettings()
	settings.MaxFun = s.MaxFun
	var err error
	settings.Lower, settings.Upper, err = bounds(s, n)
	return settings, err
}

// runKeptMemory minimises with one L-BFGS-B run, reported to obs as Iterations
// outer iterations that each end once their evaluations pass MaxFun, as a call
// of fmin_l_bfgs_b with that maxfun would. StopImprovement ends it after an
// outer iteration, as in the notebook's loop. It returns the last iterate.
func runKeptMemory(ctx context.Context, eval lossEvaluator, x0 []float64, w, h int, s *Settings, obs Observer, res *Result, post func(*preprocess.Image) (*preprocess.Image, error)) ([]float64, error) {
	i, calls, steps := 0, 0, 0 // the outer iteration, its evaluations, and the L-BFGS-B iterations before it
	start := time.Now()
	first := math.NaN() // the loss where this outer iteration starts
	tracker := newTermTracker()
	if obs.Start != nil {
		obs.Start(0)
	}
	f := func(x, grad []float64) (float64, error) {
		t, err := eval.evaluate(x, grad)
		if err != nil {
			return 0, err
		}
		calls++
		if math.IsNaN(first) {
			first = float64(t.Loss)
		}
		tracker.record(x, t)
		if obs.Evaluation != nil {
			obs.Evaluation(i, calls, t, time.Since(start))
		}
		return float64(t.Loss), nil
	}
	var doneErr error // the observer's, returned as it is
	// report ends outer iteration i at x after the L-BFGS-B iteration iter.
	report := func(x []float64, loss float64, iter int, status optimize.Status) error {
		terms := tracker.at(x)
		it := Iteration{
			Iteration: i, Terms: terms, Loss: loss, Evaluations: calls, Steps: iter - steps,
			Status: status, Elapsed: time.Since(start), X: x, Width: w, Height: h,
			Image: picture(x, w, h, s.Preprocess, post),
		}
		if obs.Done != nil {
			if doneErr = obs.Done(it); doneErr != nil {
				return doneErr
			}
		}
		it.X, it.Image = nil, nil
		res.Iterations = append(res.Iterations, it)
		tracker = newTermTracker()
		tracker.record(x, terms)
		i, calls, steps, start = i+1, 0, iter, time.Now()
		return nil
	}

	settings, err := lbfgsSettings(s, len(x0))
	if err != nil {
		return x0, err
	}
	// The outer iterations end the run; the limits are theirs.
	settings.MaxFun, settings.MaxIter = math.MaxInt, math.MaxInt
	settings.Callback = func(st optimize.Iteration) error {
		if calls <= s.MaxFun { // SciPy's test: evaluations > maxfun after an iteration
			return nil
		}
		from := first
		if err := report(st.X, st.F, st.Iter, optimize.FunctionEvaluationLimit); err != nil {
			return err
		}
		first = st.F
		if i == s.Iterations || improvedLessThan(from, st.F, s.StopImprovement) {
			return optimize.ErrHalt // no error: the run ends here, its image kept
		}
		if obs.Start != nil {
			obs.Start(i)
		}
		return nil
	}
	var work optimize.Workspace
	r, err := work.Minimize(ctx, f, x0, settings)
	if doneErr != nil {
		err = doneErr
	}
	if r.X == nil {
		return x0, err
	}
	x := r.X
	if err == nil && r.Status != optimize.CallbackHalt && calls > 0 {
		// L-BFGS-B stopped on its own (converged, or its line search failed)
		// within an outer iteration: that iteration ends there.
		err = report(x, r.F, r.Iterations, r.Status)
	}
	return x, err
}
