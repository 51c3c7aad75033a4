package optimize

// The objective functions of scripts/vectors/optimize_vectors.py, with the same
// floating-point operations in the same order, so that Go and SciPy see
// bit-identical values at identical points. float64()/float32() around
// products keep the compiler from fusing them (it may on some
// architectures), as Python does not.

import "math"

// problems maps the generator's problem names to their functions.
var problems = map[string]func(x, g []float64) float64{
	"rosen":    rosen,
	"rosen32":  rosen32,
	"quad":     func(x, g []float64) float64 { return quad(x, g, 1) },
	"quad_far": func(x, g []float64) float64 { return quad(x, g, 3) },
	"badgrad":  badgrad,
	"saddle":   saddle,
}

// rosen is the extended Rosenbrock function.
func rosen(x, g []float64) float64 {
	clear(g)
	f := 0.0
	for i := 0; i < len(x)-1; i++ {
		t := x[i+1] - float64(x[i]*x[i])
		s := 1 - x[i]
		f += float64(float64(100*t)*t) + float64(s*s)
		g[i] += float64(float64(-400*x[i])*t) - float64(2*s)
		g[i+1] += float64(200 * t)
	}
	return f
}

// rosen32 is rosen evaluated in float32, as the notebook's loss is.
func rosen32(x, g []float64) float64 {
	n := len(x)
	xs := make([]float32, n)
	gs := make([]float32, n)
	for i, v := range x {
		xs[i] = float32(v)
	}
	var f float32
	for i := 0; i < n-1; i++ {
		t := xs[i+1] - float32(xs[i]*xs[i])
		s := 1 - xs[i]
		f += float32(float32(100*t)*t) + float32(s*s)
		gs[i] += float32(float32(-400*xs[i])*t) - float32(2*s)
		gs[i+1] += float32(200 * t)
	}
	for i, v := range gs {
		g[i] = float64(v)
	}
	return float64(f)
}

// quad is a convex quadratic with a chain coupling; scale moves its
// minimum.
func quad(x, g []float64, scale float64) float64 {
	n := len(x)
	clear(g)
	f := 0.0
	for i := range n {
		a := 1 + float64(9*float64(i))/float64(n-1)
		c := float64((7*i)%5) - 2
		e := x[i] - float64(scale*c)
		f += float64(float64(float64(0.5*a)*e) * e)
		g[i] += float64(a * e)
	}
	for i := 0; i < n-1; i++ {
		e := x[i+1] - x[i]
		f += float64(e * e)
		g[i] -= float64(2 * e)
		g[i+1] += float64(2 * e)
	}
	return f
}

// badgrad is a weighted sum of squares whose gradient has the wrong sign
// once f < 1e-2.
func badgrad(x, g []float64) float64 {
	f := 0.0
	for i, v := range x {
		f += float64(float64((float64(i)+1)*v) * v)
	}
	sign := 1.0
	if !(f >= 1e-2) {
		sign = -1
	}
	for i, v := range x {
		g[i] = float64(float64(sign*2)*(float64(i)+1)) * v
	}
	return f
}

// saddle is a tilted double well per variable.
func saddle(x, g []float64) float64 {
	n := len(x)
	f := 0.0
	for i, v := range x {
		w := (float64(i) + 1) / float64(n)
		q := float64(v*v) - 1
		f += float64(float64(float64(0.25*q)*q)-float64(float64(w*v)*v)) + float64(0.1*v)
		g[i] = float64(float64(q*v)-float64(float64(2*w)*v)) + 0.1
	}
	return f
}

var _ = math.Inf
