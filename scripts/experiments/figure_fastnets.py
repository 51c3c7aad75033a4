"""The README's feed-forward figure: one photo in six of the 26 styles and in two
style images through the arbitrary network, each made by `neuralstyle stylize`
(the Go binary), laid out in a labelled 3x3 grid.

    python scripts/experiments/figure_fastnets.py --bin bin/neuralstyle --fastnets build/fastnets/model \\
        --out docs/feedforward/grid.jpg

(``make figure-fastnets``.) The repository bundles one painting (Hokusai's Great
Wave, scripts/examples/wave.jpg); the second style image is a photo of a cat
(cmd/neuralstyle/testdata/chelsea.jpg), to show that any picture can be the style.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "scripts" / "examples" / "grace_hopper.jpg"
STYLES = (3, 8, 13, 16, 19, 22)
PAINTINGS = (
    ("Great Wave (arbitrary)", ROOT / "scripts" / "examples" / "wave.jpg"),
    ("cat photo (arbitrary)", ROOT / "cmd" / "neuralstyle" / "testdata" / "chelsea.jpg"),
)
LONG_SIDE = 320
LABEL = 18
PAD = 6


def grid(tiles: list[tuple[str, Image.Image]], columns: int) -> Image.Image:
    """Tiles in rows of columns on white, each under its label."""
    cw = max(t.width for _, t in tiles)
    ch = max(t.height for _, t in tiles)
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (PAD + columns * (cw + PAD), PAD + rows * (ch + LABEL + PAD)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, img) in enumerate(tiles):
        x, y = PAD + (i % columns) * (cw + PAD), PAD + (i // columns) * (ch + LABEL + PAD)
        draw.text((x + 2, y + 3), label, fill="black")
        sheet.paste(img, (x, y + LABEL))
    return sheet


def stylize(binary: str, fastnets: str, out: Path, args: list[str]) -> Image.Image:
    cmd = [binary, "stylize", "--content", str(PHOTO), "--out", str(out), "--fastnets", fastnets,
           "--long-side", str(LONG_SIDE), *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return Image.open(out).convert("RGB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/experiments/figure_fastnets.py", description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--fastnets", default=str(ROOT / "build" / "fastnets" / "model"))
    p.add_argument("--out", default=str(ROOT / "docs" / "feedforward" / "grid.jpg"))
    a = p.parse_args(argv)
    photo = Image.open(PHOTO).convert("RGB")
    photo.thumbnail((LONG_SIDE, LONG_SIDE), Image.LANCZOS)
    tiles = [("photo", photo)]
    with tempfile.TemporaryDirectory() as tmp:
        for s in STYLES:
            tiles.append((f"style {s}", stylize(a.bin, a.fastnets, Path(tmp) / f"{s}.png", ["--styles", str(s)])))
        for k, (label, painting) in enumerate(PAINTINGS):
            tiles.append((label, stylize(a.bin, a.fastnets, Path(tmp) / f"p{k}.png", ["--style", str(painting)])))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid(tiles, 3).save(out, quality=85, optimize=True)
    print(f"{out}: {out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
