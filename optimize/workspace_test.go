package optimize

import (
	"context"
	"math"
	"testing"
)

// poison overwrites the storage a finished run leaves in st, all but x (the
// next call's x0), so that a run that read any of it before writing it
// would differ from SciPy.
func poison(st *state) {
	nan := math.NaN()
	for _, v := range [][]float64{st.g, st.l, st.u, st.z, st.r, st.d, st.t, st.xp, st.lastX, st.lastG} {
		for i := range v {
			v[i] = nan
		}
	}
	for i := range st.ws {
		for j := range st.ws[i] {
			st.ws[i][j], st.wy[i][j] = nan, nan
		}
	}
	for _, v := range [][]int32{st.index, st.indx2} {
		for i := range v {
			v[i] = -7
		}
	}
	for _, v := range [][]int8{st.nbd, st.iwhere} {
		for i := range v {
			v[i] = 5
		}
	}
}

// TestWorkspace runs every vector case through one Workspace, its storage
// poisoned between calls and each call started from the previous call's
// X itself, and requires SciPy's results to the last bit, as TestVectors
// does for fresh runs. The cases differ in size and M, so the workspace
// both reuses and regrows its storage.
func TestWorkspace(t *testing.T) {
	v := loadVectors(t)
	var w Workspace
	reused := 0
	for _, c := range v.Cases {
		fn := problems[c.Problem]
		s := c.settings()
		x := c.X0
		for call, want := range c.Results {
			var fevals []float64
			f := func(x, g []float64) (float64, error) {
				v := fn(x, g)
				fevals = append(fevals, v)
				return v, nil
			}
			prev := w.st
			if prev != nil {
				poison(prev)
			}
			res, err := w.Minimize(context.Background(), f, x, s)
			if err != nil {
				t.Fatalf("%s call %d: %v", c.Name, call, err)
			}
			if prev != nil && len(prev.ws) == len(w.st.ws) && &prev.ws[0][0] == &w.st.ws[0][0] {
				reused++
			}
			if res.Iterations != want.Nit || res.Evaluations != want.Nfev || res.Status.Message() != want.Task || res.Warnflag != want.Warnflag {
				t.Errorf("%s call %d: nit %d nfev %d %q warnflag %d; SciPy: nit %d nfev %d %q warnflag %d", c.Name,
					call, res.Iterations, res.Evaluations, res.Status.Message(), res.Warnflag,
					want.Nit, want.Nfev, want.Task, want.Warnflag)
			}
			if !identical(res.X, want.X) || !identical([]float64{res.F}, []float64{want.F}) || !identical(res.Grad, want.Grad) {
				t.Errorf("%s call %d: differs from SciPy: x by %.3g, f by %.3g, gradient by %.3g (relative)", c.Name, call,
					maxRelDiff(res.X, want.X), maxRelDiff([]float64{res.F}, []float64{want.F}), maxRelDiff(res.Grad, want.Grad))
			}
			if want.Fevals != nil && !identical(fevals, want.Fevals) {
				t.Errorf("%s call %d: evaluated values differ from SciPy's by %.3g (relative)", c.Name, call, maxRelDiff(fevals, want.Fevals))
			}
			x = res.X
		}
	}
	if reused == 0 {
		t.Error("no call reused the stored pairs of the call before")
	}
}

// TestWorkspaceInvalid requires a call with invalid input to leave the
// previous result in place.
func TestWorkspaceInvalid(t *testing.T) {
	var w Workspace
	res, err := w.Minimize(context.Background(), rosenFunc, []float64{-1.2, 1}, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	x := append([]float64(nil), res.X...)
	s := DefaultSettings()
	s.Lower, s.Upper = []float64{0, 3}, []float64{1, 2}
	if _, err := w.Minimize(context.Background(), rosenFunc, res.X, s); err == nil {
		t.Fatal("no error for lower > upper")
	}
	if !identical(res.X, x) {
		t.Errorf("invalid call changed the previous result: %v, was %v", res.X, x)
	}
}
