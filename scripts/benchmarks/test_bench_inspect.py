"""Tests of bench_inspect's parsing, measuring and table (the comparison itself is a benchmark)."""

from __future__ import annotations

import sys

import pytest

import bench_inspect


def test_parse_status() -> None:
    text = "Name:\tneuralstyle\nVmHWM:\t  252780 kB\nRssAnon:\t   38012 kB\nRssFile:\t  214768 kB\nThreads:\t7\n"
    assert bench_inspect.parse_status(text) == {"VmHWM": 252780, "RssAnon": 38012, "RssFile": 214768}


def test_measure_reports_a_child_that_holds_memory() -> None:
    # A Python child that touches 200 MB of anonymous memory: its peak and its
    # sampled RssAnon must show it (Python alone is about 10 MB).
    code = "import time; b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3)"
    r = bench_inspect.measure([sys.executable, "-c", code], "after", "python")
    assert r.peak_mb > 200
    assert 190 < r.anon_mb <= r.peak_mb
    assert r.seconds >= 0.3


def test_measure_raises_on_failure() -> None:
    with pytest.raises(RuntimeError, match="exited 3"):
        bench_inspect.measure([sys.executable, "-c", "raise SystemExit(3)"], "after", "python")


def test_table() -> None:
    runs = [
        bench_inspect.Run("before", "--help", 0.10, 241.0, 27.0, 214.0),
        bench_inspect.Run("after", "--help", 0.12, 243.0, 27.0, 216.0),
        bench_inspect.Run("after", "--help", 0.14, 241.0, 27.0, 214.0),
        bench_inspect.Run("before", "--help", 0.10, 241.0, 27.0, 214.0),
    ]
    assert bench_inspect.table(runs).splitlines()[2:] == [
        "| `--help` | before | 2 | 241 | 27 | 214 | 0.10 |",
        "| `--help` | after | 2 | 242 (241 to 243) | 27 | 215 (214 to 216) | 0.13 (0.12 to 0.14) |",
    ]
