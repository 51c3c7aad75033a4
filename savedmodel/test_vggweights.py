"""Tests for savedmodel.vggweights: format round trip, Keras compatibility, validation."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from savedmodel import vggweights as vw


@pytest.fixture(scope="module")
def seed1(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("w") / "vgg16-seed1.h5"
    vw.write_random(path, 1)
    return str(path)


def test_round_trip_and_determinism(seed1):
    got = vw.read(seed1)
    want = vw.random_weights(1)
    assert list(got) == list(vw.LAYER_NAMES)
    for name in vw.LAYER_NAMES:
        assert got[name].kernel.dtype == np.float32
        np.testing.assert_array_equal(got[name].kernel, want[name].kernel)
        np.testing.assert_array_equal(got[name].bias, want[name].bias)
    other = vw.random_weights(2)
    assert not np.array_equal(other["block1_conv1"].kernel, want["block1_conv1"].kernel)


def test_he_normal_scale():
    # The documented choice: kernel std sqrt(2/(9*in)), bias std 0.5.
    w = vw.random_weights(3)
    k = w["block3_conv1"].kernel  # 9*128*256 draws: the std estimate is good to ~0.3%
    assert abs(k.std() / np.sqrt(2 / (9 * 128)) - 1) < 0.01
    assert abs(np.concatenate([w[n].bias for n in vw.LAYER_NAMES]).std() / 0.5 - 1) < 0.05


def test_layout_matches_keras_notop_file(seed1):
    with h5py.File(seed1, "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == list(vw.ALL_LAYER_NAMES)
        assert list(f["block1_pool"].attrs["weight_names"]) == []
        wn = [n.decode() for n in f["block1_conv1"].attrs["weight_names"]]
        assert wn == ["block1_conv1_W_1:0", "block1_conv1_b_1:0"]
        assert f["block1_conv1"][wn[0]].shape == (3, 3, 3, 64)


def test_keras_vgg16_loads_it(seed1):
    import keras

    model = keras.applications.VGG16(include_top=False, weights=seed1)
    w = vw.read(seed1)
    for name in vw.LAYER_NAMES:
        k, b = model.get_layer(name).get_weights()
        np.testing.assert_array_equal(k, w[name].kernel)
        np.testing.assert_array_equal(b, w[name].bias)


def _rewrite(src: str, dst, edit) -> str:
    with h5py.File(src, "r") as fi, h5py.File(dst, "w") as fo:
        for k, v in fi.attrs.items():
            fo.attrs[k] = v
        for name in fi:
            fi.copy(fi[name], fo, name=name)
        edit(fo)
    return str(dst)


def _drop_layer(f):
    del f["block3_conv2"]
    names = [n for n in f.attrs["layer_names"] if n != b"block3_conv2"]
    f.attrs["layer_names"] = np.array(names)


def _wrong_shape(f):
    g = f["block4_conv1"]
    del g["block4_conv1_W_1:0"]
    g.create_dataset("block4_conv1_W_1:0", data=np.zeros((3, 3, 128, 512), np.float32))


def _extra_layer(f):
    g = f.create_group("fc1")
    g.attrs["weight_names"] = np.array([b"fc1_W_1:0", b"fc1_b_1:0"])
    g.create_dataset("fc1_W_1:0", data=np.zeros((2, 2), np.float32))
    g.create_dataset("fc1_b_1:0", data=np.zeros((2,), np.float32))
    f.attrs["layer_names"] = np.array(list(f.attrs["layer_names"]) + [b"fc1"])


def _no_layer_names(f):
    del f.attrs["layer_names"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (_drop_layer, "missing VGG16 conv layers block3_conv2"),
        (_wrong_shape, "layer block4_conv1: kernel shape (3, 3, 128, 512)"),
        (_extra_layer, "unexpected layers with weights fc1"),
        (_no_layer_names, "no layer_names attribute"),
    ],
)
def test_bad_files(seed1, tmp_path, edit, message):
    bad = _rewrite(seed1, tmp_path / "bad.h5", edit)
    with pytest.raises(vw.WeightsError) as e:
        vw.read(bad)
    assert message in str(e.value)


def test_not_a_file(tmp_path):
    with pytest.raises(vw.WeightsError, match="no such file"):
        vw.read(tmp_path / "absent.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(vw.WeightsError, match="not an HDF5 file"):
        vw.read(junk)


def test_cli(tmp_path):
    out = tmp_path / "sub" / "w.h5"
    assert vw.main(["random", "--seed", "5", "--out", str(out)]) == 0
    np.testing.assert_array_equal(vw.read(out)["block5_conv3"].bias, vw.random_weights(5)["block5_conv3"].bias)
    assert vw.main(["check", str(tmp_path / "absent.h5")]) == 1
