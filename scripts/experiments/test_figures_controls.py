"""Tests of scripts/experiments/figures_controls.py's preparation (no transfer runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures_controls as fc  # noqa: E402


def _model(tmp_path: Path, weights: dict) -> Path:
    (tmp_path / "neuralstyle.json").write_text(json.dumps({"weights": weights}))
    return tmp_path


def test_caption_names_the_weights(tmp_path):
    hed = {"source": "file", "origin": {"name": "hed"}}
    assert fc.caption(_model(tmp_path, hed)) == "made with the HED backbone, not ImageNet"
    assert "random weights (seed 1)" in fc.caption(_model(tmp_path, {"source": "random", "seed": 1}))
    assert fc.caption(_model(tmp_path, {"source": "imagenet"})) == "made with imagenet weights"


def test_masks_partition_the_image(tmp_path):
    left, right = (Image.open(p) for p in fc.write_masks(32, tmp_path))
    a, b = list(left.getdata()), list(right.getdata())
    assert all(x + y == 255 for x, y in zip(a, b)) and a[0] == 255 and a[31] == 0


def test_every_figure_has_a_plain_or_its_own_style():
    masks = (Path("l.png"), Path("r.png"))
    figs = fc.figures(Path("a.jpg"), Path("b.jpg"), masks)
    assert {f.name for f in figs} == {"style_blend", "style_scale", "color", "pooling", "optimizer", "style_mask"}
    for f in figs:
        assert f.variants, f.name
        for v in f.variants:
            if "--style-mask" in v.args or "--style-blend" in v.args:
                assert v.args[v.args.index("--style") + 1] == "a.jpg,b.jpg"


def test_grid_size_and_caption(tmp_path):
    tiles = [("content", Image.new("RGB", (50, 40), "red")), ("x", Image.new("RGB", (10, 10), "blue"))]
    img = fc.grid(tiles, 64, "--flag", "made with the HED backbone, not ImageNet")
    assert img.size == (128, fc.CAPTION_H + 64 + fc.LABEL_H + fc.CAPTION_H)
    assert img.getpixel((10, fc.CAPTION_H + 10)) == (255, 0, 0)
    assert img.getpixel((64 + 10, fc.CAPTION_H + 10)) == (0, 0, 255)
