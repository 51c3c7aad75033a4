package optimize

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// AdamSettings are the parameters of Adam (Kingma and Ba, 2015), named as
// torch's optim.adam names them. Start from DefaultAdamSettings.
type AdamSettings struct {
	// LearningRate is the step size in the units of x.
	LearningRate float64
	// Beta1 and Beta2 are the decay rates of the moving averages of the
	// gradient and of its square, in [0, 1).
	Beta1, Beta2 float64
	// Epsilon is added to the root of the second moment in the denominator.
	Epsilon float64
	// Steps is the number of updates; each evaluates the function once.
	Steps int
	// Lower and Upper, when not nil, bound the variables as Settings' do:
	// x0 and every update are projected onto them (projected Adam).
	Lower, Upper []float64
	// Callback, if not nil, is called after each evaluation with the point
	// evaluated (X, about to be updated), its value and gradient, and the steps
	// so far in Iter and Evaluations. Returning ErrHalt stops the run with
	// status CallbackHalt and no error; any other error also stops it and is
	// returned.
	Callback func(Iteration) error
}

// DefaultAdamSettings returns jcjohnson/neural-style's Adam: torch's optim.adam
// with learning rate 10 (in pixel units, which are the units of the transfer's
// preprocessed image), beta1 0.9, beta2 0.999, epsilon 1e-8, and its default of
// 1000 steps.
func DefaultAdamSettings() AdamSettings {
	return AdamSettings{LearningRate: 10, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Steps: 1000}
}

func (s *AdamSettings) validate() error {
	switch {
	case !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0):
		return fmt.Errorf("optimize: Adam learning rate %v: want a finite number > 0", s.LearningRate)
	case !(s.Beta1 >= 0 && s.Beta1 < 1):
		return fmt.Errorf("optimize: Adam beta1 %v: want [0, 1)", s.Beta1)
	case !(s.Beta2 >= 0 && s.Beta2 < 1):
		return fmt.Errorf("optimize: Adam beta2 %v: want [0, 1)", s.Beta2)
	case !(s.Epsilon > 0) || math.IsInf(s.Epsilon, 0):
		return fmt.Errorf("optimize: Adam epsilon %v: want a finite number > 0", s.Epsilon)
	case s.Steps < 1:
		return fmt.Errorf("optimize: Adam steps %d: want at least 1", s.Steps)
	}
	return nil
}

// Adam minimises f from x0 by s.Steps updates of Adam, as torch's optim.adam
// computes them: with g the gradient at x and t the step from 1,
//
//	m = beta1 m + (1 - beta1) g
//	v = beta2 v + (1 - beta2) g²
//	x = x - lr sqrt(1 - beta2^t) / (1 - beta1^t) · m / (sqrt(v) + epsilon)
//
// Each step evaluates f once, at the point it then updates. It keeps three
// vectors of the length of x besides x and the gradient (the two moments and
// the point evaluated last), where Minimize keeps 2·M for its memory and
// about ten more.
//
// The result's X is the point after the last update, which was not evaluated;
// F and Grad are the value and gradient of the last evaluation, at LastX.
// Iterations and Evaluations are both the steps taken. Status is
// IterationLimit after all steps. A failed or non-finite evaluation stops the
// run with EvaluationFailed, a done context with Canceled; both return the
// last point reached (X) and an error.
func Adam(ctx context.Context, f Func, x0 []float64, s AdamSettings) (AdamResult, error) {
	if err := s.validate(); err != nil {
		return AdamResult{}, err
	}
	if len(x0) == 0 {
		return AdamResult{}, errors.New("optimize: x0 is empty")
	}
	n := len(x0)
	if (s.Lower != nil && len(s.Lower) != n) || (s.Upper != nil && len(s.Upper) != n) {
		return AdamResult{}, fmt.Errorf("optimize: Adam bounds of %d and %d values for %d variables", len(s.Lower), len(s.Upper), n)
	}
	x := append([]float64(nil), x0...)
	project(x, s.Lower, s.Upper)
	g := make([]float64, n)
	m := make([]float64, n)
	v := make([]float64, n)
	last := make([]float64, n)
	res := AdamResult{Result: Result{X: x, F: math.NaN()}}
	pow1, pow2 := 1.0, 1.0
	for t := 1; t <= s.Steps; t++ {
		if err := ctx.Err(); err != nil {
			res.Status = Canceled
			return res, fmt.Errorf("optimize: %w", err)
		}
		fx, err := f(x, g)
		if err == nil {
			if i := firstNonFinite(g); i >= 0 || math.IsNaN(fx) || math.IsInf(fx, 0) {
				err = fmt.Errorf("optimize: f = %v or a gradient entry is not finite at step %d", fx, t)
			}
		}
		if err != nil {
			res.Status = EvaluationFailed
			return res, err
		}
		copy(last, x)
		res.F, res.Grad, res.LastX = fx, g, last
		res.Evaluations, res.Iterations = t, t
		if s.Callback != nil {
			if err := s.Callback(Iteration{Iter: t, X: last, Grad: g, F: fx, Evaluations: t}); err != nil {
				res.Status = CallbackHalt
				if errors.Is(err, ErrHalt) {
					return res, nil
				}
				return res, err
			}
		}
		pow1 *= s.Beta1
		pow2 *= s.Beta2
		step := s.LearningRate * math.Sqrt(1-pow2) / (1 - pow1)
		for i, gi := range g {
			m[i] = s.Beta1*m[i] + (1-s.Beta1)*gi
			v[i] = s.Beta2*v[i] + (1-s.Beta2)*gi*gi
			x[i] -= step * m[i] / (math.Sqrt(v[i]) + s.Epsilon)
		}
		project(x, s.Lower, s.Upper)
	}
	res.Status = IterationLimit
	return res, nil
}

// AdamResult is the outcome of Adam: Result as documented there, and the point
// of the last evaluation.
type AdamResult struct {
	Result
	// LastX is the point F and Grad were evaluated at: X before the last
	// update. nil when nothing was evaluated.
	LastX []float64
}

// project clips each x[i] into [lower[i], upper[i]]; a nil bound is none.
func project(x, lower, upper []float64) {
	for i := range x {
		if lower != nil && x[i] < lower[i] {
			x[i] = lower[i]
		}
		if upper != nil && x[i] > upper[i] {
			x[i] = upper[i]
		}
	}
}
