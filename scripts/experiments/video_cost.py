"""Measures what styling a clip costs: seconds per frame at each size, and a
10-second clip's cost from them.

For each size it makes a short test clip (flicker.make_clip: a slow pan and
zoom over a photo), styles it with `neuralstyle video` in chained mode, and
reads each frame's time from the command's own "frame i/n done in D" lines.
The first frame runs --iterations (the notebook's 10 by default), the later
ones --next-iterations, each starting from the frame before, so a clip costs
the first frame plus (frames - 1) later ones; the table gives that for a
10-second clip at 24 frames a second.

    python scripts/experiments/video_cost.py --model build/model-hed \\
        --content ../shared/images/content/chelsea.png --style ../shared/images/styles/wave.jpg \\
        --out build/video-cost --sizes 256,512 --frames 3

The sizes run one after the other in one invocation, so that their times are
taken on the same machine state. The table goes to stdout and OUT/cost.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import flicker

FRAME_LINE = re.compile(r"^frame (\d+)/(\d+) done in (\S+):")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3}


def parse_duration(text: str) -> float:
    """Seconds in a Go time.Duration's String form (1h2m3.5s, 850ms)."""
    parts = DURATION_PART.findall(text)
    if not parts or "".join(v + u for v, u in parts) != text:
        raise ValueError(f"duration {text!r}: not a Go duration")
    return sum(float(v) * UNIT_SECONDS[u] for v, u in parts)


def frame_seconds(output: str) -> list[float]:
    """Each frame's seconds from the video command's output, in frame order."""
    seconds: dict[int, float] = {}
    for line in output.splitlines():
        m = FRAME_LINE.match(line.strip())
        if m:
            seconds[int(m.group(1))] = parse_duration(m.group(3))
    if not seconds:
        raise ValueError("no 'frame i/n done in' line in the video command's output")
    missing = [i for i in range(1, max(seconds) + 1) if i not in seconds]
    if missing:
        raise ValueError(f"no time for frames {missing}")
    return [seconds[i] for i in sorted(seconds)]


def clip_seconds(first: float, later: float, seconds: float = 10, fps: float = 24) -> float:
    """A clip's cost: its first frame, then every other frame at the later rate."""
    frames = round(seconds * fps)
    return first + (frames - 1) * later


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="bin/neuralstyle")
    ap.add_argument("--model", required=True, help="style model (realistic weights: make model-hed)")
    ap.add_argument("--content", required=True, type=Path, help="photo the clip pans over")
    ap.add_argument("--style", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--sizes", default="256,512", help="comma-separated frame sides")
    ap.add_argument("--frames", type=int, default=3, help="frames per clip (at least 2: the first and a later one)")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--maxfun", type=int, default=20)
    ap.add_argument("--next-iterations", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.frames < 2:
        ap.error("--frames: at least 2")
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error(f"--sizes {args.sizes!r}: want comma-separated integers")

    rows = []
    for size in sizes:
        clip = flicker.make_clip(args.content, args.out / f"clip{size}", args.frames, size)
        out = args.out / f"styled{size}"
        cmd = [args.bin, "video", "--model", args.model, "--style", args.style, "--out", str(out),
               "--size", str(size), "--iterations", str(args.iterations), "--maxfun", str(args.maxfun),
               "--next-iterations", str(args.next_iterations), "--threads", str(args.threads), str(clip[0].parent)]
        run = subprocess.run(cmd, check=True, capture_output=True, text=True)
        times = frame_seconds(run.stdout)
        if len(times) != args.frames:
            raise SystemExit(f"size {size}: {len(times)} frames timed, want {args.frames} (rerun with a fresh --out)")
        later = statistics.mean(times[1:])
        rows.append({"size": size, "first": times[0], "later": later, "frames": times,
                     "clip10s": clip_seconds(times[0], later)})

    print(f"chained, the first frame {args.iterations} iterations of maxfun {args.maxfun}, later frames "
          f"{args.next_iterations}; {args.frames} frames per size")
    print("| size | first frame | later frame | 10-second clip (240 frames) |")
    print("| ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['size']}x{r['size']} | {r['first']:.0f} s | {r['later']:.0f} s | {r['clip10s'] / 3600:.1f} h |")
    (args.out / "cost.json").write_text(json.dumps({"runs": rows, "args": {k: str(v) for k, v in vars(args).items()}},
                                                   indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
