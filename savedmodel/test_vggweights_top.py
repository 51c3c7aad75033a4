"""Tests for the with-top (classifier) functions of savedmodel.vggweights, on small
hand-made files; the full-size round trip through Keras runs in the classify
export that the Go tests build (savedmodel/classify.py checks Keras' values
against read_top's)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from savedmodel import vggweights as vw


def test_normal_rows_equals_one_draw():
    a = vw._normal_rows(np.random.RandomState(4), 0.5, (5000, 1000))  # two row blocks
    b = np.random.RandomState(4).normal(0, 0.5, size=(5000, 1000)).astype(np.float32)
    np.testing.assert_array_equal(a, b)


def test_shapes():
    assert vw.top_expected_shapes("fc1") == ((25088, 4096), (4096,))
    assert vw.top_expected_shapes("predictions") == ((4096, 1000), (1000,))
    assert vw.top_expected_shapes("block1_conv1") == ((3, 3, 3, 64), (64,))
    assert vw.ALL_TOP_LAYER_NAMES[-4:] == ("flatten", "fc1", "fc2", "predictions")
    # 138,357,544 parameters, as docs/recipe.md gives for VGG16 with its classifier.
    n = 0
    for name in vw.TOP_LAYER_NAMES:
        k, b = vw.top_expected_shapes(name)
        n += int(np.prod(k)) + int(np.prod(b))
    assert n == 138_357_544


def _file(path, dense: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]) -> str:
    """A with-top-like file: the seed-1 conv weights and dense layers of the given shapes."""
    conv = vw.random_weights(1)
    names = list(vw.ALL_LAYER_NAMES) + ["flatten"] + list(dense)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            g = f.create_group(name)
            if name in conv:
                k, b = conv[name].kernel, conv[name].bias
            elif name in dense:
                k, b = np.zeros(dense[name][0], np.float32), np.zeros(dense[name][1], np.float32)
            else:
                g.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            g.attrs["weight_names"] = np.array([f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()])
            g.create_dataset(f"{name}_W_1:0", data=k)
            g.create_dataset(f"{name}_b_1:0", data=b)
    return str(path)


@pytest.mark.parametrize(
    "dense, message",
    [
        ({"fc1": ((2048, 4096), (4096,)), "fc2": ((4096, 4096), (4096,)), "predictions": ((4096, 1000), (1000,))},
         "layer fc1: kernel shape (2048, 4096)"),
        ({"fc1": ((25088, 4096), (4096,)), "fc2": ((4096, 4096), (4096,))}, "missing VGG16 layers predictions"),
        ({}, "a no-top file (no fc1, fc2, predictions)"),
        ({"fc1": ((25088, 4096), (4096,)), "fc2": ((4096, 4096), (4096,)), "predictions": ((4096, 1000), (1000,)),
          "extra": ((1, 1), (1,))}, "unexpected layers with weights extra"),
    ],
)
def test_read_top_errors(tmp_path, dense, message):
    with pytest.raises(vw.WeightsError) as e:
        vw.read_top(_file(tmp_path / "w.h5", dense))
    assert message in str(e.value)


def test_write_top_checks_shapes(tmp_path):
    w = {n: vw.ConvWeights(np.zeros((1,), np.float32), np.zeros((1,), np.float32)) for n in vw.TOP_LAYER_NAMES}
    with pytest.raises(vw.WeightsError, match="layer block1_conv1: kernel"):
        vw.write_top(tmp_path / "w.h5", w)
    with pytest.raises(vw.WeightsError, match="missing layers fc2"):
        vw.write_top(tmp_path / "w.h5", {n: v for n, v in w.items() if n != "fc2"})
    with pytest.raises(ValueError, match="seed must be an integer"):
        vw.random_top_weights(-1)
