"""Checks of scripts/vectors/preprocess_vectors.py: its formulas state the recipe, and the
vectors checked in under preprocess/resample/testdata/pixels and
preprocess/vggtensor/testdata/pixels are the ones it makes now."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import preprocess_vectors as pv  # noqa: E402

F32 = np.float32


def test_preprocess_recipe_quirk_and_caffe() -> None:
    im = Image.new("RGB", (1, 1), (200, 100, 50))
    # Recipe: means subtracted from R, G, B while RGB, then reversed to BGR.
    assert pv.preprocess(im, "recipe").reshape(3).tolist() == [
        F32(50) - F32(123.68), F32(100) - F32(116.779), F32(200) - F32(103.939)]
    # Keras caffe: reversed first, then B, G, R means.
    assert pv.preprocess(im, "caffe").reshape(3).tolist() == [
        F32(50) - F32(103.939), F32(100) - F32(116.779), F32(200) - F32(123.68)]


def test_deprocess_inverts_in_float32_and_truncates() -> None:
    im = Image.fromarray((np.arange(256 * 3) % 256).astype(np.uint8).reshape(16, 16, 3))
    for mode in ("recipe", "caffe"):
        x = pv.preprocess(im, mode)
        assert (pv.deprocess(x, 16, 16, mode) == np.asarray(im)).all()
        # float64, as the optimizer returns x: truncation loses a level on R and B.
        y = pv.deprocess(x.astype(np.float64), 16, 16, mode).astype(int)
        d = np.asarray(im).astype(int) - y
        assert set(np.unique(d[..., 1])) == {0}
        assert set(np.unique(d[..., 0])) == {0, 1} and set(np.unique(d[..., 2])) == {0, 1}


def test_noise_is_numpy_legacy_uniform() -> None:
    x = pv.noise(42, 3, 2)
    rs = np.random.RandomState(42)
    assert x.shape == (1, 2, 3, 3)
    assert (x == rs.random_sample((1, 2, 3, 3)) * 255.0 - 128.0).all()


@pytest.mark.skipif(not pv.SHARED.is_dir(), reason=f"{pv.SHARED} (the shared source images) not present")
def test_vectors_up_to_date(tmp_path: Path) -> None:
    got_dirs = (tmp_path / "resample", tmp_path / "vggtensor")
    pv.generate(*got_dirs)
    for want_dir, got_dir in zip((pv.OUT_RESAMPLE, pv.OUT_VGGTENSOR), got_dirs):
        want = json.loads((want_dir / "vectors.json").read_text())
        got = json.loads((got_dir / "vectors.json").read_text())
        for key in want:
            assert got[key] == want[key], f"{want_dir}/vectors.json[{key!r}] is stale: run make vectors-preprocess"
        assert got.keys() == want.keys()
        assert sorted(p.name for p in want_dir.iterdir()) == sorted(p.name for p in got_dir.iterdir())
        for p in sorted(want_dir.iterdir()):
            q = got_dir / p.name
            if p.suffix == ".png":
                assert Image.open(q).tobytes() == Image.open(p).tobytes(), p
            elif p.name != "vectors.json":
                assert q.read_bytes() == p.read_bytes(), p
