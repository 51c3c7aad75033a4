"""Exports the article's four MNIST classifiers as SavedModels that Go trains.

The article (notebooks 1-4; docs/recipe.md section 7) trains, with the
TensorFlow 1 tutorial's code:

    linear   softmax regression, W and b zero;            SGD 0.5, 1000 x 100: 92.05%
    nn-zero  784-100(ReLU)-10, every parameter zero;      SGD 0.5, 1000 x 100: 11.35%
    nn       the same, weights truncated normal(0.1), biases 0.1:               96.54%
    convnet  5x5x32 conv (SAME) + ReLU + 2x2 max-pool (SAME), dense 6272-1024
             (ReLU), dense 1024-10; truncated normal(0.1), biases 0.1;
             Adam 1e-4, 20000 x 50:                                            98.9%

Each model is a tf.Module whose variables (parameters, and Adam's moments)
live in the session that loads the SavedModel; Go calls its signatures:

    init(seed)                          -> parameters   re-initialise every variable
    train(images, labels, learning_rate) -> loss, accuracy   one optimiser step
    predict(images)                     -> logits, probabilities

All tensors are float32: images (B, 784) with values in [0, 1], one-hot labels
(B, 10), learning_rate and seed scalars. ``loss`` is the batch's mean softmax
cross-entropy and ``accuracy`` its fraction of correct argmaxes, both from the
forward pass before the step (as ``sess.run([train_step, cross_entropy])``
reports them). ``parameters`` is the number of trained parameters.

Initialisation is deterministic: ``init(seed)`` draws each truncated-normal
tensor with ``tf.random.stateless_truncated_normal(shape, seed=(seed, i))``
(values beyond two standard deviations redrawn, as TF 1's truncated_normal),
i counting the model's parameter tensors in order. The export runs
``init(--seed)``, so a loaded model starts from that seed's values; Go may call
``init`` again with another seed. The optimisers are TensorFlow 1's, through
the same kernels: GradientDescentOptimizer (ApplyGradientDescent, ``w -= lr *
g``) and AdamOptimizer (ApplyAdam with beta1 0.9, beta2 0.999, epsilon 1e-8,
the bias correction folded into the step size, beta powers updated after
every variable's step).

    python -m savedmodel.mnist --out build/mnist [--seed 1] [--models linear,nn]
    python -m savedmodel.mnist --model convnet --out DIR [--seed 1]

The first form writes OUT/<model> for each model (all four by default), the
second one model to DIR; each gets a neuralstyle.json (the recipe's settings
and the article's accuracy, which Go reads for its defaults).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from savedmodel.cli import ExportError, staging, write_metadata  # noqa: E402

PIXELS = 28 * 28
CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    """The article's settings for one model."""

    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    steps: int
    batch: int
    init: str  # "zeros" or "truncated-normal"
    article_accuracy: float


RECIPES: dict[str, Recipe] = {
    "linear": Recipe("sgd", 0.5, 1000, 100, "zeros", 0.9205),
    "nn-zero": Recipe("sgd", 0.5, 1000, 100, "zeros", 0.1135),
    "nn": Recipe("sgd", 0.5, 1000, 100, "truncated-normal", 0.9654),
    "convnet": Recipe("adam", 1e-4, 20000, 50, "truncated-normal", 0.989),
}
MODELS: tuple[str, ...] = tuple(RECIPES)

STDDEV = 0.1  # truncated-normal weights
BIAS = 0.1  # constant biases of the truncated-normal models
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8

# Parameter tensors in order: (name, shape, is_bias).
SHAPES: dict[str, tuple[tuple[str, tuple[int, ...], bool], ...]] = {
    "linear": (("W", (PIXELS, CLASSES), False), ("b", (CLASSES,), True)),
    "nn-zero": (
        ("W1", (PIXELS, 100), False), ("b1", (100,), True),
        ("W2", (100, CLASSES), False), ("b2", (CLASSES,), True),
    ),
    "nn": (
        ("W1", (PIXELS, 100), False), ("b1", (100,), True),
        ("W2", (100, CLASSES), False), ("b2", (CLASSES,), True),
    ),
    "convnet": (
        ("W_conv", (5, 5, 1, 32), False), ("b_conv", (32,), True),
        ("W_fc", (14 * 14 * 32, 1024), False), ("b_fc", (1024,), True),
        ("W_out", (1024, CLASSES), False), ("b_out", (CLASSES,), True),
    ),
}  # fmt: skip

_IMAGES = tf.TensorSpec([None, PIXELS], tf.float32, name="images")
_LABELS = tf.TensorSpec([None, CLASSES], tf.float32, name="labels")
_SCALAR = tf.TensorSpec([], tf.float32)


