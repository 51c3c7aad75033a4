"""Tests of init_starts' reading of transfer logs and its counts."""

from __future__ import annotations

import json

import init_starts


def log(*recs: dict) -> str:
    return "\n".join(json.dumps(r) for r in [{"settings": {}}, *recs])


def test_read_log_rounds_to_float32() -> None:
    # The log writes each evaluation's float32 loss in its shortest form and
    # the iteration's as float64 (measured: 1558768300 and 1558768256).
    text = log(
        {"iteration": 0, "loss": 2689232128, "evaluation_losses": [4267403000, 2689232100], "evaluation_seconds": [1.0, 0.5]},
        {"iteration": 1, "loss": 1558768256, "evaluation_losses": [2689232100, 1558768300], "evaluation_seconds": [0.5, 0.5]},
        {"iteration": 2, "loss": 1, "evaluation_losses": [1500000000], "evaluation_seconds": [0.5], "partial": True},
        {"iteration": 3, "loss": 1, "evaluation_losses": None, "evaluation_seconds": None, "partial": True},
    )
    losses, seconds, final = init_starts.read_log(text)
    assert final == 1558768256  # the last finished iteration's, not the partial one's
    assert losses[3] == final and len(losses) == 5 and seconds == [1.0, 0.5, 0.5, 0.5, 0.5]


def test_reach_counts_setup() -> None:
    run = init_starts.Run("content", wall=10.0, losses=[9.0, 7.0, 5.0, 4.0], seconds=[1.0, 1.0, 1.0, 1.0], final=4.0)
    assert run.setup == 6.0
    assert run.reach(5.0) == (3, 9.0)
    assert run.reach(4.0) == (4, 10.0)
    assert run.reach(3.0) is None


def test_rows() -> None:
    run = init_starts.Run("stylized", wall=5.0, losses=[3.0, 2.0], seconds=[1.0, 1.0], final=2.0)
    assert init_starts.row("a / b", run, 2.5) == "| a / b | stylized | 3 | 2 | 5 |"
    assert init_starts.row("a / b", run, 1.0) == "| a / b | stylized | 3 | not within 2 (best 2) | - |"
    assert init_starts.table(["| x |"]).splitlines()[0].startswith("| pair | start |")
