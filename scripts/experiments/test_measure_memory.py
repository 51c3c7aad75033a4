"""Tests of scripts/experiments/measure_memory.py's parts that need no model."""

import argparse
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import measure_memory  # noqa: E402


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"), reason="no GNU time")
def test_peak_rss_grows_with_allocation() -> None:
    small = measure_memory.peak_rss([sys.executable, "-c", "pass"])
    big = measure_memory.peak_rss([sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"])
    assert 0 < small < big
    assert big - small > 150 * 2**20


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"), reason="no GNU time")
def test_peak_rss_reports_failure() -> None:
    with pytest.raises(RuntimeError, match="exit 3"):
        measure_memory.peak_rss([sys.executable, "-c", "raise SystemExit(3)"])


def test_workloads_flags(tmp_path) -> None:
    args = argparse.Namespace(bin="ns", style_model="S", classify_model="C")
    w = measure_memory.workloads(args, 128, str(tmp_path))
    assert set(w) == {"features", "transfer-fast", "transfer-recipe"}
    assert w["transfer-fast"][-2:] == ["--graph", "fast"]
    assert w["features"][w["features"].index("--size") + 1] == "128"
    assert w["features"][w["features"].index("--model") + 1] == "C"
