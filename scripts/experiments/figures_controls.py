"""The README's figures of the transfer controls (issue 12): one small grid per
control, made by running ``neuralstyle transfer`` on the bundled images.

    python scripts/experiments/figures_controls.py --bin bin/neuralstyle --model build/model-hed --out docs/controls

(``make figures-controls``). Python prepares (masks, the grids), Go runs. Every
figure is captioned with the weights it was made with, read from the model's
neuralstyle.json: with HED's backbone (``make model-hed``) "made with the HED
backbone, not ImageNet". Small on purpose (128 px, 3 iterations of 10
evaluations): they show what each control does, not finished pictures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "scripts" / "examples" / "grace_hopper.jpg"
STYLE = ROOT / "scripts" / "examples" / "wave.jpg"
STYLE2 = ROOT.parent / "shared" / "images" / "styles" / "starry_night.jpg"

LABEL_H = 14  # pixels of label under each tile
CAPTION_H = 16


@dataclass
class Variant:
    label: str
    args: list[str] = field(default_factory=list)


@dataclass
class Figure:
    name: str  # file name without .png
    title: str
    inputs: list[str]  # labels of the input tiles: "content", "style", "style 2", "masks"
    variants: list[Variant]


def figures(style: Path, style2: Path, masks: tuple[Path, Path]) -> list[Figure]:
    """The grids: for each control, the runs side by side (the first is the plain run)."""
    two = f"{style},{style2}"
    return [
        Figure("style_blend", "--style wave,starry --style-blend", ["content", "style", "style 2"], [
            Variant("1,0", ["--style", two, "--style-blend", "1,0"]),
            Variant("0.5,0.5", ["--style", two, "--style-blend", "0.5,0.5"]),
            Variant("0,1", ["--style", two, "--style-blend", "0,1"]),
        ]),
        Figure("style_scale", "--style-scale", ["content", "style"], [
            Variant("0.5", ["--style-scale", "0.5"]), Variant("1", []), Variant("2", ["--style-scale", "2"]),
        ]),
        Figure("color", "--original-colors, --color-transfer", ["content", "style"], [
            Variant("plain", []), Variant("original colors", ["--original-colors"]),
            Variant("luminance", ["--color-transfer", "luminance"]), Variant("histogram", ["--color-transfer", "histogram"]),
        ]),
        Figure("pooling", "--pooling", ["content", "style"], [Variant("max", []), Variant("avg", ["--pooling", "avg"])]),
        Figure("optimizer", "--optimizer (30 evaluations each)", ["content", "style"], [
            Variant("lbfgs", []), Variant("adam", ["--optimizer", "adam"]),
        ]),
        Figure("style_mask", "--style wave,starry --style-mask left,right", ["content", "style", "style 2", "masks"], [
            Variant("masked", ["--style", two, "--style-mask", f"{masks[0]},{masks[1]}"]),
        ]),
    ]  # fmt: skip


def caption(model: Path) -> str:
    """Which weights made the pictures, from the model's neuralstyle.json."""
    meta = json.loads((model / "neuralstyle.json").read_text())
    w = meta.get("weights", {})
    origin = w.get("origin")
    if origin and origin.get("name") == "hed":
        return "made with the HED backbone, not ImageNet"
    if origin:
        return f"made with {origin['name']} weights, not ImageNet"
    if w.get("source") == "random":
        return f"made with random weights (seed {w.get('seed')}): meaningless pictures"
    return f"made with {w.get('source', 'unknown')} weights"


def write_masks(size: int, folder: Path) -> tuple[Path, Path]:
    """Left and right halves, white where each style applies."""
    left = Image.new("L", (size, size), 0)
    ImageDraw.Draw(left).rectangle([0, 0, size // 2 - 1, size - 1], fill=255)
    right = Image.eval(left, lambda v: 255 - v)
    paths = (folder / "mask_left.png", folder / "mask_right.png")
    left.save(paths[0])
    right.save(paths[1])
    return paths


def grid(tiles: list[tuple[str, Image.Image]], size: int, title: str, note: str) -> Image.Image:
    """One row of labelled tiles, the control's flag above, the weights' note below."""
    w = size * len(tiles)
    out = Image.new("RGB", (w, CAPTION_H + size + LABEL_H + CAPTION_H), "white")
    d = ImageDraw.Draw(out)
    d.text((4, 2), title, fill="black")
    for i, (label, img) in enumerate(tiles):
        out.paste(img.convert("RGB").resize((size, size)), (i * size, CAPTION_H))
        d.text((i * size + 4, CAPTION_H + size + 1), label, fill="black")
    d.text((4, CAPTION_H + size + LABEL_H + 2), note, fill="dimgray")
    return out


def run(binary: Path, model: Path, out: Path, args: list[str], size: int, iterations: int, maxfun: int) -> None:
    style = [] if "--style" in args else ["--style", str(STYLE)]
    cmd = [str(binary), "transfer", "--model", str(model), "--content", str(CONTENT), *style,
           "--size", str(size), "--iterations", str(iterations), "--maxfun", str(maxfun), "--quiet", "--out", str(out), *args]  # fmt: skip
    subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/experiments/figures_controls.py", description=__doc__.split("\n")[0])
    p.add_argument("--bin", type=Path, default=ROOT / "bin" / "neuralstyle")
    p.add_argument("--model", type=Path, default=ROOT / "build" / "model-hed")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "controls")
    p.add_argument("--style2", type=Path, default=STYLE2, help="the second style image")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--maxfun", type=int, default=10)
    p.add_argument("--only", help="comma-separated figure names")
    a = p.parse_args(argv)
    for path in (a.bin, a.model / "neuralstyle.json", a.style2):
        if not path.exists():
            print(f"figures_controls: {path}: not found", file=sys.stderr)
            return 1
    note = caption(a.model)
    a.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        masks = write_masks(a.size, tmp)
        inputs = {"content": Image.open(CONTENT), "style": Image.open(STYLE), "style 2": Image.open(a.style2),
                  "masks": Image.open(masks[0])}  # fmt: skip
        for fig in figures(STYLE, a.style2, masks):
            if a.only and fig.name not in a.only.split(","):
                continue
            tiles = [(k, inputs[k]) for k in fig.inputs]
            for i, v in enumerate(fig.variants):
                dst = tmp / f"{fig.name}_{i}.png"
                run(a.bin, a.model, dst, v.args, a.size, a.iterations, a.maxfun)
                tiles.append((v.label, Image.open(dst)))
            img = grid(tiles, a.size, fig.title, note)
            img.save(a.out / f"{fig.name}.png", optimize=True)
            print(f"wrote {a.out / fig.name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
