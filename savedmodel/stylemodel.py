"""The style model the Go driver runs: Keras VGG16's 13 conv layers with the
notebook's style-transfer loss and its gradient (docs/recipe.md), as TensorFlow
modules and the SavedModel signatures they trace. savedmodel/export.py loads the
weights into them and saves them; the contract (signatures, tensors, layer order,
errors) is in savedmodel/README.md.

Spatial dimensions are dynamic, so one export serves every image size. The content
layer, the style layers and every weight are inputs, so no choice needs a re-export.
The notebook_* signatures are the notebook's own graph (its layers fixed, plain
autodiff), which reproduces the notebook's float32 results bit for bit.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savedmodel import vggweights as vw  # noqa: E402

LAYERS: tuple[str, ...] = vw.LAYER_NAMES
NUM_LAYERS = len(LAYERS)
CHANNELS: tuple[int, ...] = tuple(cout for _, _, cout in vw.CONV_LAYERS)
# Block (1..5) of each conv layer; 2x2 max-pools (stride 2, no padding) sit between blocks.
BLOCK: tuple[int, ...] = tuple(int(name[len("block")]) for name in LAYERS)
# block5 sits behind four pools, so an image side needs 16 pixels for it to have output.
MIN_SIDE = 16

# The notebook's choices (docs/recipe.md section 3), as the weight vectors encode them.
NOTEBOOK_CONTENT_LAYER = "block2_conv2"
NOTEBOOK_CONTENT_LAYERS = (NOTEBOOK_CONTENT_LAYER,)
NOTEBOOK_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
NOTEBOOK_CONTENT_WEIGHT = 0.025
NOTEBOOK_STYLE_WEIGHT = 5.0
NOTEBOOK_TV_WEIGHT = 1.0

# The signatures every export has (savedmodel/README.md), by name. Go asks the
# SavedModel for the ones it runs (transfer.CheckModel), and holds its copies of
# LAYERS, MIN_SIDE and the notebook's layers to neuralstyle.json.
TILE_SIGNATURES = ("tile_targets", "tile_gradient")  # the tiled evaluation (TileLoss)
SIGNATURES = ("recipe", "fast_targets", "fast", "notebook_recipe", "notebook_fast_targets", "notebook_fast",
              "fast_targets_bf16", "fast_bf16", *TILE_SIGNATURES)
# Issue 12's controls (their own block at the end of StyleLoss and control_signatures):
# average pooling, and style masks (spatial control).
AVG_SIGNATURES = ("avg_recipe", "avg_fast_targets", "avg_fast")
MASKED_SIGNATURES = ("masked_fast", "avg_masked_fast")
POOLINGS = ("max", "avg")


def layer_weights(
    content: dict[str, float] | None = None,
    style: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Builds the content_weights and style_weights vectors from layer names.

    With no arguments, the notebook's: content_weight 0.025 on block2_conv2, and
    style_weight / 5 (computed in float64, then rounded to float32, as the
    notebook's Python did) on each of its five style layers.
    """
    if content is None:
        content = {NOTEBOOK_CONTENT_LAYER: NOTEBOOK_CONTENT_WEIGHT}
    if style is None:
        style = {n: NOTEBOOK_STYLE_WEIGHT / len(NOTEBOOK_STYLE_LAYERS) for n in NOTEBOOK_STYLE_LAYERS}
    vecs = []
    for what, d in (("content", content), ("style", style)):
        v = np.zeros(NUM_LAYERS, np.float32)
        for name, w in d.items():
            if name not in LAYERS:
                raise ValueError(f"unknown {what} layer {name!r}; VGG16's conv layers are {', '.join(LAYERS)}")
            v[LAYERS.index(name)] = w
        vecs.append(v)
    if np.count_nonzero(vecs[0]) > 1:
        raise ValueError(f"at most one content layer may have a nonzero weight, got {sorted(content)}")
    return vecs[0], vecs[1]


def _maybe(pred, true_fn: Callable, false_fn: Callable):
    # Python bools come from a graph whose layers are fixed when it is built (notebook_*).
    if isinstance(pred, bool):
        return true_fn() if pred else false_fn()
    return tf.cond(pred, true_fn, false_fn)


def gram(f: tf.Tensor) -> tf.Tensor:
    """G = F F^T with F one batch item's (h, w, C) activations as (C, h*w), as the
    notebook wrote it (transpose to channels first, flatten, matmul)."""
    features = tf.reshape(tf.transpose(f, (2, 0, 1)), (tf.shape(f)[2], -1))
    return tf.matmul(features, tf.transpose(features))


def gram_hwc(f: tf.Tensor) -> tf.Tensor:
    """The same G = F F^T as gram, formed as F'^T F' from the (h*w, C) reshape of one
    batch item's activations, which needs no transpose of them (reshaping the
    channels-last tensor is free). Its float32 sums run in another order than
    gram's. Measured (scripts/benchmarks/profile_fast.py, 256x256, 2 cores): the five style
    terms with gram cost 30% of the bare network's forward and backward pass, with
    gram_hwc 4%; most of the difference is the transposes of the activations and of
    their gradients."""
    flat = tf.reshape(f, (-1, tf.shape(f)[2]))
    return tf.matmul(flat, flat, transpose_a=True)


