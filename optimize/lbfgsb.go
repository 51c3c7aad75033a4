package optimize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
)

// epsmch is the machine epsilon L-BFGS-B 3.0 uses (2*dlamch('e')).
const epsmch = 0x1p-52

// Minimize minimises f from x0 with L-BFGS-B and the settings s, as
// fmin_l_bfgs_b(func, x0, fprime, bounds=..., m=s.M, factr=s.Factr,
// pgtol=s.Pgtol, maxfun=s.MaxFun, maxiter=s.MaxIter, maxls=s.MaxLS) does.
// x0 is not modified.
//
// Invalid settings or input return an error before any evaluation. When f
// fails, returns NaN or ±Inf, or ctx is done, Minimize stops and returns
// the last accepted iterate (X, F and Grad of the last completed
// iteration, or of x0; if x0 itself could not be evaluated, F is NaN and
// Grad nil) with status EvaluationFailed or Canceled, and an error that
// wraps the cause. A callback error other than ErrHalt is
// returned with the result of the completed iteration.
func Minimize(ctx context.Context, f Func, x0 []float64, s Settings) (Result, error) {
	st, err := newState(f, x0, &s, nil)
	if err != nil {
		return Result{}, err
	}
	return st.run(ctx)
}

// A Workspace keeps the working storage of L-BFGS-B from one run to the
// next, so that a sequence of runs of the same size allocates it once: at
// n variables and M pairs about (2M+10)·8n bytes, 190 MB for a 512x512 RGB
// image with M = 10. The zero value is ready to use. A Workspace is not
// safe for concurrent use.
type Workspace struct {
	st *state
}

// Minimize is the package's Minimize run in the workspace: the same
// evaluations and results, bit for bit. The Result's X and Grad are the
// workspace's storage: they stay valid until the next call, and X may be
// passed as that call's x0.
func (w *Workspace) Minimize(ctx context.Context, f Func, x0 []float64, s Settings) (Result, error) {
	st, err := newState(f, x0, &s, w.st)
	if err != nil {
		return Result{}, err
	}
	w.st = st
	return st.run(ctx)
}

// state is the working storage and the saved variables of mainlb.
type state struct {
	fn       Func
	set      *Settings
	n, m     int
	x, g     []float64
	l, u     []float64 // nil when no variable is bounded
	nbd      []int8    // 0 free, 1 lower, 2 both, 3 upper bound
	pool     vecPool
	callback func(Iteration) error

	// The limited memory: ws and wy hold the s and y vectors in a
	// circular buffer starting at head; sy = S'Y, ss = S'S and wt the
	// Cholesky factor of theta*S'S + L D^-1 L' (m x m, column-major); wn
	// and snd the 2m x 2m matrices of the subspace minimisation.
	ws, wy       [][]float64
	sy, ss, wt   []float64
	wn, snd      []float64
	z, r, d, t   []float64
	xp           []float64 // allocated only for bounded problems
	wa           []float64 // 8m: p, c, wbp, v of cauchy
	index, indx2 []int32
	iwhere       []int8

	cnstnd, boxed, updatd                      bool
	theta                                      float64
	col, head, itail, iupdat                   int
	iter, nfree, nenter, ileave                int
	fold, gd, gdold, stp, stpmx, dnorm, dtd, f float64
	sbgnrm                                     float64 // projected gradient norm at x
	ifun, iback                                int
	ls                                         dcsrch
	csave                                      searchTask

	// SciPy's driver: the number of completed iterations and of calls of f.
	nit, nfev int
	pre       prefetch // products for the next direction (fused.go)
	noFuse    bool     // tests: compute them where the Fortran does
	events    events
	accepted  bool // x, f, g hold an evaluated point
	// The cached last evaluation of SciPy's ScalarFunction. When a
	// line-search restart overwrites x and g, the evaluated point and its
	// gradient move to lastX and lastG.
	lastF        float64
	lastSaved    bool
	lastX, lastG []float64
	wsScratch    [][]float64 // 2m: operand lists of the multi-dots
	scratch      []float64   // 4m: small results
}

