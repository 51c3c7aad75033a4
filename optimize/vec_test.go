package optimize

import (
	"context"
	"math"
	"testing"
)

// dotInputs rebuilds the vectors of blas_inputs in scripts/vectors/optimize_vectors.py.
func dotInputs(n int) (x, y []float64) {
	x, y = make([]float64, n), make([]float64, n)
	for i := range n {
		x[i] = float64((i*7919)%2003-1001)/256 + float64((i*104729)%1009)*0x1p-30
		y[i] = float64((i*6151)%1999-999)/512 - float64((i*15485863)%1013)*0x1p-31
	}
	return x, y
}

// TestBLASDot checks blasDot and blasDots against SciPy's OpenBLAS ddot, bit
// for bit, from n = 1 to one 512x512 RGB image (past OpenBLAS's two-thread
// split at n = 10000), on any number of goroutines.
func TestBLASDot(t *testing.T) {
	v := loadVectors(t)
	if len(v.Ddot.N) == 0 || len(v.Ddot.N) != len(v.Ddot.Dot) {
		t.Fatal("testdata/lbfgsb.json: no ddot values")
	}
	for k, n := range v.Ddot.N {
		want := v.Ddot.Dot[k]
		x, y := dotInputs(n)
		for _, workers := range []int{1, 2, 3} {
			p := vecPool{workers: workers}
			if got := p.blasDot(x, y); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("n=%d workers=%d: blasDot %v, SciPy %v", n, workers, got, want)
			}
			// In a multi-dot, next to other vectors.
			dst := make([]float64, 3)
			p.blasDots(dst, x, [][]float64{x, y, y})
			if math.Float64bits(dst[1]) != math.Float64bits(want) || dst[1] != dst[2] {
				t.Errorf("n=%d workers=%d: blasDots %v, SciPy %v", n, workers, dst[1:], want)
			}
		}
	}
}

// TestSequentialSums checks the sequential kernels against a plain loop:
// the Fortran adds the terms in order, without fused multiply-adds.
func TestSequentialSums(t *testing.T) {
	for _, n := range []int{1, 5, 2049, 40000} {
		x, y := dotInputs(n)
		ys := [][]float64{y, x, y, x, y, x, y, x, y, x, y}
		want := func(a, b []float64, ind []int32, compact bool) float64 {
			s := 0.0
			for k := range n {
				i, j := k, k
				if ind != nil {
					j = int(ind[k])
					i = j
					if compact {
						i = k
					}
				}
				s += float64(a[i] * b[j])
			}
			return s
		}
		ind := make([]int32, n)
		for k := range ind {
			ind[k] = int32(n - 1 - k) // a permutation
		}
		for _, workers := range []int{1, 2, 5} {
			p := vecPool{workers: workers}
			dst := make([]float64, len(ys))
			for _, c := range []struct {
				ind     []int32
				compact bool
			}{{nil, false}, {ind, false}, {ind, true}} {
				p.seqDots(dst, c.ind, n, x, c.compact, ys)
				for j, yj := range ys {
					if w := want(x, yj, c.ind, c.compact); math.Float64bits(dst[j]) != math.Float64bits(w) {
						t.Fatalf("n=%d workers=%d ind=%v compact=%v: sum %d = %v, want %v", n, workers, c.ind != nil, c.compact, j, dst[j], w)
					}
				}
			}
			iwhere := make([]int8, n)
			for k := range iwhere {
				iwhere[k] = int8(k%7) - 3 // -3..3: only 0 and -1 count
			}
			p.maskedDots(dst, iwhere, x, ys)
			for j, yj := range ys {
				w := 0.0
				for k := range n {
					if iwhere[k] == 0 || iwhere[k] == -1 {
						w += float64(yj[k] * x[k])
					}
				}
				if math.Float64bits(dst[j]) != math.Float64bits(w) {
					t.Fatalf("n=%d workers=%d: masked sum %d = %v, want %v", n, workers, j, dst[j], w)
				}
			}
		}
	}
}

// TestFusedAndParallelIdentical runs an unconstrained and a bounded
// problem past OpenBLAS's thread split (n > 10000) and the sizes where
// elementwise loops and sums are shared between goroutines, with the fused
// products (fused.go) and without, on 1 to 3 goroutines: all runs must
// agree bit for bit, since every sum keeps its order.
func TestFusedAndParallelIdentical(t *testing.T) {
	const n = 70001
	x0 := make([]float64, n)
	for i := range x0 {
		x0[i] = float64(i%17)/8 - 1
	}
	f := func(x, g []float64) (float64, error) {
		return rosen(x, g), nil
	}
	for _, bounded := range []bool{false, true} {
		s := DefaultSettings()
		s.MaxFun = 30
		if bounded {
			s.Lower = make([]float64, n)
			for i := range s.Lower {
				s.Lower[i] = -0.5
			}
		}
		var ref Result
		for k, cfg := range []struct {
			workers int
			noFuse  bool
		}{{1, false}, {3, false}, {2, true}} {
			st, err := newState(f, x0, &s, nil)
			if err != nil {
				t.Fatal(err)
			}
			st.pool.workers, st.noFuse = cfg.workers, cfg.noFuse
			res, err := st.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				ref = res
				if res.Iterations < 2*s.M {
					t.Fatalf("bounded=%v: only %d iterations: the memory never filled", bounded, res.Iterations)
				}
				continue
			}
			if res.Iterations != ref.Iterations || res.Evaluations != ref.Evaluations || res.Status != ref.Status ||
				!identical(res.X, ref.X) || !identical(res.Grad, ref.Grad) || math.Float64bits(res.F) != math.Float64bits(ref.F) {
				t.Errorf("bounded=%v workers=%d noFuse=%v: differs from workers=1 (nit %d/%d, nfev %d/%d, x by %.3g)",
					bounded, cfg.workers, cfg.noFuse, res.Iterations, ref.Iterations, res.Evaluations, ref.Evaluations, maxRelDiff(res.X, ref.X))
			}
		}
	}
}
