// Package optimize minimises smooth functions, with optional bounds on the
// variables, by L-BFGS-B: the limited-memory quasi-Newton method of Byrd,
// Lu, Nocedal and Zhu, in version 3.0 (Morales and Nocedal, 2011).
//
// Minimize reproduces scipy.optimize.fmin_l_bfgs_b as SciPy shipped it up
// to 1.14, the Fortran L-BFGS-B 3.0 with SciPy's patches driven by SciPy's
// Python loop (SciPy 1.15 replaced it with a C translation that behaves
// differently on some problems). From the same function values it
// evaluates the same points, spends the same evaluations and stops for the
// same reasons, with the same messages and warnflag: the generalized Cauchy
// point, the subspace minimisation with the projection of Morales and
// Nocedal, the Moré–Thuente line search (MINPACK-2's dcsrch with ftol=1e-3,
// gtol=0.9, xtol=0.1, at most MaxLS steps, a first step of length 1/‖d‖),
// skipped updates when s'y is not safely positive, a failed line search
// restarted once with an empty memory before ABNORMAL_TERMINATION_IN_LNSRCH,
// MaxFun and MaxIter checked only when an iteration completes, and SciPy's
// cached function wrapper, which does not call f again at the point it
// evaluated last.
//
// # Arithmetic
//
// The results are bit-identical to SciPy 1.14.1 on x86-64 with AVX-512,
// where SciPy's OpenBLAS runs its AVX-512 kernels: the test vectors
// (testdata/lbfgsb.json, made by scripts/vectors/optimize_vectors.py) match in x,
// f, the gradient and the value of every evaluation, over hundreds of
// iterations. To get there every sum is formed in SciPy's order: the BLAS
// calls of the Fortran as OpenBLAS computes them (fused multiply-adds in 32
// lanes, and for n > 10000 two halves as on two threads), the Fortran's own
// loops as plain sequential sums (see vec.go). Go's arithmetic is the same
// on every platform, so these results do not depend on the machine.
//
// # Speed
//
// All vector loops run on GOMAXPROCS goroutines, elementwise loops split in
// blocks, sums split by sum (each still in its order) or along OpenBLAS's
// halves; the inner products that matupd, formk and subsm take of the
// stored vectors are formed in one pass (fused.go). Nothing of length n is
// allocated after the start of a run, and a Workspace keeps that storage for
// the next run (BenchmarkMinimize/free/workspace: 108 KB per run instead of
// 172 MB at n = 786,432). At n = 786,432 (a 512x512 RGB image)
// an iteration with a full memory costs about 1.3 times the CPU time of
// streaming the same vector operations with plain Go loops (see
// BenchmarkMinimize and BenchmarkStream).
//
// # Differences from SciPy
//
// A function that returns an error, NaN or ±Inf (value or gradient) stops
// the run with an error and status EvaluationFailed, and a done context with
// status Canceled; both return the last accepted iterate. SciPy has no such
// checks. Invalid settings or input are errors before any evaluation.
package optimize
