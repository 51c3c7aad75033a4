package optimize

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/kernels"
)

// The vectors of scripts/vectors/optimize_vectors.py (make vectors-optimize).
type vectorFile struct {
	SciPy string       `json:"scipy"`
	Cases []vectorCase `json:"cases"`
	// SciPy's ddot of dotInputs(n) for each n.
	Ddot struct {
		N   []int     `json:"n"`
		Dot []float64 `json:"dot"`
	} `json:"ddot"`
}

type vectorCase struct {
	Name     string    `json:"name"`
	Problem  string    `json:"problem"`
	X0       []float64 `json:"x0"`
	Calls    int       `json:"calls"`
	HaltAt   int       `json:"halt_at"`
	Settings struct {
		M       int        `json:"m"`
		Factr   float64    `json:"factr"`
		Pgtol   float64    `json:"pgtol"`
		MaxFun  int        `json:"maxfun"`
		MaxIter int        `json:"maxiter"`
		MaxLS   int        `json:"maxls"`
		Lower   []*float64 `json:"lower"` // null entry: -Inf
		Upper   []*float64 `json:"upper"` // null entry: +Inf
	} `json:"settings"`
	Events  map[string]int `json:"events"`
	Results []vectorResult `json:"results"`
}

type vectorResult struct {
	X        []float64 `json:"x"`
	F        float64   `json:"f"`
	Grad     []float64 `json:"grad"`
	Nit      int       `json:"nit"`
	Nfev     int       `json:"nfev"`
	Task     string    `json:"task"`
	Warnflag int       `json:"warnflag"`
	Fevals   []float64 `json:"fevals"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/lbfgsb.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("testdata/lbfgsb.json: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("testdata/lbfgsb.json: no cases")
	}
	return v
}

func bounds(v []*float64, inf float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, e := range v {
		out[i] = inf
		if e != nil {
			out[i] = *e
		}
	}
	return out
}

// maxRelDiff is the largest |a_i - b_i| / max(|b_i|, 1), for messages.
func maxRelDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	e := 0.0
	for i := range b {
		e = math.Max(e, math.Abs(a[i]-b[i])/math.Max(math.Abs(b[i]), 1))
	}
	return e
}

// identical reports whether a and b hold the same float64 values bit for bit.
func identical(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func (c *vectorCase) settings() Settings {
	s := DefaultSettings()
	s.M, s.Factr, s.Pgtol = c.Settings.M, c.Settings.Factr, c.Settings.Pgtol
	s.MaxFun, s.MaxIter, s.MaxLS = c.Settings.MaxFun, c.Settings.MaxIter, c.Settings.MaxLS
	s.Lower = bounds(c.Settings.Lower, math.Inf(-1))
	s.Upper = bounds(c.Settings.Upper, math.Inf(1))
	if c.HaltAt > 0 {
		s.Callback = func(it Iteration) error {
			if it.Iter >= c.HaltAt {
				return ErrHalt
			}
			return nil
		}
	}
	return s
}

// TestVectors runs every case of testdata/lbfgsb.json and requires SciPy's
// nit, nfev, task message and warnflag, and x, f, the gradient and the value
// of every evaluation identical to the last bit: the kernels reproduce
// SciPy's floating-point operations (see vec.go), so the tolerance measured
// on these vectors is zero, and any difference is a defect. It also
// requires the memory refreshes, line-search restarts and skipped updates
// that the Fortran reported.
func TestVectors(t *testing.T) {
	if err := kernels.Record(t.Name(), true, "pure Go: SciPy's sums in OpenBLAS's AVX-512 order on any CPU"); err != nil {
		t.Error(err)
	}
	v := loadVectors(t)
	hits, allFixed := 0, 0
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			fn := problems[c.Problem]
			if fn == nil {
				t.Fatalf("unknown problem %q", c.Problem)
			}
			s := c.settings()
			x := c.X0
			var ev events
			for call, want := range c.Results {
				var fevals []float64
				f := func(x, g []float64) (float64, error) {
					v := fn(x, g)
					fevals = append(fevals, v)
					return v, nil
				}
				st, err := newState(f, x, &s, nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := st.run(context.Background())
				if err != nil {
					t.Fatalf("call %d: %v", call, err)
				}
				ev.skipped += st.events.skipped
				ev.restarts += st.events.restarts
				ev.singular += st.events.singular
				ev.formk += st.events.formk
				ev.formt += st.events.formt
				ev.projRejected += st.events.projRejected
				ev.allFixed += st.events.allFixed
				hits += st.events.cacheHits
				if res.Iterations != want.Nit || res.Evaluations != want.Nfev || res.Status.Message() != want.Task || res.Warnflag != want.Warnflag {
					t.Errorf("call %d: nit %d nfev %d %q warnflag %d; SciPy: nit %d nfev %d %q warnflag %d",
						call, res.Iterations, res.Evaluations, res.Status.Message(), res.Warnflag,
						want.Nit, want.Nfev, want.Task, want.Warnflag)
				}
				if !identical(res.X, want.X) || !identical([]float64{res.F}, []float64{want.F}) || !identical(res.Grad, want.Grad) {
					t.Errorf("call %d: differs from SciPy: x by %.3g, f by %.3g, gradient by %.3g (relative)", call,
						maxRelDiff(res.X, want.X), maxRelDiff([]float64{res.F}, []float64{want.F}), maxRelDiff(res.Grad, want.Grad))
				}
				if want.Fevals != nil && !identical(fevals, want.Fevals) {
					t.Errorf("call %d: evaluated values differ from SciPy's by %.3g (relative)", call, maxRelDiff(fevals, want.Fevals))
				}
				x = append([]float64(nil), res.X...)
			}
			got := map[string]int{
				"skipped_updates": ev.skipped, "linesearch_restarts": ev.restarts,
				"singular_resets": ev.singular, "formk_resets": ev.formk, "formt_resets": ev.formt,
				"projections_rejected": ev.projRejected,
			}
			for k, w := range c.Events {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("%s: %d, Fortran reported %d", k, g, w)
				}
			}
			allFixed += ev.allFixed
		})
	}
	// The set must reach the Cauchy point's exit with every variable at
	// a bound (the Fortran prints nothing for it).
	if allFixed == 0 {
		t.Error("no case fixed all variables at the Cauchy point")
	}
	// The generator's set must exercise SciPy's evaluation cache.
	if hits == 0 {
		t.Error("no case repeated an evaluation point")
	}
}
