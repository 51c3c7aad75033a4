"""Tests of time_to_quality's reading of transfer logs and its crossing times, on fake logs."""

from __future__ import annotations

import argparse
import json
import sys

import pytest

import time_to_quality as ttq


def log(settings: dict, *recs: dict) -> str:
    return "\n".join(json.dumps(r) for r in [{"settings": settings}, *recs])


def it(i: int, size: str, scale: int, losses: list[float], seconds: list[float], extra: float = 0.0, **kw) -> dict:
    """An iteration record as transfer --log writes it: seconds is the evaluations' plus the optimizer's (extra)."""
    return {"iteration": i, "loss": losses[-1], "size": size, "scale": scale, "seconds": sum(seconds) + extra,
            "evaluation_losses": losses, "evaluation_seconds": seconds, **kw}  # fmt: skip


def make_run(text: str, wall: float, recipe: str = "r") -> ttq.Run:
    settings, its = ttq.read_log(text)
    return ttq.Run(recipe, [], wall, settings, its)


def test_read_log_rounds_to_float32_and_skips_partial() -> None:
    text = log(
        {"precision": "fp32", "size": "8x8"},
        it(0, "8x8", 0, [4267403000, 1558768300], [1.0, 0.5]),
        it(1, "8x8", 0, [1500000000], [0.5], partial=True),
    )
    settings, its = ttq.read_log(text)
    assert settings["precision"] == "fp32"
    assert len(its) == 1  # the interrupted iteration is left out
    assert its[0].losses[1] == 1558768256  # float32 of the log's shortest text
    assert its[0].improvement == pytest.approx((4267402752 - 1558768256) / 4267402752)


def test_crossing_from_log_counts_setup_and_optimizer_time() -> None:
    text = log(
        {"precision": "fp32"},
        it(0, "4x4", 0, [100.0, 50.0], [0.1, 0.1], extra=0.05),  # a coarse scale: below the target, but not at the final size
        it(1, "8x8", 1, [60.0, 30.0, 20.0], [1.0, 1.0, 1.0], extra=0.5),
        it(2, "8x8", 1, [20.0, 12.0, 9.0], [1.0, 1.0, 1.0], extra=0.5),
    )
    run = make_run(text, wall=20.0)
    assert run.final_size == "8x8" and run.fp32
    assert run.setup == pytest.approx(20.0 - 0.25 - 3.5 - 3.5)
    c = run.crossing_from_log(12.0)
    # Iteration 0 and 1 whole (0.25 + 3.5), then two evaluations of iteration 2.
    assert (c.evaluations, c.final_evaluations, c.iteration, c.by) == (7, 5, 2, "log")
    assert c.seconds == pytest.approx(run.setup + 0.25 + 3.5 + 2.0)
    assert run.crossing_from_log(50.0).evaluations == 4  # the coarse 50 does not count; the final 30 does
    assert run.crossing_from_log(5.0) is None
    assert run.end_of(1) == (5, 3, pytest.approx(run.setup + 3.75))


def test_crossing_from_frames_and_stops() -> None:
    text = log(
        {"precision": "bf16"},
        it(0, "8x8", 0, [100.0, 50.0], [1.0, 1.0]),  # gains 50%
        it(1, "8x8", 0, [50.0, 45.0], [1.0, 1.0]),  # 10%
        it(2, "8x8", 0, [45.0, 44.0], [1.0, 1.0]),  # 2.2%
        it(3, "8x8", 0, [44.0, 43.9], [1.0, 1.0]),  # 0.2%
    )
    run = make_run(text, wall=10.0)
    assert not run.fp32
    run.frame_scores = {0: 60.0, 1: 47.0, 2: 46.0}
    c = run.crossing_from_frames(47.0)
    assert (c.evaluations, c.iteration, c.by) == (4, 1, "frames") and c.seconds == pytest.approx(2.0 + 4.0)
    assert run.crossing_from_frames(40.0) is None
    assert [run.stop_at(r) for r in (0.5, 0.1, 0.02, 0.001)] == [1, 2, 3, 3]


def test_rows_and_table() -> None:
    notebook = make_run(log({"precision": "fp32"}, it(0, "8x8", 0, [100.0, 40.0, 30.0], [1.0, 1.0, 1.0])), wall=5.0,
                        recipe=ttq.NOTEBOOK)  # fmt: skip
    quick = make_run(log({"precision": "fp32"}, it(0, "8x8", 0, [50.0, 25.0], [0.5, 0.5]),
                         it(1, "8x8", 0, [25.0, 24.9], [0.5, 0.5])), wall=3.0)  # fmt: skip
    notebook.final = quick.final = {"loss": 31.0, "ssim_content": 0.5, "color_distance_style": 0.25}
    quick.frame_scores = {0: 31.0, 1: 30.5}
    pair = {"content": "a.png", "style": "b.jpg", "target": 30.0, "target_png": 31.0,
            "runs": {ttq.NOTEBOOK: ttq.asdict(notebook), "quick": ttq.asdict(quick)}}  # fmt: skip
    rows = ttq.rows(pair, [0.01])
    assert rows[0]["crossing"].seconds == pytest.approx(5.0)  # the notebook reaches its own final loss at its end
    assert rows[1]["crossing"].evaluations == 2 and rows[1]["ratio"] == pytest.approx(2.0 / 5.0)
    assert rows[2]["stop_iteration"] == 1 and rows[2]["reached"]
    text = ttq.table([pair], [0.01])
    # The quick run's evaluations took half the notebook's: at its speed the notebook would take 2.5 s.
    assert rows[1]["same_speed"] == pytest.approx(2.0 / 2.5)
    assert "| a / b | quick | 2 | 2 | 0.40x | 0.80x | 3, 4 | 3.1000e+01 | 0.500 | 0.250 |" in text


