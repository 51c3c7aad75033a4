package optimize

import (
	"errors"
	"fmt"
)

// Func evaluates the objective at x. It returns f(x) and writes the gradient
// into grad, which has the length of x. It must not modify x, and must not
// keep x or grad after it returns: both belong to the optimizer and are
// reused. A non-nil error stops the minimisation and is returned by Minimize.
type Func func(x, grad []float64) (float64, error)

// Settings are the parameters of fmin_l_bfgs_b. Start from DefaultSettings:
// the zero value is not valid (M must be at least 1).
type Settings struct {
	// M is the number of correction pairs kept in the limited memory.
	M int
	// Factr stops the run when (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)
	// <= Factr*ε, with ε the float64 machine epsilon. 0 disables the test.
	Factr float64
	// Pgtol stops the run when the largest component of the projected
	// gradient is <= Pgtol. A negative value disables the test.
	Pgtol float64
	// MaxFun and MaxIter limit evaluations and iterations. Both are checked
	// only when an iteration completes, as SciPy does, so a run can spend
	// more than MaxFun evaluations: the limit stops it once Evaluations >
	// MaxFun after an iteration.
	MaxFun, MaxIter int
	// MaxLS is the largest number of evaluations in one line search; it
	// must be at least 1.
	MaxLS int
	// Lower and Upper bound the variables. nil means no bound on any
	// variable; otherwise each has the length of x0, and -Inf (in Lower) or
	// +Inf (in Upper) leaves that side of that variable unbounded. A
	// variable with Lower == Upper is fixed. Starting points outside the
	// bounds are projected onto them, as SciPy does.
	Lower, Upper []float64
	// Callback, if not nil, is called after each iteration. Returning
	// ErrHalt stops the run with status CallbackHalt and no error; any
	// other error also stops it and is returned by Minimize.
	Callback func(Iteration) error
}

// DefaultSettings returns fmin_l_bfgs_b's defaults: m=10, factr=1e7,
// pgtol=1e-5, maxfun=15000, maxiter=15000, maxls=20, no bounds.
func DefaultSettings() Settings {
	return Settings{M: 10, Factr: 1e7, Pgtol: 1e-5, MaxFun: 15000, MaxIter: 15000, MaxLS: 20}
}

// ErrHalt is returned by a Callback to stop the run normally, like raising
// StopIteration in a SciPy callback.
var ErrHalt = errors.New("optimize: halt requested by callback")

// Iteration is what the callback sees after each iteration. X and Grad
// belong to the optimizer and are valid only during the call.
type Iteration struct {
	Iter        int // iterations completed, from 1
	X, Grad     []float64
	F           float64
	Evaluations int // function evaluations so far
}

// Result is the outcome of Minimize.
type Result struct {
	// X is the final point and Grad the gradient at X.
	X, Grad []float64
	// F is the function value SciPy returns: the value of the last
	// evaluation. That is f(X), except after LineSearchFailure, where X and
	// Grad are restored to the last iterate while F is the value at the
	// last (rejected) trial point, exactly as fmin_l_bfgs_b reports it.
	F float64
	// Iterations and Evaluations are SciPy's nit and funcalls. An
	// evaluation at the point evaluated just before is not repeated and not
	// counted, as with SciPy's cached function wrapper.
	Iterations, Evaluations int
	// Status says why the run stopped; Status.Message is SciPy's task text.
	Status Status
	// Warnflag is SciPy's d['warnflag']: 0 when converged, 1 when the
	// evaluation or iteration limit is exceeded, 2 otherwise. Like SciPy it
	// is 1 whenever Evaluations > MaxFun or Iterations >= MaxIter, even if
	// the run stopped for another reason.
	Warnflag int
}

// Status is the reason a run stopped.
type Status int

// The stop reasons. The first six are SciPy's; Canceled and EvaluationFailed
// are this package's, for a context that is done and a Func that fails.
const (
	NotTerminated           Status = iota
	GradientConvergence            // projected gradient <= Pgtol
	FunctionConvergence            // relative reduction of f <= Factr*ε
	FunctionEvaluationLimit        // Evaluations > MaxFun after an iteration
	IterationLimit                 // Iterations >= MaxIter
	LineSearchFailure              // line search failed with an empty memory
	CallbackHalt                   // the callback returned an error
	Canceled                       // the context was done
	EvaluationFailed               // Func returned an error, NaN or Inf
)

var statusInfo = [...]struct {
	name, message string
	warnflag      int
}{
	NotTerminated:           {"NotTerminated", "", 2},
	GradientConvergence:     {"GradientConvergence", "CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL", 0},
	FunctionConvergence:     {"FunctionConvergence", "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH", 0},
	FunctionEvaluationLimit: {"FunctionEvaluationLimit", "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT", 1},
	IterationLimit:          {"IterationLimit", "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT", 1},
	LineSearchFailure:       {"LineSearchFailure", "ABNORMAL_TERMINATION_IN_LNSRCH", 2},
	CallbackHalt:            {"CallbackHalt", "STOP: CALLBACK REQUESTED HALT", 2},
	Canceled:                {"Canceled", "STOP: CONTEXT DONE", 2},
	EvaluationFailed:        {"EvaluationFailed", "STOP: EVALUATION FAILED", 2},
}

func (s Status) valid() bool { return s >= 0 && int(s) < len(statusInfo) }

// String returns the constant's name.
func (s Status) String() string {
	if !s.valid() {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusInfo[s].name
}

// Message returns SciPy's task message for the status, e.g.
// "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH" (fmin_l_bfgs_b's
// d['task']). Canceled and EvaluationFailed have messages of this package.
func (s Status) Message() string {
	if !s.valid() {
		return ""
	}
	return statusInfo[s].message
}

// Warnflag returns the warnflag SciPy gives for the status alone: 0 for
// convergence, 1 for the limits, 2 otherwise. Result.Warnflag also accounts
// for limits exceeded by a run that stopped for another reason.
func (s Status) Warnflag() int {
	if !s.valid() {
		return 2
	}
	return statusInfo[s].warnflag
}

// Converged reports whether the status is one of the two convergence tests.
func (s Status) Converged() bool { return s == GradientConvergence || s == FunctionConvergence }
