"""Tests of bf16_quality: its pairs and verdict, and one tiny run of the binary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bf16_quality as bq

MODEL = Path(os.environ.get("NEURALSTYLE_TEST_MODEL", bq.ROOT / "build" / "testmodels" / "vgg16-random-seed1"))


def run(precision: str, rescored: float) -> bq.Run:
    return bq.Run(precision, 1.0, rescored, 20, rescored, 0.5, 0.3)


def test_parse_pairs() -> None:
    assert bq.parse_pairs("a.png:b.jpg,c.png:d.jpg") == [(Path("a.png"), Path("b.jpg")), (Path("c.png"), Path("d.jpg"))]
    assert len(bq.parse_pairs("")) == 3
    with pytest.raises(ValueError, match="want CONTENT:STYLE"):
        bq.parse_pairs("a.png")


def test_within() -> None:
    assert bq.Pair("c", "s", run("fp32", 100.0), run("bf16", 101.9)).within()
    assert not bq.Pair("c", "s", run("fp32", 100.0), run("bf16", 102.1)).within()
    assert bq.Pair("c", "s", run("fp32", 100.0), run("bf16", 90.0)).within()  # lower is better
    row = bq.table([bq.Pair("c.png", "s.jpg", run("fp32", 100.0), run("bf16", 101.0))]).splitlines()[2]
    assert "| +1.00% | yes |" in row


@pytest.mark.skipif(not bq.BINARY.exists() or not (MODEL / "saved_model.pb").exists(), reason="needs make build and the test model")
def test_runs_binary(tmp_path: Path) -> None:
    md = tmp_path / "q.md"
    pair = f"{bq.EXAMPLES / 'grace_hopper.jpg'}:{bq.EXAMPLES / 'wave.jpg'}"
    assert bq.main(["--model", str(MODEL), "--pairs", pair, "--size", "32", "--iterations", "1", "--maxfun", "2",
                    "--markdown", str(md)]) == 0
    rows = md.read_text().splitlines()
    assert len(rows) == 3 and rows[2].startswith("| grace_hopper.jpg | wave.jpg |")


def test_missing_images_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="missing .*chelsea.png"):
        bq.main(["--shared", str(tmp_path), "--binary", "/bin/true"])
