package optimize

import (
	"context"
	"fmt"
	"math"
)

// searchOutcome is how a line search ended.
type searchOutcome int

const (
	searchNewX     searchOutcome = iota // an acceptable step: x, f, g are the new iterate
	searchRestart                       // failed with a memory: it was emptied, try again
	searchAbnormal                      // failed with an empty memory: stop
)

// lineSearch is lnsrlb with the evaluations it asks for, and mainlb's
// handling of a failed search. On an error the status says which kind and
// x, g hold the last trial point.
func (st *state) lineSearch(ctx context.Context) (searchOutcome, Status, error) {
	n := st.n
	x, g, d, t, z, l, u, nbd := st.x, st.g, st.d, st.t, st.z, st.l, st.u, st.nbd

	// lnsrlb's start: the largest feasible step and the first trial step.
	st.dtd = st.pool.blasDot(d, d)
	st.dnorm = math.Sqrt(st.dtd)
	const big = 1e10
	st.stpmx = big
	if st.cnstnd {
		if st.iter == 0 {
			st.stpmx = 1
		} else {
			stpmx := st.stpmx
			for i := range n {
				a1 := d[i]
				if nbd[i] == 0 {
					continue
				}
				if a1 < 0 && nbd[i] <= 2 {
					a2 := l[i] - x[i]
					if a2 >= 0 {
						stpmx = 0
					} else if float64(a1*stpmx) < a2 {
						stpmx = a2 / a1
					}
				} else if a1 > 0 && nbd[i] >= 2 {
					a2 := u[i] - x[i]
					if a2 <= 0 {
						stpmx = 0
					} else if float64(a1*stpmx) > a2 {
						stpmx = a2 / a1
					}
				}
			}
			st.stpmx = stpmx
		}
	}
	if st.iter == 0 && !st.boxed {
		st.stp = fmin(1/st.dnorm, st.stpmx)
	} else {
		st.stp = 1
	}
	st.pool.copyVec(t, x)
	st.pool.copyVec(st.r, g)
	st.fold = st.f
	st.ifun = 0
	st.iback = 0
	st.csave = searchStart

	for {
		st.gd = st.pool.blasDot(g, d)
		if st.ifun == 0 {
			st.gdold = st.gd
			// The directional derivative must be negative (the Fortran
			// tests gd >= 0; NaN and -Inf fail here too).
			if !(st.gd < 0) || math.IsInf(st.gd, -1) {
				break
			}
		} else if math.IsNaN(st.gd) || math.IsInf(st.gd, 0) {
			if i := firstNonFinite(g); i >= 0 {
				return 0, EvaluationFailed, fmt.Errorf("optimize: evaluation %d: gradient[%d] = %v", st.nfev, i, g[i])
			}
			return 0, EvaluationFailed, fmt.Errorf("optimize: evaluation %d: directional derivative overflows (%v)", st.nfev, st.gd)
		}

		st.csave, st.stp = st.ls.step(st.f, st.gd, st.stp, lsFtol, lsGtol, lsXtol, 0, st.stpmx, st.csave)
		if st.csave == searchConverged || st.csave == searchWarning {
			return searchNewX, NotTerminated, nil
		}
		// A new trial step (an input error of dcsrch is treated alike).
		st.ifun++
		st.iback = st.ifun - 1
		if st.iback >= st.set.MaxLS {
			break
		}
		if err := ctx.Err(); err != nil {
			return 0, Canceled, err
		}

		// x = t + stp*d, kept within the bounds, noting whether it differs
		// from the point evaluated last.
		ref := x
		if st.lastSaved {
			ref = st.lastX
		}
		stp, cnstnd := st.stp, st.cnstnd
		changed := st.pool.flag(n, func(lo, hi int) bool {
			ch := false
			switch {
			case stp == 1:
				for i := lo; i < hi; i++ {
					v := z[i]
					ch = ch || v != ref[i]
					x[i] = v
				}
			case !cnstnd:
				for i := lo; i < hi; i++ {
					v := float64(stp*d[i]) + t[i]
					ch = ch || v != ref[i]
					x[i] = v
				}
			default:
				// Rounding must not take x out of its bounds.
				for i := lo; i < hi; i++ {
					v := float64(stp*d[i]) + t[i]
					if b := nbd[i]; b == 1 || b == 2 {
						v = fmax(v, l[i])
					}
					if b := nbd[i]; b == 2 || b == 3 {
						v = fmin(v, u[i])
					}
					ch = ch || v != ref[i]
					x[i] = v
				}
			}
			return ch
		})
		if !changed {
			// SciPy's cache answers without calling f.
			st.events.cacheHits++
			if st.lastSaved {
				st.events.cacheHitsSaved++
				st.pool.copyVec(g, st.lastG)
				st.lastSaved = false
			}
			st.f = st.lastF
			continue
		}
		if err := st.evaluate(); err != nil {
			return 0, EvaluationFailed, err
		}
	}

	// A failed search: restore the previous iterate, then stop if the
	// memory is empty or empty it and try again.
	st.saveLast()
	st.restore()
	if st.col == 0 {
		st.iter++
		return searchAbnormal, LineSearchFailure, nil
	}
	st.resetMemory()
	st.events.restarts++
	return searchRestart, NotTerminated, nil
}

// flag runs fn over the blocks of [0, n) and reports whether any call
// returned true.
func (p *vecPool) flag(n int, fn func(lo, hi int) bool) bool {
	nb := numBlocks(n)
	if nb <= 1 {
		return fn(0, n)
	}
	part := p.partials(nb)
	p.blocks(n, func(b, lo, hi int) {
		part[b] = 0
		if fn(lo, hi) {
			part[b] = 1
		}
	})
	for _, v := range part {
		if v != 0 {
			return true
		}
	}
	return false
}
