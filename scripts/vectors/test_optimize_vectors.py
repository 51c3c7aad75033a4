"""Tests for scripts/vectors/optimize_vectors.py (run: .venv/bin/python -m pytest -q scripts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
import optimize_vectors as ov  # noqa: E402

from savedmodel import kernels  # noqa: E402


def central_difference(fun: ov.Objective, x: np.ndarray, h: float) -> np.ndarray:
    g = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(fun(x + e)[0]) - float(fun(x - e)[0])) / (2 * h)
    return g


@pytest.mark.parametrize("name", ["rosen", "quad", "quad_far", "saddle"])
def test_gradients(name: str) -> None:
    """The analytic gradients of the float64 problems match central
    differences. Measured with h = 1e-6 at these points: largest error
    relative to max(|g|, 1) 2e-8 (rosen); 1e-6 leaves a margin of 50."""
    fun = ov.PROBLEMS[name]
    rng = np.random.RandomState(3)
    for n in (2, 7):
        x = rng.uniform(-1.5, 1.5, n)
        g = fun(x)[1]
        fd = central_difference(fun, x, 1e-6)
        assert np.max(np.abs(g - fd)) / max(np.max(np.abs(g)), 1.0) < 1e-6


def test_badgrad_flips_below_threshold() -> None:
    x = np.array([1.0, -0.5, 0.25])
    f, g = ov.badgrad(x)
    assert f >= 1e-2 and np.all(np.sign(g) == np.sign(x))
    f, g = ov.badgrad(x / 100)
    assert f < 1e-2 and np.all(np.sign(g) == -np.sign(x))


def test_rosen32_is_float32_rosen() -> None:
    """rosen32 is rosen rounded through float32: values agree to float32
    precision (measured largest relative difference at these points 2e-7;
    the bound 1e-6 is 8 units in the last place of float32), and they are
    float32 numbers."""
    rng = np.random.RandomState(4)
    for _ in range(5):
        x = rng.uniform(-2, 2, 9)
        f32, g32 = ov.rosen32(x)
        f64, g64 = ov.rosen(x.astype(np.float32).astype(np.float64))
        assert isinstance(f32, np.float32)
        assert np.all(g32.astype(np.float32).astype(np.float64) == g32)
        assert abs(float(f32) - f64) <= 1e-6 * abs(f64)
        assert np.max(np.abs(g32 - g64)) <= 1e-6 * np.max(np.abs(g64)) * 10


def test_fma_rounds_once() -> None:
    # (1 + 2^-27)(1 - 2^-27) = 1 - 2^-54 exactly; rounded first it is 1.
    a, b = 1.0 + 2.0**-27, 1.0 - 2.0**-27
    assert ov.fma(a, b, -1.0) == -(2.0**-54)
    assert a * b - 1.0 == 0.0


def test_vectors_up_to_date() -> None:
    """The checked-in vectors are what the generator makes now, compared in a fresh
    interpreter: run after the TensorFlow tests in one pytest process, one SciPy
    case (rosen2_maxls2) came out different in its last bits, so the floating-point
    state TensorFlow leaves behind must not reach this comparison. It needs SciPy's
    OpenBLAS to run the AVX-512 kernels that the Go code reproduces (x86-64 with
    AVX-512); elsewhere SciPy computes different last bits, so it is skipped rather
    than made against another arithmetic."""
    code = (
        "import sys; sys.path.insert(0, %r); import test_optimize_vectors as t; "
        "sys.exit(t.compare_with_checked_in())" % str(Path(__file__).resolve().parent)
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    test = "scripts/vectors/test_optimize_vectors.py::test_vectors_up_to_date"
    if proc.returncode == SKIP:
        kernels.record(test, None, "SciPy's OpenBLAS does not run its AVX-512 ddot kernel on this CPU")
        pytest.skip("scipy's OpenBLAS does not run its AVX-512 ddot kernel on this CPU")
    kernels.record(test, True, "SciPy 1.14.1 regenerated in memory against the checked-in vectors")
    assert proc.returncode == 0, proc.stdout + proc.stderr


SKIP = 77


def compare_with_checked_in() -> int:
    """Regenerates the vectors in memory and compares them with the file: 0 when
    equal, SKIP when this CPU cannot reproduce them, an AssertionError otherwise."""
    x, y = ov.blas_inputs(4097)
    if ov.blas.ddot(x, y) != ov.openblas_avx512_ddot(list(x), list(y)):
        return SKIP
    doc = json.loads(ov.OUT.read_text())
    assert doc["scipy"] == ov.scipy.__version__
    cases = [ov.run_case(c) for c in ov.cases()]
    for c in cases:
        c["settings"]["lower"] = ov.finite_or_none(c["settings"]["lower"])
        c["settings"]["upper"] = ov.finite_or_none(c["settings"]["upper"])
    got = json.loads(json.dumps(cases))
    for g, w in zip(got, doc["cases"]):
        assert g == w, f"case {w['name']} differs from the checked-in vectors"
    assert len(got) == len(doc["cases"])
    assert ov.blas_vectors() == doc["ddot"]
    return 0
