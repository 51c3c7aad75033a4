"""Where the fast graph's time goes: bare VGG16 against the fast signatures, side by side.

    python scripts/benchmarks/profile_fast.py --sizes 256,512 --rounds 5

Builds, in this process and with random weights, tf.functions that all run VGG16 to
block5_conv3 forward and backward on one image, each adding one part of the fast
graph's work, and times them alternating round by round (median seconds per call,
inputs already TensorFlow tensors, so no NumPy copies are counted):

  bare           the network and the gradient of sum(block5_conv3) with respect to x
  bare+tv        plus the total variation term
  bare+grams     plus the notebook's five style terms, Grams as the notebook forms them
                 (transpose to channels first, reshape, F F^T)
  bare+gramsT    the same terms with the Gram formed as F^T F of the (h*w, C) reshape,
                 with no transpose
  bare+content   plus the content term on block2_conv2
  notebook_fast  the exported notebook_fast (the notebook's layers fixed)
  fast           the run-time fast (layers chosen from the weight vectors) as
                 stylemodel.StyleLoss builds it (Grams by gram_hwc)
  fast_transpose the same with the Grams formed by gram, as before gram_hwc
  fast_bf16      fast with the convolutions in bfloat16 (stylemodel.StyleLossBF16), its
                 own targets; its loss and gradient are compared with fast's

and prints each as a ratio to bare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script from anywhere: the checkout's root holds the savedmodel package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")  # each variant is traced once, on purpose

from savedmodel import stylemodel as sm  # noqa: E402
from savedmodel import vggweights as vw  # noqa: E402

_X = tf.TensorSpec((1, None, None, 3), tf.float32)


def variants(m: sm.StyleLoss, grams: list, content_features: tf.Tensor) -> dict:
    style = [sm.LAYERS.index(n) for n in sm.NOTEBOOK_STYLE_LAYERS]
    content = sm.LAYERS.index(sm.NOTEBOOK_CONTENT_LAYER)

    def build(extra):
        @tf.function(input_signature=[_X])
        def f(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outs = m.network(x)
                loss = tf.reduce_sum(outs[-1]) + extra(x, outs)
            return loss, tape.gradient(loss, x)

        return f

    def gram_t(f):
        flat = tf.reshape(f, (-1, tf.shape(f)[-1]))
        return tf.matmul(flat, flat, transpose_a=True)

    zero = lambda x, outs: tf.constant(0.0)  # noqa: E731
    return {
        "bare": build(zero),
        "bare+tv": build(lambda x, outs: sm.StyleLoss._tv(x)),
        "bare+grams": build(lambda x, outs: tf.add_n([tf.reduce_sum(tf.square(grams[i] - sm.gram(outs[i][0]))) for i in style])),
        "bare+gramsT": build(lambda x, outs: tf.add_n([tf.reduce_sum(tf.square(grams[i] - gram_t(outs[i][0]))) for i in style])),
        "bare+content": build(lambda x, outs: tf.reduce_sum(tf.square(outs[content][0] - content_features[0]))),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/benchmarks/profile_fast.py", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="256,512", help="comma-separated square image sides")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--only", default="", help="comma-separated variant names to time (default: all)")
    p.add_argument("--json", help="also write {size: {variant: median seconds}} to this file")
    a = p.parse_args(argv)
    m = sm.StyleLoss(vw.random_weights(1))
    m.notebook = sm.StyleLoss(None, fixed=(sm.NOTEBOOK_CONTENT_LAYERS, sm.NOTEBOOK_STYLE_LAYERS), share=m)
    old = sm.StyleLoss(None, share=m)
    old._gram = sm.gram  # the run-time graph with the notebook's Gram form
    bf = sm.StyleLossBF16(None, share=m)
    cw, sw = sm.layer_weights()
    tv = tf.constant(np.float32(sm.NOTEBOOK_TV_WEIGHT))
    cw, sw = tf.constant(cw), tf.constant(sw)
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, {a.rounds} rounds, median seconds per call")
    medians: dict[str, dict[str, float]] = {}
    for size in (int(s) for s in a.sizes.split(",")):
        rs = np.random.RandomState(size)
        c, s, x = (tf.constant((rs.uniform(0, 255, (1, size, size, 3)) - 128).astype(np.float32)) for _ in range(3))
        targets = m.fast_targets(c, s, cw, sw)
        grams = [targets[f"gram_{n}"] for n in sm.LAYERS]
        cf = targets["content_features"]
        calls = {k: (lambda f=f: f(x)) for k, f in variants(m, grams, cf).items()}
        calls["notebook_fast"] = lambda: m.notebook.fast(x, cf, grams, cw, sw, tv)
        calls["fast"] = lambda: m.fast(x, cf, grams, cw, sw, tv)
        old_grams = [old.fast_targets(c, s, cw, sw)[f"gram_{n}"] for n in sm.LAYERS]
        calls["fast_transpose"] = lambda: old.fast(x, cf, old_grams, cw, sw, tv)
        bt = bf.fast_targets(c, s, cw, sw)
        bf_grams = [bt[f"gram_{n}"] for n in sm.LAYERS]
        calls["fast_bf16"] = lambda: bf.fast(x, bt["content_features"], bf_grams, cw, sw, tv)
        if a.only:
            calls = {k: v for k, v in calls.items() if k in a.only.split(",")}
        times: dict = {k: [] for k in calls}
        first = {k: f() for k, f in calls.items()}  # warm-up: tracing, Grappler, allocations
        if "fast" in first and "fast_bf16" in first:
            a32, a16 = first["fast"], first["fast_bf16"]
            g32, g16 = a32["gradient"].numpy().ravel(), a16["gradient"].numpy().ravel()
            cos = float(np.dot(g32, g16) / np.linalg.norm(g32) / np.linalg.norm(g16))
            print(f"{size}x{size} bf16 vs float32 fast: loss {float(a16['loss']):.7g} vs {float(a32['loss']):.7g} "
                  f"({float(a16['loss']) / float(a32['loss']) - 1:+.2e}), gradient cosine {cos:.6f}, "
                  f"relative 2-norm difference {np.linalg.norm(g16 - g32) / np.linalg.norm(g32):.2e}")
        keys = list(calls)
        for r in range(a.rounds):
            for k in keys if r % 2 == 0 else keys[::-1]:
                t0 = time.perf_counter()
                out = calls[k]()
                _ = [v.numpy() for v in (out.values() if isinstance(out, dict) else out)]
                times[k].append(time.perf_counter() - t0)
        base = statistics.median(times["bare"]) if "bare" in times else None
        print(f"\n{size}x{size}")
        medians[str(size)] = {k: statistics.median(times[k]) for k in keys}
        for k in keys:
            med = statistics.median(times[k])
            ratio = f"{med / base:6.3f}x bare" if base else ""
            print(f"  {k:14s} {med:8.3f} s  (min {min(times[k]):.3f})  {ratio}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(medians, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
