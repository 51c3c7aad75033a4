package optimize

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func rosenFunc(x, g []float64) (float64, error) { return rosen(x, g), nil }

func TestInvalidInput(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	with := func(edit func(*Settings)) Settings {
		s := DefaultSettings()
		edit(&s)
		return s
	}
	for _, c := range []struct {
		name string
		f    Func
		x0   []float64
		s    Settings
		want string
	}{
		{"nil function", nil, []float64{1}, DefaultSettings(), "nil function"},
		{"empty x0", rosenFunc, nil, DefaultSettings(), "x0 is empty"},
		{"NaN in x0", rosenFunc, []float64{1, nan}, DefaultSettings(), "x0[1] = NaN"},
		{"Inf in x0", rosenFunc, []float64{-inf, 1}, DefaultSettings(), "x0[0] = -Inf"},
		{"zero settings", rosenFunc, []float64{1, 2}, Settings{}, "M = 0"},
		{"M < 1", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.M = -3 }), "M = -3"},
		{"negative factr", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Factr = -1 }), "Factr = -1"},
		{"NaN factr", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Factr = nan }), "Factr = NaN"},
		{"NaN pgtol", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Pgtol = nan }), "Pgtol is NaN"},
		{"maxls 0", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.MaxLS = 0 }), "MaxLS = 0"},
		{"short lower", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Lower = []float64{0} }), "1 lower bounds for 2 variables"},
		{"long upper", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Upper = []float64{0, 1, 2} }), "3 upper bounds for 2 variables"},
		{"lower > upper", rosenFunc, []float64{1, 2}, with(func(s *Settings) {
			s.Lower, s.Upper = []float64{0, 3}, []float64{1, 2}
		}), "variable 1 has lower bound 3 > upper bound 2"},
		{"NaN bound", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Upper = []float64{nan, 1} }), "bound of variable 0 is NaN"},
		{"lower +Inf", rosenFunc, []float64{1, 2}, with(func(s *Settings) { s.Lower = []float64{0, inf} }), "variable 1 has bounds [+Inf, +Inf]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			f := c.f
			if f != nil {
				f = func(x, g []float64) (float64, error) { calls++; return c.f(x, g) }
			}
			res, err := Minimize(context.Background(), f, c.x0, c.s)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "optimize: ") {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if calls != 0 || res.X != nil {
				t.Errorf("%d evaluations and result %+v for invalid input", calls, res)
			}
		})
	}
}

// TestDefaults checks DefaultSettings against fmin_l_bfgs_b's signature.
func TestDefaults(t *testing.T) {
	want := Settings{M: 10, Factr: 1e7, Pgtol: 1e-5, MaxFun: 15000, MaxIter: 15000, MaxLS: 20}
	if diff := cmp.Diff(want, DefaultSettings()); diff != "" {
		t.Error(diff)
	}
}

// TestInputUnchanged checks that x0 is not modified and not aliased, also
// when it lies outside the bounds and is projected.
func TestInputUnchanged(t *testing.T) {
	x0 := []float64{-1.2, 1, 3}
	keep := append([]float64(nil), x0...)
	s := DefaultSettings()
	s.Upper = []float64{math.Inf(1), math.Inf(1), 2}
	res, err := Minimize(context.Background(), rosenFunc, x0, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keep, x0); diff != "" {
		t.Errorf("x0 changed: %s", diff)
	}
	res.X[0] = 42
	if x0[0] == 42 {
		t.Error("Result.X aliases x0")
	}
	if res.X[2] > 2 {
		t.Errorf("x[2] = %v above its bound 2", res.X[2])
	}
}

// TestNonFinite: NaN or Inf from the function stops the run with an error
// that names the evaluation, and the result is the last accepted iterate.
func TestNonFinite(t *testing.T) {
	for _, c := range []struct {
		name   string
		after  int // evaluations before the bad one
		badF   float64
		badG   int // index of a bad gradient component, or -1
		want   string
		accept bool // an iterate was accepted before
	}{
		{"NaN f at x0", 0, math.NaN(), -1, "evaluation 1: f = NaN", false},
		{"Inf gradient at x0", 0, 0, 1, "evaluation 1: gradient[1] = +Inf", false},
		{"Inf f later", 6, math.Inf(1), -1, "evaluation 7: f = +Inf", true},
		{"NaN gradient later", 9, 0, 0, "evaluation 10: gradient[0] = NaN", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			var lastIt Iteration
			var lastX []float64
			s := DefaultSettings()
			s.Callback = func(it Iteration) error {
				lastIt, lastX = it, append([]float64(nil), it.X...)
				return nil
			}
			f := func(x, g []float64) (float64, error) {
				n++
				v := rosen(x, g)
				if n == c.after+1 {
					switch {
					case c.badG == 0:
						g[0] = math.NaN()
					case c.badG == 1:
						g[1] = math.Inf(1)
					default:
						v = c.badF
					}
				}
				return v, nil
			}
			res, err := Minimize(context.Background(), f, []float64{-1.2, 1}, s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if res.Status != EvaluationFailed || res.Evaluations != c.after+1 {
				t.Errorf("status %v after %d evaluations, want EvaluationFailed after %d", res.Status, res.Evaluations, c.after+1)
			}
			if !c.accept {
				if !math.IsNaN(res.F) || res.Iterations != 0 {
					t.Errorf("F = %v, %d iterations; want NaN, 0", res.F, res.Iterations)
				}
				return
			}
			g := make([]float64, 2)
			if !identical(res.X, lastX) || res.F != lastIt.F || res.F != rosen(res.X, g) || !identical(res.Grad, g) || res.Iterations != lastIt.Iter {
				t.Errorf("result %v f=%v iter %d is not the last iterate %v f=%v iter %d", res.X, res.F, res.Iterations, lastX, lastIt.F, lastIt.Iter)
			}
		})
	}
}

