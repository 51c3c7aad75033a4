"""How many evaluations, and how much wall time, each start needs.

For each content/style pair, runs the notebook's transfer from noise (10
iterations of maxfun 20 unless told otherwise) and takes its final loss as the
target; then runs the same settings from --init content and --init stylized
(the arbitrary feed-forward network's picture, make fastnets) with the same
budget, and reports for each start the first evaluation whose loss is at most
the target and the wall seconds to it (the process's setup, model loads and
the network's forward pass included, plus the evaluations' seconds).

A run is stopped (SIGINT, which transfer answers by writing its log) once its
progress bar shows a loss below the target, so a start that gets there early
costs no more than it needs; the count comes from the log's
evaluation_losses. The bar is read from a pseudo-terminal, where transfer
draws it.

    eval "$(make -s env)"; go build -o bin/neuralstyle ./cmd/neuralstyle
    .venv/bin/python scripts/experiments/init_starts.py --model build/model-hed --size 256

Minutes on two cores: for docs/feedforward.md, not CI.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT.parent / "shared" / "images"  # the project's ../shared/images (public domain)

PAIRS = [
    ("content/grace_hopper.jpg", "styles/starry_night.jpg"),
    ("content/chelsea.png", "styles/wave.jpg"),
    ("content/astronaut.png", "styles/scream.jpg"),
]
STARTS = ["noise", "content", "stylized"]
BAR_LOSS = re.compile(rb"evaluation \d+  loss (\S+)")
# The bar prints the loss to 5 significant digits; stop only when it is below
# the target by more than that rounding, so the log's exact losses reach it.
BAR_MARGIN = 2e-4


@dataclass
class Run:
    start: str
    wall: float  # the process's seconds, start to exit
    losses: list[float]  # every evaluation's, in order
    seconds: list[float]  # every evaluation's
    final: float  # the loss the last finished iteration's L-BFGS-B call returned (what the notebook prints)

    @property
    def setup(self) -> float:
        """Seconds outside the evaluations: loading, targets, the start, writing."""
        return self.wall - sum(self.seconds)

    def reach(self, target: float) -> tuple[int, float] | None:
        """The first evaluation (from 1) with loss <= target, and the wall seconds to its end."""
        t = self.setup
        for k, (loss, s) in enumerate(zip(self.losses, self.seconds), 1):
            t += s
            if loss <= target:
                return k, t
        return None


def float32(x: float) -> float:
    """x rounded to float32: the log writes float32 losses in their shortest form, and the iteration's as float64."""
    return struct.unpack("f", struct.pack("f", x))[0]


def read_log(text: str) -> tuple[list[float], list[float], float]:
    losses: list[float] = []
    seconds: list[float] = []
    final = float("nan")
    for rec in map(json.loads, text.splitlines()):
        if "iteration" in rec:
            # An iteration stopped before its first evaluation logs null.
            losses.extend(map(float32, rec["evaluation_losses"] or []))
            seconds.extend(rec["evaluation_seconds"] or [])
            if not rec.get("partial"):
                final = rec["loss"]
    return losses, seconds, final


def transfer(a: argparse.Namespace, content: Path, style: Path, start: str, tmp: Path, stop_below: float | None) -> Run:
    log = tmp / f"{start}.jsonl"
    cmd = [
        a.bin, "transfer", "--model", a.model, "--fastnets", a.fastnets, "--device", "cpu", "--threads", str(a.threads),
        "--content", str(content), "--style", str(style), "--size", str(a.size),
        "--iterations", str(a.iterations), "--maxfun", str(a.maxfun), "--init", start,
        "--out", str(tmp / f"{start}.png"), "--log", str(log),
    ]  # fmt: skip
    master, slave = pty.openpty()
    if a.lock:  # shared cores: wait for the other heavy jobs, then time
        lock = open(a.lock, "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
    began = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    buf, stopped = b"", False
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            buf = (buf + chunk)[-4096:]
            if stop_below is not None and not stopped:
                for m in BAR_LOSS.finditer(buf):
                    if float(m.group(1)) < stop_below * (1 - BAR_MARGIN):
                        proc.send_signal(signal.SIGINT)
                        stopped = True
                        break
        elif proc.poll() is not None:
            break
    proc.wait()
    wall = time.monotonic() - began
    if a.lock:
        lock.close()
    os.close(master)
    if proc.returncode not in (0, 130) or (proc.returncode == 130 and not stopped):
        raise SystemExit(f"init_starts: {' '.join(cmd)}: exit {proc.returncode}\n{buf.decode(errors='replace')}")
    return Run(start, wall, *read_log(log.read_text()))


def row(pair: str, r: Run, target: float) -> str:
    got = r.reach(target)
    first = f"{r.losses[0]:.4g}"
    if got is None:
        return f"| {pair} | {r.start} | {first} | not within {len(r.losses)} (best {min(r.losses):.4g}) | - |"
    k, t = got
    return f"| {pair} | {r.start} | {first} | {k} | {t:.0f} |"


def table(rows: list[str]) -> str:
    head = [
        "| pair | start | first loss | evaluations to the noise start's final loss | wall s to it |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    return "\n".join(head + rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--model", default=str(ROOT / "build" / "model-hed"))
    p.add_argument("--fastnets", default=str(ROOT / "build" / "fastnets" / "model"))
    p.add_argument("--images", default=str(IMAGES))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--maxfun", type=int, default=20)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the pairs to run")
    p.add_argument("--skip", type=int, default=0, help="how many of the pairs to skip first")
    p.add_argument("--lock", default="/tmp/neuralstyle-heavy.lock", help="flock this file around each run (\"\": none)")
    p.add_argument("--out", help="also write the table to this file")
    a = p.parse_args(argv)
    rows = []
    for content, style in PAIRS[a.skip : a.skip + a.pairs]:
        pair = f"{Path(content).stem} / {Path(style).stem}"
        with tempfile.TemporaryDirectory() as tmp:
            noise = transfer(a, Path(a.images) / content, Path(a.images) / style, "noise", Path(tmp), None)
            target = noise.final  # the notebook's final loss
            runs = [noise] + [
                transfer(a, Path(a.images) / content, Path(a.images) / style, s, Path(tmp), target) for s in STARTS[1:]
            ]
        for r in runs:
            rows.append(row(pair, r, target))
            print(json.dumps({"pair": pair, "start": r.start, "target": target, "wall": r.wall, "setup": r.setup,
                              "evaluations": len(r.losses), "reach": r.reach(target)}), file=sys.stderr, flush=True)  # fmt: skip
        print(rows[-3], rows[-2], rows[-1], sep="\n", flush=True)
    text = table(rows)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
