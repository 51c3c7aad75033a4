"""Tests of the exporter's signatures for issue 12's controls: average pooling
(avg_recipe, avg_fast_targets, avg_fast) against a Keras VGG16 whose pools are
AveragePooling2D, and style masks (masked_fast, avg_masked_fast) against fast and a
float64 NumPy computation from Keras' features."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from savedmodel import kernels
from savedmodel import stylemodel as sm
from savedmodel import vggweights as vw
from savedmodel.test_export import ONLY, images, rel, run_fast, run_recipe

SEED = 1


def keras_features(pooling: str):
    """Keras' VGG16 on the random weights, its pools replaced by pooling's 2x2
    stride-2 valid Keras layer; returns a model giving the 13 conv outputs."""
    import keras

    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"vgg16-controls-{os.getpid()}.h5")
    vw.write_random(path, SEED)
    try:
        base = keras.applications.VGG16(include_top=False, weights=path, input_shape=(None, None, 3))
    finally:
        os.remove(path)
    inp = keras.Input((None, None, 3))
    x, outs = inp, []
    for layer in base.layers[1:]:
        if isinstance(layer, keras.layers.MaxPooling2D):
            x = (keras.layers.AveragePooling2D if pooling == "avg" else keras.layers.MaxPooling2D)(2, 2, "valid")(x)
        else:
            x = layer(x)
            outs.append(x)
    outs = outs[: len(vw.LAYER_NAMES)]  # block5_pool comes after the last conv
    return keras.Model(inp, outs)


def loss_from_features(fc, fs, fx, x, cw, sw, tvw, masks=None) -> dict:
    """docs/recipe.md section 3 in float64 from given features (lists of (h, w, C)). With
    masks (K, H, W) and fs a list of K styles' features: masked_fast's term."""
    H, W = x.shape[:2]
    r = 1.0 / (4.0 * 9 * (H * W) ** 2)
    content = sum(cw[i] * np.sum((fx[i] - fc[i]) ** 2) for i in range(13) if cw[i])
    style = np.zeros(13)
    for i in range(13):
        if not sw[i]:
            continue
        a_x = fx[i].reshape(-1, fx[i].shape[2])
        if masks is None:
            a_s = fs[i].reshape(-1, fs[i].shape[2])
            style[i] = sw[i] * r * np.sum((a_s.T @ a_s - a_x.T @ a_x) ** 2)
            continue
        for k, m in enumerate(masks):
            for _ in range(sm.BLOCK[i] - 1):  # 2x2 average pools, valid
                h2, w2 = m.shape[0] // 2, m.shape[1] // 2
                m = m[: 2 * h2, : 2 * w2].reshape(h2, 2, w2, 2).mean(axis=(1, 3))
            a_s = fs[k][i].reshape(-1, fs[k][i].shape[2])
            mx = a_x * m.reshape(-1, 1)
            style[i] += sw[i] * r * np.sum((np.mean(m**2) * (a_s.T @ a_s) - mx.T @ mx) ** 2)
    a = x[:-1, :-1] - x[1:, :-1]
    b = x[:-1, :-1] - x[:-1, 1:]
    tv = tvw * np.sum((a**2 + b**2) ** 1.25)
    return {"content_loss": content, "style_layer_losses": style, "style_loss": style.sum(), "tv_loss": tv,
            "loss": content + style.sum() + tv}  # fmt: skip


def f64(keras_out) -> list[np.ndarray]:
    return [np.asarray(t)[0].astype(np.float64) for t in keras_out]


# Same bounds as test_export's float32-against-float64 checks (measured there: terms
# 1.2e-6, gradients 1.1e-5); here measured: avg terms within 3e-7, grams 2e-7.
TERM_TOL = 5e-6


@pytest.mark.parametrize("size", [(32, 32), (40, 56)])
def test_avg_pooling_equals_keras_average_pooled_vgg16(model, size):
    feats = keras_features("avg")
    imgs = images(*size, seed=size[1] + 1)
    cw, sw, tvw = ONLY["notebook"]
    fc, fs, fx = (f64(feats(i)) for i in imgs)
    want = loss_from_features(fc, fs, fx, imgs[2][0].astype(np.float64), cw, sw, tvw)
    got = run_recipe(model, imgs, cw, sw, tvw, prefix="avg_")
    for k in ("loss", "content_loss", "style_loss", "tv_loss", "style_layer_losses"):
        assert rel(got[k], want[k]) < TERM_TOL, (k, got[k], want[k])
    # The Gram targets, layer by layer.
    t = model.signatures["avg_fast_targets"](content=imgs[0], style=imgs[1], content_weights=cw, style_weights=sw)
    for i, name in enumerate(vw.LAYER_NAMES):
        g = t[f"gram_{name}"].numpy()
        if sw[i]:
            a = fs[i].reshape(-1, fs[i].shape[2])
            assert rel(g, a.T @ a) < TERM_TOL, name
        else:
            assert not np.any(g), name
    # fast agrees with recipe as with max pooling (test_export's bound).
    fast = run_fast(model, imgs, cw, sw, tvw, prefix="avg_")
    assert abs(fast["loss"] - got["loss"]) <= 1e-5 * abs(got["loss"])
    assert rel(fast["gradient"], got["gradient"]) < 1e-5
    # And pooling matters: the max-pooled loss differs well beyond rounding.
    assert rel(run_recipe(model, imgs, cw, sw, tvw)["loss"], got["loss"]) > 1e-3


def test_avg_gradient_central_differences(model):
    # As test_export's check (h = 0.03 along the scaled gradient plus noise, measured
    # worst 8.7e-4 relative there).
    cw, sw, tvw = ONLY["notebook"]
    imgs = images(32, 40, seed=12)
    g = run_recipe(model, imgs, cw, sw, tvw, prefix="avg_")["gradient"].astype(np.float64)
    d = g / np.sqrt(np.mean(g**2)) + np.random.RandomState(12).normal(size=g.shape)
    h = 0.03
    lp = run_recipe(model, [imgs[0], imgs[1], (imgs[2] + h * d).astype(np.float32)], cw, sw, tvw, prefix="avg_")["loss"]
    lm = run_recipe(model, [imgs[0], imgs[1], (imgs[2] - h * d).astype(np.float32)], cw, sw, tvw, prefix="avg_")["loss"]
    fd = (float(lp) - float(lm)) / (2 * h)
    assert abs(fd - np.sum(g * d)) < 3e-3 * abs(np.sum(g * d)), (fd, np.sum(g * d))


def run_masked(model, imgs_styles, combination, masks, cw, sw, tvw, prefix=""):
    """masked_fast with the styles' Gram targets from fast_targets, stacked."""
    cw, sw = tf.constant(cw, tf.float32), tf.constant(sw, tf.float32)
    targets = [
        {k: v.numpy() for k, v in model.signatures[prefix + "fast_targets"](
            content=imgs_styles[0], style=s, content_weights=cw, style_weights=sw).items()}
        for s in imgs_styles[1:]
    ]  # fmt: skip
    grams = {f"gram_{n}": np.stack([t[f"gram_{n}"] for t in targets]) for n in vw.LAYER_NAMES}
    out = model.signatures[prefix + "masked_fast"](
        combination=combination, content_features=targets[0]["content_features"], masks=masks.astype(np.float32),
        content_weights=cw, style_weights=sw, tv_weight=tf.constant(tvw, tf.float32), **grams,
    )  # fmt: skip
    return {k: v.numpy() for k, v in out.items()}


