"""Tests of coarse_to_fine's reading of logs and its equal-wall-time comparison."""

from __future__ import annotations

import json

import coarse_to_fine as c2f


def log(*recs: dict) -> str:
    return "\n".join(json.dumps(r) for r in [{"settings": {}}, *recs])


def test_points_count_setup() -> None:
    text = log(
        {"iteration": 0, "loss": 9.0, "seconds": 2.0, "size": "256x192", "scale": 0},
        {"iteration": 1, "loss": 5.0, "seconds": 6.0, "size": "512x384", "scale": 1},
        {"iteration": 2, "loss": 4.0, "seconds": 1.0, "size": "512x384", "scale": 1, "partial": True},
    )
    pts = c2f.points(text, wall=11.0)  # 3 s of setup: 11 less the finished iterations' 8
    assert [(p.seconds, p.loss, p.size, p.scale) for p in pts] == [(5.0, 9.0, "256x192", 0), (11.0, 5.0, "512x384", 1)]


def test_at_takes_final_size_only() -> None:
    run = c2f.Run("r", 20.0, [c2f.Point(5, 9, "256x192", 0), c2f.Point(12, 5, "512x384", 1), c2f.Point(20, 4, "512x384", 1)])
    assert run.at(4) is None
    assert run.at(11) is None  # the coarse point is not a final-size loss
    assert run.at(12.5).loss == 5
    assert run.at(99).loss == 4


def test_table() -> None:
    full = c2f.Run("full", 30.0, [c2f.Point(10, 8, "512x384", 0), c2f.Point(20, 6, "512x384", 0), c2f.Point(30, 5, "512x384", 0)])
    coarse = c2f.Run("c2f", 21.0, [c2f.Point(8, 9, "256x192", 0), c2f.Point(21, 4.5, "512x384", 1)])
    text = c2f.table(full, coarse)
    assert "| c2f | 21 | 4.5 | 6 (20 s) |" in text
    assert "| full | 30 | 5 | |" in text
