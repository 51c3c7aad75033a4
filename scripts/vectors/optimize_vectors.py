"""Test vectors for optimize/ (Go L-BFGS-B), made with SciPy's Fortran L-BFGS-B.

    make vectors-optimize      # or: .venv/bin/python scripts/vectors/optimize_vectors.py

Runs scipy.optimize.fmin_l_bfgs_b from SciPy 1.14.x, the last SciPy with the
Fortran L-BFGS-B 3.0 (1.15 replaced it with a C translation that behaves
differently on some problems), on a set of problems and writes, per call, x, f,
the gradient, nit, nfev, the task message, the warnflag and the value of every
evaluation, to optimize/testdata/lbfgsb.json. The Go tests implement the same
problems with the same floating-point operations in the same order, so both
sides see bit-identical function values at identical points.

The objective functions are written as plain loops (Python floats, or numpy
float32 scalars for the float32 problems) rather than numpy reductions, so that
their rounding is fixed by the code and not by numpy's summation strategy.

Each case also records what the Fortran reported on its iprint output (skipped
updates, line-search restarts, memory refreshes), read from file descriptors 1
and 2 while the call runs, so that the tests can show which paths ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

# The Fortran runtime buffers iprint output unless told otherwise; it reads
# this when scipy's extension module loads it.
os.environ["GFORTRAN_UNBUFFERED_ALL"] = "1"
# OpenBLAS splits a ddot longer than 10000 between its threads; the Go
# kernels reproduce the split of two threads (see optimize/vec.go).
os.environ["OPENBLAS_NUM_THREADS"] = "2"

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.linalg import blas  # noqa: E402
from scipy.optimize import _lbfgsb, fmin_l_bfgs_b  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "optimize" / "testdata" / "lbfgsb.json"

Objective = Callable[[np.ndarray], tuple[Any, np.ndarray]]

f32 = np.float32


# ---------------------------------------------------------------- problems ---


def rosen(x: np.ndarray) -> tuple[float, np.ndarray]:
    """Extended (chained) Rosenbrock function, float64."""
    xs = [float(v) for v in x]
    n = len(xs)
    f = 0.0
    g = [0.0] * n
    for i in range(n - 1):
        t = xs[i + 1] - xs[i] * xs[i]
        s = 1.0 - xs[i]
        f += 100.0 * t * t + s * s
        g[i] += -400.0 * xs[i] * t - 2.0 * s
        g[i + 1] += 200.0 * t
    return f, np.array(g)


def rosen32(x: np.ndarray) -> tuple[np.float32, np.ndarray]:
    """Rosenbrock evaluated in float32 (x rounded to float32), as the notebook's
    loss is: f returned as a float32 scalar, g as float32 cast to float64."""
    xs = [f32(v) for v in x]
    n = len(xs)
    f = f32(0)
    g = [f32(0)] * n
    for i in range(n - 1):
        t = xs[i + 1] - xs[i] * xs[i]
        s = f32(1) - xs[i]
        f = f + (f32(100) * t * t + s * s)
        g[i] = g[i] + (f32(-400) * xs[i] * t - f32(2) * s)
        g[i + 1] = g[i + 1] + f32(200) * t
    return f, np.array(g, dtype=np.float32).astype(np.float64)


def quad_coeffs(n: int) -> tuple[list[float], list[float]]:
    a = [1.0 + 9.0 * i / (n - 1) for i in range(n)]
    c = [float((7 * i) % 5) - 2.0 for i in range(n)]
    return a, c


def quad(x: np.ndarray, scale: float = 1.0) -> tuple[float, np.ndarray]:
    """Convex quadratic: sum a_i/2 (x_i - s c_i)^2 + sum (x_{i+1} - x_i)^2,
    a_i from 1 to 10 (condition number about 50 with the coupling)."""
    xs = [float(v) for v in x]
    n = len(xs)
    a, c = quad_coeffs(n)
    f = 0.0
    g = [0.0] * n
    for i in range(n):
        e = xs[i] - scale * c[i]
        f += 0.5 * a[i] * e * e
        g[i] += a[i] * e
    for i in range(n - 1):
        e = xs[i + 1] - xs[i]
        f += e * e
        g[i] -= 2.0 * e
        g[i + 1] += 2.0 * e
    return f, np.array(g)


def badgrad(x: np.ndarray) -> tuple[float, np.ndarray]:
    """sum (i+1) x_i^2 with a gradient of the wrong sign once f < 1e-2: the
    line search then cannot succeed, first with a memory, then without."""
    xs = [float(v) for v in x]
    f = 0.0
    for i, v in enumerate(xs):
        f += (i + 1.0) * v * v
    sign = 1.0 if f >= 1e-2 else -1.0
    g = [sign * 2.0 * (i + 1.0) * v for i, v in enumerate(xs)]
    return f, np.array(g)


def saddle(x: np.ndarray) -> tuple[float, np.ndarray]:
    """Nonconvex: sum of (x_i^2 - 1)^2 / 4 - x_i^2 (i+1)/n, a double well per
    variable tilted by x_i / 10; with bounds the line search ends at the
    largest feasible step and negative curvature makes L-BFGS-B skip
    updates."""
    xs = [float(v) for v in x]
    n = len(xs)
    f = 0.0
    g = [0.0] * n
    for i, v in enumerate(xs):
        w = (i + 1.0) / n
        q = v * v - 1.0
        f += 0.25 * q * q - w * v * v + 0.1 * v
        g[i] = q * v - 2.0 * w * v + 0.1
    return f, np.array(g)


PROBLEMS: dict[str, Objective] = {
    "saddle": saddle,
    "rosen": rosen,
    "rosen32": rosen32,
    "quad": quad,
    "quad_far": lambda x: quad(x, 3.0),
    "badgrad": badgrad,
}


# ------------------------------------------------------------------- cases ---


def alternating(n: int, a: float, b: float) -> list[float]:
    return [a if i % 2 == 0 else b for i in range(n)]


def spread(n: int, lo: float, hi: float, seed: int) -> list[float]:
    rng = np.random.RandomState(seed)
    return [float(v) for v in rng.uniform(lo, hi, n)]


INF = float("inf")


def case(name: str, problem: str, x0: list[float], calls: int = 1, halt_at: int | None = None,
         trace: bool = True, **settings: Any) -> dict[str, Any]:
    s = {"m": 10, "factr": 1e7, "pgtol": 1e-5, "maxfun": 15000, "maxiter": 15000, "maxls": 20,
         "lower": None, "upper": None}
    s.update(settings)
    return {"name": name, "problem": problem, "x0": x0, "calls": calls, "halt_at": halt_at,
            "trace": trace, "settings": s}


def mixed_bounds(n: int) -> tuple[list[float], list[float]]:
    """Every kind of bound in turn: none, lower, both, upper, fixed."""
    lo, hi = [], []
    for i in range(n):
        k = i % 5
        lo.append([-INF, -0.5, -1.0, -INF, 0.25][k])
        hi.append([INF, INF, 0.75, 0.5, 0.25][k])
    return lo, hi


def cases() -> list[dict[str, Any]]:
    n_big = 128
    lo20, hi20 = mixed_bounds(20)
    lo50, hi50 = [-1.0] * 50, [1.0] * 50
    return [
        case("quad10", "quad", alternating(10, 3.0, -3.0)),
        case("quad10_at_minimum_pgtol", "quad", [0.0] * 10, pgtol=1e3),
        case("rosen2", "rosen", [-1.2, 1.0]),
        case("rosen2_m1", "rosen", [-1.2, 1.0], m=1),
        case(f"rosen{n_big}", "rosen", spread(n_big, -2.0, 2.0, 1), trace=True),
        case("rosen20_m3", "rosen", spread(20, -2.0, 2.0, 2), m=3),
        case("rosen20_bounds_m3", "rosen", spread(20, -2.0, 2.0, 3), m=3, lower=lo20, upper=hi20),
        case("rosen20_bounds_factr10", "rosen", spread(20, -2.0, 2.0, 4), factr=10.0, pgtol=1e-10,
             lower=lo20, upper=hi20),
        case("quad50_box", "quad_far", spread(50, -0.5, 0.5, 5), lower=lo50, upper=hi50),
        case("quad50_box_infeasible_x0", "quad_far", spread(50, -3.0, 3.0, 6), m=4, lower=lo50,
             upper=hi50),
        case("quad50_lower_only", "quad_far", spread(50, 0.0, 2.0, 7), lower=[0.0] * 50),
        case("rosen32_20", "rosen32", spread(20, -2.0, 2.0, 8)),
        case("rosen32_32_notebook", "rosen32", spread(32, -2.0, 2.0, 9), calls=10, maxfun=20),
        # float32 values near the minimum: line searches that end in
        # dcsrch's warnings and step back behind the best point.
        case("rosen32_5_factr0", "rosen32", [-1.53125, 1.25, 0.625, -1.09375, -1.53125], m=9,
             factr=0.0, pgtol=0.0),
        case("rosen32_4_factr0", "rosen32", [-1.484375, 0.078125, 0.296875, 1.453125], m=9,
             factr=0.0, pgtol=0.0),
        case("rosen2_maxfun_midsearch", "rosen", [-1.2, 1.0], maxfun=16),
        case("rosen2_maxiter", "rosen", [-1.2, 1.0], maxiter=5),
        case("rosen2_maxls2", "rosen", [-1.2, 1.0], maxls=2),
        case("rosen20_maxls1", "rosen", spread(20, -2.0, 2.0, 10), maxls=1),
        case("badgrad10", "badgrad", alternating(10, 1.0, -0.5)),
        case("badgrad10_start", "badgrad", alternating(10, 0.01, -0.01)),
        # maxfun is only checked when an iteration completes: the failing
        # searches run past it, and SciPy then reports warnflag 1.
        case("badgrad10_maxfun12", "badgrad", alternating(10, 1.0, -0.5), maxfun=12),
        case("rosen2_maxiter0", "rosen", [-1.2, 1.0], maxiter=0),
        case("rosen2_maxfun0", "rosen", [-1.2, 1.0], maxfun=0),
        case("rosen2_callback_halt", "rosen", [-1.2, 1.0], halt_at=3),
        # subsm's projected Newton step is uphill: it backtracks instead.
        case("rosen2_box_projection", "rosen", [-1.5, 0.75], m=4, lower=[-0.125, -1.875],
             upper=[1.0, 0.875]),
        # The Cauchy point passes every breakpoint: all variables fixed.
        case("quad2_far_box_corner", "quad_far", [1.75, 2.5], m=5, lower=[-1.0, -0.75],
             upper=[1.0, 0.375]),
        case("saddle12_box", "saddle", spread(12, -0.2, 0.2, 11), lower=[-1.2] * 12,
             upper=[0.9] * 12),
        case("saddle12_box_m2", "saddle", spread(12, -0.2, 0.2, 12), m=2, lower=[-1.2] * 12,
             upper=[0.9] * 12),
    ]


# ------------------------------------------------------------- BLAS check ---


def fma(a: float, b: float, c: float) -> float:
    """a*b + c rounded once (float(Fraction) rounds correctly)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def openblas_avx512_ddot(x: list[float], y: list[float]) -> float:
    """OpenBLAS 0.3.27's single-threaded AVX-512 ddot, the order that
    optimize/vec.go reproduces: 4 x 8 FMA lanes, folded to 4 x 4, one more
    4 x 4 block of 16, lanes added in a fixed order, then an FMA per element
    of the last n % 16."""
    n = len(x)
    n1, n32 = n & ~15, n & ~31
    dot = 0.0
    if n1:
        acc = [0.0] * 32
        for i in range(0, n32, 32):
            for j in range(32):
                acc[j] = fma(x[i + j], y[i + j], acc[j])
        a = [acc[8 * k + j] + acc[8 * k + j + 4] for k in range(4) for j in range(4)]
        for i in range(n32, n1, 16):
            for j in range(16):
                a[j] = fma(x[i + j], y[i + j], a[j])
        s = [((a[j] + a[4 + j]) + a[8 + j]) + a[12 + j] for j in range(4)]
        dot = (s[0] + s[2]) + (s[1] + s[3])
    for i in range(n1, n):
        dot = fma(y[i], x[i], dot)
    return dot