# A mask of ones is not the arithmetic of no mask: the masked graph multiplies by the
# mask and forms the Gram matrices as a batched matmul, so its float32 sums run in
# another order, and bit equality was never a property of the two graphs (it held on
# one CPU only). Measured at this test's 40x56, max and avg pooling: every term equal
# on an AMD EPYC with AVX2 only (Zen 3), the gradient within 4.5e-8 relative; the
# style term 1 and 2 float32 ulps apart on an AMD EPYC with AVX-512 and AVX512-BF16
# (Zen 4) and on an Intel Xeon with AVX-512 and AMX alike. On the Intel also at 32x32,
# 48x80 and 64x64: the loss, content and tv terms equal, the style term 0 to 7 ulps
# apart (up to 5.5e-7 relative, at 48x80), the gradient within 1.8e-7. The bounds are
# about four and five times the largest.
MASK_OF_ONES_TERM_TOL = 2e-6
MASK_OF_ONES_GRAD_TOL = 1e-6


@pytest.mark.parametrize("prefix", ["", "avg_"])
def test_mask_of_ones_matches_no_mask(model, prefix, request):
    kernels.record(request.node.nodeid, False, "a mask of ones against no mask: two graphs, sums in another order")
    imgs = images(40, 56, seed=3)
    cw, sw, tvw = ONLY["notebook"]
    plain = run_fast(model, imgs, cw, sw, tvw, prefix=prefix)
    masked = run_masked(model, imgs[:2], imgs[2], np.ones((1, 40, 56)), cw, sw, tvw, prefix=prefix)
    for k in ("loss", "content_loss", "style_loss", "tv_loss"):
        assert rel(masked[k], plain[k]) < MASK_OF_ONES_TERM_TOL, (k, masked[k], plain[k])
    assert rel(masked["gradient"], plain["gradient"]) < MASK_OF_ONES_GRAD_TOL


