"""Writes Python's outputs of the random-weights style model for tfgraph's Go test.

    make vectors-vgg
    (python scripts/vectors/vgg_vectors.py --model build/testmodels/vgg16-random-seed1 \
        --out tfgraph/testdata/vgg16_random_seed1.json)

One small non-square evaluation (16x24, the smallest height the model takes) of
the recipe and fast signatures with the notebook's layers and weights: the inputs,
every output, and the weights checksum from the model's neuralstyle.json, so the Go
test can tell a stale vector from a wrong result. Floats are float32 values written
exactly (as float64 decimals that parse back to the same float32).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from savedmodel import kernels  # noqa: E402
from savedmodel.stylemodel import NOTEBOOK_TV_WEIGHT, layer_weights  # noqa: E402

HEIGHT, WIDTH = 16, 24


def floats(a) -> list[float]:
    return [float(v) for v in np.asarray(a, np.float32).ravel()]


def outputs(out: dict) -> dict:
    return {k: floats(v.numpy()) if v.shape.rank else float(v.numpy()) for k, v in sorted(out.items())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(os.path.join(a.model, "neuralstyle.json")) as f:
        meta = json.load(f)
    model = tf.saved_model.load(a.model)
    rs = np.random.RandomState(0)
    content, style, combination = ((rs.uniform(0, 255, (1, HEIGHT, WIDTH, 3)) - 128).astype(np.float32) for _ in range(3))
    cw, sw = layer_weights()
    tvw = np.float32(NOTEBOOK_TV_WEIGHT)
    recipe = model.signatures["recipe"](
        content=content, style=style, combination=combination, content_weights=cw, style_weights=sw, tv_weight=tvw
    )
    targets = model.signatures["fast_targets"](content=content, style=style, content_weights=cw, style_weights=sw)
    fast = model.signatures["fast"](combination=combination, content_weights=cw, style_weights=sw, tv_weight=tvw, **targets)
    vec = {
        "about": "scripts/vectors/vgg_vectors.py: Python's outputs of the style model with random weights",
        "weights": meta["weights"],
        "tensorflow_version": tf.__version__,
        # tfgraph's test requires these values bit for bit on a CPU of this family.
        "kernels": {"family": kernels.family(), "features": kernels.features()},
        "shape": [1, HEIGHT, WIDTH, 3],
        "content": floats(content),
        "style": floats(style),
        "combination": floats(combination),
        "content_weights": floats(cw),
        "style_weights": floats(sw),
        "tv_weight": float(tvw),
        "recipe": outputs(recipe),
        "fast": outputs(fast),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(vec, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {a.out}: recipe loss {vec['recipe']['loss']!r}, fast loss {vec['fast']['loss']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
