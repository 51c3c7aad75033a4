package optimize

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// quadratic is f(x) = sum a_i (x_i - c_i)² / 2 with a_i = 1 + i.
func quadratic(x, g []float64) (float64, error) {
	s := 0.0
	for i, v := range x {
		a, c := float64(1+i), float64(i)-1.5
		g[i] = a * (v - c)
		s += 0.5 * a * (v - c) * (v - c)
	}
	return s, nil
}

func TestAdamFirstSteps(t *testing.T) {
	// Two steps by hand, in torch's optim.adam form, on one coordinate of quadratic.
	s := AdamSettings{LearningRate: 0.5, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Steps: 2}
	x0 := []float64{3, -2, 0.25, 7}
	want := make([]float64, len(x0))
	// Variables, not constants: Go folds constant expressions exactly (1 - 0.9 is
	// 0.1 there), while torch and Adam compute them in float64.
	lr, b1, b2, eps := s.LearningRate, s.Beta1, s.Beta2, s.Epsilon
	for i, x := range x0 {
		a, c := float64(1+i), float64(i)-1.5
		g1 := a * (x - c)
		m, v := (1-b1)*g1, (1-b2)*g1*g1
		x -= lr * math.Sqrt(1-b2) / (1 - b1) * m / (math.Sqrt(v) + eps)
		g2 := a * (x - c)
		m, v = b1*m+(1-b1)*g2, b2*v+(1-b2)*g2*g2
		x -= lr * math.Sqrt(1-b2*b2) / (1 - b1*b1) * m / (math.Sqrt(v) + eps)
		want[i] = x
	}
	r, err := Adam(context.Background(), quadratic, x0, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if r.X[i] != want[i] {
			t.Errorf("x[%d] = %v, want %v", i, r.X[i], want[i])
		}
	}
	if r.Evaluations != 2 || r.Iterations != 2 || r.Status != IterationLimit {
		t.Errorf("evaluations %d, iterations %d, status %v", r.Evaluations, r.Iterations, r.Status)
	}
	// F and Grad belong to LastX, the point before the last update.
	g := make([]float64, len(x0))
	f, _ := quadratic(r.LastX, g)
	if f != r.F || g[3] != r.Grad[3] {
		t.Errorf("F %v at LastX, want %v", r.F, f)
	}
	if x0[0] != 3 {
		t.Error("Adam modified x0")
	}
}

func TestAdamConverges(t *testing.T) {
	// Adam's first step moves every coordinate by about the learning rate; the
	// step shrinks with the gradient and it settles at the minimum. Measured: after
	// 3000 steps of rate 0.05 every coordinate is within 5e-16 of c.
	s := AdamSettings{LearningRate: 0.05, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Steps: 3000}
	r, err := Adam(context.Background(), quadratic, []float64{3, -2, 0.25, 7, 1, 1}, s)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range r.X {
		if c := float64(i) - 1.5; math.Abs(v-c) > 1e-12 {
			t.Errorf("x[%d] = %v, want about %v", i, v, c)
		}
	}
}

