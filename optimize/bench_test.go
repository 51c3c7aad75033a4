package optimize

import (
	"context"
	"sync"
	"testing"
	"time"
)

// benchN is one 512x512 RGB image, the size the transfer driver optimises.
const benchN = 512 * 512 * 3

// benchProblem is a separable quadratic with curvatures 1 to 97: cheap, and
// L-BFGS-B takes one evaluation per iteration on it, as on the notebook's
// loss. Its own wall and CPU time are measured and left out of the
// optimizer's.
type benchProblem struct {
	wall, cpu time.Duration
}

func (p *benchProblem) f(x, g []float64) (float64, error) {
	start := time.Now()
	c0, _ := processCPU()
	s := 0.0
	for i, v := range x {
		a := float64(1 + i%97)
		g[i] = a * v
		s += 0.5 * a * v * v
	}
	c1, _ := processCPU()
	p.wall += time.Since(start)
	p.cpu += c1 - c0
	return s, nil
}

func benchStart(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i%255) - 127
	}
	return x
}

// minTimer keeps the least wall and CPU time of a repeated piece of work:
// on a shared machine the least is the one least disturbed by others.
type minTimer struct {
	wall, cpu     time.Duration
	t0            time.Time
	c0, fw0, fc0  time.Duration
	started, seen bool
}

func (m *minTimer) start(fw, fc time.Duration) {
	m.t0 = time.Now()
	m.c0, _ = processCPU()
	m.fw0, m.fc0 = fw, fc
	m.started = true
}

// stop records the time since start less the function's share (fw, fc).
func (m *minTimer) stop(fw, fc time.Duration) {
	if !m.started {
		return
	}
	c, _ := processCPU()
	w, cpu := time.Since(m.t0)-(fw-m.fw0), c-m.c0-(fc-m.fc0)
	if !m.seen || w < m.wall {
		m.wall = w
	}
	if !m.seen || cpu < m.cpu {
		m.cpu = cpu
	}
	m.seen = true
}

func (m *minTimer) report(b *testing.B, unit string) {
	if !m.seen {
		return
	}
	b.ReportMetric(float64(m.wall.Microseconds())/1e3, "min-ms/"+unit)
	if _, ok := processCPU(); ok {
		b.ReportMetric(float64(m.cpu.Microseconds())/1e3, "min-cpu-ms/"+unit)
	}
}

// BenchmarkMinimize runs Minimize with MaxFun=20 at benchN, as each of the
// driver's ten calls does, without bounds ("free") and with every variable
// in [-100, 100] ("bounded": the Cauchy point and the subspace step then do
// their full work). opt-ms/eval is the optimizer's own wall time per
// evaluation (the function's time left out). min-ms/iter and
// min-cpu-ms/iter are the least wall and CPU (all cores) time of an
// iteration once the memory holds M pairs, the most vector work an
// iteration does: compare them with BenchmarkStream/iteration.
// "workspace" runs every op in one Workspace, as the driver's calls do:
// compare its B/op with the fresh runs'.
func BenchmarkMinimize(b *testing.B) {
	for _, c := range []struct {
		name             string
		bounded, reusing bool
	}{{"free", false, false}, {"bounded", true, false}, {"free/workspace", false, true}, {"bounded/workspace", true, true}} {
		bounded := c.bounded
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var w Workspace
			minimize := Minimize
			if c.reusing {
				minimize = w.Minimize
			}
			warm := c.reusing // the workspace's first run allocates it
			x0 := benchStart(benchN)
			s := DefaultSettings()
			s.MaxFun = 20
			if bounded {
				s.Lower, s.Upper = make([]float64, benchN), make([]float64, benchN)
				for i := range s.Lower {
					s.Lower[i], s.Upper[i] = -100, 100
				}
			}
			var opt time.Duration
			var evals int
			var it minTimer
			for warm || b.Loop() {
				p := &benchProblem{}
				s.Callback = func(i Iteration) error {
					// Iteration M+2 and later start with a full memory.
					if i.Iter > s.M+1 {
						it.stop(p.wall, p.cpu)
					}
					it.start(p.wall, p.cpu)
					return nil
				}
				it.started = false
				start := time.Now()
				res, err := minimize(context.Background(), p.f, x0, s)
				if err != nil {
					b.Fatal(err)
				}
				if warm {
					warm, it = false, minTimer{}
					continue
				}
				opt += time.Since(start) - p.wall
				evals += res.Evaluations
			}
			b.ReportMetric(float64(evals)/float64(b.N), "evals/op")
			b.ReportMetric(float64(opt.Microseconds())/1e3/float64(evals), "opt-ms/eval")
			it.report(b, "iter")
		})
	}
}