// TestFunctionError: an error from f is returned, wrapped, with the last
// accepted iterate.
func TestFunctionError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	f := func(x, g []float64) (float64, error) {
		if n++; n == 5 {
			return 0, boom
		}
		return rosen(x, g), nil
	}
	res, err := Minimize(context.Background(), f, []float64{-1.2, 1}, DefaultSettings())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "optimize: evaluation 5: boom") {
		t.Fatalf("error %v", err)
	}
	g := make([]float64, 2)
	if res.Status != EvaluationFailed || res.F != rosen(res.X, g) || !identical(res.Grad, g) || res.Evaluations != 5 {
		t.Errorf("result %+v", res)
	}
}

// TestCancel: a done context stops the run before the next evaluation and
// returns the last accepted iterate with the context's error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	f := func(x, g []float64) (float64, error) { calls++; return rosen(x, g), nil }
	res, err := Minimize(ctx, f, []float64{-1.2, 1}, DefaultSettings())
	if !errors.Is(err, context.Canceled) || calls != 0 || res.Status != Canceled || !math.IsNaN(res.F) {
		t.Fatalf("canceled before start: %v, %d calls, %+v", err, calls, res)
	}

	// Canceled from within an evaluation, in the middle of a line search.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var last Iteration
	var lastX []float64
	s := DefaultSettings()
	s.Callback = func(it Iteration) error { last, lastX = it, append([]float64(nil), it.X...); return nil }
	calls = 0
	f = func(x, g []float64) (float64, error) {
		if calls++; calls == 16 { // rosen2: iteration 14 takes evaluations 16 to 18
			cancel()
		}
		return rosen(x, g), nil
	}
	res, err = Minimize(ctx, f, []float64{-1.2, 1}, s)
	if !errors.Is(err, context.Canceled) || res.Status != Canceled || calls != 16 {
		t.Fatalf("error %v, status %v, %d calls", err, res.Status, calls)
	}
	g := make([]float64, 2)
	if !identical(res.X, lastX) || res.F != last.F || res.F != rosen(res.X, g) || !identical(res.Grad, g) || res.Iterations != last.Iter {
		t.Errorf("result %v f=%v is not the last iterate %v f=%v", res.X, res.F, lastX, last.F)
	}
}

// TestCallback: ErrHalt stops without error; another error is returned;
// as in SciPy the iteration limit, checked after the callback, takes
// precedence as the status.
func TestCallback(t *testing.T) {
	x0 := []float64{-1.2, 1}
	s := DefaultSettings()
	var seen []int
	s.Callback = func(it Iteration) error {
		seen = append(seen, it.Iter)
		if it.Evaluations < it.Iter+1 || len(it.X) != 2 || len(it.Grad) != 2 {
			t.Errorf("iteration %+v", it)
		}
		if it.Iter == 4 {
			return ErrHalt
		}
		return nil
	}
	res, err := Minimize(context.Background(), rosenFunc, x0, s)
	if err != nil || res.Status != CallbackHalt || res.Warnflag != 2 || res.Iterations != 4 || !cmp.Equal(seen, []int{1, 2, 3, 4}) {
		t.Errorf("ErrHalt: %v %+v, callbacks %v", err, res, seen)
	}

	failed := errors.New("frame not written")
	s.Callback = func(it Iteration) error {
		if it.Iter == 2 {
			return failed
		}
		return nil
	}
	res, err = Minimize(context.Background(), rosenFunc, x0, s)
	if !errors.Is(err, failed) || res.Status != CallbackHalt || res.Iterations != 2 {
		t.Errorf("callback error: %v %+v", err, res)
	}

	s.MaxIter = 3
	s.Callback = func(it Iteration) error {
		if it.Iter == 3 {
			return ErrHalt
		}
		return nil
	}
	res, err = Minimize(context.Background(), rosenFunc, x0, s)
	if err != nil || res.Status != IterationLimit || res.Warnflag != 1 {
		t.Errorf("halt at the iteration limit: %v %+v", err, res)
	}
}

