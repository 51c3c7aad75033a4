"""StyleLossBF16's written-out gradients (style, content and total variation terms)
against TensorFlow's autodiff of StyleLoss's own terms, in this process on random
weights (no export)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from savedmodel import stylemodel as sm
from savedmodel import vggweights as vw


@pytest.fixture(scope="module")
def nets():
    base = sm.StyleLoss(vw.random_weights(1))

    class Autodiff(sm.StyleLossBF16):
        """The bf16 graph with StyleLoss's terms, differentiated by autodiff (the
        graph before the gradients were written out)."""

        _style_term = sm.StyleLoss._style_term
        _content_term = sm.StyleLoss._content_term
        _tv = staticmethod(sm.StyleLoss._tv)

    return base, sm.StyleLossBF16(None, share=base), Autodiff(None, share=base)


def value_and_gradient(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return float(y), tape.gradient(y, x).numpy().astype(np.float64)


def relmax(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


rng = np.random.default_rng(11)
F = tf.constant(rng.uniform(0, 3, (1, 24, 20, 64)).astype(np.float32))  # ReLU outputs
T = rng.uniform(0, 300, (64, 64)).astype(np.float32)
T = tf.constant(T + T.T)  # a Gram target is symmetric
P = tf.constant(rng.uniform(0, 3, (1, 24, 20, 64)).astype(np.float32))
X = tf.constant(rng.uniform(-120, 120, (1, 24, 20, 3)).astype(np.float32))
R = tf.constant(1e-6)

# Each term's loss and gradient in float32, written out against autodiff. Measured
# (these inputs): style and content the same bits; total variation the same loss
# here (1.2e-7 apart on other random images: s * sqrt(sqrt(s)) rounds otherwise
# than pow(s, 1.25)) and 1.1e-7 of the largest gradient entry apart. Bounds: a few
# float32 ulps (1.2e-7).
TERMS = {
    "style": (lambda m: (lambda f: m._style_term(f, T, R)), F, 0.0, 0.0),
    "content": (lambda m: (lambda f: m._content_term(f, P)), F, 0.0, 0.0),
    "tv": (lambda m: m._tv, X, 5e-7, 5e-7),
}


@pytest.mark.parametrize("name", sorted(TERMS))
def test_term_gradient_is_autodiffs(nets, name):
    base, bf16, _ = nets
    term, x, loss_tol, grad_tol = TERMS[name]
    want_loss, want_grad = value_and_gradient(term(base), x)
    got_loss, got_grad = value_and_gradient(term(bf16), x)
    assert abs(got_loss / want_loss - 1) <= loss_tol
    assert relmax(got_grad, want_grad) <= grad_tol


def test_style_term_gradient_in_bfloat16(nets):
    # On bfloat16 activations (as in fast_bf16) the gradient is one bfloat16 matmul
    # of F with the difference rounded to bfloat16, autodiff's two float32 matmuls
    # rounded to bfloat16 at the end. Measured: 5.1e-3 of the largest entry apart,
    # one bfloat16 ulp of the largest entries; bound two ulps of the largest
    # binade, 2^-7.
    base, bf16, _ = nets
    f = tf.cast(F, tf.bfloat16)
    want_loss, want_grad = value_and_gradient(lambda h: base._style_term(tf.cast(h, tf.float32), T, R), f)
    got_loss, got_grad = value_and_gradient(lambda h: bf16._style_term(h, T, R), f)
    assert got_loss == want_loss  # the same float32 Gram of the same values
    assert relmax(got_grad, want_grad) <= 2**-7


def test_tv_gradient_where_the_image_is_flat(nets):
    # s = 0 everywhere: sqrt's derivative is infinite there, but the gradient is
    # written with s^0.25 itself, which is 0.
    _, bf16, _ = nets
    loss, grad = value_and_gradient(bf16._tv, tf.fill((1, 20, 20, 3), 7.0))
    assert loss == 0 and np.all(grad == 0)


def fast_of(models, seed: int, shape: tuple, tv_weight: float) -> list[dict]:
    """Each model's fast signature on the same random content, style and
    combination images (seeded), the notebook's layers."""
    r = np.random.default_rng(seed)
    img = [tf.constant(r.uniform(-120, 120, shape).astype(np.float32)) for _ in range(3)]
    cw, sw = sm.layer_weights()
    out = []
    for m in models:
        t = m.fast_targets(img[0], img[1], cw, sw)
        grams = [t[f"gram_{n}"] for n in sm.LAYERS]
        out.append(m.fast(img[2], t["content_features"], grams, cw, sw, tf.constant(tv_weight)))
    return out


@pytest.mark.parametrize("tv_weight", [1.0, 0.0])
def test_fast_bf16_is_the_autodiff_graphs(nets, tv_weight):
    # The whole fast signature of the bf16 graph, written-out gradients against the
    # autodiff ones, 64x64, the notebook's layers. Measured on images of seeds 3 to
    # 5: the same loss bits; the gradient 1.9e-4 to 6.1e-4 of its largest entry
    # apart with total variation, 3.0e-3 to 3.5e-3 without (where the style terms'
    # bfloat16 gradients are all of it). Bounds: 1e-6 and about 3x the worst, 1e-2.
    _, bf16, autodiff = nets
    got, want = fast_of((bf16, autodiff), 3, (1, 64, 64, 3), tv_weight)
    assert abs(float(got["loss"]) / float(want["loss"]) - 1) <= 1e-6
    assert relmax(got["gradient"].numpy(), want["gradient"].numpy()) <= 1e-2


def test_skipping_the_unit_scale_keeps_the_bits(nets):
    # tap's skip_unit_scale leaves out a multiplication by exactly 1: the same bits.
    _, bf16, _ = nets

    class Scaled(sm.StyleLossBF16):
        _skip_unit_scale = False

    scaled = Scaled(None, share=bf16)
    out = fast_of((bf16, scaled), 4, (1, 48, 40, 3), 1.0)
    for k in ("loss", "gradient", "style_layer_losses"):
        assert np.array_equal(out[0][k].numpy().view(np.uint32), out[1][k].numpy().view(np.uint32)), k