// newState checks the input and sets up a run. It takes its storage from
// prev, a finished run, where that is large enough, and leaves prev intact
// when the input is invalid.
func newState(f Func, x0 []float64, s *Settings, prev *state) (*state, error) {
	n, m := len(x0), s.M
	switch {
	case f == nil:
		return nil, errors.New("optimize: nil function")
	case n == 0:
		return nil, errors.New("optimize: x0 is empty")
	case n > math.MaxInt32:
		return nil, fmt.Errorf("optimize: %d variables, more than %d", n, math.MaxInt32)
	case m < 1:
		return nil, fmt.Errorf("optimize: M = %d, must be at least 1", m)
	case !(s.Factr >= 0) || math.IsInf(s.Factr, 1):
		return nil, fmt.Errorf("optimize: Factr = %v, must be finite and >= 0", s.Factr)
	case math.IsNaN(s.Pgtol):
		return nil, errors.New("optimize: Pgtol is NaN")
	case s.MaxLS < 1:
		return nil, fmt.Errorf("optimize: MaxLS = %d, must be at least 1", s.MaxLS)
	case s.Lower != nil && len(s.Lower) != n:
		return nil, fmt.Errorf("optimize: %d lower bounds for %d variables", len(s.Lower), n)
	case s.Upper != nil && len(s.Upper) != n:
		return nil, fmt.Errorf("optimize: %d upper bounds for %d variables", len(s.Upper), n)
	}
	for i, v := range x0 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("optimize: x0[%d] = %v", i, v)
		}
	}
	if prev == nil {
		prev = &state{}
	}
	if s.Lower != nil || s.Upper != nil {
		// The bounds are checked before prev's storage is touched.
		for i := range n {
			lo, hi := math.Inf(-1), math.Inf(1)
			if s.Lower != nil {
				lo = s.Lower[i]
			}
			if s.Upper != nil {
				hi = s.Upper[i]
			}
			switch {
			case math.IsNaN(lo) || math.IsNaN(hi):
				return nil, fmt.Errorf("optimize: bound of variable %d is NaN", i)
			case lo > hi:
				return nil, fmt.Errorf("optimize: variable %d has lower bound %v > upper bound %v", i, lo, hi)
			case math.IsInf(lo, 1) || math.IsInf(hi, -1):
				return nil, fmt.Errorf("optimize: variable %d has bounds [%v, %v], no finite value fits", i, lo, hi)
			}
		}
	}
	st := &state{fn: f, set: s, n: n, m: m, callback: s.Callback}
	// Every vector is set as a fresh allocation would be (zero), except
	// the x and the stored pairs, which are written before they are read.
	st.nbd = zeroed(prev.nbd, n)
	if s.Lower != nil || s.Upper != nil {
		st.l = zeroed(prev.l, n)
		st.u = zeroed(prev.u, n)
		for i := range n {
			lo, hi := math.Inf(-1), math.Inf(1)
			if s.Lower != nil {
				lo = s.Lower[i]
			}
			if s.Upper != nil {
				hi = s.Upper[i]
			}
			// SciPy's bounds_map: an infinite side is no bound.
			var b int8
			if !math.IsInf(lo, -1) {
				st.l[i] = lo
				b = 1
			}
			if !math.IsInf(hi, 1) {
				st.u[i] = hi
				if b == 1 {
					b = 2
				} else {
					b = 3
				}
			}
			st.nbd[i] = b
		}
	}
	// x0 may be prev's x (the last result): copy moves nothing then.
	st.x = grown(prev.x, n)
	copy(st.x, x0)
	st.g = zeroed(prev.g, n)
	st.ws, st.wy = prev.ws, prev.wy
	if len(st.ws) != m || len(st.ws[0]) != n {
		// The pairs are read only below col, after matupd wrote them.
		st.ws = make([][]float64, m)
		st.wy = make([][]float64, m)
		for i := range m {
			st.ws[i] = make([]float64, n)
			st.wy[i] = make([]float64, n)
		}
	}
	st.sy = make([]float64, m*m)
	st.ss = make([]float64, m*m)
	st.wt = make([]float64, m*m)
	st.wn = make([]float64, 4*m*m)
	st.snd = make([]float64, 4*m*m)
	st.z = zeroed(prev.z, n)
	st.r = zeroed(prev.r, n)
	st.d = zeroed(prev.d, n)
	st.t = zeroed(prev.t, n)
	st.wa = make([]float64, 8*m)
	st.index = zeroed(prev.index, n)
	st.indx2 = zeroed(prev.indx2, n)
	st.iwhere = zeroed(prev.iwhere, n)
	// Copied into before they are read (lastSaved, subsm).
	if len(prev.lastX) == n {
		st.lastX, st.lastG = prev.lastX, prev.lastG
	}
	if len(prev.xp) == n {
		st.xp = prev.xp
	}
	st.wsScratch = make([][]float64, 0, 2*m)
	st.scratch = make([]float64, 4*m)
	st.pool.workers = runtime.GOMAXPROCS(0)
	return st, nil
}

