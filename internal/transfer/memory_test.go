package transfer

import (
	"context"
	"testing"

	"github.com/neuralstyle/neuralstyle/optimize"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// modelAndInputs skips a short test run, else returns the test model and the
// reference content and style.
func modelAndInputs(t *testing.T) (*tfgraph.Model, Inputs) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the model")
	}
	ref := referenceInputs(t)
	return testModel(t), Inputs{Content: ref.Content, Style: ref.Style}
}

// TestMemoryKeep: with MemoryKeep the outer iterations are one L-BFGS-B run.
// Its image equals, bit for bit, that of a single call whose maxfun stops it
// after the same L-BFGS-B iteration (the run's evaluations less one); each
// outer iteration still ends once its evaluations pass MaxFun; and it is not
// the notebook's restarted run (MemoryReset), which reaches another point.
func TestMemoryKeep(t *testing.T) {
	t.Parallel()
	m, in := modelAndInputs(t)

	s := controlSettings()
	s.Iterations, s.MaxFun, s.Memory = 3, 4, MemoryKeep
	var seen []int
	kept, err := Run(context.Background(), m, in, s, Observer{
		Start: func(i int) { seen = append(seen, i) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.Iterations) != 3 || len(seen) != 3 {
		t.Fatalf("%d iterations reported, %d started; want 3 of each", len(kept.Iterations), len(seen))
	}
	total := 0
	for i, it := range kept.Iterations {
		if it.Iteration != i || it.Evaluations <= s.MaxFun || it.Status != optimize.FunctionEvaluationLimit {
			t.Errorf("iteration %d: number %d, %d evaluations, %v; want %d, more than %d, %v",
				i, it.Iteration, it.Evaluations, it.Status, i, s.MaxFun, optimize.FunctionEvaluationLimit)
		}
		if it.Loss != float64(it.Terms.Loss) {
			t.Errorf("iteration %d: loss %v, its terms' %v", i, it.Loss, it.Terms.Loss)
		}
		total += it.Evaluations
	}

	one := s
	one.Iterations, one.MaxFun, one.Memory = 1, total-1, MemoryReset
	single := run(t, m, in, one)
	if got := single.Iterations[0].Evaluations; got != total {
		t.Fatalf("one call of maxfun %d ran %d evaluations, the kept memory's run %d", total-1, got, total)
	}
	if !sameX(kept.X, single.X) {
		t.Errorf("kept memory's image differs from one L-BFGS-B call's with the same evaluations")
	}
	if kept.Iterations[2].Loss != single.Iterations[0].Loss {
		t.Errorf("final loss %v, one call's %v", kept.Iterations[2].Loss, single.Iterations[0].Loss)
	}

	reset := s
	reset.Memory = MemoryReset
	if sameX(run(t, m, in, reset).X, kept.X) {
		t.Errorf("MemoryReset and MemoryKeep reached the same image: the setting changed nothing")
	}
}

// TestMemoryKeepStops: StopImprovement ends a kept-memory run after an outer
// iteration, as it ends the notebook's loop.
func TestMemoryKeepStops(t *testing.T) {
	t.Parallel()
	m, in := modelAndInputs(t)
	s := controlSettings()
	s.Iterations, s.MaxFun, s.Memory = 4, 3, MemoryKeep
	s.StopImprovement = 0.999 // every iteration gains less than 99.9%
	res := run(t, m, in, s)
	if len(res.Iterations) != 1 {
		t.Errorf("StopImprovement 0.999 ran %d iterations, want 1", len(res.Iterations))
	}
}

// TestBoundsPixels: with BoundsPixels every value of the result lies within
// 0..255 once the means are added back, with either memory and either
// optimiser; without bounds (the notebook's) the same run leaves some outside,
// so the bounds are what keeps them in.
func TestBoundsPixels(t *testing.T) {
	t.Parallel()
	m, in := modelAndInputs(t)
	outside := func(x []float64, mode vggtensor.Mode) int {
		lower, upper, err := vggtensor.PixelBounds(len(x), mode)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, v := range x {
			if v < lower[i] || v > upper[i] {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		name   string
		memory Memory
		opt    Optimizer
	}{
		{"reset", MemoryReset, OptimizerLBFGS},
		{"keep", MemoryKeep, OptimizerLBFGS},
		{"adam", MemoryReset, OptimizerAdam},
	} {
		s := controlSettings()
		s.Iterations, s.MaxFun, s.Memory, s.Optimizer = 2, 4, tt.memory, tt.opt
		free := run(t, m, in, s)
		s.Bounds = BoundsPixels
		bounded := run(t, m, in, s)
		if n := outside(free.X, s.Preprocess); n == 0 {
			t.Errorf("%s: no value outside 0..255 without bounds: this test shows nothing", tt.name)
		}
		if n := outside(bounded.X, s.Preprocess); n != 0 {
			t.Errorf("%s: %d values outside 0..255 with bounds pixels", tt.name, n)
		}
	}
}
