"""Measures how much a styled clip flickers, chained against independent frames.

It makes a test clip itself (a slow pan and zoom over a photo, or with --motion
object a still photo with a square sliding across it), styles it with
`neuralstyle video` in each mode into OUT/<mode>, and reports for each the
flicker ratio: the mean absolute difference between consecutive output frames
divided by the same between the input frames. 1.0 is a clip that changes as
much as its input; independent per-frame stylisation is far above it. With
--temporal-weight W (repeatable) it also runs chained mode with the temporal
term at weight W, and for every run it reports the output's change over the
pixels the temporal term holds (the input's luminance moved less than 8 of 255
there and at the eight neighbours: transfer.TemporalThreshold's mask, with
luminance computed here as 0.299 R + 0.587 G + 0.114 B in float).

    python scripts/experiments/flicker.py --bin bin/neuralstyle --model build/model-hed \\
        --content ../shared/images/content/chelsea.png --style ../shared/images/styles/wave.jpg \\
        --out build/flicker --frames 24 --size 64

With --method stylize it runs the feed-forward network instead (video
--method stylize --styles N): every frame alone, and with --smoothing S
(repeatable) with the instance-norm statistics smoothed over the frames, and
with --hold H (repeatable) keeping that share of the previous picture where
the frame did not change:

    python scripts/experiments/flicker.py --bin bin/neuralstyle --method stylize --styles 7 \\
        --content ../shared/images/content/chelsea.png --out build/flicker-ff --frames 24 --size 256 \\
        --smoothing 0.5 --smoothing 0.9

Reruns resume (the video command skips finished frames). The table goes to
stdout and OUT/flicker.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_clip(photo: Path, out: Path, frames: int, size: int, motion: str = "pan") -> list[Path]:
    """Writes frames, each size x size, as out/frame_0001.png ...; returns their
    paths. motion "pan": a slow pan (left to right by a tenth of the photo's
    width) and zoom (in by 15%) over the photo's centre. motion "object": the
    photo's centre held still, with a square a quarter of the frame's side
    (cut from the photo's top left) sliding across its middle, left to right:
    the case the temporal term is for, most of the frame unchanged."""
    if motion not in MOTIONS:
        raise ValueError(f"motion {motion!r}: want one of {', '.join(MOTIONS)}")
    img = Image.open(photo).convert("RGB")
    w, h = img.size
    out.mkdir(parents=True, exist_ok=True)
    side0 = 0.8 * min(w, h)
    still = img.resize((size, size), Image.Resampling.LANCZOS,
                       box=(w / 2 - side0 / 2, h / 2 - side0 / 2, w / 2 + side0 / 2, h / 2 + side0 / 2))
    q = max(size // 4, 1)
    patch = img.resize((q, q), Image.Resampling.LANCZOS, box=(0, 0, min(w, h) / 4, min(w, h) / 4))
    paths = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        if motion == "pan":
            side = side0 * (1 - 0.15 * t)
            cx = w * (0.45 + 0.10 * t)
            cy = h * 0.5
            box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            frame = img.resize((size, size), Image.Resampling.LANCZOS, box=box)
        else:
            frame = still.copy()
            frame.paste(patch, (round(t * (size - q)), (size - q) // 2))
        path = out / f"frame_{i + 1:04d}.png"
        frame.save(path)
        paths.append(path)
    return paths


MOTIONS = ("pan", "object")


def mean_change(paths: list[Path]) -> float:
    """The mean absolute difference (0 to 255) between consecutive frames, over
    every pixel and channel of every pair."""
    if len(paths) < 2:
        raise ValueError("flicker needs at least two frames")
    total = 0.0
    prev = np.asarray(Image.open(paths[0]).convert("RGB"), dtype=np.float64)
    for p in paths[1:]:
        cur = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
        if cur.shape != prev.shape:
            raise ValueError(f"{p}: size {cur.shape[1]}x{cur.shape[0]}, the frame before is {prev.shape[1]}x{prev.shape[0]}")
        total += float(np.abs(cur - prev).mean())
        prev = cur
    return total / (len(paths) - 1)


def static_masks(paths: list[Path], threshold: float = 8) -> list[np.ndarray]:
    """For each consecutive pair of input frames, the pixels the temporal term
    holds: luminance moved less than threshold there and at the 8 neighbours."""
    def lum(p: Path) -> np.ndarray:
        a = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
        return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]

    masks = []
    prev = lum(paths[0])
    for p in paths[1:]:
        cur = lum(p)
        moved = np.pad(np.abs(cur - prev) >= threshold, 1)
        h, w = cur.shape
        near = np.zeros((h, w), dtype=bool)
        for dy in range(3):
            for dx in range(3):
                near |= moved[dy:dy + h, dx:dx + w]
        masks.append(~near)
        prev = cur
    return masks


def masked_change(paths: list[Path], masks: list[np.ndarray]) -> float:
    """The mean absolute difference between consecutive frames over the pixels
    of each pair's mask (NaN when no mask holds a pixel)."""
    total, count = 0.0, 0
    prev = np.asarray(Image.open(paths[0]).convert("RGB"), dtype=np.float64)
    for p, m in zip(paths[1:], masks):
        cur = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
        total += float(np.abs(cur - prev)[m].sum())
        count += int(m.sum()) * 3
        prev = cur
    return total / count if count else float("nan")


def runs(next_iterations: int, temporal_weights: list[float]) -> list[tuple[str, list[str]]]:
    """The video runs to compare: name and the flags that make it."""
    out = [("independent", ["--mode", "independent"]), ("chained", ["--mode", "chained"])]
    if next_iterations > 0:
        out.append((f"chained-next{next_iterations}", ["--mode", "chained", "--next-iterations", str(next_iterations)]))
    for w in temporal_weights:
        out.append((f"chained-temporal{w:g}", ["--mode", "chained", "--temporal-weight", f"{w:g}"]))
    return out


def stylize_runs(smoothings: list[float], holds: list[float] = ()) -> list[tuple[str, list[str]]]:
    """The video --method stylize runs to compare: every frame alone, each
    smoothing of the statistics, each hold, and each hold with the last
    smoothing."""
    out = [("stylize", [])]
    for sm in smoothings:
        out.append((f"stylize-smoothing{sm:g}", ["--smoothing", f"{sm:g}"]))
    for h in holds:
        out.append((f"stylize-hold{h:g}", ["--hold", f"{h:g}"]))
    if smoothings:
        sm = smoothings[-1]
        for h in holds:
            out.append((f"stylize-smoothing{sm:g}-hold{h:g}", ["--smoothing", f"{sm:g}", "--hold", f"{h:g}"]))
    return out


def styled_frames(out: Path, count: int) -> list[Path]:
    return [out / "frames" / f"frame_{i:06d}.png" for i in range(1, count + 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="bin/neuralstyle")
    ap.add_argument("--method", choices=("optimize", "stylize"), default="optimize",
                    help="optimize (the notebook's optimisation) or stylize (the 26-style feed-forward network)")
    ap.add_argument("--model", help="style model for --method optimize (realistic weights: make model-hed)")
    ap.add_argument("--styles", default="7", help="--method stylize: the 26-style network's style or blend")
    ap.add_argument("--smoothing", type=float, action="append", default=[],
                    help="--method stylize: also run with the statistics smoothed by this share (repeatable)")
    ap.add_argument("--hold", type=float, action="append", default=[],
                    help="--method stylize: also run keeping this share of the previous picture where the frame did not change (repeatable)")
    ap.add_argument("--fastnets", default="build/fastnets/model", help="--method stylize: make fastnets' model")
    ap.add_argument("--content", required=True, type=Path, help="photo the clip pans over")
    ap.add_argument("--style", help="style image for --method optimize")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--motion", choices=MOTIONS, default="pan", help="the test clip: pan (and zoom) over the photo, or an object sliding over it")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--maxfun", type=int, default=20)
    ap.add_argument("--next-iterations", type=int, default=0,
                    help="also run chained mode with this many iterations after the first frame")
    ap.add_argument("--temporal-weight", type=float, action="append", default=[],
                    help="also run chained mode with the temporal term at this weight (repeatable)")
    ap.add_argument("--init", default="noise", help="start of the first frame (and of every frame, independent): noise, content or style")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="gpu")
    args = ap.parse_args(argv)
    if args.frames < 2:
        ap.error("--frames: at least 2")
    if args.method == "optimize" and (not args.model or not args.style):
        ap.error("--method optimize needs --model and --style")

    clip = args.out / "clip"
    inputs = make_clip(args.content, clip, args.frames, args.size, args.motion)
    base = mean_change(inputs)
    masks = static_masks(inputs)
    held = float(np.mean([m.mean() for m in masks]))
    rows = []
    stylize = args.method == "stylize"
    for name, flags in stylize_runs(args.smoothing, args.hold) if stylize else runs(args.next_iterations, args.temporal_weight):
        out = args.out / name
        if stylize:
            cmd = [args.bin, "video", "--quiet", "--method", "stylize", "--styles", args.styles, "--fastnets", args.fastnets,
                   "--out", str(out), "--size", str(args.size), "--threads", str(args.threads), *flags, str(clip)]
        else:
            cmd = [args.bin, "video", "--quiet", "--model", args.model, "--style", args.style, "--out", str(out),
                   "--size", str(args.size), "--init", args.init, "--iterations", str(args.iterations), "--maxfun", str(args.maxfun),
                   "--threads", str(args.threads), "--device", args.device, *flags, str(clip)]
        start = time.monotonic()
        subprocess.run(cmd, check=True)
        seconds = time.monotonic() - start
        styled = styled_frames(out, args.frames)
        change = mean_change(styled)
        rows.append({"mode": name, "output_change": change, "ratio": change / base,
                     "held_change": masked_change(styled, masks), "seconds": seconds})

    how = (f"the 26-style network, styles {args.styles}" if stylize else
           f"style {Path(args.style).name}, init {args.init}, {args.iterations} iterations of maxfun {args.maxfun}")
    print(f"clip: {args.frames} frames {args.size}x{args.size}, {args.motion} over {args.content.name}, {how}; "
          f"input frame-to-frame change {base:.3f} (0-255); "
          f"the temporal mask holds {100 * held:.0f}% of the pixels")
    print("| mode | output change | / input change | output change where held | seconds (this run) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['mode']} | {r['output_change']:.3f} | {r['ratio']:.2f}x | {r['held_change']:.3f} | {r['seconds']:.0f} |")
    (args.out / "flicker.json").write_text(json.dumps({"input_change": base, "held_fraction": held, "runs": rows, "args": {
        k: str(v) for k, v in vars(args).items()}}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