// grown returns buf[:n], or a new slice when buf is shorter.
func grown[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// zeroed returns buf[:n] cleared, or a new slice when buf is shorter.
func zeroed[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// events counts what L-BFGS-B reports on its iprint output, for tests.
type events struct {
	skipped, restarts, singular, formk, formt int
	projRejected, allFixed                    int // subsm's backtracking, cauchy fixing all
	cacheHits, cacheHitsSaved                 int // answered by the evaluation cache
}

// resetMemory empties the limited memory, as mainlb does after a singular
// system, a non positive definite matrix or a failed line search.
func (st *state) resetMemory() {
	st.pre.valid = false
	st.col = 0
	st.head = 0
	st.theta = 1
	st.iupdat = 0
	st.updatd = false
}

// run is mainlb with SciPy's driver loop around it.
func (st *state) run(ctx context.Context) (Result, error) {
	st.theta = 1
	st.nfree = st.n
	st.ileave = st.n
	st.active()

	// SciPy's ScalarFunction evaluates at x0 before setulb starts, and
	// setulb's first request for f and g at x0 is served from its cache.
	if err := ctx.Err(); err != nil {
		return st.failed(Canceled, err, false)
	}
	if err := st.evaluate(); err != nil {
		return st.failed(EvaluationFailed, err, false)
	}
	if i := firstNonFinite(st.g); i >= 0 {
		return st.failed(EvaluationFailed, fmt.Errorf("optimize: evaluation 1: gradient[%d] = %v", i, st.g[i]), false)
	}
	st.accepted = true
	st.sbgnrm = st.projgr()
	if st.sbgnrm <= st.set.Pgtol {
		return st.result(GradientConvergence), nil
	}

	tol := st.set.Factr * epsmch
	for {
		// One iteration: the search direction (label 222 of mainlb).
		if !st.direction() {
			continue
		}

		// The line search (label 666), with an evaluation per request.
		outcome, status, err := st.lineSearch(ctx)
		if err != nil {
			return st.failed(status, err, true)
		}
		switch outcome {
		case searchAbnormal:
			return st.result(LineSearchFailure), nil
		case searchRestart: // the memory was emptied: a new direction
			continue
		}

		// A new iterate: SciPy's NEW_X handling, then mainlb's tests.
		st.iter++
		st.sbgnrm = st.projgr()
		st.nit++
		stop := NotTerminated
		var cbErr error
		if st.callback != nil {
			cbErr = st.callback(Iteration{Iter: st.nit, X: st.x, Grad: st.g, F: st.f, Evaluations: st.nfev})
			if cbErr != nil {
				stop = CallbackHalt
			}
		}
		if st.nit >= st.set.MaxIter {
			stop = IterationLimit
		} else if st.nfev > st.set.MaxFun {
			stop = FunctionEvaluationLimit
		}
		if stop != NotTerminated {
			res := st.result(stop)
			if cbErr != nil && !errors.Is(cbErr, ErrHalt) {
				return res, fmt.Errorf("optimize: callback after iteration %d: %w", st.nit, cbErr)
			}
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return st.failed(Canceled, err, false)
		}
		if st.sbgnrm <= st.set.Pgtol {
			return st.result(GradientConvergence), nil
		}
		ddum := fmax3(math.Abs(st.fold), math.Abs(st.f), 1)
		if st.fold-st.f <= float64(tol*ddum) {
			return st.result(FunctionConvergence), nil
		}
		st.update()
	}
}

// direction computes the next search direction d from x (mainlb's labels
// 222 to 555). It returns false when it had to reset the memory and must
// be called again.
func (st *state) direction() bool {
	// The prefetched products serve this direction only.
	defer func() { st.pre.valid = false }()
	wrk, zIsX := false, false
	if !st.cnstnd && st.col > 0 {
		// Unconstrained with a memory: the Cauchy point is x itself
		// (subsm forms z = x + its step in one pass).
		wrk, zIsX = st.updatd, true
	} else {
		if info := st.cauchy(); info != 0 {
			// Singular triangular system: refresh the memory.
			st.resetMemory()
			st.events.singular++
			return false
		}
		wrk = st.freev()
	}
	if st.nfree != 0 && st.col != 0 {
		if wrk {
			if info := st.formk(); info != 0 {
				// Not positive definite: refresh the memory.
				st.resetMemory()
				st.events.formk++
				return false
			}
		}
		info := 0
		if !(zIsX && st.pre.valid) { // else subsm starts from -g itself
			info = st.cmprlb()
		}
		if info == 0 {
			info = st.subsm(zIsX)
		}
		if info != 0 {
			st.resetMemory()
			st.events.singular++
			return false
		}
		if zIsX {
			return true // subsm also formed d = z - x
		}
	} else if zIsX {
		st.pool.copyVec(st.z, st.x)
	}
	// d = z - x.
	z, x, d := st.z, st.x, st.d
	st.pool.blocks(st.n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = z[i] - x[i]
		}
	})
	return true
}

