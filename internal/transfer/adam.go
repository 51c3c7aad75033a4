package transfer

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/neuralstyle/neuralstyle/optimize"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

// Adam, jcjohnson/neural-style's optimiser, beside the notebook's L-BFGS-B
// (issue 12's controls; off in Defaults()).

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

// DefaultLearningRate is jcjohnson/neural-style's Adam learning rate.
const DefaultLearningRate = 10.0

func checkRate(c *Config) error {
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return fmt.Errorf("%v: want a finite number > 0", c.LearningRate)
	}
	return nil
}

// runAdam minimises with Adam: one run of Iterations x MaxFun steps (its moments
// carry over), reported to obs as Iterations iterations of MaxFun evaluations. It
// returns the last point evaluated, whose terms the last iteration reports.
func runAdam(ctx context.Context, eval lossEvaluator, x0 []float64, w, h int, s *Settings, obs Observer, res *Result, post func(*preprocess.Image) (*preprocess.Image, error)) ([]float64, error) {
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
	var err error
	if settings.Lower, settings.Upper, err = bounds(s, len(x0)); err != nil {
		return x0, err
	}
	settings.Steps = s.Iterations * s.MaxFun
	settings.Callback = func(st optimize.Iteration) error {
		if calls < s.MaxFun {
			return nil
		}
		it := Iteration{
			Iteration: i, Terms: last, Loss: st.F, Evaluations: calls, Steps: calls,
			Status: optimize.IterationLimit, Elapsed: time.Since(start), X: st.X, Width: w, Height: h,
			// w x h, the run's size: with --long-side or scales it is not s's --size.
			Image: picture(st.X, w, h, s.Preprocess, post),
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