// TestEvaluationCache: near 2^52 the float64 grid has spacing 1, so steps
// shorter than 1/2 leave x where it is and line searches revisit points.
// Like SciPy's cached function wrapper, Minimize must not call f twice in a
// row at the same point nor count such a request, and the result must
// stay consistent, also when the revisited point precedes a line-search
// restart (the cached value and gradient were moved aside).
func TestEvaluationCache(t *testing.T) {
	const c = 0x1p52
	hits := 0
	for _, wrong := range []bool{false, true} {
		for _, m := range []int{1, 5} {
			x0 := []float64{c + 3, c - 7, c + 20, c + 1}
			var calls [][]float64
			f := func(x, g []float64) (float64, error) {
				calls = append(calls, append([]float64(nil), x...))
				v := 0.0
				for i, xi := range x {
					e := xi - c
					v += float64(i+1) * e * e
					g[i] = 2 * float64(i+1) * e
					if wrong && v < 50 {
						g[i] = -g[i] / 3
					}
				}
				return v, nil
			}
			s := DefaultSettings()
			s.M = m
			st, err := newState(f, x0, &s, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := st.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			hits += st.events.cacheHits
			if res.Evaluations != len(calls) {
				t.Errorf("wrong=%v m=%d: %d evaluations counted, %d calls", wrong, m, res.Evaluations, len(calls))
			}
			for i := 1; i < len(calls); i++ {
				if identical(calls[i], calls[i-1]) {
					t.Errorf("wrong=%v m=%d: calls %d and %d at the same point", wrong, m, i, i+1)
				}
			}
		}
	}
	if hits == 0 {
		t.Error("no cache hit: the test does not reach the cache")
	}
}

// TestCacheAfterRestart: a restarted line search that first tries the last
// point evaluated before the restart (not the restored iterate) must take
// that point's value and gradient from the cache, as SciPy's wrapper does.
func TestCacheAfterRestart(t *testing.T) {
	var calls [][]float64
	f := func(x, g []float64) (float64, error) {
		calls = append(calls, append([]float64(nil), x...))
		return rosen(x, g), nil
	}
	s := DefaultSettings()
	st, err := newState(f, []float64{-1.2, 1}, &s, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.active()
	if err := st.evaluate(); err != nil {
		t.Fatal(err)
	}
	// A line search from x0 evaluated the trial point p and failed.
	p := []float64{-1.1, 1.05}
	gp := make([]float64, 2)
	fp := rosen(p, gp)
	copy(st.t, st.x)
	copy(st.r, st.g)
	st.fold = st.f
	copy(st.x, p)
	if err := st.evaluate(); err != nil {
		t.Fatal(err)
	}
	st.saveLast()
	st.restore()
	// The next search (not the first iteration: step 1) goes to z = p.
	st.iter = 1
	copy(st.z, p)
	for i := range st.d {
		st.d[i] = st.z[i] - st.x[i]
	}
	if _, _, err := st.lineSearch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.events.cacheHitsSaved != 1 {
		t.Fatalf("%d cache hits after the restart, want 1", st.events.cacheHitsSaved)
	}
	for _, x := range calls[2:] {
		if identical(x, p) {
			t.Fatalf("f called again at %v", p)
		}
	}
	// The search accepted p on its cached value and gradient, not on
	// those of the restored iterate that x and g held before.
	if len(calls) != 2 || !identical(st.x, p) || st.f != fp || !identical(st.g, gp) {
		t.Errorf("after %d calls: x %v f %v g %v, want %v %v %v", len(calls), st.x, st.f, st.g, p, fp, gp)
	}
}

func TestStatus(t *testing.T) {
	want := map[Status][3]string{
		NotTerminated:           {"NotTerminated", "", "2"},
		GradientConvergence:     {"GradientConvergence", "CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL", "0"},
		FunctionConvergence:     {"FunctionConvergence", "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH", "0"},
		FunctionEvaluationLimit: {"FunctionEvaluationLimit", "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT", "1"},
		IterationLimit:          {"IterationLimit", "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT", "1"},
		LineSearchFailure:       {"LineSearchFailure", "ABNORMAL_TERMINATION_IN_LNSRCH", "2"},
		CallbackHalt:            {"CallbackHalt", "STOP: CALLBACK REQUESTED HALT", "2"},
		Canceled:                {"Canceled", "STOP: CONTEXT DONE", "2"},
		EvaluationFailed:        {"EvaluationFailed", "STOP: EVALUATION FAILED", "2"},
		Status(99):              {"Status(99)", "", "2"},
		Status(-1):              {"Status(-1)", "", "2"},
	}
	for s, w := range want {
		got := [3]string{s.String(), s.Message(), string(rune('0' + s.Warnflag()))}
		if got != w {
			t.Errorf("%d: %q, want %q", int(s), got, w)
		}
		if s.Converged() != (w[2] == "0") {
			t.Errorf("%v.Converged() = %v", s, s.Converged())
		}
	}
}
