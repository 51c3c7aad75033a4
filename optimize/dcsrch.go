package optimize

import "math"

// The Moré–Thuente line search of MINPACK-2 (dcsrch and dcstep), in the
// form L-BFGS-B 3.0 carries it. It is a reverse-communication routine: the
// caller evaluates the function at the step it returns and calls again.

// searchTask is dcsrch's task string, reduced to what callers test.
type searchTask int

const (
	searchStart     searchTask = iota // "START": begin a new search
	searchFG                          // "FG": evaluate at stp and call again
	searchConverged                   // "CONVERGENCE"
	searchWarning                     // "WARNING: ...": stp is the best step found
	searchError                       // "ERROR: ...": invalid input
)

// Line-search constants of L-BFGS-B's lnsrlb.
const (
	lsFtol = 1e-3
	lsGtol = 0.9
	lsXtol = 0.1
)

// dcsrch holds the state the Fortran keeps in isave and dsave between
// calls. It persists across searches: after an input error dcsrch returns
// without initialising, and the next call resumes from the old state, as
// the Fortran does.
type dcsrch struct {
	brackt                                bool
	stage                                 int
	ginit, gtest, gx, gy, finit, fx, fy   float64
	stx, sty, stmin, stmax, width, width1 float64
}

// step performs one call of dcsrch with the function value f and
// derivative g at the current step stp, and returns the new task and step.
func (s *dcsrch) step(f, g, stp, ftol, gtol, xtol, stpmin, stpmax float64, task searchTask) (searchTask, float64) {
	const (
		p5     = 0.5
		p66    = 0.66
		xtrapl = 1.1
		xtrapu = 4.0
	)
	if task == searchStart {
		// Errors on input leave the saved state as it is.
		if stp < stpmin || stp > stpmax || g >= 0 || ftol < 0 || gtol < 0 || xtol < 0 || stpmin < 0 || stpmax < stpmin {
			return searchError, stp
		}
		s.brackt = false
		s.stage = 1
		s.finit = f
		s.ginit = g
		s.gtest = ftol * s.ginit
		s.width = stpmax - stpmin
		s.width1 = s.width / p5
		s.stx, s.fx, s.gx = 0, s.finit, s.ginit
		s.sty, s.fy, s.gy = 0, s.finit, s.ginit
		s.stmin = 0
		s.stmax = stp + float64(xtrapu*stp)
		return searchFG, stp
	}

	ftest := s.finit + float64(stp*s.gtest)
	if s.stage == 1 && f <= ftest && g >= 0 {
		s.stage = 2
	}

	// Warnings, then convergence; a later test overrides an earlier one.
	task = searchFG
	if s.brackt && (stp <= s.stmin || stp >= s.stmax) {
		task = searchWarning // ROUNDING ERRORS PREVENT PROGRESS
	}
	if s.brackt && s.stmax-s.stmin <= float64(xtol*s.stmax) {
		task = searchWarning // XTOL TEST SATISFIED
	}
	if stp == stpmax && f <= ftest && g <= s.gtest {
		task = searchWarning // STP = STPMAX
	}
	if stp == stpmin && (f > ftest || g >= s.gtest) {
		task = searchWarning // STP = STPMIN
	}
	if f <= ftest && math.Abs(g) <= float64(gtol*(-s.ginit)) {
		task = searchConverged
	}
	if task != searchFG {
		return task, stp
	}

	if s.stage == 1 && f <= s.fx && f > ftest {
		// A lower value without sufficient decrease: step with the
		// modified function psi(stp) = f(stp) - f(0) - ftol*stp*f'(0).
		fm := f - float64(stp*s.gtest)
		fxm := s.fx - float64(s.stx*s.gtest)
		fym := s.fy - float64(s.sty*s.gtest)
		gm := g - s.gtest
		gxm := s.gx - s.gtest
		gym := s.gy - s.gtest
		stp = dcstep(&s.stx, &fxm, &gxm, &s.sty, &fym, &gym, stp, fm, gm, &s.brackt, s.stmin, s.stmax)
		s.fx = fxm + float64(s.stx*s.gtest)
		s.fy = fym + float64(s.sty*s.gtest)
		s.gx = gxm + s.gtest
		s.gy = gym + s.gtest
	} else {
		stp = dcstep(&s.stx, &s.fx, &s.gx, &s.sty, &s.fy, &s.gy, stp, f, g, &s.brackt, s.stmin, s.stmax)
	}

	// Bisect when the interval does not shrink fast enough.
	if s.brackt {
		if math.Abs(s.sty-s.stx) >= float64(p66*s.width1) {
			stp = s.stx + float64(p5*(s.sty-s.stx))
		}
		s.width1 = s.width
		s.width = math.Abs(s.sty - s.stx)
	}
	if s.brackt {
		s.stmin = fmin(s.stx, s.sty)
		s.stmax = fmax(s.stx, s.sty)
	} else {
		s.stmin = stp + float64(xtrapl*(stp-s.stx))
		s.stmax = stp + float64(xtrapu*(stp-s.stx))
	}
	stp = fmax(stp, stpmin)
	stp = fmin(stp, stpmax)
	// Without further progress possible, fall back to the best step.
	if s.brackt && (stp <= s.stmin || stp >= s.stmax) || s.brackt && s.stmax-s.stmin <= float64(xtol*s.stmax) {
		stp = s.stx
	}
	return searchFG, stp
}