def test_two_masks_against_numpy(model):
    feats = keras_features("max")
    h, w = 40, 56
    rs = np.random.RandomState(5)
    content, style_a, style_b, x = ((rs.uniform(0, 255, (1, h, w, 3)) - 128).astype(np.float32) for _ in range(4))
    left = np.zeros((h, w))
    left[:, : w // 2 + 3] = 1.0
    left[:, w // 2 + 3 : w // 2 + 9] = np.linspace(1, 0, 6)  # a soft edge
    masks = np.stack([left, 1 - left])
    cw, sw, tvw = ONLY["notebook"]
    got = run_masked(model, [content, style_a, style_b], x, masks, cw, sw, tvw)
    fc, fa, fb, fx = (f64(feats(i)) for i in (content, style_a, style_b, x))
    want = loss_from_features(fc, [fa, fb], fx, x[0].astype(np.float64), cw, sw, tvw, masks=masks)
    for k in ("loss", "content_loss", "style_loss", "tv_loss", "style_layer_losses"):
        assert rel(got[k], want[k]) < TERM_TOL, (k, got[k], want[k])
    # The gradient, by central differences as in test_export.
    g = got["gradient"].astype(np.float64)
    d = g / np.sqrt(np.mean(g**2)) + rs.normal(size=g.shape)
    step = 0.03
    lp = run_masked(model, [content, style_a, style_b], (x + step * d).astype(np.float32), masks, cw, sw, tvw)["loss"]
    lm = run_masked(model, [content, style_a, style_b], (x - step * d).astype(np.float32), masks, cw, sw, tvw)["loss"]
    fd = (float(lp) - float(lm)) / (2 * step)
    assert abs(fd - np.sum(g * d)) < 3e-3 * abs(np.sum(g * d)), (fd, np.sum(g * d))


def test_masks_of_the_wrong_size_fail(model):
    imgs = images(32, 32, seed=4)
    cw, sw, tvw = ONLY["notebook"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="masks must be"):
        run_masked(model, imgs[:2], imgs[2], np.ones((1, 32, 16)), cw, sw, tvw)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"masks must be in \[0, 1\]"):
        run_masked(model, imgs[:2], imgs[2], np.full((1, 32, 32), 2.0), cw, sw, tvw)


def test_pooling_argument():
    with pytest.raises(ValueError, match="pooling 'min'"):
        sm.StyleLoss(vw.random_weights(SEED), pooling="min")
