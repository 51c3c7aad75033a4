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


def test_static_masks(tmp_path: Path) -> None:
    # One pixel's luminance moves by 100, the rest by 7 (under the threshold 8):
    # the pixel and its 8 neighbours are not held.
    a = np.full((5, 6, 3), 100, dtype=np.uint8)
    b = np.full((5, 6, 3), 107, dtype=np.uint8)
    b[2, 4] = 200
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for arr, p in zip([a, b], paths):
        Image.fromarray(arr).save(p)
    (mask,) = flicker.static_masks(paths)
    want = np.ones((5, 6), dtype=bool)
    want[1:4, 3:6] = False
    assert (mask == want).all()
    # Over the held pixels the frames differ by 7 in every channel.
    assert flicker.masked_change(paths, [mask]) == pytest.approx(7)


def test_runs() -> None:
    names = [name for name, _ in flicker.runs(1, [10, 0.5])]
    assert names == ["independent", "chained", "chained-next1", "chained-temporal10", "chained-temporal0.5"]
    assert flicker.runs(0, [10])[-1][1] == ["--mode", "chained", "--temporal-weight", "10"]


def test_make_clip_object(tmp_path: Path) -> None:
    paths = flicker.make_clip(photo(tmp_path), tmp_path / "clip", frames=4, size=16, motion="object")
    frames = [np.asarray(Image.open(p), dtype=np.int16) for p in paths]
    # Only the sliding square's rows (6 to 9 of 16) change; its 4x4 square moves
    # by 4 pixels a frame.
    for a, b in zip(frames, frames[1:]):
        changed = np.abs(a - b).sum(axis=(1, 2)) > 0
        assert not changed[:6].any() and not changed[10:].any()
        assert changed[6:10].all()
    with pytest.raises(ValueError, match="motion"):
        flicker.make_clip(photo(tmp_path), tmp_path / "x", frames=2, size=16, motion="spin")


def test_stylize_runs() -> None:
    assert flicker.stylize_runs([]) == [("stylize", [])]
    assert flicker.stylize_runs([0.5, 0.9]) == [
        ("stylize", []), ("stylize-smoothing0.5", ["--smoothing", "0.5"]), ("stylize-smoothing0.9", ["--smoothing", "0.9"])]
    names = [n for n, _ in flicker.stylize_runs([0.9], [1])]
    assert names == ["stylize", "stylize-smoothing0.9", "stylize-hold1", "stylize-smoothing0.9-hold1"]
    assert flicker.stylize_runs([0.9], [1])[-1][1] == ["--smoothing", "0.9", "--hold", "1"]
