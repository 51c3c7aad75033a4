"""A print-size example, coarse to fine, and what it cost.

Runs one `neuralstyle transfer` of a photo at its own shape to a long side of
2048 pixels, coarse to fine (--scales 512,1024), with the notebook's budget of
ten L-BFGS-B calls of maxfun 20 shared over the scales (--scale-iterations 7,2,
then one call at the final size; the coarse calls are cheap, the final one is
not), tiles where the whole image does not fit (--tile auto, sized by --max-memory). Then it reports
each scale's size, iterations, evaluations and seconds from the run's log, and
writes two JPEG figures for the README: the whole picture made smaller, and a
square of the full-size picture at one pixel per pixel.

    .venv/bin/python scripts/experiments/print_example.py --model build/model-hed --out docs/print

The model should be the HED backbone's (make model-hed): realistic weights, not
ImageNet's, which cannot be downloaded where this was made; the figures are
captioned so. About an hour on two cores: for the README, not CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT.parent / "shared" / "images"  # the project's ../shared/images


@dataclass
class Scale:
    size: str
    iterations: int
    evaluations: int
    seconds: float
    loss: float  # at the end of the scale's last iteration


def scales(log: str) -> list[Scale]:
    """Each scale's totals from a transfer --log, in order."""
    out: dict[int, Scale] = {}
    for line in log.splitlines():
        r = json.loads(line)
        if "iteration" not in r or r.get("partial"):
            continue
        s = out.setdefault(r["scale"], Scale(r["size"], 0, 0, 0.0, 0.0))
        s.iterations += 1
        s.evaluations += r["evaluations"]
        s.seconds += r["seconds"]
        s.loss = r["loss"]
    if not out:
        raise ValueError("the log has no finished iteration")
    return [out[k] for k in sorted(out)]


def table(rows: list[Scale], wall: float) -> str:
    lines = ["| scale | size | iterations | evaluations | seconds | s / evaluation | loss at its end |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for k, s in enumerate(rows):
        lines.append(f"| {k} | {s.size} | {s.iterations} | {s.evaluations} | {s.seconds:.0f} | "
                     f"{s.seconds / max(s.evaluations, 1):.1f} | {s.loss:.4g} |")
    ev = sum(s.evaluations for s in rows)
    it = sum(s.iterations for s in rows)
    work = sum(s.seconds for s in rows)
    lines.append(f"| all | | {it} | {ev} | {work:.0f} | | |")
    lines.append("")
    lines.append(f"Wall time of the whole run, model load and style targets included: {wall:.0f} s ({wall / 60:.1f} min).")
    return "\n".join(lines)


def figures(full: Path, out: Path, small: int, crop: int, centre: tuple[float, float]) -> list[Path]:
    """The whole picture with long side `small`, and a crop x crop square of the
    full-size picture around centre (fractions of its width and height)."""
    img = Image.open(full).convert("RGB")
    w, h = img.size
    out.mkdir(parents=True, exist_ok=True)
    whole = img.resize((round(w * small / max(w, h)), round(h * small / max(w, h))), Image.Resampling.LANCZOS)
    cx, cy = round(centre[0] * w), round(centre[1] * h)
    left = min(max(cx - crop // 2, 0), max(w - crop, 0))
    top = min(max(cy - crop // 2, 0), max(h - crop, 0))
    square = img.crop((left, top, left + min(crop, w), top + min(crop, h)))
    paths = [out / "whole.jpg", out / "detail.jpg"]
    whole.save(paths[0], quality=85)
    square.save(paths[1], quality=85)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--model", default=str(ROOT / "build" / "model-hed"))
    p.add_argument("--content", default=str(IMAGES / "content" / "grace_hopper.jpg"))
    p.add_argument("--style", default=str(IMAGES / "styles" / "starry_night.jpg"))
    p.add_argument("--long-side", type=int, default=2048)
    p.add_argument("--scales", default="512,1024")
    p.add_argument("--scale-iterations", default="7,2")
    p.add_argument("--iterations", type=int, default=1, help="L-BFGS-B calls at the final size")
    # Tiles as large as this allows: at 2048 its --tile auto takes four tiles of
    # 1040 (estimate 17 GiB; measured peaks have been 1.2-1.8x under the
    # estimate) where 16 GiB would take six, with more halo to compute.
    p.add_argument("--max-memory", default="17GiB", help="the run's --max-memory, which --tile auto fits its tiles to")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "print", help="where the full-size result and log go")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "print", help="where the README figures go")
    p.add_argument("--small", type=int, default=640, help="long side of the whole picture's figure")
    p.add_argument("--crop", type=int, default=512, help="side of the full-size detail")
    p.add_argument("--centre", default="0.5,0.35", help="the detail's centre, as fractions of width and height")
    a = p.parse_args(argv)
    centre = tuple(float(v) for v in a.centre.split(","))
    if len(centre) != 2:
        p.error("--centre: want X,Y")

    a.work.mkdir(parents=True, exist_ok=True)
    full, log = a.work / "full.png", a.work / "log.jsonl"
    cmd = [a.bin, "transfer", "--model", a.model, "--content", a.content, "--style", a.style,
           "--long-side", str(a.long_side), "--scales", a.scales, "--scale-iterations", a.scale_iterations,
           "--iterations", str(a.iterations), "--tile", "auto", "--max-memory", a.max_memory, "--out", str(full), "--log", str(log)]
    print(" ".join(cmd), file=sys.stderr)
    began = time.monotonic()
    subprocess.run(cmd, check=True)
    wall = time.monotonic() - began
    text = table(scales(log.read_text()), wall)
    print(text)
    (a.work / "summary.md").write_text(text + "\n")
    for path in figures(full, a.out, a.small, a.crop, centre):
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
