"""Writes a tiny SavedModel for tfgraph's Go tests.

Its signatures exercise what tfgraph must handle: dynamic batch and spatial
dimensions, scalars, a fixed shape, and dtypes tfgraph refuses (int32 in, int64 out).

    python scripts/vectors/make_tiny_model.py OUT_DIR
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402


class Tiny(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = tf.Variable(1.0, dtype=tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.float32, name="w")])
    def affine(self, x: tf.Tensor, w: tf.Tensor) -> dict[str, tf.Tensor]:
        y = x * w + self.bias
        return {"y": y, "total": tf.reduce_sum(y)}

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image")])
    def image(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"doubled": 2.0 * image, "mean": tf.reduce_mean(image)}

    @tf.function(input_signature=[tf.TensorSpec([2, 2], tf.float32, name="m")])
    def fixed(self, m: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"t": tf.transpose(m)}

    @tf.function(input_signature=[tf.TensorSpec([2], tf.int32, name="n")])
    def counts(self, n: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"f": tf.cast(n, tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="x")])
    def integer(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"i": tf.cast(x, tf.int64)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    m = Tiny()
    sigs = {name: getattr(m, name) for name in ("affine", "image", "fixed", "counts", "integer")}
    tf.saved_model.save(m, argv[1], signatures=sigs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
