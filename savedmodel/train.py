"""Exports the graph that trains a feed-forward style network (Johnson, Alahi and
Fei-Fei 2016) from Go: the transformation network, the notebook's perceptual loss
on VGG16 (the same weights and layers as the style model, savedmodel/export.py) and
Adam, all inside one SavedModel whose variables live in the Go session.

    python -m savedmodel.train --out DIR --weights random --seed 1 [--width 8]
    python -m savedmodel.train --out DIR --weights build/weights/hed_vgg16_notop.h5
    python -m savedmodel.train --out DIR                                   # ImageNet

The transformation network is Johnson et al.'s with instance normalisation in
place of batch normalisation (Ulyanov, Vedaldi and Lempitsky 2016), as
pytorch/examples' fast_neural_style builds it: a 9x9 convolution (width w), two
3x3 stride-2 convolutions (2w, 4w), five residual blocks of two 3x3 convolutions,
two upsamplings by nearest-neighbour resize then a 3x3 convolution (2w, w), and a
9x9 convolution to RGB. Every convolution pads by reflection; every one but the
last is followed by instance normalisation (a learnt scale and offset) and, outside
the residual blocks' second convolution, ReLU. The output is 0.5 + 0.5 tanh(y), an
image in 0..1. Width 32 is the paper's: 1,679,235 parameters. Tests use width 4 or 8.

Images are (B, H, W, 3) RGB in 0..1. The loss of a batch is the mean over its
images of the notebook's loss (../shared/RECIPE.md section 3) with the photo as the
content image and the network's output as the combination image: both go through
the notebook's preprocessing (x 255, its means subtracted from R, G, B, channels
reversed), then content_weight x the squared distance of block2_conv2's
activations, style_weight / 5 x each of the five style layers' r x |G - T|^2 with
r = 1 / (4 x 3^2 x (H W)^2) and T the painting's Gram matrix at the crop's size
(style_grams, computed once), and tv_weight x the total variation. The notebook's
weights are 0.025, 5 and 1.

Signatures (every tensor float32):

    init(seed)                                 -> parameters   fresh parameters, Adam reset
    train_step(images, gram_<layer> x5, content_weight, style_weight, tv_weight, learning_rate)
        -> loss, content_loss, style_loss, tv_loss, step       one Adam step; terms before it
    train_step_bf16(...)                       the same with VGG16's convolutions in bfloat16
    evaluate(images, gram_<layer> x5, content_weight, style_weight, tv_weight)
        -> loss, content_loss, style_loss, tv_loss             no update
    stylize(image)                             -> stylized      any size of at least 8 pixels
    style_grams(image)                         -> gram_<layer> x5, for a (1, H, W, 3) painting
    get_state()                                -> state         every variable but VGG16's, flat
    set_state(state)                           -> step

``state`` is the parameters, then Adam's first and second moments in the same
order, then beta1^t, beta2^t and the step count t, concatenated flat; neuralstyle.json
records the layout (``variables``), so Go writes checkpoints itself and can tell a
checkpoint of another network. Adam is TensorFlow's ResourceApplyAdam (beta1 0.9,
beta2 0.999, epsilon 1e-8, bias correction folded into the step size), as
savedmodel/mnist.py uses it. ``init(seed)`` draws each kernel Glorot-uniform with
``tf.random.stateless_uniform(seed=(seed, i))``, so a seed gives the same network
on every machine; the export runs init(--seed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savedmodel import export as styleexport  # noqa: E402
from savedmodel import stylemodel  # noqa: E402
from savedmodel.cli import ExportError, staging, write_metadata  # noqa: E402

FORMAT = "neuralstyle-fastnet-train/1"
NETWORK = "johnson2016-instancenorm"
PAPER_WIDTH = 32
RESIDUAL_BLOCKS = 5
MIN_SIDE = 8  # the network's quarter-size features need 2 pixels for the 3x3 reflection pads
IN_EPSILON = 1e-5
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8

CONTENT_LAYER = stylemodel.NOTEBOOK_CONTENT_LAYER
STYLE_LAYERS = stylemodel.NOTEBOOK_STYLE_LAYERS
LAYER_INDEX = {n: i for i, n in enumerate(stylemodel.LAYERS)}
CHANNELS = {n: c for n, c in zip(stylemodel.LAYERS, stylemodel.CHANNELS)}
# The notebook's means, subtracted from R, G, B before the channels are reversed
# (RECIPE QUIRK; preprocess/vggtensor ModeRecipe).
VGG_MEANS = (103.939, 116.779, 123.68)

_IMAGES = tf.TensorSpec((None, None, None, 3), tf.float32, name="images")
_GRAMS = [tf.TensorSpec((CHANNELS[n], CHANNELS[n]), tf.float32, name=f"gram_{n}") for n in STYLE_LAYERS]
_WEIGHTS = [tf.TensorSpec((), tf.float32, name=n) for n in ("content_weight", "style_weight", "tv_weight")]
_LR = tf.TensorSpec((), tf.float32, name="learning_rate")


def conv_shapes(width: int) -> list[tuple[str, int, int, int, int, bool]]:
    """The network's convolutions in order: (name, kernel size, in, out, stride, instance norm)."""
    w1, w2, w3 = width, 2 * width, 4 * width
    convs = [("down1", 9, 3, w1, 1, True), ("down2", 3, w1, w2, 2, True), ("down3", 3, w2, w3, 2, True)]
    for r in range(1, RESIDUAL_BLOCKS + 1):
        convs += [(f"res{r}a", 3, w3, w3, 1, True), (f"res{r}b", 3, w3, w3, 1, True)]
    convs += [("up1", 3, w3, w2, 1, True), ("up2", 3, w2, w1, 1, True), ("out", 9, w1, 3, 1, False)]
    return convs