// plainDot and plainAxpy are the plain Go loops of the stream benchmark:
// four accumulators (one would be bound by the latency of addition, not by
// memory) and one goroutine per half.
func plainDot(x, y []float64) float64 {
	var s [2]float64
	var wg sync.WaitGroup
	h := len(x) / 2
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs, ys := x[k*h:(k+1)*h], y[k*h:(k+1)*h]
			var s0, s1, s2, s3 float64
			for i := 0; i+4 <= len(xs); i += 4 {
				s0 += xs[i] * ys[i]
				s1 += xs[i+1] * ys[i+1]
				s2 += xs[i+2] * ys[i+2]
				s3 += xs[i+3] * ys[i+3]
			}
			s[k] = s0 + s1 + s2 + s3
		}()
	}
	wg.Wait()
	return s[0] + s[1]
}

func plainAxpy(a float64, x, y []float64) {
	var wg sync.WaitGroup
	h := len(x) / 2
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs, ys := x[k*h:(k+1)*h], y[k*h:(k+1)*h]
			for i := range xs {
				ys[i] += a * xs[i]
			}
		}()
	}
	wg.Wait()
}

// BenchmarkStream streams vectors of benchN float64 with plain Go loops:
// a dot product, an axpy, and "iteration", the plain dot/axpy equivalent of
// the vector operations of one L-BFGS-B iteration with a full memory (M=10)
// and one evaluation, unfused: 2 g·d, x = z, max|g|, y = g - y and y·y,
// 2(M-1) products of s with the memory, 2M of y, 2M of -g, 2M axpys for the
// subspace step, z = x + d, d = z - x and d·d, and the copies x->t, g->r.
func BenchmarkStream(b *testing.B) {
	n := benchN
	x, y := benchStart(n), benchStart(n)
	b.Run("dot", func(b *testing.B) {
		b.SetBytes(int64(16 * n))
		for b.Loop() {
			plainDot(x, y)
		}
	})
	b.Run("axpy", func(b *testing.B) {
		b.SetBytes(int64(24 * n))
		for b.Loop() {
			plainAxpy(1e-9, x, y)
		}
	})
	b.Run("iteration", func(b *testing.B) {
		it := newPlainIteration(n)
		var m minTimer
		for b.Loop() {
			m.start(0, 0)
			it.run()
			m.stop(0, 0)
		}
		m.report(b, "iter")
	})
}

// plainIteration holds the vectors of BenchmarkStream/iteration.
type plainIteration struct {
	x, g, d, z, t, r []float64
	mem              [][]float64
}

func newPlainIteration(n int) *plainIteration {
	const m = 10
	it := &plainIteration{x: benchStart(n), g: benchStart(n), d: benchStart(n), z: benchStart(n), t: benchStart(n), r: benchStart(n)}
	it.mem = make([][]float64, 2*m)
	for i := range it.mem {
		it.mem[i] = benchStart(n)
	}
	return it
}

// run streams the vectors of one iteration with plain dots and axpys.
func (it *plainIteration) run() {
	const m = 10
	x, g, d, z, t, r, mem := it.x, it.g, it.d, it.z, it.t, it.r, it.mem
	plainDot(g, d)
	plainDot(g, d)
	copy(x, z)
	plainDot(g, g) // max|g|: one stream
	plainAxpy(-1, g, r)
	plainDot(r, r)
	for j := 0; j < 2*(m-1); j++ {
		plainDot(d, mem[j])
	}
	for j := 0; j < 2*m; j++ {
		plainDot(r, mem[j])
	}
	plainAxpy(-1, g, r) // r = -g
	for j := 0; j < 2*m; j++ {
		plainDot(r, mem[j])
	}
	for j := 0; j < 2*m; j++ {
		plainAxpy(1e-9, mem[j], r)
	}
	plainAxpy(1, r, z)  // z = x + d
	plainAxpy(-1, x, z) // d = z - x
	plainDot(d, d)
	copy(t, x)
	copy(r, g)
}