// dcstep computes a safeguarded step from the interval [stx, sty] and the
// trial step stp (values fp, dp) and updates the interval; it returns the
// new step.
func dcstep(stx, fx, dx, sty, fy, dy *float64, stp, fp, dp float64, brackt *bool, stpmin, stpmax float64) float64 {
	const p66 = 0.66
	sgnd := dp * (*dx / math.Abs(*dx))
	var stpf float64
	switch {
	case fp > *fx:
		// Higher value: the minimum is bracketed. Take the cubic step
		// if it is closer to stx than the quadratic one, else their mean.
		theta := float64(3*(*fx-fp))/(stp-*stx) + *dx + dp
		s := fmax3(math.Abs(theta), math.Abs(*dx), math.Abs(dp))
		ts := theta / s
		gamma := s * math.Sqrt(float64(ts*ts)-float64((*dx/s)*(dp/s)))
		if stp < *stx {
			gamma = -gamma
		}
		p := (gamma - *dx) + theta
		q := ((gamma - *dx) + gamma) + dp
		r := p / q
		stpc := *stx + float64(r*(stp-*stx))
		stpq := *stx + float64(((*dx/((*fx-fp)/(stp-*stx)+*dx))/2)*(stp-*stx))
		if math.Abs(stpc-*stx) < math.Abs(stpq-*stx) {
			stpf = stpc
		} else {
			stpf = stpc + (stpq-stpc)/2
		}
		*brackt = true
	case sgnd < 0:
		// Lower value, derivatives of opposite sign: bracketed. Take the
		// cubic step if it is farther from stp than the secant step.
		theta := float64(3*(*fx-fp))/(stp-*stx) + *dx + dp
		s := fmax3(math.Abs(theta), math.Abs(*dx), math.Abs(dp))
		ts := theta / s
		gamma := s * math.Sqrt(float64(ts*ts)-float64((*dx/s)*(dp/s)))
		if stp > *stx {
			gamma = -gamma
		}
		p := (gamma - dp) + theta
		q := ((gamma - dp) + gamma) + *dx
		r := p / q
		stpc := stp + float64(r*(*stx-stp))
		stpq := stp + float64((dp/(dp-*dx))*(*stx-stp))
		if math.Abs(stpc-stp) > math.Abs(stpq-stp) {
			stpf = stpc
		} else {
			stpf = stpq
		}
		*brackt = true
	case math.Abs(dp) < math.Abs(*dx):
		// Lower value, same sign, decreasing magnitude of the derivative.
		// The cubic step is used only if the cubic tends to infinity in
		// the direction of the step or its minimum is beyond stp.
		theta := float64(3*(*fx-fp))/(stp-*stx) + *dx + dp
		s := fmax3(math.Abs(theta), math.Abs(*dx), math.Abs(dp))
		ts := theta / s
		gamma := s * math.Sqrt(fmax(0, float64(ts*ts)-float64((*dx/s)*(dp/s))))
		if stp > *stx {
			gamma = -gamma
		}
		p := (gamma - dp) + theta
		q := (gamma + (*dx - dp)) + gamma
		r := p / q
		var stpc float64
		switch {
		case r < 0 && gamma != 0:
			stpc = stp + float64(r*(*stx-stp))
		case stp > *stx:
			stpc = stpmax
		default:
			stpc = stpmin
		}
		stpq := stp + float64((dp/(dp-*dx))*(*stx-stp))
		if *brackt {
			// Bracketed: the step closer to stp, kept inside the interval.
			if math.Abs(stpc-stp) < math.Abs(stpq-stp) {
				stpf = stpc
			} else {
				stpf = stpq
			}
			if stp > *stx {
				stpf = fmin(stp+float64(p66*(*sty-stp)), stpf)
			} else {
				stpf = fmax(stp+float64(p66*(*sty-stp)), stpf)
			}
		} else {
			// Not bracketed: the step farther from stp, within bounds.
			if math.Abs(stpc-stp) > math.Abs(stpq-stp) {
				stpf = stpc
			} else {
				stpf = stpq
			}
			stpf = fmin(stpmax, stpf)
			stpf = fmax(stpmin, stpf)
		}
	default:
		// Lower value, same sign, no decrease of the derivative's
		// magnitude: the cubic step if bracketed, else a bound.
		switch {
		case *brackt:
			theta := float64(3*(fp-*fy))/(*sty-stp) + *dy + dp
			s := fmax3(math.Abs(theta), math.Abs(*dy), math.Abs(dp))
			ts := theta / s
			gamma := s * math.Sqrt(float64(ts*ts)-float64((*dy/s)*(dp/s)))
			if stp > *sty {
				gamma = -gamma
			}
			p := (gamma - dp) + theta
			q := ((gamma - dp) + gamma) + *dy
			r := p / q
			stpf = stp + float64(r*(*sty-stp))
		case stp > *stx:
			stpf = stpmax
		default:
			stpf = stpmin
		}
	}

	// Update the interval that contains a minimizer.
	if fp > *fx {
		*sty, *fy, *dy = stp, fp, dp
	} else {
		if sgnd < 0 {
			*sty, *fy, *dy = *stx, *fx, *dx
		}
		*stx, *fx, *dx = stp, fp, dp
	}
	return stpf
}

// fmin, fmax and fmax3 are Fortran's MIN and MAX for ordered operands.
func fmin(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

func fmax(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

func fmax3(a, b, c float64) float64 { return fmax(fmax(a, b), c) }