// update forms the new correction pair from the last step and updates the
// limited memory (mainlb after label 777).
func (st *state) update() {
	// r = y = g_new - g_old, rr = y'y.
	g, r := st.g, st.r
	st.pool.blocks(st.n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			r[i] = g[i] - r[i]
		}
	})
	rr := st.pool.blasDot(r, r)
	var dr, ddum float64
	if st.stp == 1 {
		dr = st.gd - st.gdold
		ddum = -st.gdold
	} else {
		dr = (st.gd - st.gdold) * st.stp
		stp, d := st.stp, st.d
		st.pool.blocks(st.n, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] *= stp
			}
		})
		ddum = -st.gdold * st.stp
	}
	if dr <= float64(epsmch*ddum) {
		// The curvature s'y is not safely positive: skip the update.
		st.updatd = false
		st.events.skipped++
		return
	}
	st.updatd = true
	st.iupdat++
	st.matupd(rr, dr)
	if info := st.formt(); info != 0 {
		st.resetMemory()
		st.events.formt++
	}
}

// evaluate calls f at x, counts the call and checks the value (lineSearch
// skips it at the point evaluated last, as SciPy's cached wrapper does).
func (st *state) evaluate() error {
	st.nfev++
	f, err := st.fn(st.x, st.g)
	st.lastSaved = false
	st.lastF = f
	st.f = f
	if err != nil {
		return fmt.Errorf("optimize: evaluation %d: %w", st.nfev, err)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("optimize: evaluation %d: f = %v", st.nfev, f)
	}
	return nil
}

// saveLast keeps the last evaluated point, value and gradient before a
// line-search restart overwrites x and g.
func (st *state) saveLast() {
	if st.lastSaved {
		return
	}
	if st.lastX == nil {
		st.lastX = make([]float64, st.n)
		st.lastG = make([]float64, st.n)
	}
	st.pool.copyVec(st.lastX, st.x)
	st.pool.copyVec(st.lastG, st.g)
	st.lastSaved = true
}

// restore puts back the iterate the line search started from.
func (st *state) restore() {
	st.pool.copyVec(st.x, st.t)
	st.pool.copyVec(st.g, st.r)
	st.f = st.fold
}

func firstNonFinite(v []float64) int {
	for i, e := range v {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return i
		}
	}
	return -1
}

// result returns the outcome with SciPy's conventions.
func (st *state) result(s Status) Result {
	w := 2
	switch {
	case s.Converged():
		w = 0
	case st.nfev > st.set.MaxFun || st.nit >= st.set.MaxIter:
		w = 1
	}
	return Result{
		X: st.x, Grad: st.g, F: st.lastF,
		Iterations: st.nit, Evaluations: st.nfev,
		Status: s, Warnflag: w,
	}
}