def parameter_shapes(width: int) -> list[tuple[str, tuple[int, ...]]]:
    """Every trained tensor in order: each convolution's kernel and bias, then its
    instance normalisation's scale and offset where it has one."""
    out = []
    for name, k, cin, cout, _, norm in conv_shapes(width):
        out += [(f"{name}_kernel", (k, k, cin, cout)), (f"{name}_bias", (cout,))]
        if norm:
            out += [(f"{name}_scale", (cout,)), (f"{name}_offset", (cout,))]
    return out


def vgg_input(x: tf.Tensor) -> tf.Tensor:
    """0..1 RGB to the notebook's VGG16 input (its quirk included)."""
    return tf.reverse(x * 255.0 - tf.constant(VGG_MEANS, tf.float32), axis=[-1])


class Trainer(tf.Module):
    """The transformation network, its Adam state and the VGG16 loss."""

    def __init__(self, vgg: dict, width: int, seed: int):
        super().__init__(name="fastnet_trainer")
        if width < 1:
            raise ValueError(f"width must be at least 1, got {width}")
        self.width = width
        self.convs = conv_shapes(width)
        self.shapes = parameter_shapes(width)
        self.params = [tf.Variable(tf.zeros(s), name=n) for n, s in self.shapes]
        self.m = [tf.Variable(tf.zeros(s), name=f"{n}_m") for n, s in self.shapes]
        self.v = [tf.Variable(tf.zeros(s), name=f"{n}_v") for n, s in self.shapes]
        self.beta1_power = tf.Variable(ADAM_BETA1, name="beta1_power")
        self.beta2_power = tf.Variable(ADAM_BETA2, name="beta2_power")
        self.step = tf.Variable(0.0, name="step")
        self.state_vars = [*self.params, *self.m, *self.v, self.beta1_power, self.beta2_power, self.step]
        self.loss_net = stylemodel.StyleLoss(vgg)
        self.loss_net_bf16 = stylemodel.StyleLossBF16(None, share=self.loss_net)
        self.init(tf.constant(float(seed)))

    def parameter_count(self) -> int:
        return int(sum(np.prod(s) for _, s in self.shapes))

    def state_size(self) -> int:
        return 3 * self.parameter_count() + 3

    # --- the transformation network -------------------------------------------------

    def _conv(self, i: int, x: tf.Tensor, k: int, stride: int) -> tf.Tensor:
        p = k // 2
        x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")
        return tf.nn.bias_add(tf.nn.conv2d(x, self.params[i], strides=stride, padding="VALID"), self.params[i + 1])

    def _norm(self, i: int, x: tf.Tensor) -> tf.Tensor:
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + IN_EPSILON) * self.params[i + 2] + self.params[i + 3]

    def transform(self, x: tf.Tensor) -> tf.Tensor:
        """The network on (B, H, W, 3) in 0..1, H and W multiples of 4."""
        layers = {}
        i = 0
        for name, k, _, _, stride, norm in self.convs:
            layers[name] = (i, k, stride, norm)
            i += 4 if norm else 2

        def block(name, h, relu=True):
            i, k, stride, norm = layers[name]
            h = self._conv(i, h, k, stride)
            if norm:
                h = self._norm(i, h)
            return tf.nn.relu(h) if relu else h

        h = x
        for name in ("down1", "down2", "down3"):
            h = block(name, h)
        for r in range(1, RESIDUAL_BLOCKS + 1):
            h = h + block(f"res{r}b", block(f"res{r}a", h), relu=False)
        for name in ("up1", "up2"):
            # Resize then convolve, not a transposed convolution: no checkerboard.
            h = tf.repeat(tf.repeat(h, 2, axis=1), 2, axis=2)
            h = block(name, h)
        return 0.5 + 0.5 * tf.tanh(block("out", h, relu=False))

    # --- the loss ---------------------------------------------------------------------

    def _losses(self, loss_net, images, grams, content_weight, style_weight, tv_weight):
        """Per image (B,): the content, style and total-variation terms, weighted."""
        out = self.transform(images)
        feats_in = loss_net.network(vgg_input(images))
        feats_out = loss_net.network(vgg_input(out))
        ci = LAYER_INDEX[CONTENT_LAYER]
        content = content_weight * tf.reduce_sum(tf.square(feats_out[ci] - tf.stop_gradient(feats_in[ci])), axis=[1, 2, 3])
        size = tf.cast(tf.shape(images)[1] * tf.shape(images)[2], tf.float64)
        recip = 1.0 / tf.cast(4.0 * 3.0**2 * size**2, tf.float32)
        per_layer = style_weight / float(len(STYLE_LAYERS))
        style = tf.zeros_like(content)
        for n, target in zip(STYLE_LAYERS, grams):
            f = feats_out[LAYER_INDEX[n]]
            flat = tf.reshape(f, (tf.shape(f)[0], -1, tf.shape(f)[3]))
            g = tf.matmul(flat, flat, transpose_a=True)
            style = style + per_layer * recip * tf.reduce_sum(tf.square(g - target[None]), axis=[1, 2])
        x = vgg_input(out)
        h, w = tf.shape(x)[1], tf.shape(x)[2]
        a = tf.square(x[:, : h - 1, : w - 1, :] - x[:, 1:, : w - 1, :])
        b = tf.square(x[:, : h - 1, : w - 1, :] - x[:, : h - 1, 1:, :])
        tv = tv_weight * tf.reduce_sum(tf.pow(a + b, 1.25), axis=[1, 2, 3])
        return content, style, tv

    def _check(self, images):
        h, w = tf.shape(images)[1], tf.shape(images)[2]
        return [
            tf.debugging.Assert(
                (h % 4 == 0) & (w % 4 == 0) & (h >= stylemodel.MIN_SIDE) & (w >= stylemodel.MIN_SIDE),
                ["neuralstyle: training images must be at least 16 pixels a side and multiples of 4; got height, width", h, w],
            )
        ]

    def _terms(self, loss_net, images, grams, cw, sw, tw):
        content, style, tv = self._losses(loss_net, images, grams, cw, sw, tw)
        c, s, t = tf.reduce_mean(content), tf.reduce_mean(style), tf.reduce_mean(tv)
        return c + s + t, {"content_loss": c, "style_loss": s, "tv_loss": t}

    def _train(self, loss_net, images, grams, cw, sw, tw, lr):
        with tf.control_dependencies(self._check(images)):
            with tf.GradientTape() as tape:
                loss, terms = self._terms(loss_net, images, grams, cw, sw, tw)
            grads = tape.gradient(loss, self.params)
            for var, m, v, g in zip(self.params, self.m, self.v, grads):
                tf.raw_ops.ResourceApplyAdam(
                    var=var.handle, m=m.handle, v=v.handle,
                    beta1_power=self.beta1_power, beta2_power=self.beta2_power, lr=lr,
                    beta1=tf.constant(ADAM_BETA1), beta2=tf.constant(ADAM_BETA2),
                    epsilon=tf.constant(ADAM_EPSILON), grad=g)
            # After every variable's update, as TensorFlow 1's AdamOptimizer did.
            with tf.control_dependencies([var.read_value() for var in self.params]):
                self.beta1_power.assign(self.beta1_power * ADAM_BETA1)
                self.beta2_power.assign(self.beta2_power * ADAM_BETA2)
                step = self.step.assign_add(1.0)
        return {"loss": loss, **terms, "step": step}

    # --- signatures -------------------------------------------------------------------

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="seed")])
    def init(self, seed):
        s = tf.cast(seed, tf.int64)
        for i, ((name, shape), var) in enumerate(zip(self.shapes, self.params)):
            if name.endswith("_kernel"):
                fan_in, fan_out = shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]
                limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
                var.assign(tf.random.stateless_uniform(shape, seed=tf.stack([s, tf.constant(i, tf.int64)]),
                                                       minval=-limit, maxval=limit))
            elif name.endswith("_scale"):
                var.assign(tf.ones(shape))
            else:
                var.assign(tf.zeros(shape))
        for m, v in zip(self.m, self.v):
            m.assign(tf.zeros_like(m))
            v.assign(tf.zeros_like(v))
        self.beta1_power.assign(ADAM_BETA1)
        self.beta2_power.assign(ADAM_BETA2)
        self.step.assign(0.0)
        return {"parameters": tf.constant(float(self.parameter_count()))}

    @tf.function(input_signature=[_IMAGES, _GRAMS, *_WEIGHTS, _LR])
    def train_step(self, images, grams, content_weight, style_weight, tv_weight, learning_rate):
        return self._train(self.loss_net, images, grams, content_weight, style_weight, tv_weight, learning_rate)

    @tf.function(input_signature=[_IMAGES, _GRAMS, *_WEIGHTS, _LR])
    def train_step_bf16(self, images, grams, content_weight, style_weight, tv_weight, learning_rate):
        return self._train(self.loss_net_bf16, images, grams, content_weight, style_weight, tv_weight, learning_rate)

    @tf.function(input_signature=[_IMAGES, _GRAMS, *_WEIGHTS])
    def evaluate(self, images, grams, content_weight, style_weight, tv_weight):
        with tf.control_dependencies(self._check(images)):
            loss, terms = self._terms(self.loss_net, images, grams, content_weight, style_weight, tv_weight)
        return {"loss": loss, **terms}

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32, name="image")])
    def stylize(self, image):
        h, w = tf.shape(image)[1], tf.shape(image)[2]
        ok = tf.debugging.Assert((h >= MIN_SIDE) & (w >= MIN_SIDE),
                                 [f"neuralstyle: image must be at least {MIN_SIDE} pixels a side; got height, width", h, w])
        with tf.control_dependencies([ok]):
            # Reflect-padded to multiples of 4 (two stride-2 convolutions) and cropped back.
            ph, pw = (4 - h % 4) % 4, (4 - w % 4) % 4
            x = tf.pad(image, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="REFLECT")
            return {"stylized": self.transform(x)[:, :h, :w, :]}

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32, name="image")])
    def style_grams(self, image):
        f = self.loss_net.network(vgg_input(image))
        out = {}
        for n in STYLE_LAYERS:
            flat = tf.reshape(f[LAYER_INDEX[n]][0], (-1, CHANNELS[n]))
            out[f"gram_{n}"] = tf.matmul(flat, flat, transpose_a=True)
        return out

    @tf.function(input_signature=[])
    def get_state(self):
        return {"state": tf.concat([tf.reshape(v, [-1]) for v in self.state_vars], axis=0)}

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.float32, name="state")])
    def set_state(self, state):
        n = self.state_size()
        ok = tf.debugging.Assert(tf.equal(tf.size(state), n),
                                 [f"neuralstyle: state must have {n} numbers for this network; got", tf.size(state)])
        with tf.control_dependencies([ok]):
            off = 0
            for v in self.state_vars:
                k = int(np.prod(v.shape))
                v.assign(tf.reshape(state[off:off + k], v.shape))
                off += k
        return {"step": tf.identity(self.step)}


