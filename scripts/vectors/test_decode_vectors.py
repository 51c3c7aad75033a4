"""Checks of scripts/vectors/decode_vectors.py: the checked-in decode vectors are what
the script makes with the pinned Pillow, and its hand-built files are what
they claim to be."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decode_vectors as dv  # noqa: E402

pytestmark = pytest.mark.skipif(not dv.SHARED.is_dir(), reason="shared images not found")


def test_vectors_up_to_date() -> None:
    doc = json.loads((dv.OUT / "vectors.json").read_text())
    by_name = {v["file"]: v for v in doc["vectors"]}
    built = dv.build()
    assert sorted(by_name) == sorted(name for name, _, _ in built)
    for name, data, _ in built:
        assert (dv.OUT / name).read_bytes() == data, f"{name} differs: run make vectors-decode"
        im = dv.pillow_rgb(data)
        assert hashlib.sha256(im.tobytes()).hexdigest() == by_name[name]["sha256"], name
        want = Image.open(dv.OUT / by_name[name]["want"])
        assert want.mode == "RGB" and want.tobytes() == im.tobytes(), name


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_bytes(endian: str, orientation: int) -> None:
    ex = Image.Exif()
    ex.load(dv.exif_bytes(orientation, endian))
    assert ex.get(0x0112) == orientation


def test_gif_build() -> None:
    idx = Image.frombytes("P", (3, 2), bytes([0, 1, 2, 2, 1, 0]))
    idx.putpalette([0, 0, 0] * 256)
    table = dv.pal([(9, 9, 9), (50, 60, 70), (200, 100, 0), (1, 2, 3)])
    im = Image.open(io.BytesIO(dv.gif_build((5, 4), table, (1, 1, 3, 2), dv.gif_parts(idx))))
    assert im.size == (5, 4)
    rgb = im.convert("RGB")
    assert rgb.getpixel((0, 0)) == (9, 9, 9)  # outside the frame: index 0
    assert [rgb.getpixel((x, 1)) for x in (1, 2, 3)] == [(9, 9, 9), (50, 60, 70), (200, 100, 0)]
