"""Benchmark of the Python notebook reference (scripts/vectors/reference_transfer.py).

Seconds per evaluation (loss and gradient, one network run on the batch of
three) and per outer iteration (one fmin_l_bfgs_b call with maxfun 20), and the
process's peak resident memory, for the side-by-side `make bench` table.

    .venv/bin/python scripts/benchmarks/bench_reference.py --weights build/vgg16-random-seed1.h5 \\
        --size 256x256 --evals 5 --iterations 1 --json bench.jsonl

Prints one human line and, with --json, appends one JSON object per run.
The first evaluation (tracing and kernel selection) is timed separately as
warmup_seconds and left out of the per-evaluation figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "vectors"))
import reference_transfer as ref  # noqa: E402

VECTORS = Path(__file__).resolve().parents[1] / "testdata" / "transfer"


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--content", default=str(VECTORS / "content.png"))
    p.add_argument("--style", default=str(VECTORS / "style.png"))
    p.add_argument("--size", default="256x256", help="WxH")
    p.add_argument("--evals", type=int, default=5, help="timed evaluations after the warm-up one")
    p.add_argument("--iterations", type=int, default=1, help="timed outer iterations (maxfun 20 each)")
    p.add_argument("--maxfun", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--intra-threads", type=int, default=0)
    p.add_argument("--inter-threads", type=int, default=0)
    p.add_argument("--json", help="append the result as one JSON line to this file")
    a = p.parse_args(argv)
    try:
        w, h = ref.parse_size(a.size)
        cfg = ref.Config(content=a.content, style=a.style, weights=a.weights, width=w, height=h, seed=a.seed)
        ref.validate(cfg)
    except ref.ReferenceError as e:
        print(e, file=sys.stderr)
        return 2
    ref.set_threads(a.intra_threads, a.inter_threads)
    from scipy.optimize import fmin_l_bfgs_b

    t0 = time.perf_counter()
    content = ref.preprocess(ref.load_image(a.content, w, h))
    style = ref.preprocess(ref.load_image(a.style, w, h))
    net = ref.Network(a.weights, content, style, ref.Weights())
    setup = time.perf_counter() - t0

    x = ref.initial_noise(a.seed, h, w)
    t0 = time.perf_counter()
    net.evaluate(x)
    warmup = time.perf_counter() - t0
    evals = []
    for i in range(a.evals):
        xi = x + i  # a different point each time, as in the optimisation
        t0 = time.perf_counter()
        net.evaluate(xi)
        evals.append(time.perf_counter() - t0)

    iters, nfevs, eval_share = [], [], []
    ev = ref.Evaluator(net)
    for _ in range(a.iterations):
        ev.reset()
        t0 = time.perf_counter()
        x, _, info = fmin_l_bfgs_b(ev.loss, x.flatten(), fprime=ev.grads, maxfun=a.maxfun)
        iters.append(time.perf_counter() - t0)
        nfevs.append(int(info["funcalls"]))
        eval_share.append(ev.seconds)

    import tensorflow as tf

    res = {
        "impl": "python-reference",
        "size": f"{w}x{h}",
        "eval_seconds_median": statistics.median(evals) if evals else None,
        "eval_seconds_min": min(evals) if evals else None,
        "evals": len(evals),
        "warmup_seconds": warmup,
        "setup_seconds": setup,
        "iteration_seconds": statistics.median(iters) if iters else None,
        "iteration_nfev": nfevs,
        # Time in an outer iteration not spent in evaluations: L-BFGS-B and Python.
        "iteration_overhead_seconds": statistics.median(t - e for t, e in zip(iters, eval_share)) if iters else None,
        "peak_rss_mib": peak_rss_mib(),
        "intra_threads": a.intra_threads,
        "inter_threads": a.inter_threads,
        "tensorflow": tf.__version__,
        "cpus": os.cpu_count(),
    }
    med = res["eval_seconds_median"]
    it = res["iteration_seconds"]
    print(
        f"python-reference {w}x{h}: {med if med is None else f'{med:.3f}'} s/eval (median of {len(evals)}), "
        f"{it if it is None else f'{it:.2f}'} s/iteration (nfev {nfevs}), peak RSS {res['peak_rss_mib']:.0f} MiB"
    )
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