def tap(
    h: tf.Tensor, active: tf.Tensor, term_fn: Callable[[tf.Tensor], tf.Tensor], skip_unit_scale: bool = False
) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns (h, term) with term = term_fn(h) when active, else exactly 0.

    The next layer must consume the returned h. Differentiating a tf.cond makes
    TensorFlow add a zero tensor of h's shape to h's gradient whenever the branch
    without the term runs (measured: about 7% of an evaluation at 128x128 with the
    notebook's layers). Here the term's gradient with respect to h is taken inside
    the forward cond, by ordinary autodiff of term_fn, and the backward pass adds
    it to h's gradient only when active, so an unused layer costs two scalar conds.

    skip_unit_scale: where the term's upstream gradient is exactly 1 (it always is
    in the loss's cumulative sum), add the term's gradient without multiplying it
    by 1 over h's whole shape (the same values; StyleLossBF16, where that bfloat16
    Mul was a measured cost).
    """

    @tf.custom_gradient
    def _tap(h):
        def with_term():
            with tf.GradientTape() as tape:
                tape.watch(h)
                term = term_fn(h)
            return term, tape.gradient(term, h)

        def without():
            return tf.constant(0.0), tf.zeros((0, 0, 0, 0), h.dtype)

        term, dterm_dh = tf.cond(active, with_term, without)

        def grad(dh, dterm):
            # An output nothing consumed (block5_conv3's h) may come back as None.
            dh = tf.zeros_like(h) if dh is None else dh
            dterm = tf.constant(0.0) if dterm is None else dterm
            # The term is float32; h may be bfloat16 (StyleLossBF16), its gradient too.
            # (tf.cast of a float32 tensor to float32 adds no op.)
            def scaled():
                return dh + tf.cast(dterm, h.dtype) * dterm_dh

            def unit_or_scaled():
                return tf.cond(tf.equal(dterm, 1.0), lambda: dh + dterm_dh, scaled)

            return tf.cond(active, unit_or_scaled if skip_unit_scale else scaled, lambda: tf.identity(dh))

        return (tf.identity(h), term), grad

    return _tap(h)


def _image_spec(name: str) -> tf.TensorSpec:
    return tf.TensorSpec((1, None, None, 3), tf.float32, name=name)


_WEIGHT_SPECS = [
    tf.TensorSpec((NUM_LAYERS,), tf.float32, name="content_weights"),
    tf.TensorSpec((NUM_LAYERS,), tf.float32, name="style_weights"),
]
_TV_SPEC = tf.TensorSpec((), tf.float32, name="tv_weight")
_GRAM_SPECS = [tf.TensorSpec((c, c), tf.float32, name=f"gram_{n}") for n, c in zip(LAYERS, CHANNELS)]
# masked_fast: one Gram target per style, (K, C, C).
_MASKED_GRAM_SPECS = [tf.TensorSpec((None, c, c), tf.float32, name=f"gram_{n}") for n, c in zip(LAYERS, CHANNELS)]


class StyleLoss(tf.Module):
    """VGG16's 13 conv layers with the notebook's loss.

    fixed=None (the recipe, fast_targets and fast signatures) selects layers at run
    time from the weight vectors: a layer whose weights are zero contributes an exact
    0 and its term is neither computed nor differentiated (tf.cond, see tap).
    fixed=(content_layers, style_layers) (the notebook_* signatures, with the
    notebook's layers) builds the notebook's own graph for those layers: every term
    computed, summed as one reduction, differentiated by plain autodiff; see
    _fixed_loss_and_gradient. share=another StyleLoss makes this one use its
    variables, so both sets of signatures read one copy of the weights.
    The network always runs to block5_conv3 and never further.
    """

    # tap's skip_unit_scale (StyleLossBF16 only: the float32 graphs keep their ops).
    _skip_unit_scale = False

    def __init__(
        self,
        weights: dict[str, vw.ConvWeights] | None,
        fixed: tuple[Sequence[str], Sequence[str]] | None = None,
        share: StyleLoss | None = None,
        pooling: str = "max",
    ):
        super().__init__(name="vgg16_style_loss")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling {pooling!r}: want one of {', '.join(POOLINGS)}")
        if pooling != "max" and fixed is not None:
            raise ValueError("the notebook's own graph pools with max only")
        self._pooling = pooling
        if share is not None:
            self.kernels, self.biases = share.kernels, share.biases
        else:
            self.kernels = [tf.Variable(weights[n].kernel, trainable=False, name=f"{n}_kernel") for n in LAYERS]
            self.biases = [tf.Variable(weights[n].bias, trainable=False, name=f"{n}_bias") for n in LAYERS]
        self._fixed = None
        if fixed is not None:
            content, style = (sorted(LAYERS.index(n) for n in names) for names in fixed)
            if len(content) > 1:
                raise ValueError(f"at most one content layer, got {list(fixed[0])}")
            self._fixed = (tuple(content), tuple(style))

    def _gram(self, f: tf.Tensor) -> tf.Tensor:
        """The Gram matrix of one batch item: the notebook's own form (gram) in the
        fixed graphs, which must reproduce its bits, the faster gram_hwc in the
        run-time ones (recipe, fast_targets and fast alike, so their targets and
        terms agree)."""
        return gram(f) if self._fixed is not None else gram_hwc(f)

    def _active(self, weights: tf.Tensor, which: int) -> list:
        """Per layer, whether its term is computed: weight != 0 (run-time selection)."""
        return [tf.not_equal(weights[i], 0.0) for i in range(NUM_LAYERS)]

    # --- the network --------------------------------------------------------------

    def _conv(self, i: int, x: tf.Tensor) -> tf.Tensor:
        # Keras Conv2D(3x3, padding="same", activation="relu") as VGG16 builds it.
        y = tf.nn.conv2d(x, self.kernels[i], strides=1, padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(y, self.biases[i]))

    def network(self, x: tf.Tensor, on_layer: Callable[[int, tf.Tensor], tf.Tensor] | None = None) -> list[tf.Tensor]:
        """Runs x through the 13 conv layers (2x2 max-pool between blocks, none after
        block5_conv3) and returns their ReLU outputs. on_layer(i, h) may replace
        layer i's output with the tensor the next layer consumes (see tap).
        Ops are named by Keras' layer names (block1_conv1, block1_pool, ...)."""
        outs = []
        h = x
        for i in range(NUM_LAYERS):
            if i > 0 and BLOCK[i] != BLOCK[i - 1]:
                with tf.name_scope(f"block{BLOCK[i - 1]}_pool"):
                    h = self._pool(h)
            with tf.name_scope(LAYERS[i]):
                h = self._conv(i, h)
            outs.append(h)
            if on_layer is not None:
                h = on_layer(i, h)
        return outs

    def _pool(self, h: tf.Tensor) -> tf.Tensor:
        # 2x2 stride-2 valid pools: max as VGG16's (and the notebook's), or average
        # (Gatys et al. 2016 found it gives smoother pictures).
        if self._pooling == "avg":
            return tf.nn.avg_pool2d(h, 2, 2, "VALID")
        return tf.nn.max_pool2d(h, 2, 2, "VALID")

    # --- checks ---------------------------------------------------------------------

    def _check_weights(self, content_weights, style_weights, tv_weight=None) -> list:
        ops = []
        named = [("content_weights", content_weights), ("style_weights", style_weights)]
        if tv_weight is not None:
            named.append(("tv_weight", tv_weight))
        for name, w in named:
            ops.append(
                tf.debugging.Assert(
                    tf.reduce_all(tf.math.is_finite(w) & (w >= 0)),
                    [f"neuralstyle: {name} must be finite and >= 0, got", w],
                    summarize=NUM_LAYERS,
                )
            )
        ops.append(
            tf.debugging.Assert(
                tf.math.count_nonzero(content_weights) <= 1,
                ["neuralstyle: content_weights may have at most one nonzero entry, got", content_weights],
                summarize=NUM_LAYERS,
            )
        )
        if self._fixed is not None:
            # A fixed graph reads only its layers' weights; a weight anywhere else would
            # be silently ignored, so it is an error.
            for (name, w), layers in zip(named, self._fixed):
                mine = tf.constant([i in layers for i in range(NUM_LAYERS)])
                ops.append(
                    tf.debugging.Assert(
                        tf.reduce_all(mine | tf.equal(w, 0.0)),
                        [
                            f"neuralstyle: this graph has its {name.split('_')[0]} layers fixed "
                            f"({', '.join(LAYERS[i] for i in layers) or 'none'}); {name} must be 0 on every other layer, got",
                            w,
                        ],
                        summarize=NUM_LAYERS,
                    )
                )
        return ops

    @staticmethod
    def _check_size(name: str, image: tf.Tensor) -> tf.Operation:
        h, w = tf.shape(image)[1], tf.shape(image)[2]
        return tf.debugging.Assert(
            (h >= MIN_SIDE) & (w >= MIN_SIDE),
            [
                f"neuralstyle: {name} image is too small: height, width",
                h,
                w,
                f"but block5_conv3 lies behind four 2x2 pools and needs at least {MIN_SIDE} pixels per side",
            ],
        )

    # --- the loss -------------------------------------------------------------------

    @staticmethod
    def _reciprocal_divisor(image: tf.Tensor) -> tf.Tensor:
        """1 / (4 * channels^2 * size^2) in float32, channels = 3 and size = H*W of the
        input image (recipe quirk).

        The notebook computed the divisor in Python (float64), TensorFlow rounded it to
        float32 once, and since it is a constant in the notebook's graph, TensorFlow's
        graph optimizer (Grappler's constant folding) turns `sum / divisor` into
        `sum * (1 / divisor)` with the reciprocal rounded to float32, in the loss and
        in its gradient. Here the size is only known at run time, so the graph does
        that itself: the same float32 bits as the notebook's optimized graph.
        """
        with tf.name_scope("divisor"):
            size = tf.cast(tf.shape(image)[1] * tf.shape(image)[2], tf.float64)
            return 1.0 / tf.cast(4.0 * 3.0**2 * size**2, tf.float32)

    @staticmethod
    def _tv(x: tf.Tensor) -> tf.Tensor:
        h, w = tf.shape(x)[1], tf.shape(x)[2]
        a = tf.square(x[:, : h - 1, : w - 1, :] - x[:, 1:, : w - 1, :])
        b = tf.square(x[:, : h - 1, : w - 1, :] - x[:, : h - 1, 1:, :])
        return tf.reduce_sum(tf.pow(a + b, 1.25))

    def _loss_and_gradient(self, x, image, content_weights, style_weights, tv_weight, content_fn, style_fn):
        """The loss of the network's activations for image (the batch built from x)
        and its gradient with respect to x.

        content_fn(i, h) and style_fn(i, h) give layer i's unweighted terms from its
        activations h."""
        if self._fixed is not None:
            return self._fixed_loss_and_gradient(x, image, content_weights, style_weights, tv_weight, content_fn, style_fn)
        ca = self._active(content_weights, 0)
        sa = self._active(style_weights, 1)
        content_terms = [tf.constant(0.0)] * NUM_LAYERS
        style_terms = [tf.constant(0.0)] * NUM_LAYERS

        def cterm(i):
            return lambda h: content_weights[i] * content_fn(i, h)

        def sterm(i):
            return lambda h: style_weights[i] * style_fn(i, h)

        with tf.GradientTape() as tape:
            tape.watch(x)

            def on_layer(i, h):
                h, content_terms[i] = tap(h, ca[i], cterm(i), self._skip_unit_scale)
                h, style_terms[i] = tap(h, sa[i], sterm(i), self._skip_unit_scale)
                return h

            self.network(image(x), on_layer)
            content_loss = tf.add_n(content_terms)  # at most one nonzero: exact
            tv_loss = _maybe(tf.not_equal(tv_weight, 0.0), lambda: tv_weight * self._tv(x), lambda: tf.constant(0.0))
            # Accumulated in the notebook's order, left to right in float32: content,
            # each style layer in network order, total variation (a term that is off
            # adds an exact 0). A cumulative sum, because Grappler rewrites a chain of
            # Adds into one AddN with its inputs sorted by name (measured: 1 ulp off
            # the left-to-right sum), and reduce_sum over more terms than a SIMD
            # packet adds them in another order.
            style_loss = tf.math.cumsum(tf.stack(style_terms))[-1]
            loss = tf.math.cumsum(tf.stack([content_loss, *style_terms, tv_loss]))[-1]
        gradient = tape.gradient(loss, x)
        return {
            "loss": loss,
            "content_loss": content_loss,
            "style_loss": style_loss,
            "tv_loss": tv_loss,
            "style_layer_losses": tf.stack(style_terms),
            "gradient": tf.zeros_like(x) if gradient is None else gradient,
        }

    def _fixed_loss_and_gradient(self, x, image, content_weights, style_weights, tv_weight, content_fn, style_fn):
        """The notebook's graph for the fixed layers, built as the notebook built it:
        the network, then the content term, the style terms in network order and total
        variation, summed as one reduction over the stacked terms (for up to 7 terms,
        fewer than a SIMD packet, the float32 sum runs left to right from 0 like the
        notebook's `loss +=`), and differentiated by plain autodiff.

        The scope names fix the order of the gradient's float32 sums. Where a tensor has
        several consumers, its gradient is one AddN, and Grappler sorts the inputs of
        every commutative op by name (grappler/utils/canonicalizer.cc), which sets the
        order of the additions. With these names it is the notebook's: at a layer,
        the next pool's gradient, then content, then style (block*_pool < content <
        style_*); at x, the network's gradient, then total variation's four slices in
        the order they were taken (batch or block1_conv1 < tv). Measured: any other
        order changes the gradient's last bits, and L-BFGS-B amplifies that.
        """
        content_layers, style_layers = self._fixed
        with tf.GradientTape() as tape:
            tape.watch(x)
            f = self.network(image(x))
            content_loss = tf.constant(0.0)
            for i in content_layers:
                with tf.name_scope("content"):
                    content_loss = content_weights[i] * content_fn(i, f[i])
            style_terms = [tf.constant(0.0)] * NUM_LAYERS
            for i in style_layers:
                with tf.name_scope(f"style_{LAYERS[i]}"):
                    style_terms[i] = style_weights[i] * style_fn(i, f[i])
            with tf.name_scope("tv"):
                tv_loss = tv_weight * self._tv(x)
            used = [style_terms[i] for i in style_layers]
            style_loss = tf.reduce_sum(tf.stack(used)) if used else tf.constant(0.0)
            loss = tf.reduce_sum(tf.stack([content_loss, *used, tv_loss]))
        gradient = tape.gradient(loss, x)
        return {
            "loss": loss,
            "content_loss": content_loss,
            "style_loss": style_loss,
            "tv_loss": tv_loss,
            "style_layer_losses": tf.stack(style_terms),
            "gradient": gradient,
        }

    # --- signatures -------------------------------------------------------------------

    @tf.function(input_signature=[_image_spec("content"), _image_spec("style"), _image_spec("combination")] + _WEIGHT_SPECS + [_TV_SPEC])
    def recipe(self, content, style, combination, content_weights, style_weights, tv_weight):
        """The notebook's graph: one VGG16 pass over [content, style, combination]."""
        checks = self._check_weights(content_weights, style_weights, tv_weight)
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(content), tf.shape(style)))
                & tf.reduce_all(tf.equal(tf.shape(content), tf.shape(combination))),
                [
                    "neuralstyle: content, style and combination must have the same shape, got",
                    tf.shape(content),
                    tf.shape(style),
                    tf.shape(combination),
                ],
            )
        )
        checks.append(self._check_size("combination", combination))
        with tf.control_dependencies(checks):
            recip = self._reciprocal_divisor(combination)

            def batch(x):
                # Batch items: 0 content, 1 style, 2 combination.
                with tf.name_scope("batch"):
                    return tf.concat([content, style, x], axis=0)

            return self._loss_and_gradient(
                combination,
                batch,
                content_weights,
                style_weights,
                tv_weight,
                lambda i, f: tf.reduce_sum(tf.square(f[2] - f[0])),
                lambda i, f: recip * tf.reduce_sum(tf.square(self._gram(f[1]) - self._gram(f[2]))),
            )

    @tf.function(input_signature=[_image_spec("content"), _image_spec("style")] + _WEIGHT_SPECS)
    def fast_targets(self, content, style, content_weights, style_weights):
        """The content features and style Gram matrices fast needs, computed once."""
        checks = self._check_weights(content_weights, style_weights)
        checks.append(self._check_size("content", content))
        checks.append(self._check_size("style", style))
        with tf.control_dependencies(checks):
            fc = self.network(content)
            fs = self.network(style)
            if self._fixed is not None:
                content_layers, style_layers = self._fixed
                content_features = fc[content_layers[0]] if content_layers else tf.zeros((1, 1, 1, 1))
                sa = [i in style_layers for i in range(NUM_LAYERS)]
            else:
                nonzero = tf.not_equal(content_weights, 0.0)
                # With no content layer, a 1x1x1x1 zero placeholder that fast ignores.
                idx = tf.where(tf.reduce_any(nonzero), tf.argmax(tf.cast(nonzero, tf.int32), output_type=tf.int32), NUM_LAYERS)
                branches = [lambda i=i: fc[i] for i in range(NUM_LAYERS)] + [lambda: tf.zeros((1, 1, 1, 1))]
                content_features = tf.switch_case(idx, branches)
                sa = self._active(style_weights, 1)
            out = {"content_features": tf.identity(content_features)}
            for i, n in enumerate(LAYERS):
                c = CHANNELS[i]
                out[f"gram_{n}"] = tf.ensure_shape(
                    _maybe(sa[i], lambda i=i: self._gram(fs[i][0]), lambda c=c: tf.zeros((c, c))), (c, c)
                )
        return out

    @tf.function(
        input_signature=[_image_spec("combination"), tf.TensorSpec((1, None, None, None), tf.float32, name="content_features"), _GRAM_SPECS]
        + _WEIGHT_SPECS
        + [_TV_SPEC]
    )
    def fast(self, combination, content_features, grams, content_weights, style_weights, tv_weight):
        """The same loss with VGG16 run on the combination image only."""
        checks = self._check_weights(content_weights, style_weights, tv_weight)
        checks.append(self._check_size("combination", combination))
        with tf.control_dependencies(checks):
            recip = self._reciprocal_divisor(combination)

            def content_fn(i, f):
                same = tf.debugging.Assert(
                    tf.reduce_all(tf.equal(tf.shape(f), tf.shape(content_features))),
                    [
                        f"neuralstyle: content_features must have the shape of {LAYERS[i]}'s output "
                        "for the combination image (pass fast_targets' output for the same "
                        "content_weights and image size); got, want",
                        tf.shape(content_features),
                        tf.shape(f),
                    ],
                )
                with tf.control_dependencies([same]):
                    return self._content_term(f, content_features)

            return self._loss_and_gradient(
                combination,
                lambda x: x,
                content_weights,
                style_weights,
                tv_weight,
                content_fn,
                lambda i, f: self._style_term(f, grams[i], recip),
            )

    # fast's terms of one layer's activations f (1, h, w, C), unweighted; methods so
    # that StyleLossBF16 can give them their own gradients.
    def _content_term(self, f: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.square(f[0] - target[0]))

    def _style_term(self, f: tf.Tensor, target: tf.Tensor, recip: tf.Tensor) -> tf.Tensor:
        return recip * tf.reduce_sum(tf.square(target - self._gram(f[0])))

    # --- style masks (spatial control, Gatys et al. 2017) ------------------------------

    @tf.function(
        input_signature=[
            _image_spec("combination"),
            tf.TensorSpec((1, None, None, None), tf.float32, name="content_features"),
            _MASKED_GRAM_SPECS,
            tf.TensorSpec((None, None, None), tf.float32, name="masks"),
        ]
        + _WEIGHT_SPECS
        + [_TV_SPEC]
    )
    def masked_fast(self, combination, content_features, grams, masks, content_weights, style_weights, tv_weight):
        """fast with K styles, each applied where its mask is: masks (K, H, W) in [0, 1]
        at the combination's size, gram_<layer> (K, C, C) the K styles' Gram targets as
        fast_targets gives them. At a style layer each mask is average-pooled 2x2 as often
        as the network pools (so it has the layer's h x w), the combination's features
        are multiplied by it, and style k's term is
        r * sum((a_k * T_k - (m_k F)^T (m_k F))^2), a_k the mean of m_k^2 over the layer's
        positions: the target is scaled to the share of the image the mask covers. A mask
        of ones gives fast's term; the layer's term is the sum over k, in order."""
        checks = self._check_weights(content_weights, style_weights, tv_weight)
        checks.append(self._check_size("combination", combination))
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(masks)[1:], tf.shape(combination)[1:3])),
                ["neuralstyle: masks must be (K, H, W) with the combination's H, W; got, want", tf.shape(masks), tf.shape(combination)],
            )
        )
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(masks) & (masks >= 0) & (masks <= 1)),
                ["neuralstyle: masks must be in [0, 1]"],
            )
        )
        with tf.control_dependencies(checks):
            recip = self._reciprocal_divisor(combination)
            per_block = [masks[..., None]]  # (K, h, w, 1) at each block's resolution
            for _ in range(4):
                per_block.append(tf.nn.avg_pool2d(per_block[-1], 2, 2, "VALID"))

            def content_fn(i, f):
                return tf.reduce_sum(tf.square(f[0] - content_features[0]))

            def style_fn(i, f):
                m = per_block[BLOCK[i] - 1]
                share = tf.reduce_mean(tf.square(m), axis=(1, 2, 3))  # (K,)
                fm = f * m  # (K, h, w, C)
                fm = tf.reshape(fm, (tf.shape(fm)[0], -1, tf.shape(fm)[3]))
                g = tf.matmul(fm, fm, transpose_a=True)  # (K, C, C)
                per_style = tf.reduce_sum(tf.square(share[:, None, None] * grams[i] - g), axis=(1, 2))
                return recip * tf.math.cumsum(per_style)[-1]

            return self._loss_and_gradient(
                combination, lambda x: x, content_weights, style_weights, tv_weight, content_fn, style_fn
            )


