"""Times the exported signatures, and what choosing layers at run time costs.

    python scripts/benchmarks/bench_signatures.py --sizes 256,512 --rounds 5

Exports the model with random weights into a temporary directory; it holds both
kinds of graph: recipe and fast (layers chosen at run time from the weight
vectors) and notebook_recipe and notebook_fast (the notebook's layers fixed when
the graph is built). Then, per image size, it calls both kinds with the
notebook's layers, alternating the order round by round, and prints the median
seconds per evaluation and the ratio run-time/fixed. Each call converts its
inputs from NumPy and its outputs back, as the Go driver copies them; the fixed
graph is fed pre-converted tensors for the Gram matrices it ignores, so the
run-time graph pays for copying all 13 and the fixed one only for its 5.
"""

from __future__ import annotations

import argparse
import os
import sys
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script from anywhere: the checkout's root holds the savedmodel package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savedmodel import export as ex  # noqa: E402
from savedmodel import stylemodel as sm  # noqa: E402
from savedmodel import vggweights as vw  # noqa: E402


def _call(fn, numpy_inputs: dict, tensor_inputs: dict) -> dict:
    args = {k: tf.constant(v) for k, v in numpy_inputs.items()}
    args.update(tensor_inputs)
    return {k: v.numpy() for k, v in fn(**args).items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/benchmarks/bench_signatures.py", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="256,512", help="comma-separated square image sides")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=1, help="random weights seed")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        weights = vw.random_weights(a.seed)
        info = {"source": "random", "seed": a.seed, "sha256": "n/a (benchmark)"}
        t0 = time.monotonic()
        ex.export(os.path.join(tmp, "model"), weights, info)
        export_s = time.monotonic() - t0
        print(f"export (random weights, no download): {export_s:.1f} s")
        model = tf.saved_model.load(os.path.join(tmp, "model"))
        prefixes = {"runtime": "", "fixed": "notebook_"}

        cw, sw = sm.layer_weights()
        wts = {"content_weights": cw, "style_weights": sw, "tv_weight": np.float32(sm.NOTEBOOK_TV_WEIGHT)}
        used = {f"gram_{n}" for n in sm.NOTEBOOK_STYLE_LAYERS}
        for size in sizes:
            rs = np.random.RandomState(size)
            c, s, x = ((rs.uniform(0, 255, (1, size, size, 3)) - 128).astype(np.float32) for _ in range(3))
            targets = _call(model.signatures["fast_targets"], {"content": c, "style": s, "content_weights": cw, "style_weights": sw}, {})
            calls = {}
            for k, pre in prefixes.items():
                calls[(k, "recipe")] = (model.signatures[pre + "recipe"], {"content": c, "style": s, "combination": x, **wts}, {})
                np_in = {"combination": x, **wts, **{n: v for n, v in targets.items() if k == "runtime" or n in used or n == "content_features"}}
                t_in = {n: tf.constant(v) for n, v in targets.items() if n not in np_in}
                calls[(k, "fast")] = (model.signatures[pre + "fast"], np_in, t_in)
            times: dict = {key: [] for key in calls}
            cpu: dict = {key: [] for key in calls}
            results: dict = {}
            for key, (fn, ni, ti) in calls.items():  # warm-up: graph optimisation, allocations
                results[key] = _call(fn, ni, ti)
            t0 = time.monotonic()
            _call(model.signatures["fast_targets"], {"content": c, "style": s, "content_weights": cw, "style_weights": sw}, {})
            targets_s = time.monotonic() - t0
            keys = list(calls)
            for r in range(a.rounds):
                for key in keys if r % 2 == 0 else keys[::-1]:
                    fn, ni, ti = calls[key]
                    t0, c0 = time.perf_counter(), time.process_time()
                    _call(fn, ni, ti)
                    times[key].append(time.perf_counter() - t0)
                    cpu[key].append(time.process_time() - c0)
            print(f"\n{size}x{size}, {a.rounds} rounds, median seconds per evaluation (fast_targets once: {targets_s:.3f} s)")
            for sig in ("recipe", "fast"):
                rk, fk = ("runtime", sig), ("fixed", sig)
                for what, t in (("wall", times), ("cpu", cpu)):
                    rt, fx = statistics.median(t[rk]), statistics.median(t[fk])
                    print(
                        f"  {sig:6s} {what:4s} run-time layers {rt:8.3f}  fixed layers {fx:8.3f}  ratio {rt / fx:6.3f}"
                        f"  (min {min(t[rk]):.3f} / {min(t[fk]):.3f})"
                    )
                r, f = results[rk], results[fk]
                print(
                    f"  {sig:6s} loss {r['loss']:.7g} vs {f['loss']:.7g}; gradient max difference "
                    f"{np.abs(r['gradient'] - f['gradient']).max() / np.abs(f['gradient']).max():.2g} of its largest entry"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