def openblas_ddot(x: list[float], y: list[float]) -> float:
    """ddot as OpenBLAS computes it with two threads."""
    n = len(x)
    if n <= 10000:
        return openblas_avx512_ddot(x, y)
    w = (n + 1) // 2
    return 0.0 + openblas_avx512_ddot(x[:w], y[:w]) + openblas_avx512_ddot(x[w:], y[w:])


def blas_inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectors that Go rebuilds exactly (dotInputs in optimize/vec_test.go):
    integers over powers of two, 33 significant bits at most."""
    i = np.arange(n, dtype=np.int64)
    x = ((i * 7919) % 2003 - 1001) / 256.0 + ((i * 104729) % 1009) * 2.0**-30
    y = ((i * 6151) % 1999 - 999) / 512.0 - ((i * 15485863) % 1013) * 2.0**-31
    return x, y


BLAS_LENGTHS = [1, 2, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 1000, 4097, 10000, 10001,
                10002, 20001, 65537, 786432]


def blas_vectors() -> dict[str, list[Any]]:
    """SciPy's ddot on blas_inputs, for the Go kernel tests; the emulation
    is checked against them up to n = 20001 (beyond, it is slow in Python)."""
    out = []
    for n in BLAS_LENGTHS:
        x, y = blas_inputs(n)
        got = float(blas.ddot(x, y))
        if n <= 20001 and got != openblas_ddot(list(x), list(y)):
            sys.exit(f"scipy's BLAS ddot (n={n}) does not split as OpenBLAS on two threads "
                     "does; run on a machine with at least two cores")
        out.append((n, got))
    return {"n": [n for n, _ in out], "dot": [d for _, d in out]}


def check_blas() -> None:
    """The Go kernels reproduce SciPy's arithmetic bit for bit only where
    SciPy's OpenBLAS runs its AVX-512 kernels (x86-64 with AVX-512: Skylake-X
    and later Intel, AMD Zen 4). Elsewhere the vectors would differ from Go
    in the last bits and long runs would drift apart, so refuse."""
    rng = np.random.RandomState(0)
    for n in [*range(1, 80), 127, 128, 129, 1000, 4097, 10000]:
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        if blas.ddot(x, y) != openblas_avx512_ddot(list(x), list(y)):
            sys.exit(f"scipy's BLAS ddot (n={n}) is not OpenBLAS's AVX-512 kernel: run this "
                     "on an x86-64 machine with AVX-512 (see optimize/vec.go)")
        a = float(rng.standard_normal())
        if not np.array_equal(blas.daxpy(x, y.copy(), a=a),
                              [fma(a, xi, yi) for xi, yi in zip(x, y)]):
            sys.exit(f"scipy's BLAS daxpy (n={n}) is not an FMA per element")


# --------------------------------------------------------------- run cases ---


@contextlib.contextmanager
def captured_fds() -> Iterator[list[str]]:
    """Collects what is written to file descriptors 1 and 2 (the Fortran
    iprint output) into the yielded list, as one string."""
    out: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            out.append(tmp.read().decode(errors="replace"))


EVENTS = {
    "skipped_updates": "BFGS update SKIPPED",
    "linesearch_restarts": "Bad direction in the line search",
    "singular_resets": "Singular triangular system detected",
    "formk_resets": "Nonpositive definiteness in Cholesky factorization in formk",
    "formt_resets": "Nonpositive definiteness in Cholesky factorization in formt",
    "projections_rejected": "Positive dir derivative in projection",
}


def run_call(fun: Objective, x0: np.ndarray, s: dict[str, Any], halt_at: int | None,
             trace: bool, iprint: int) -> tuple[dict[str, Any], str]:
    fevals: list[float] = []

    def wrapped(x: np.ndarray) -> tuple[Any, np.ndarray]:
        f, g = fun(x)
        fevals.append(float(f))
        return f, g

    bounds = None
    if s["lower"] is not None or s["upper"] is not None:
        n = len(x0)
        lo = s["lower"] if s["lower"] is not None else [-INF] * n
        hi = s["upper"] if s["upper"] is not None else [INF] * n
        bounds = list(zip(lo, hi))
    iters = [0]

    def callback(xk: np.ndarray) -> None:
        iters[0] += 1
        if halt_at is not None and iters[0] >= halt_at:
            raise StopIteration

    with captured_fds() as text:
        x, f, d = fmin_l_bfgs_b(wrapped, x0, bounds=bounds, m=s["m"], factr=s["factr"],
                                pgtol=s["pgtol"], maxfun=s["maxfun"], maxiter=s["maxiter"],
                                maxls=s["maxls"], iprint=iprint,
                                callback=callback if halt_at is not None else None)
    if d["funcalls"] != len(fevals):
        raise AssertionError(f"nfev {d['funcalls']} but {len(fevals)} calls")
    out = {
        "x": [float(v) for v in x],
        "f": float(f),
        "grad": [float(v) for v in d["grad"]],
        "nit": int(d["nit"]),
        "nfev": int(d["funcalls"]),
        "task": str(d["task"]),
        "warnflag": int(d["warnflag"]),
    }
    if trace:
        out["fevals"] = fevals
    return out, text[0] if text else ""


def run_case(c: dict[str, Any]) -> dict[str, Any]:
    fun = PROBLEMS[c["problem"]]
    x = np.array(c["x0"], dtype=np.float64)
    results = []
    events = {k: 0 for k in EVENTS}
    for _ in range(c["calls"]):
        # Quiet run for the results, then the same call with iprint=1 to
        # count the events (iprint only prints; the check below proves it).
        res, _ = run_call(fun, x, c["settings"], c["halt_at"], c["trace"], -1)
        res2, text = run_call(fun, x, c["settings"], c["halt_at"], False, 1)
        if res2["x"] != res["x"] or res2["nfev"] != res["nfev"]:
            raise AssertionError(f"{c['name']}: iprint changed the run")
        for k, marker in EVENTS.items():
            events[k] += text.count(marker)
        results.append(res)
        x = np.array(res["x"])
    return {**c, "events": events, "results": results}


def check_coverage(out: list[dict[str, Any]]) -> None:
    """The problem set must exercise what the issue asks for."""
    by = {c["name"]: c for c in out}
    last = {k: c["results"][-1] for k, c in by.items()}
    mid = last["rosen2_maxfun_midsearch"]
    assert mid["nfev"] >= by["rosen2_maxfun_midsearch"]["settings"]["maxfun"] + 2, mid
    assert mid["task"].startswith("STOP: TOTAL NO. of f AND g"), mid
    assert last["rosen2_maxiter"]["task"].startswith("STOP: TOTAL NO. of ITERATIONS"), last
    assert last["rosen2_callback_halt"]["task"] == "STOP: CALLBACK REQUESTED HALT"
    assert last["quad10_at_minimum_pgtol"]["nit"] == 0
    tasks = {r["task"] for c in out for r in c["results"]}
    assert "ABNORMAL_TERMINATION_IN_LNSRCH" in tasks, tasks
    assert "CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL" in tasks, tasks
    assert "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH" in tasks, tasks
    restarts = sum(c["events"]["linesearch_restarts"] for c in out)
    skipped = sum(c["events"]["skipped_updates"] for c in out)
    assert restarts > 0, "no line-search restart"
    assert skipped > 0, "no skipped update"
    assert by["rosen2_box_projection"]["events"]["projections_rejected"] > 0
    assert by["badgrad10"]["events"]["linesearch_restarts"] > 0
    assert last["badgrad10"]["task"] == "ABNORMAL_TERMINATION_IN_LNSRCH"
    q = last["badgrad10_maxfun12"]
    assert q["task"] == "ABNORMAL_TERMINATION_IN_LNSRCH" and q["warnflag"] == 1, q
    print(f"coverage: {restarts} line-search restarts, {skipped} skipped updates", file=sys.stderr)


def finite_or_none(v: list[float] | None) -> list[float | None] | None:
    """JSON has no infinity: an infinite bound is written as null."""
    if v is None:
        return None
    return [None if np.isinf(e) else e for e in v]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    ver = tuple(int(p) for p in scipy.__version__.split(".")[:2])
    if ver >= (1, 15) or not hasattr(_lbfgsb, "setulb"):
        sys.exit(f"scipy {scipy.__version__}: need <= 1.14 with the Fortran L-BFGS-B (f2py "
                 "module scipy.optimize._lbfgsb.setulb)")
    check_blas()
    out = [run_case(c) for c in cases()]
    check_coverage(out)
    for c in out:
        c["settings"]["lower"] = finite_or_none(c["settings"]["lower"])
        c["settings"]["upper"] = finite_or_none(c["settings"]["upper"])
    dots = blas_vectors()
    doc = {
        # The name the checked-in vectors record: they were made before the script moved to
        # scripts/vectors/, and a vectors file changes only with its vectors.
        "generator": "scripts/vectors/optimize_vectors.py",
        "reference": "scipy.optimize.fmin_l_bfgs_b, Fortran L-BFGS-B 3.0 (f2py _lbfgsb.setulb)",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cases": out,
        "ddot": dots,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1, allow_nan=False)
    # One line per list of numbers keeps the file small and diffable.
    text = re.sub(r"\[\s*([-0-9.eE+,\s]*?)\s*\]",
                  lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    args.out.write_text(text + "\n")
    print(f"wrote {args.out} ({len(text)} bytes, {len(out)} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