def test_recipes_scale_with_size() -> None:
    r = ttq.recipes_for(512)
    assert r[ttq.NOTEBOOK] == []
    assert "128,256" in r["content, 128+256 then 512"]


def test_simulate_stops_only_without_a_tolerance() -> None:
    assert ttq.simulate_stops(["--init", "content"])
    assert not ttq.simulate_stops(["--preset", "quick"])
    assert not ttq.simulate_stops(["--stop-improvement=0.02"])


def test_runs_fp32_reads_the_precision() -> None:
    assert ttq.runs_fp32([]) and ttq.runs_fp32(["--init", "stylized"]) and ttq.runs_fp32(["--precision", "fp32"])
    assert not ttq.runs_fp32(["--precision", "auto"]) and not ttq.runs_fp32(["--precision=bf16"])
    assert not ttq.runs_fp32(["--preset", "quick"])  # the preset's precision is auto


def test_rows_of_a_run_stopped_at_its_crossing() -> None:
    notebook = make_run(log({"precision": "fp32"}, it(0, "8x8", 0, [100.0, 40.0, 30.0], [1.0, 1.0, 1.0])), wall=5.0,
                        recipe=ttq.NOTEBOOK)  # fmt: skip
    text = log({"precision": "fp32"}, it(0, "8x8", 0, [90.0, 50.0], [0.5, 0.5]),  # gains 44%
               it(1, "8x8", 0, [50.0, 45.0], [0.5, 0.5]),  # 10%
               it(2, "8x8", 0, [45.0, 29.0], [0.5, 0.5]),  # 36%: the crossing, and the run was interrupted
               it(3, "8x8", 0, [29.0], [0.5], partial=True))  # fmt: skip
    run = make_run(text, wall=4.0)
    run.stopped, run.partial_seconds = True, ttq.partial_seconds(text)
    assert run.partial_seconds == 0.5 and run.setup == pytest.approx(4.0 - 3.0 - 0.5)
    notebook.final = run.final = {"loss": 31.0, "ssim_content": 0.5, "color_distance_style": 0.25}
    run.frame_scores = {1: 40.0, 2: 31.0}
    pair = {"content": "a.png", "style": "b.jpg", "target": 30.0, "target_png": 31.0,
            "runs": {ttq.NOTEBOOK: ttq.asdict(notebook), "r": ttq.asdict(run)}}  # fmt: skip
    rows = {r["recipe"]: r for r in ttq.rows(pair, [0.2, 0.05])}
    assert rows["r"]["stopped"] and rows["r"]["crossing"].evaluations == 6
    assert rows["r, stop 0.2"]["stop_iteration"] == 1 and not rows["r, stop 0.2"]["reached"]  # stops before the crossing
    assert rows["r, stop 0.05"]["beyond"] and rows["r, stop 0.05"]["stop_iteration"] == 2  # later than the run went
    table = ttq.table([pair], [0.2, 0.05])
    assert "| a / b | r (stopped at the crossing) | 6 |" in table
    assert "r, stop 0.05 (from the log: stops after iteration 2, the crossing, or later) | reached |" in table


FAKE_TRANSFER = """#!{python}
import json, signal, sys, time
args = sys.argv[1:]
log = args[args.index("--log") + 1]
stop = []
signal.signal(signal.SIGINT, lambda *_: stop.append(1))
lines = [json.dumps({{"settings": {{"precision": "fp32"}}}})]
for i, loss in enumerate([50.0, 40.0, 30.0, 20.0, 10.0]):
    if stop:
        lines.append(json.dumps({{"iteration": i, "loss": loss, "seconds": 0.25, "evaluation_losses": [loss],
                                  "evaluation_seconds": [0.25], "partial": True}}))
        break
    time.sleep(0.05)
    lines.append(json.dumps({{"iteration": i, "loss": loss, "size": "8x8", "scale": 0, "seconds": 0.05,
                              "evaluation_losses": [loss], "evaluation_seconds": [0.05]}}))
    print("Current loss value:", loss, flush=True)
    time.sleep(0.2)  # the next iteration: time for the signal to arrive
open(log, "w").write("\\n".join(lines) + "\\n")
sys.exit(130 if stop else 0)
"""


def test_transfer_interrupts_once_the_crossing_is_certain(tmp_path) -> None:
    fake = tmp_path / "neuralstyle"
    fake.write_text(FAKE_TRANSFER.format(python=sys.executable))
    fake.chmod(0o755)
    a = argparse.Namespace(bin=str(fake), model="m", size=8, lock="")
    run, _, _ = ttq.transfer(a, tmp_path / "c.png", tmp_path / "s.png", "r", [], tmp_path, stop_below=30.0)
    assert run.stopped and [it.loss for it in run.iterations] == [50.0, 40.0, 30.0]  # 30 reaches: interrupted in the next
    assert run.partial_seconds == 0.25
    run, _, _ = ttq.transfer(a, tmp_path / "c.png", tmp_path / "s.png", "r2", [], tmp_path)
    assert not run.stopped and len(run.iterations) == 5
