"""Tests for the tiled signatures (tile_targets, tile_gradient): two tiles with a
halo give the fast signature's content and style terms and gradient."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from savedmodel import stylemodel as sm
from savedmodel.test_export import images, rel, run_fast

# Content and style to block2_conv2: the halo that keeps it exact is 16 pixels (a cut
# edge corrupts 3 positions at stride 2, rounded up to the 16-pixel alignment).
CW = np.zeros(13, np.float32)
CW[3] = 0.025
SW = np.zeros(13, np.float32)
SW[[1, 3]] = 1.0
HALO = 16


def _tiles(h: int, size: int) -> list[tuple[int, int, int, int]]:
    """Row tiles (lo, hi, start, end): interior [lo, hi), with halo [start, end)."""
    return [(lo, min(lo + size, h), max(0, lo - HALO), min(h, lo + size + HALO)) for lo in range(0, h, size)]


def tiled_vs_fast(model) -> tuple[float, float, float]:  # noqa: F811
    """Relative differences of content, style and gradient (2-norm), tiled vs fast."""
    h, w = 48, 40
    imgs = images(h, w, seed=3)
    whole = run_fast(model, imgs, CW, SW, 0.0)
    cw, sw = tf.constant(CW), tf.constant(SW)
    zero = tf.zeros(13, tf.float32)
    tiles = _tiles(h, 32)
    assert len(tiles) == 2

    def crop(lo, hi, start):
        return tf.constant([lo - start, 0, hi - lo, w], tf.float32)

    targets, style_grams, combination_grams = [], {}, {}
    for lo, hi, start, end in tiles:
        c = model.signatures["tile_targets"](tile=imgs[0][:, start:end], crop=crop(lo, hi, start), content_weights=cw, style_weights=zero)
        targets.append(c["content_features"])
        for dst, img in ((style_grams, imgs[1]), (combination_grams, imgs[2])):
            g = model.signatures["tile_targets"](tile=img[:, start:end], crop=crop(lo, hi, start), content_weights=zero, style_weights=sw)
            for n in sm.LAYERS:
                dst[n] = dst.get(n, 0) + g[f"gram_{n}"].numpy().astype(np.float64)
    grad = np.zeros((1, h, w, 3))
    content = 0.0
    for (lo, hi, start, end), cf in zip(tiles, targets):
        out = model.signatures["tile_gradient"](
            tile=imgs[2][:, start:end], crop=crop(lo, hi, start), image_size=tf.constant([h, w], tf.float32),
            content_features=cf, content_weights=cw, style_weights=sw,
            **{f"gram_{n}": tf.constant(style_grams[n], tf.float32) for n in sm.LAYERS},
            **{f"combination_gram_{n}": tf.constant(combination_grams[n], tf.float32) for n in sm.LAYERS},
        )  # fmt: skip
        grad[:, start:end] += out["gradient"].numpy()
        content += float(out["content_loss"])
        style = float(out["style_loss"])
    return rel(content, whole["content_loss"]), rel(style, whole["style_loss"]), rel(grad, whole["gradient"])


def test_tiles_match_fast(model):  # noqa: F811
    # Float32 rounding (the sums over positions run tile by tile). Measured: content
    # 1.1e-7, style 4.4e-7, gradient 8.3e-7 relative (2-norm).
    dc, ds, dg = tiled_vs_fast(model)
    assert dc < 1e-5 and ds < 1e-5 and dg < 1e-5, (dc, ds, dg)


@pytest.mark.parametrize(
    "crop, message",
    [
        ([8, 0, 16, 40], "multiples of 16"),
        ([0, 0, 64, 40], "inside the tile"),
        ([0, 0, 16.5, 40], "whole numbers"),
    ],
)
def test_tile_targets_bad_crop(model, crop, message):  # noqa: F811
    img = images(48, 40, seed=1)[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        model.signatures["tile_targets"](tile=img, crop=tf.constant(crop, tf.float32), content_weights=tf.constant(CW), style_weights=tf.constant(SW))
