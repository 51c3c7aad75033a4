from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import flicker


def photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(path)
    return path


def test_make_clip(tmp_path: Path) -> None:
    paths = flicker.make_clip(photo(tmp_path), tmp_path / "clip", frames=5, size=16)
    assert [p.name for p in paths] == [f"frame_000{i}.png" for i in range(1, 6)]
    for p in paths:
        assert Image.open(p).size == (16, 16)
    # A slow pan: consecutive frames differ, but each pair by less than the
    # first and last frames do.
    pair = flicker.mean_change(paths[:2])
    assert 0 < pair < flicker.mean_change([paths[0], paths[-1]])


def test_mean_change(tmp_path: Path) -> None:
    values = [10, 10, 40]
    paths = []
    for i, v in enumerate(values):
        p = tmp_path / f"f{i}.png"
        Image.new("RGB", (4, 3), (v, v, v)).save(p)
        paths.append(p)
    assert flicker.mean_change(paths) == pytest.approx((0 + 30) / 2)
    with pytest.raises(ValueError):
        flicker.mean_change(paths[:1])
    Image.new("RGB", (5, 3)).save(paths[1])
    with pytest.raises(ValueError, match="size 5x3"):
        flicker.mean_change(paths)