# --- bfloat16 convolutions -------------------------------------------------------------


class StyleLossBF16(StyleLoss):
    """The run-time-layer graph with VGG16 in bfloat16: every convolution but the
    first (forward and backward), bias, ReLU and pool runs in bfloat16, as the CPU's
    or GPU's bfloat16 kernels do (accumulating in float32 inside each op). The loss
    reads the activations where the taps are: the content term and the Gram matrices
    widen them to float32 (a float32 product of bfloat16 values), the style targets'
    Grams (fast_targets_bf16, once per run) too. The loss terms and their sums are
    float32; the gradient runs back through the network in bfloat16 and is float32
    from block1_conv1 to the image, so everything the optimizer sees is float32.
    The three terms' gradients are written out (_style_term, _content_term, _tv):
    each style term's is one bfloat16 product of the activations with its float32
    difference from the target rounded to bfloat16.
    Signatures fast_targets_bf16 and fast_bf16 (the same inputs and outputs as
    fast_targets and fast); never the notebook's bit-for-bit graph.

    Two parts stay float32 because L-BFGS-B stalled without them (issue 24; measured
    on chelsea.png in starry_night.jpg's style, HED weights, 256x256, noise start, 10
    x 20 evaluations: float32 ended at 2.357e8; with the image rounded to bfloat16
    and bfloat16 Grams the run stopped improving at 3.005e8 after iteration 6, its
    line searches finding no lower point; with these two parts float32, 2.362e8, and
    no slower within that run's noise):
    - block1_conv1 and the image: bfloat16 keeps 8 significant bits, so pixels of 64
      to 128 (after the mean is taken off) round to steps of 0.5; the late
      iterations' steps are smaller, and the rounded image does not move. Its
      convolution has 3 input channels: 2% of the network's multiply-adds.
    - the Gram matrices: rounded to bfloat16, each entry is off by up to 2^-9 of
      itself, which near the end is more than the difference from the style's
      Gram that the loss and its gradient are made of. A float32 product of the
      bfloat16 activations (TensorFlow's CPU MatMul has no bfloat16-in,
      float32-out kernel) costs 4% of the float32 network's pass at 256
      (gram_hwc).

    Why not the convolutions alone in bfloat16 (the first form): on an AMX CPU the
    casts around each convolution and the float32 bias, ReLU and pools cost enough
    to hold the project's bf16 speed-up to 0.56 of the bare network's (docs/speed.md,
    "bf16 where it pays")."""

    # Only fast_targets and fast exist in bfloat16 (bf16_signatures): masked_fast's
    # float32 masks do not mix with bfloat16 activations, and recipe is not needed.
    recipe = None
    masked_fast = None
    _skip_unit_scale = True

    def network(self, x: tf.Tensor, on_layer: Callable[[int, tf.Tensor], tf.Tensor] | None = None) -> list[tf.Tensor]:
        """StyleLoss.network in bfloat16 after block1_conv1 (_conv) from a float32
        image; on_layer sees the bfloat16 activations, the outputs returned are
        widened to float32 (only fast_targets reads them)."""
        outs = super().network(x, on_layer)
        return [tf.cast(h, tf.float32) for h in outs]

    def _conv(self, i: int, x: tf.Tensor) -> tf.Tensor:
        # The variables are float32 (shared with the float32 signatures); rounding them
        # here, 15 M values, cost 0.03 s of a 0.3 s evaluation at 512 (docs/speed.md),
        # kept: bfloat16 copies would add 29 MB to every command's load.
        if i == 0:  # float32 from the image (the class's doc), bfloat16 out
            y = tf.nn.conv2d(x, self.kernels[0], strides=1, padding="SAME")
            return tf.cast(tf.nn.relu(tf.nn.bias_add(y, self.biases[0])), tf.bfloat16)
        y = tf.nn.conv2d(x, tf.cast(self.kernels[i], tf.bfloat16), strides=1, padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(y, tf.cast(self.biases[i], tf.bfloat16)))

    def _gram(self, f: tf.Tensor) -> tf.Tensor:
        # A float32 product of f's values (bfloat16 at a tap, float32 in fast_targets).
        return gram_hwc(tf.cast(f, tf.float32))

    # The three terms' gradients below are written out rather than left to autodiff,
    # which spent a third of the bf16 evaluation outside the network at 512 (issue 24;
    # scripts/benchmarks/profile_bf16.py, docs/speed.md): two float32 matmuls and an
    # AddN per Gram, and for every f[0] and every total variation slice a
    # StridedSliceGrad that writes a zero tensor of the whole input's size.

    def _style_term(self, f: tf.Tensor, target: tf.Tensor, recip: tf.Tensor) -> tf.Tensor:
        """recip * sum((T - G)^2), G = F^T F the float32 Gram of the bfloat16
        activations F (h*w, C), as StyleLoss's; its gradient with respect to F is
        -4 recip F (T - G) (T and G symmetric): one bfloat16 matmul of F with the
        float32 difference rounded to bfloat16 once (relative to itself, so it does
        not swamp a small T - G as rounding G did: the stall in the class's doc)."""

        @tf.custom_gradient
        def term(h):
            flat = tf.reshape(h, (-1, tf.shape(h)[3]))
            wide = tf.cast(flat, tf.float32)
            diff = target - tf.matmul(wide, wide, transpose_a=True)
            loss = recip * tf.reduce_sum(tf.square(diff))

            def grad(dy):
                m = tf.cast((-4.0 * recip * dy) * diff, h.dtype)
                return tf.reshape(tf.matmul(flat, m), tf.shape(h))

            return loss, grad

        return term(f)

    def _content_term(self, f: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        """sum((F - P)^2) in float32 (f is the widened activations), gradient 2 (F - P)."""

        @tf.custom_gradient
        def term(h):
            diff = h - target  # (1, h, w, C) both
            loss = tf.reduce_sum(tf.square(diff))
            return loss, lambda dy: (2.0 * dy) * diff

        return term(f)

    def _tv(self, x: tf.Tensor) -> tf.Tensor:
        """StyleLoss._tv, sum((u^2 + v^2)^1.25) with u, v the differences to the pixel
        below and to the right, as s * s^0.25 (two square roots, not pow), with its
        gradient 2.5 s^0.25 (u + v) at each pixel less its neighbours' shares,
        placed by padding."""

        @tf.custom_gradient
        def tv(x):
            h, w = tf.shape(x)[1], tf.shape(x)[2]
            corner = x[:, : h - 1, : w - 1, :]
            u = corner - x[:, 1:, : w - 1, :]
            v = corner - x[:, : h - 1, 1:, :]
            s = tf.square(u) + tf.square(v)
            r = tf.sqrt(tf.sqrt(s))
            loss = tf.reduce_sum(s * r)

            def grad(dy):
                k = (2.5 * dy) * r
                gu, gv = k * u, k * v

                def at(t, down, right):  # t placed at offset (down, right) in x's shape
                    return tf.pad(t, [[0, 0], [down, 1 - down], [right, 1 - right], [0, 0]])

                return at(gu + gv, 0, 0) - at(gu, 1, 0) - at(gv, 0, 1)

            return loss, grad

        return tv(x)

    def _loss_and_gradient(self, x, image, content_weights, style_weights, tv_weight, content_fn, style_fn):
        # The content term is a difference of nearly equal activations: float32.
        return super()._loss_and_gradient(
            x, image, content_weights, style_weights, tv_weight,
            lambda i, h: content_fn(i, tf.cast(h, tf.float32)), style_fn,
        )


def bf16_signatures(module: StyleLoss) -> dict:
    """fast_targets_bf16 and fast_bf16, on module's variables."""
    module.bf16 = StyleLossBF16(None, share=module)
    return {name + "_bf16": getattr(module.bf16, name).get_concrete_function() for name in ("fast_targets", "fast")}


# --- tiled evaluation (issue 13) ----------------------------------------------------

# The pooling stride of block5: tile origins and halos are multiples of it, so every
# 2x2 pool of a tile pairs the same pixels as the whole image's.
TILE_ALIGN = 16
_CROP_SPEC = tf.TensorSpec((4,), tf.float32, name="crop")
_IMAGE_SIZE_SPEC = tf.TensorSpec((2,), tf.float32, name="image_size")
_COMBINATION_GRAM_SPECS = [tf.TensorSpec((c, c), tf.float32, name=f"combination_gram_{n}") for n, c in zip(LAYERS, CHANNELS)]


class TileLoss(StyleLoss):
    """The run-time-layer loss evaluated tile by tile (signatures tile_targets and
    tile_gradient), for images whose activations do not fit in memory at once.

    A tile is a piece of the image with a halo around it: crop = (top, left, height,
    width) of the interior in the tile's input pixels, top and left multiples of 16.
    At a layer of block b (stride s = 2^(b-1)) the interior is rows top/s to
    top/s + floor(height/s) and likewise columns. With a halo at least the receptive
    field's reach for the deepest layer used (the Go driver's tileHalo), and none at
    the image's own borders (where 'same' padding's zeros are the image's), the
    interior features are the whole image's. The content term and the Gram matrices
    are sums over positions, so they add up over tiles; the gradient of each tile's
    share, given the whole image's Gram matrices, adds up over tiles too (halos
    included: an interior feature depends on halo pixels). Total variation is not
    here: the driver computes it on the whole image.
    """

    def __init__(self, share: StyleLoss):
        super().__init__(None, share=share)

    @staticmethod
    def _interior(i: int, h: tf.Tensor, crop: tf.Tensor) -> tf.Tensor:
        s = 2 ** (BLOCK[i] - 1)
        c = tf.cast(crop, tf.int32)
        top, left = c[0] // s, c[1] // s
        return h[:, top : top + c[2] // s, left : left + c[3] // s, :]

    def _check_crop(self, tile: tf.Tensor, crop: tf.Tensor) -> list:
        c = tf.cast(crop, tf.int32)
        h, w = tf.shape(tile)[1], tf.shape(tile)[2]
        ok = (
            tf.reduce_all(tf.equal(tf.cast(c, tf.float32), crop))
            & tf.reduce_all(c >= 0)
            & tf.equal(c[0] % TILE_ALIGN, 0)
            & tf.equal(c[1] % TILE_ALIGN, 0)
            & (c[0] + c[2] <= h)
            & (c[1] + c[3] <= w)
        )
        return [
            self._check_size("tile", tile),
            tf.debugging.Assert(
                ok,
                [f"neuralstyle: crop (top, left, height, width) must be whole numbers inside the tile, top and left multiples of {TILE_ALIGN}; got crop, tile height, width", crop, h, w],
            ),
        ]

    @tf.function(input_signature=[_image_spec("tile"), _CROP_SPEC] + _WEIGHT_SPECS)
    def tile_targets(self, tile, crop, content_weights, style_weights):
        """One tile's share of fast_targets: the interior's activations at the content
        layer and its Gram matrices at the style layers (summed over tiles, the whole
        image's). Run for the content image, the style image and, each evaluation,
        the combination (with zero content weights)."""
        checks = self._check_weights(content_weights, style_weights) + self._check_crop(tile, crop)
        with tf.control_dependencies(checks):
            f = self.network(tile)
            nonzero = tf.not_equal(content_weights, 0.0)
            idx = tf.where(tf.reduce_any(nonzero), tf.argmax(tf.cast(nonzero, tf.int32), output_type=tf.int32), NUM_LAYERS)
            branches = [lambda i=i: self._interior(i, f[i], crop) for i in range(NUM_LAYERS)] + [lambda: tf.zeros((1, 1, 1, 1))]
            out = {"content_features": tf.identity(tf.switch_case(idx, branches))}
            sa = self._active(style_weights, 1)
            for i, n in enumerate(LAYERS):
                c = CHANNELS[i]
                out[f"gram_{n}"] = tf.ensure_shape(
                    _maybe(sa[i], lambda i=i: self._gram(self._interior(i, f[i], crop)[0]), lambda c=c: tf.zeros((c, c))), (c, c)
                )
        return out

    @tf.function(
        input_signature=[
            _image_spec("tile"),
            _CROP_SPEC,
            _IMAGE_SIZE_SPEC,
            tf.TensorSpec((1, None, None, None), tf.float32, name="content_features"),
            _GRAM_SPECS,
            _COMBINATION_GRAM_SPECS,
        ]
        + _WEIGHT_SPECS
    )
    def tile_gradient(self, tile, crop, image_size, content_features, grams, combination_grams, content_weights, style_weights):
        """One tile's share of the loss's gradient (tile-shaped, halo included) and of
        the content loss, given the style targets (grams) and the whole combination
        image's Gram matrices (the sum of tile_targets' over tiles). The style terms
        depend on the whole image only: style_layer_losses and style_loss are the
        whole image's, the same from every tile."""
        checks = self._check_weights(content_weights, style_weights) + self._check_crop(tile, crop)
        with tf.control_dependencies(checks):
            with tf.name_scope("divisor"):
                size = tf.cast(tf.cast(image_size[0], tf.int32) * tf.cast(image_size[1], tf.int32), tf.float64)
                recip = 1.0 / tf.cast(4.0 * 3.0**2 * size**2, tf.float32)
            ca = self._active(content_weights, 0)
            sa = self._active(style_weights, 1)
            style_terms = [
                _maybe(sa[i], lambda i=i: style_weights[i] * (recip * tf.reduce_sum(tf.square(grams[i] - combination_grams[i]))), lambda: tf.constant(0.0))
                for i in range(NUM_LAYERS)
            ]
            content_terms = [tf.constant(0.0)] * NUM_LAYERS
            shares = [tf.constant(0.0)] * NUM_LAYERS

            def content_fn(i):
                def term(h):
                    f = self._interior(i, h, crop)
                    same = tf.debugging.Assert(
                        tf.reduce_all(tf.equal(tf.shape(f), tf.shape(content_features))),
                        [f"neuralstyle: content_features must have the shape of {LAYERS[i]}'s interior activations of the tile (pass tile_targets' output for the same crop); got, want",
                         tf.shape(content_features), tf.shape(f)],
                    )
                    with tf.control_dependencies([same]):
                        return content_weights[i] * tf.reduce_sum(tf.square(f[0] - content_features[0]))

                return term

            def style_fn(i):
                # d(style term)/dG at the whole image's G; the gradient of <D, G_tile>
                # with respect to the tile is the tile's share of the style gradient.
                def share(h):
                    d = -2.0 * style_weights[i] * recip * (grams[i] - combination_grams[i])
                    return tf.reduce_sum(d * self._gram(self._interior(i, h, crop)[0]))

                return share

            with tf.GradientTape() as tape:
                tape.watch(tile)

                def on_layer(i, h):
                    h, content_terms[i] = tap(h, ca[i], content_fn(i))
                    h, shares[i] = tap(h, sa[i], style_fn(i))
                    return h

                self.network(tile, on_layer)
                surrogate = tf.add_n(content_terms) + tf.add_n(shares)
            gradient = tape.gradient(surrogate, tile)
            return {
                "content_loss": tf.add_n(content_terms),  # at most one nonzero: exact
                "style_loss": tf.math.cumsum(tf.stack(style_terms))[-1],
                "style_layer_losses": tf.stack(style_terms),
                "gradient": tf.zeros_like(tile) if gradient is None else gradient,
            }


# --- the signatures -----------------------------------------------------------------


def signatures(weights: dict[str, vw.ConvWeights]) -> tuple[StyleLoss, dict]:
    """The module holding weights (one copy of the variables) and every signature
    of the export, traced on it, by name: SIGNATURES, AVG_SIGNATURES and
    MASKED_SIGNATURES."""
    module = StyleLoss(weights)
    # The notebook's own graph for its layers, on the same variables.
    module.notebook = StyleLoss(None, fixed=(NOTEBOOK_CONTENT_LAYERS, NOTEBOOK_STYLE_LAYERS), share=module)
    sigs = {}
    for prefix, m in (("", module), ("notebook_", module.notebook)):
        for name in ("recipe", "fast_targets", "fast"):
            sigs[prefix + name] = getattr(m, name).get_concrete_function()
    sigs.update(control_signatures(module))
    sigs.update(bf16_signatures(module))
    # Tile by tile, for images whose activations do not fit at once.
    module.tiled = TileLoss(share=module)
    for name in TILE_SIGNATURES:
        sigs[name] = getattr(module.tiled, name).get_concrete_function()
    return module, sigs


def control_signatures(module: StyleLoss) -> dict:
    """Issue 12's signatures on module's variables: avg_recipe, avg_fast_targets,
    avg_fast (average pooling, layers chosen at run time), masked_fast and
    avg_masked_fast (style masks). The notebook's signatures are untouched."""
    module.avg = StyleLoss(None, share=module, pooling="avg")
    sigs = {f"avg_{name}": getattr(module.avg, name).get_concrete_function() for name in ("recipe", "fast_targets", "fast")}
    sigs["masked_fast"] = module.masked_fast.get_concrete_function()
    sigs["avg_masked_fast"] = module.avg.masked_fast.get_concrete_function()
    return sigs

