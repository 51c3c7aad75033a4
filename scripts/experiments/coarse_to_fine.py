"""Coarse to fine against full size at equal wall time.

Runs two transfers of the same images to the same final size at the same time,
side by side, so that both see the same machine (on a shared machine, runs one
after the other do not): one that starts at the final size (--iterations FULL),
and one that runs --scales first (--iterations EACH at every scale, the final one
included). Both optimise the same loss at the final size, so their losses there
compare directly. The comparison is made at the coarse-to-fine run's whole wall
time: the full-size run's loss after the last iteration it had finished by then,
counting its setup (model load, targets) as the process's wall time less its
iterations' seconds. Each process gets half the cores (--threads), so neither
starves the other. Prints both curves' points and a Markdown table.

    .venv/bin/python scripts/experiments/coarse_to_fine.py --model build/model-hed --long-side 512 --scales 256

Minutes on two cores at 512: for the README, not CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT.parent / "shared" / "images"  # the project's ../shared/images


@dataclass
class Point:
    seconds: float  # wall seconds since the process started, at the end of this iteration
    loss: float
    size: str
    scale: int


@dataclass
class Run:
    name: str
    wall: float
    points: list[Point]

    def final(self) -> Point:
        return self.points[-1]

    def at(self, seconds: float) -> Point | None:
        """The last point finished by seconds, at the final size."""
        done = [p for p in self.points if p.seconds <= seconds and p.size == self.final().size]
        return done[-1] if done else None


def points(log: str, wall: float) -> list[Point]:
    """Each iteration's end in wall seconds: setup (wall less the iterations) plus the iterations so far."""
    recs = [r for r in map(json.loads, log.splitlines()) if "iteration" in r and not r.get("partial")]
    setup = wall - sum(r["seconds"] for r in recs)
    out, t = [], setup
    for r in recs:
        t += r["seconds"]
        out.append(Point(t, r["loss"], r["size"], r["scale"]))
    return out


def start(a: argparse.Namespace, name: str, extra: list[str], tmp: Path) -> tuple[subprocess.Popen, float, Path]:
    log = tmp / f"{name}.jsonl"
    cmd = [
        a.bin, "transfer", "--model", a.model, "--device", "cpu", "--quiet", "--threads", str(a.threads),
        "--content", a.content, "--style", a.style, "--long-side", str(a.long_side),
        "--out", str(tmp / f"{name}.png"), "--log", str(log), *extra,
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), time.monotonic(), log


def finish(name: str, proc: subprocess.Popen, began: float, log: Path) -> Run:
    _, err = proc.communicate()
    wall = time.monotonic() - began
    if proc.returncode != 0:
        raise SystemExit(f"coarse_to_fine: {' '.join(map(str, proc.args))}: exit {proc.returncode}\n{err}")
    return Run(name, wall, points(log.read_text(), wall))


def table(full: Run, c2f: Run) -> str:
    t = c2f.wall
    at = full.at(t)
    rows = [
        "| run | wall seconds | final-size loss at the end | full-size run's loss at the same wall time |",
        "| --- | ---: | ---: | ---: |",
        f"| {c2f.name} | {c2f.wall:.0f} | {c2f.final().loss:.6g} | {at.loss:.6g} ({at.seconds:.0f} s) |"
        if at
        else f"| {c2f.name} | {c2f.wall:.0f} | {c2f.final().loss:.6g} | none finished by then |",
        f"| {full.name} | {full.wall:.0f} | {full.final().loss:.6g} | |",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--model", default=str(ROOT / "build" / "model-hed"))
    p.add_argument("--content", default=str(IMAGES / "content" / "grace_hopper.jpg"))
    p.add_argument("--style", default=str(IMAGES / "styles" / "starry_night.jpg"))
    p.add_argument("--long-side", type=int, default=512)
    p.add_argument("--scales", default="256", help="the coarse run's --scales (long sides before the final one)")
    p.add_argument("--full-iterations", type=int, default=10, help="the full-size run's --iterations (the notebook's 10)")
    p.add_argument("--each", type=int, default=5, help="the coarse-to-fine run's --iterations at each scale")
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2), help="each run's --threads")
    p.add_argument("--out", help="also write the table to this file")
    a = p.parse_args(argv)
    full_name = f"full size, {a.full_iterations} iterations"
    c2f_name = f"scales {a.scales} then {a.long_side}, {a.each} iterations each"
    with tempfile.TemporaryDirectory() as tmp:
        f = start(a, full_name, ["--iterations", str(a.full_iterations)], Path(tmp))
        c = start(a, c2f_name, ["--scales", a.scales, "--iterations", str(a.each)], Path(tmp))
        c2f = finish(c2f_name, *c)
        full = finish(full_name, *f)
    for r in (full, c2f):
        for pt in r.points:
            print(json.dumps({"run": r.name, **pt.__dict__}), file=sys.stderr)
    text = table(full, c2f)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
