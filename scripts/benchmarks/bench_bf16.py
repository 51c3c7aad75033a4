"""bf16 over fp32, the bare network's speed-up beside the project's, in one run.

    .venv/bin/python scripts/benchmarks/bench_bf16.py --model build/model-hed --size 512 --rounds 3

Issue 24's target: on a CPU with AVX512-BF16 (or AMX-BF16), the project's
bf16-over-fp32 speed-up at 512 is at least 0.9x the bare network's. Four runners,
interleaved round by round (the order reversed every other round), so all see the
same machine:

  bare fp32   VGG16 to block5_conv3 forward, and the gradient of sum(block5_conv3)
              with respect to the image, in TensorFlow in this process (random
              weights: the kernels are dense, their values do not change the time)
  bare bf16   the same network wholly in bfloat16: the image cast once, kernels and
              biases cast beforehand, convolutions, bias, ReLU and pools in bfloat16,
              the sum in float32
  Go fp32     neuralstyle transfer --graph fast --precision fp32 on --model, as the Go
              driver runs it (copies, L-BFGS-B and all): the median seconds of the
              evaluations after the first of each process (its log)
  Go bf16     the same with --precision bf16 (signatures fast_targets_bf16, fast_bf16)

A third bare row, "bare bf16 project", is the network as the project's bf16 graph
builds it (stylemodel.StyleLossBF16: activations in bfloat16 as in bare bf16, but
the float32 kernels and biases rounded to bfloat16 in every call, since the
SavedModel's variables are shared with the float32 signatures): it tells how much
of any gap is the network as exported rather than the loss.

It prints the CPU's model and features, the load average before and after, each
runner's median, both speed-ups and their ratio. On a CPU without AVX512-BF16 or
AMX-BF16 TensorFlow emulates bfloat16 (many times slower than fp32): the bf16 rows
are skipped and the ratio reported as not measurable here, not as slow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from savedmodel import kernels  # noqa: E402

BINARY = ROOT / "bin" / "neuralstyle"
CONTENT = ROOT / "scripts" / "examples" / "grace_hopper.jpg"
STYLE = ROOT / "scripts" / "examples" / "wave.jpg"
TARGET = 0.9
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def has_bf16(flags: set[str]) -> bool:
    """Whether the CPU runs bfloat16 natively (what --precision auto looks for)."""
    return any(f in flags for f in BF16_FLAGS)


def cpu_line(flags: set[str]) -> str:
    names = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return ", ".join(f"{n} {'yes' if n in flags else 'no'}" for n in names)


@dataclass
class Runner:
    name: str
    bf16: bool
    samples: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Summary:
    bare_speedup: float | None
    project_speedup: float | None
    ratio: float | None
    verdict: str


def summarize(runners: dict[str, Runner], bf16: bool) -> Summary:
    """Both speed-ups (fp32 seconds over bf16 seconds) and the project's over the bare's."""
    if not bf16:
        return Summary(None, None, None, "not measurable here: the CPU has neither AVX512-BF16 nor AMX-BF16 (bf16 rows skipped)")
    bare = runners["bare fp32"].median() / runners["bare bf16"].median()
    project = runners["Go fp32"].median() / runners["Go bf16"].median()
    ratio = project / bare
    verdict = f"target {TARGET}x: {'met' if ratio >= TARGET else 'not met'}"
    return Summary(bare, project, ratio, verdict)


def table(runners: dict[str, Runner], size: int, bf16: bool) -> str:
    rows = [f"| {size}x{size} | median s / evaluation | min | samples |", "| --- | ---: | ---: | ---: |"]
    for r in runners.values():
        if r.bf16 and not bf16:
            rows.append(f"| {r.name} | skipped (no bf16 on this CPU) | | |")
        elif r.samples:
            rows.append(f"| {r.name} | {r.median():.3f} | {min(r.samples):.3f} | {len(r.samples)} |")
    return "\n".join(rows)


def go_evaluations(model: Path, size: int, precision: str, maxfun: int, tmp: Path, env: dict[str, str]) -> list[float]:
    """One transfer process; the seconds of its evaluations after the first."""
    log = tmp / f"go-{precision}.jsonl"
    log.unlink(missing_ok=True)
    cmd = [str(BINARY), "transfer", "--model", str(model), "--device", "cpu", "--graph", "fast",
           "--content", str(CONTENT), "--style", str(STYLE), "--size", str(size), "--seed", "1",
           "--iterations", "1", "--maxfun", str(maxfun), "--precision", precision,
           "--out", str(tmp / f"go-{precision}.png"), "--log", str(log), "--quiet"]
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench_bf16: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    evals = [s for l in lines if "iteration" in l for s in l["evaluation_seconds"]]
    return evals[1:]


def bare_calls(size: int) -> dict[str, Callable[[], None]]:
    """The three bare networks as warmed-up calls (TensorFlow imported here only)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from savedmodel import stylemodel as sm
    from savedmodel import vggweights as vw

    m = sm.StyleLoss(vw.random_weights(1))
    proj = sm.StyleLossBF16(None, share=m)
    k16 = [tf.constant(tf.cast(k, tf.bfloat16)) for k in m.kernels]
    b16 = [tf.constant(tf.cast(b, tf.bfloat16)) for b in m.biases]

    def all_bf16(x: tf.Tensor) -> tf.Tensor:
        h = tf.cast(x, tf.bfloat16)
        for i in range(sm.NUM_LAYERS):
            if i > 0 and sm.BLOCK[i] != sm.BLOCK[i - 1]:
                h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k16[i], strides=1, padding="SAME"), b16[i]))
        return tf.reduce_sum(tf.cast(h, tf.float32))

    def build(net: Callable[[tf.Tensor], tf.Tensor]) -> Callable[[tf.Tensor], list]:
        @tf.function(input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)])
        def f(x: tf.Tensor) -> list:
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = net(x)
            return [loss, tape.gradient(loss, x)]

        return f

    fns = {
        "bare fp32": build(lambda x: tf.reduce_sum(m.network(x)[-1])),
        "bare bf16": build(all_bf16),
        "bare bf16 project": build(lambda x: tf.reduce_sum(proj.network(x)[-1])),
    }
    rs = np.random.RandomState(size)
    x = tf.constant((rs.uniform(0, 255, (1, size, size, 3)) - 128).astype(np.float32))

    def call(f: Callable[[tf.Tensor], list]) -> Callable[[], None]:
        def run() -> None:
            for t in f(x):
                t.numpy()

        return run

    calls = {k: call(f) for k, f in fns.items()}
    for c in calls.values():  # tracing, Grappler, oneDNN's kernel selection
        c()
    return calls


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, default=ROOT / "build" / "model-hed", help="the style model the Go runs load")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=3, help="calls of each bare network per round")
    p.add_argument("--maxfun", type=int, default=4, help="--maxfun of each Go run (L-BFGS-B may take a few more)")
    p.add_argument("--json", type=Path, help="also write the medians and the summary here")
    a = p.parse_args(argv)
    if not BINARY.exists():
        raise SystemExit(f"bench_bf16: no {BINARY}: run make build")
    flags = kernels.cpu_flags()
    bf16 = has_bf16(flags)
    print(f"CPU: {kernels.cpu_model()}; {os.cpu_count()} CPUs; {cpu_line(flags)}")
    print(f"load average at the start: {load()}")
    if not bf16:
        print("bf16: the CPU has neither AVX512-BF16 nor AMX-BF16; TensorFlow would emulate bfloat16, so the bf16 rows are skipped")
    runners = {n: Runner(n, "bf16" in n) for n in ("bare fp32", "bare bf16", "bare bf16 project", "Go fp32", "Go bf16")}
    active = [r for r in runners.values() if bf16 or not r.bf16]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    calls = bare_calls(a.size)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as d:
        for rnd in range(a.rounds):
            for r in active if rnd % 2 == 0 else active[::-1]:
                if r.name.startswith("Go"):
                    r.samples += go_evaluations(a.model, a.size, r.name.split()[1], a.maxfun, Path(d), env)
                else:
                    for _ in range(a.calls):
                        t0 = time.perf_counter()
                        calls[r.name]()
                        r.samples.append(time.perf_counter() - t0)
            print(f"round {rnd + 1} of {a.rounds} done, {time.monotonic() - started:.0f} s, load {load()}", flush=True)
    s = summarize(runners, bf16)
    print()
    print(table(runners, a.size, bf16))
    print()
    if s.ratio is not None:
        print(f"bf16 speed-up (fp32 s / bf16 s): bare network {s.bare_speedup:.2f}x, project (Go, fast graph) {s.project_speedup:.2f}x; "
              f"project over bare {s.ratio:.3f} ({s.verdict})")
    else:
        print(f"bf16 speed-up ratio: {s.verdict}")
    print(f"load average at the end: {load()}")
    if a.json:
        a.json.write_text(json.dumps({"cpu": kernels.cpu_model(), "flags": cpu_line(flags), "size": a.size,
                                      "medians": {r.name: r.median() for r in active},
                                      "summary": s.__dict__}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
