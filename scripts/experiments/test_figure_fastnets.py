"""The figure's layout (no networks run)."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figure_fastnets as ff  # noqa: E402


def test_grid_places_tiles_under_labels():
    tiles = [(str(i), Image.new("RGB", (20, 10), (10 * i, 0, 0))) for i in range(9)]
    g = ff.grid(tiles, 3)
    assert g.size == (ff.PAD + 3 * (20 + ff.PAD), ff.PAD + 3 * (10 + ff.LABEL + ff.PAD))
    x, y = ff.PAD + (20 + ff.PAD), ff.PAD + (10 + ff.LABEL + ff.PAD) + ff.LABEL  # tile 4
    assert g.getpixel((x, y)) == (40, 0, 0)
    label = g.crop((ff.PAD, ff.PAD, ff.PAD + 20, ff.PAD + ff.LABEL))
    assert min(p[0] for p in label.getdata()) < 128  # the label's text


def test_inputs_exist():
    assert ff.PHOTO.exists()
    for _, p in ff.PAINTINGS:
        assert p.exists(), p