// TestAdamBounds: with bounds, x0 and every update are projected onto them, so
// a coordinate whose minimum lies outside ends at its bound and the others at
// their minimum (quadratic's minimum is i - 1.5), as in TestAdamConverges.
func TestAdamBounds(t *testing.T) {
	s := AdamSettings{LearningRate: 0.05, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Steps: 3000,
		Lower: []float64{-1, -1, -1, -1, -1, -1}, Upper: []float64{5, 5, 5, 2, 5, 5}}
	seen := 0
	s.Callback = func(it Iteration) error {
		for i, v := range it.X {
			if v < s.Lower[i] || v > s.Upper[i] {
				t.Fatalf("step %d evaluated x[%d] = %v, outside [%v, %v]", it.Iter, i, v, s.Lower[i], s.Upper[i])
			}
		}
		seen++
		return nil
	}
	r, err := Adam(context.Background(), quadratic, []float64{3, -2, 0.25, 7, 1, 1}, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{-1, -0.5, 0.5, 1.5, 2.5, 3.5} // x[0]'s minimum -1.5 is below -1
	for i, v := range r.X {
		if math.Abs(v-want[i]) > 1e-12 {
			t.Errorf("x[%d] = %v, want about %v", i, v, want[i])
		}
	}
	if seen != s.Steps {
		t.Errorf("%d evaluations seen, want %d", seen, s.Steps)
	}
	s.Upper = s.Upper[:2]
	if _, err := Adam(context.Background(), quadratic, make([]float64, 6), s); err == nil || !strings.Contains(err.Error(), "bounds of 6 and 2 values for 6 variables") {
		t.Errorf("bounds of the wrong length: %v", err)
	}
}

func TestAdamErrors(t *testing.T) {
	good := DefaultAdamSettings()
	for _, tt := range []struct {
		edit func(*AdamSettings)
		want string
	}{
		{func(s *AdamSettings) { s.LearningRate = 0 }, "learning rate 0"},
		{func(s *AdamSettings) { s.LearningRate = math.Inf(1) }, "learning rate +Inf"},
		{func(s *AdamSettings) { s.Beta1 = 1 }, "beta1 1"},
		{func(s *AdamSettings) { s.Beta2 = -0.1 }, "beta2 -0.1"},
		{func(s *AdamSettings) { s.Epsilon = math.NaN() }, "epsilon NaN"},
		{func(s *AdamSettings) { s.Steps = 0 }, "steps 0"},
	} {
		s := good
		tt.edit(&s)
		if _, err := Adam(context.Background(), quadratic, []float64{1}, s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one containing %q", err, tt.want)
		}
	}
	nan := func(x, g []float64) (float64, error) { g[0] = math.NaN(); return 0, nil }
	r, err := Adam(context.Background(), nan, []float64{1}, good)
	if err == nil || r.Status != EvaluationFailed {
		t.Errorf("NaN gradient: status %v, error %v", r.Status, err)
	}
	boom := errors.New("boom")
	calls := 0
	fail := func(x, g []float64) (float64, error) {
		if calls++; calls == 3 {
			return 0, boom
		}
		return quadratic(x, g)
	}
	if r, err := Adam(context.Background(), fail, []float64{1, 2}, good); !errors.Is(err, boom) || r.Evaluations != 2 || r.X == nil {
		t.Errorf("failing f: evaluations %d, error %v", r.Evaluations, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopAt2 := func(x, g []float64) (float64, error) {
		if calls++; calls == 2 {
			cancel()
		}
		return quadratic(x, g)
	}
	calls = 0
	if r, err := Adam(ctx, stopAt2, []float64{1, 2}, good); !errors.Is(err, context.Canceled) || r.Status != Canceled || r.Evaluations != 2 {
		t.Errorf("cancelled: status %v, evaluations %d, error %v", r.Status, r.Evaluations, err)
	}
}

// BenchmarkOptimizerMemory compares what L-BFGS-B and Adam allocate for a
// 512x512 RGB image (-benchmem's B/op), each over 20 evaluations of the cheap
// benchmark problem.
func BenchmarkOptimizerMemory(b *testing.B) {
	x0 := benchStart(benchN)
	p := &benchProblem{}
	b.Run("lbfgsb", func(b *testing.B) {
		b.ReportAllocs()
		s := DefaultSettings()
		s.MaxFun, s.MaxIter = 20, 20
		for range b.N {
			if _, err := Minimize(context.Background(), p.f, x0, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("adam", func(b *testing.B) {
		b.ReportAllocs()
		s := DefaultAdamSettings()
		s.Steps = 20
		for range b.N {
			if _, err := Adam(context.Background(), p.f, x0, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestAdamCallback(t *testing.T) {
	s := DefaultAdamSettings()
	s.Steps = 10
	var seen []int
	s.Callback = func(it Iteration) error {
		g := make([]float64, len(it.X))
		if f, _ := quadratic(it.X, g); f != it.F || g[0] != it.Grad[0] {
			t.Errorf("step %d: F %v is not f(X) %v", it.Iter, it.F, f)
		}
		if seen = append(seen, it.Iter); it.Iter == 4 {
			return ErrHalt
		}
		return nil
	}
	r, err := Adam(context.Background(), quadratic, []float64{1, 2, 3}, s)
	if err != nil || r.Status != CallbackHalt || r.Evaluations != 4 || len(seen) != 4 || seen[3] != 4 {
		t.Errorf("halt at 4: status %v, evaluations %d, seen %v, error %v", r.Status, r.Evaluations, seen, err)
	}
	boom := errors.New("boom")
	s.Callback = func(Iteration) error { return boom }
	if _, err := Adam(context.Background(), quadratic, []float64{1}, s); !errors.Is(err, boom) {
		t.Errorf("callback error: got %v", err)
	}
}