SIGNATURES = ("init", "train_step", "train_step_bf16", "evaluate", "stylize", "style_grams", "get_state", "set_state")


def metadata(t: Trainer, seed: int, weights_info: dict) -> dict:
    names = [n for n, _ in t.shapes]
    variables = [{"name": n, "shape": list(s)} for n, s in t.shapes]
    variables += [{"name": f"{n}_m", "shape": list(s)} for n, s in t.shapes]
    variables += [{"name": f"{n}_v", "shape": list(s)} for n, s in t.shapes]
    variables += [{"name": n, "shape": []} for n in ("beta1_power", "beta2_power", "step")]
    assert len(names) == len(t.params)
    return {
        "kind": "fastnet-train",
        "format": FORMAT,
        "network": NETWORK,
        "width": t.width,
        "residual_blocks": RESIDUAL_BLOCKS,
        "parameters": t.parameter_count(),
        "state_size": t.state_size(),
        "seed": seed,
        "variables": variables,
        "min_side": MIN_SIDE,
        "content_layer": CONTENT_LAYER,
        "style_layers": list(STYLE_LAYERS),
        "notebook": {
            "content_weight": stylemodel.NOTEBOOK_CONTENT_WEIGHT,
            "style_weight": stylemodel.NOTEBOOK_STYLE_WEIGHT,
            "tv_weight": stylemodel.NOTEBOOK_TV_WEIGHT,
        },
        "adam": {"beta1": ADAM_BETA1, "beta2": ADAM_BETA2, "epsilon": ADAM_EPSILON},
        "weights": weights_info,
        "signatures": list(SIGNATURES),
        "tensorflow_version": tf.__version__,
        "exporter": "savedmodel/train.py",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def export(out: str | Path, vgg: dict, weights_info: dict, width: int, seed: int) -> dict:
    """Writes the training SavedModel and its neuralstyle.json to out."""
    t = Trainer(vgg, width, seed)
    sigs = {name: getattr(t, name).get_concrete_function() for name in SIGNATURES}
    tf.saved_model.save(t, str(out), signatures=sigs)
    meta = metadata(t, seed, weights_info)
    write_metadata(out, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m savedmodel.train", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="SavedModel directory to write (replaced if a previous export)")
    p.add_argument("--weights", default="imagenet",
                   help="VGG16's weights: imagenet (default, downloads), random (with --seed), or a Keras no-top .h5 file")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the random VGG16 weights (with --weights random) and of the network's initialisation (default 1)")
    p.add_argument("--width", type=int, default=PAPER_WIDTH, help=f"channels of the first convolution (default {PAPER_WIDTH}, the paper's)")
    a = p.parse_args(argv)
    seed = 1 if a.seed is None else a.seed
    if not 0 <= seed < 2**24:
        print(f"train: --seed must be in [0, 2**24), got {seed}", file=sys.stderr)
        return 2
    if a.width < 1:
        print(f"train: --width must be at least 1, got {a.width}", file=sys.stderr)
        return 2
    start = time.monotonic()
    out = Path(a.out)
    try:
        with staging(out, "train") as (workdir, staged):
            vgg_seed = seed if a.weights == "random" else None
            vgg, info = styleexport.load_weights(a.weights, vgg_seed, workdir)
            meta = export(staged, vgg, info, a.width, seed)
    except (ExportError, ValueError) as e:
        print(f"train: {e}", file=sys.stderr)
        return 2
    print(f"exported {out} ({meta['parameters']} parameters, width {a.width}, VGG16 weights {info['source']}) "
          f"in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
