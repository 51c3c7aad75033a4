package transfer

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestImprovedLessThan(t *testing.T) {
	for _, tt := range []struct {
		first, last, r float64
		want           bool
	}{
		{100, 99, 0, false},    // off: the notebook runs every iteration
		{100, 100, 0, false},   // off, even without any gain
		{100, 99, 0.02, true},  // 1% < 2%
		{100, 98, 0.02, false}, // 2% is not less than 2%
		{100, 90, 0.02, false},
		{100, 101, 0.02, true}, // a loss that rose gained nothing
		{0, 0, 0.02, false},    // no loss to gain on: keep going
	} {
		if got := improvedLessThan(tt.first, tt.last, tt.r); got != tt.want {
			t.Errorf("improvedLessThan(%g, %g, %g) = %v, want %v", tt.first, tt.last, tt.r, got, tt.want)
		}
	}
}

// TestStopImprovement: a tolerance ends the run after the first iteration that
// gains less than it, and changes nothing before (the same losses, bit for bit);
// coarse scales run their budgets; Adam's outer iterations stop the same way.
func TestStopImprovement(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model")
	}
	m := testModel(t)
	ref := referenceInputs(t)
	in := Inputs{Content: ref.Content, Style: ref.Style}

	// gains runs s and returns each iteration's loss and its gain, from its first evaluation's loss.
	gains := func(s Settings) (losses, gains []float64) {
		t.Helper()
		var first float64
		res, err := Run(context.Background(), m, in, s, Observer{Evaluation: func(_, e int, t Terms, _ time.Duration) {
			if e == 1 {
				first = float64(t.Loss)
			}
		}, Done: func(it Iteration) error {
			losses = append(losses, it.Loss)
			gains = append(gains, (first-it.Loss)/first)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Iterations) != len(losses) {
			t.Fatalf("%d iterations in the result, %d seen", len(res.Iterations), len(losses))
		}
		return losses, gains
	}

	s := controlSettings()
	s.Iterations, s.MaxFun = 6, 3
	all, g := gains(s)
	t.Logf("gains per iteration without a tolerance: %.3g", g)
	if len(all) != 6 {
		t.Fatalf("StopImprovement 0 ran %d iterations, want all 6", len(all))
	}
	// A tolerance just above iteration 3's gain (measured above: the gains
	// fall from 0.117 to 0.094, so no earlier iteration gains less) stops the
	// run after the first iteration that gains less than it.
	s.StopImprovement = g[3] * (1 + 1e-4)
	stop := 0
	for g[stop] >= s.StopImprovement {
		stop++
	}
	if stop == len(g)-1 {
		t.Fatalf("tolerance %.3g: would stop only at the last iteration (gains %.3g)", s.StopImprovement, g)
	}
	got, _ := gains(s)
	if diff := cmp.Diff(all[:stop+1], got); diff != "" {
		t.Errorf("tolerance %.3g: losses (-want: without a tolerance, up to iteration %d; +got):\n%s", s.StopImprovement, stop, diff)
	}

	// Coarse to fine: the coarse scale runs its 2 iterations whatever it gains;
	// the final size stops after its first.
	s = Defaults()
	s.Width, s.Height, s.Scales, s.ScaleIterations = 32, 32, []int{16}, []int{2}
	s.Iterations, s.MaxFun, s.StopImprovement = 4, 2, 0.999
	if got, _ := gains(s); len(got) != 3 {
		t.Errorf("scales: %d iterations, want 2 at the coarse scale and 1 at the final size", len(got))
	}

	s = controlSettings()
	s.Optimizer, s.Iterations, s.MaxFun, s.StopImprovement = OptimizerAdam, 3, 2, 0.999
	if got, _ := gains(s); len(got) != 1 {
		t.Errorf("adam: %d iterations, want 1", len(got))
	}
}
