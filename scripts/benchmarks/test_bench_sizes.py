"""Tests of bench_sizes' parsing and table (the runs themselves are benchmarks)."""

from __future__ import annotations

import json

import pytest

import bench_sizes


@pytest.mark.parametrize(
    "text,want",
    [("512:0", (512, 0, "lbfgs")), ("4096:512:adam", (4096, 512, "adam")), ("1024:256:lbfgs", (1024, 256, "lbfgs"))],
)
def test_parse_run(text: str, want: tuple[int, int, str]) -> None:
    assert bench_sizes.parse_run(text) == want


@pytest.mark.parametrize("text", ["512", "512:x", "a:0", "512:0:sgd", "1:2:3:4"])
def test_parse_run_errors(text: str) -> None:
    with pytest.raises(ValueError, match="run"):
        bench_sizes.parse_run(text)


def test_parse_estimate() -> None:
    dry = "size 4096x4096, style image 4096x4096\ntiles of 256x256 pixels plus a 96-pixel halo\npeak memory about 18.3 GiB of 20.2 GiB available (MemAvailable in /proc/meminfo)\n"
    assert bench_sizes.parse_estimate(dry) == int(18.3 * (1 << 30))
    refused = "neuralstyle: size 2048x2048 needs about 32.8 GiB of memory, but 20.1 GiB is available"
    assert bench_sizes.parse_estimate(refused) == int(32.8 * (1 << 30))
    assert bench_sizes.parse_estimate("peak memory about 900 MiB of 2 GiB") == 900 << 20
    with pytest.raises(ValueError, match="no memory estimate"):
        bench_sizes.parse_estimate("size 4096x4096")


def test_evaluation_seconds() -> None:
    log = "\n".join(
        json.dumps(r)
        for r in [
            {"settings": {"size": "512x512"}},
            {"iteration": 0, "evaluation_seconds": [3.5, 1.25]},
            {"iteration": 1, "evaluation_seconds": [1.5]},
        ]
    )
    assert bench_sizes.evaluation_seconds(log) == [3.5, 1.25, 1.5]


def test_table() -> None:
    rows = [
        bench_sizes.Row(512, 0, "lbfgs", 2 << 30, per_eval=3.25, peak=1 << 30, evaluations=3),
        bench_sizes.Row(2048, 0, "lbfgs", 33 << 30, note="refused: needs more"),
    ]
    text = bench_sizes.table(rows)
    assert "| 512x512 | whole image | lbfgs | 3.25 | 1.00 GiB | 2.00 GiB | 2.00 |" in text
    assert "| 2048x2048 | whole image | lbfgs | refused: needs more | | 33.00 GiB | |" in text