class Classifier(tf.Module):
    """One of the article's MNIST models with its optimiser state."""

    def __init__(self, model: str, seed: int) -> None:
        super().__init__(name=model.replace("-", "_"))
        if model not in RECIPES:
            raise ValueError(f"mnist: unknown model {model!r}; want one of {', '.join(MODELS)}")
        self.model = model
        self.recipe = RECIPES[model]
        self.shapes = SHAPES[model]
        self.params = [tf.Variable(tf.zeros(shape), name=name) for name, shape, _ in self.shapes]
        if self.recipe.optimizer == "adam":
            self.m = [tf.Variable(tf.zeros(shape), name=f"{name}_m") for name, shape, _ in self.shapes]
            self.v = [tf.Variable(tf.zeros(shape), name=f"{name}_v") for name, shape, _ in self.shapes]
            self.beta1_power = tf.Variable(ADAM_BETA1, dtype=tf.float32, name="beta1_power")
            self.beta2_power = tf.Variable(ADAM_BETA2, dtype=tf.float32, name="beta2_power")
        self.init(tf.constant(float(seed)))

    def parameter_count(self) -> int:
        n = 0
        for _, shape, _ in self.shapes:
            k = 1
            for d in shape:
                k *= d
            n += k
        return n

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="seed")])
    def init(self, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        s = tf.cast(seed, tf.int64)
        for i, ((_, shape, is_bias), var) in enumerate(zip(self.shapes, self.params)):
            if self.recipe.init == "zeros":
                var.assign(tf.zeros(shape))
            elif is_bias:
                var.assign(tf.fill(shape, tf.constant(BIAS, tf.float32)))
            else:
                var.assign(tf.random.stateless_truncated_normal(
                    shape, seed=tf.stack([s, tf.constant(i, tf.int64)]), stddev=STDDEV))
        if self.recipe.optimizer == "adam":
            for m, v in zip(self.m, self.v):
                m.assign(tf.zeros_like(m))
                v.assign(tf.zeros_like(v))
            self.beta1_power.assign(ADAM_BETA1)
            self.beta2_power.assign(ADAM_BETA2)
        return {"parameters": tf.constant(float(self.parameter_count()))}

    def _logits(self, images: tf.Tensor) -> tf.Tensor:
        p = self.params
        if self.model == "linear":
            return tf.matmul(images, p[0]) + p[1]
        if self.model in ("nn", "nn-zero"):
            hidden = tf.nn.relu(tf.matmul(images, p[0]) + p[1])
            return tf.matmul(hidden, p[2]) + p[3]
        x = tf.reshape(images, [-1, 28, 28, 1])
        conv = tf.nn.relu(tf.nn.conv2d(x, p[0], strides=1, padding="SAME") + p[1])
        pool = tf.nn.max_pool2d(conv, ksize=2, strides=2, padding="SAME")
        flat = tf.reshape(pool, [-1, 14 * 14 * 32])
        fc = tf.nn.relu(tf.matmul(flat, p[2]) + p[3])
        return tf.matmul(fc, p[4]) + p[5]

    @tf.function(input_signature=[_IMAGES, _LABELS, tf.TensorSpec([], tf.float32, name="learning_rate")])
    def train(self, images: tf.Tensor, labels: tf.Tensor, learning_rate: tf.Tensor) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            logits = self._logits(images)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        grads = tape.gradient(loss, self.params)
        # TensorFlow 1's optimisers ran these fused kernels; they are also faster
        # than the same arithmetic spelt out in separate ops.
        if self.recipe.optimizer == "sgd":
            for var, g in zip(self.params, grads):
                tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=learning_rate, delta=g)
        else:
            for var, m, v, g in zip(self.params, self.m, self.v, grads):
                tf.raw_ops.ResourceApplyAdam(
                    var=var.handle, m=m.handle, v=v.handle,
                    beta1_power=self.beta1_power, beta2_power=self.beta2_power, lr=learning_rate,
                    beta1=tf.constant(ADAM_BETA1), beta2=tf.constant(ADAM_BETA2),
                    epsilon=tf.constant(ADAM_EPSILON), grad=g)
            self.beta1_power.assign(self.beta1_power * ADAM_BETA1)
            self.beta2_power.assign(self.beta2_power * ADAM_BETA2)
        return {"loss": loss, "accuracy": _accuracy(logits, labels)}

    @tf.function(input_signature=[_IMAGES])
    def predict(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        logits = self._logits(images)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}


def _accuracy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    hit = tf.equal(tf.argmax(logits, axis=1), tf.argmax(labels, axis=1))
    return tf.reduce_mean(tf.cast(hit, tf.float32))


def metadata(c: Classifier, seed: int) -> dict:
    return {
        "kind": "mnist",
        "model": c.model,
        "seed": seed,
        "parameters": c.parameter_count(),
        **asdict(c.recipe),
        "input": "images (B,784) float32 in [0,1], labels (B,10) one-hot float32",
        "tensorflow_version": tf.__version__,
        "exporter": "savedmodel/mnist.py",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def export(model: str, out: str | Path, seed: int) -> Path:
    """Writes one model's SavedModel and its neuralstyle.json to out."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**24:
        # The seed crosses the signature as float32: integers are exact below 2**24.
        raise ValueError(f"mnist: seed must be an integer in [0, 2**24), got {seed!r}")
    out = Path(out)
    c = Classifier(model, seed)
    tf.saved_model.save(c, str(out), signatures={"init": c.init, "train": c.train, "predict": c.predict})
    write_metadata(out, metadata(c, seed))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m savedmodel.mnist", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder; each model goes to OUT/<model> (OUT with --model)")
    p.add_argument("--seed", type=int, default=1, help="initialisation seed (default 1)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    which.add_argument("--model", help="export this one model to OUT itself")
    a = p.parse_args(argv)
    models = [a.model] if a.model is not None else [m.strip() for m in a.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in RECIPES]
    if unknown or not models:
        print(f"mnist: unknown model {', '.join(unknown) or '(none)'}; want some of {', '.join(MODELS)}",
              file=sys.stderr)
        return 2
    try:
        for m in models:
            t = time.time()
            out = Path(a.out) if a.model is not None else Path(a.out) / m
            # Written beside out and swapped in whole, as the other exporters do.
            with staging(out, "mnist") as (_, staged):
                export(m, staged, a.seed)
            print(f"{out}: {m}, seed {a.seed}, {time.time() - t:.1f}s")
    except ExportError as e:
        print(f"mnist: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