// failed returns the last accepted iterate after an error. inSearch says
// whether x and g hold a trial point of a line search rather than an
// accepted iterate.
func (st *state) failed(s Status, err error, inSearch bool) (Result, error) {
	if inSearch {
		st.restore()
	}
	res := st.result(s)
	res.F = st.f
	if !st.accepted {
		// No point was evaluated successfully.
		res.F, res.Grad = math.NaN(), nil
	}
	if s == Canceled {
		return res, fmt.Errorf("optimize: %w", err)
	}
	return res, err
}

// active projects x onto the bounds and initialises iwhere, cnstnd and
// boxed (L-BFGS-B's active).
func (st *state) active() {
	st.boxed = true
	for i := range st.n {
		b := st.nbd[i]
		if b > 0 {
			if b <= 2 && st.x[i] <= st.l[i] {
				if st.x[i] < st.l[i] {
					st.x[i] = st.l[i]
				}
			} else if b >= 2 && st.x[i] >= st.u[i] {
				if st.x[i] > st.u[i] {
					st.x[i] = st.u[i]
				}
			}
		}
	}
	for i := range st.n {
		b := st.nbd[i]
		if b != 2 {
			st.boxed = false
		}
		if b == 0 {
			st.iwhere[i] = -1
		} else {
			st.cnstnd = true
			if b == 2 && st.u[i]-st.l[i] <= 0 {
				st.iwhere[i] = 3
			} else {
				st.iwhere[i] = 0
			}
		}
	}
	if st.cnstnd && st.xp == nil {
		st.xp = make([]float64, st.n)
	}
}

// projgr returns the infinity norm of the projected gradient.
func (st *state) projgr() float64 {
	g := st.g
	if !st.cnstnd {
		// The largest |g_i|: the order does not matter.
		part := st.pool.partials(numBlocks(st.n))
		st.pool.blocks(st.n, func(b, lo, hi int) {
			m := 0.0
			for _, v := range g[lo:hi] {
				m = fmax(m, math.Abs(v))
			}
			part[b] = m
		})
		m := 0.0
		for _, v := range part {
			m = fmax(m, v)
		}
		return m
	}
	x, l, u, nbd := st.x, st.l, st.u, st.nbd
	sbgnrm := 0.0
	for i := range st.n {
		gi := g[i]
		if nbd[i] != 0 {
			if gi < 0 {
				if nbd[i] >= 2 {
					gi = fmax(x[i]-u[i], gi)
				}
			} else {
				if nbd[i] <= 2 {
					gi = fmin(x[i]-l[i], gi)
				}
			}
		}
		sbgnrm = fmax(sbgnrm, math.Abs(gi))
	}
	return sbgnrm
}

// freev finds the free and active variables at the Cauchy point and, after
// the first iteration of a constrained problem, those that entered or left
// the free set. It returns whether the matrix K must be formed again.
func (st *state) freev() bool {
	n := st.n
	index, indx2, iwhere := st.index, st.indx2, st.iwhere
	st.nenter = 0
	st.ileave = n
	if st.iter > 0 && st.cnstnd {
		for i := 0; i < st.nfree; i++ {
			k := index[i]
			if iwhere[k] > 0 {
				st.ileave--
				indx2[st.ileave] = k
			}
		}
		for i := st.nfree; i < n; i++ {
			k := index[i]
			if iwhere[k] <= 0 {
				indx2[st.nenter] = k
				st.nenter++
			}
		}
	}
	wrk := st.ileave < n || st.nenter > 0 || st.updatd
	nfree, iact := 0, n
	for i := range n {
		if iwhere[i] <= 0 {
			index[nfree] = int32(i)
			nfree++
		} else {
			iact--
			index[iact] = int32(i)
		}
	}
	st.nfree = nfree
	return wrk
}

// freeIndex returns the index of the free variables, or nil when all are
// free (the index is then the identity).
func (st *state) freeIndex() []int32 {
	if st.nfree == st.n {
		return nil
	}
	return st.index
}

// memory appends to buf the first k stored vectors of w (ws or wy) from
// the oldest, at positions head, head+1, ... (mod m).
func (st *state) memory(buf [][]float64, w [][]float64, k int) [][]float64 {
	p := st.head
	for j := 0; j < k; j++ {
		buf = append(buf, w[p])
		p = (p + 1) % st.m
	}
	return buf
}
