"""Seconds per evaluation and peak memory of transfers at large sizes, whole and tiled.

Runs the built binary once per SIDE:TILE[:OPTIMIZER] (tile 0: the whole image at
once), each one outer iteration of at most --evaluations evaluations on the CPU,
one after the other on the same images, and prints a Markdown table: the median
seconds of the evaluations after the first (which pays for kernel selection), the
process's peak resident memory (wait4's ru_maxrss), and the estimate that
`neuralstyle transfer --dry-run` printed for it. A run whose estimate exceeds
the memory available is not started: its row says so, with the estimate.

    .venv/bin/python scripts/benchmarks/bench_sizes.py --runs 512:0,512:256,1024:0,1024:512
    .venv/bin/python scripts/benchmarks/bench_sizes.py --model build/model-hed --runs 4096:512:adam

The internal/transfer tiled memory estimate (peak.go) is checked against these
rows. Large sizes take minutes per evaluation on two cores: this is for
`make bench` and the README, not CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT.parent / "shared" / "images"  # the project's ../shared/images
CONTENT = str(IMAGES / "content" / "grace_hopper.jpg")
STYLE = str(IMAGES / "styles" / "starry_night.jpg")
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


@dataclass
class Row:
    side: int
    tile: int
    optimizer: str
    estimate: int  # bytes, from --dry-run
    per_eval: float | None = None  # seconds; None: not run
    peak: int | None = None  # bytes
    evaluations: int = 0
    wall: float = 0.0
    note: str = ""


def parse_run(text: str) -> tuple[int, int, str]:
    """Parses SIDE:TILE or SIDE:TILE:OPTIMIZER."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[:2]):
        raise ValueError(f"run {text!r}: want SIDE:TILE or SIDE:TILE:OPTIMIZER, e.g. 1024:256 or 4096:512:adam")
    opt = parts[2] if len(parts) == 3 else "lbfgs"
    if opt not in ("lbfgs", "adam"):
        raise ValueError(f"run {text!r}: optimizer {opt!r}, want lbfgs or adam")
    return int(parts[0]), int(parts[1]), opt


def parse_estimate(text: str) -> int:
    """The bytes of 'peak memory about 18.3 GiB' or 'needs about 32.8 GiB' in text."""
    m = re.search(r"(?:peak memory|needs) about ([0-9.]+) (B|KiB|MiB|GiB|TiB)", text)
    if not m:
        raise ValueError(f"no memory estimate in: {text.strip()!r}")
    return int(float(m.group(1)) * UNITS[m.group(2)])


def evaluation_seconds(log: str) -> list[float]:
    """Every evaluation's seconds from a transfer's JSON-lines log, in order."""
    out: list[float] = []
    for line in log.splitlines():
        rec = json.loads(line)
        if "iteration" in rec:
            out.extend(rec["evaluation_seconds"])
    return out


def transfer_args(a: argparse.Namespace, side: int, tile: int, opt: str, out: Path) -> list[str]:
    return [
        a.bin, "transfer", "--model", a.model, "--device", "cpu", "--quiet",
        "--content", a.content, "--style", a.style, "--size", str(side), "--tile", str(tile),
        "--optimizer", opt, "--iterations", "1", "--maxfun", str(a.evaluations), "--out", str(out),
    ] + (["--style-layers", a.style_layers] if a.style_layers else []) + (
        ["--max-memory", a.max_memory] if a.max_memory else [])  # fmt: skip


def measure(a: argparse.Namespace, side: int, tile: int, opt: str, tmp: Path) -> Row:
    out, log = tmp / f"out-{side}-{tile}-{opt}.png", tmp / f"log-{side}-{tile}-{opt}.jsonl"
    args = transfer_args(a, side, tile, opt, out)
    dry = subprocess.run(args + ["--dry-run"], capture_output=True, text=True)
    row = Row(side, tile, opt, parse_estimate(dry.stdout + dry.stderr))
    if dry.returncode != 0:
        row.note = "refused: " + (dry.stderr.strip().splitlines() or ["?"])[-1].removeprefix("neuralstyle: ")
        return row
    start = time.monotonic()
    proc = subprocess.Popen(args + ["--log", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    row.wall = time.monotonic() - start
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_sizes: {' '.join(args)}: exit {os.waitstatus_to_exitcode(status)}\n{err}")
    evals = evaluation_seconds(log.read_text())
    row.evaluations = len(evals)
    row.per_eval = statistics.median(evals[1:]) if len(evals) > 1 else evals[0]
    row.peak = usage.ru_maxrss * 1024
    return row


def gib(n: int | None) -> str:
    return "" if n is None else f"{n / (1 << 30):.2f} GiB"


def table(rows: list[Row]) -> str:
    lines = [
        "| size | evaluation | optimiser | s / evaluation | peak memory | estimate | estimate / peak |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        how = "whole image" if r.tile == 0 else f"tiles of {r.tile}"
        if r.per_eval is None:
            lines.append(f"| {r.side}x{r.side} | {how} | {r.optimizer} | {r.note} | | {gib(r.estimate)} | |")
            continue
        assert r.peak is not None
        lines.append(
            f"| {r.side}x{r.side} | {how} | {r.optimizer} | {r.per_eval:.2f} | {gib(r.peak)} | {gib(r.estimate)} "
            f"| {r.estimate / r.peak:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--model", default=str(ROOT / "build" / "testmodels" / "vgg16-random-seed1"))
    p.add_argument("--content", default=CONTENT)
    p.add_argument("--style", default=STYLE)
    p.add_argument("--runs", default="512:0,512:256,1024:0,1024:512", help="comma-separated SIDE:TILE[:OPTIMIZER]")
    p.add_argument("--style-layers", help="--style-layers of the runs (default: the notebook's, to block5_conv3)")
    p.add_argument("--max-memory", help="--max-memory of the runs (e.g. 10GiB): the bound each must plan within")
    p.add_argument("--evaluations", type=int, default=2, help="--maxfun of the one outer iteration (default 2)")
    p.add_argument("--out", help="also write the table to this file")
    a = p.parse_args(argv)
    try:
        runs = [parse_run(r) for r in a.runs.split(",")]
    except ValueError as e:
        p.error(str(e))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for side, tile, opt in runs:
            row = measure(a, side, tile, opt, Path(tmp))
            print(json.dumps(row.__dict__), file=sys.stderr, flush=True)
            rows.append(row)
    text = table(rows)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
