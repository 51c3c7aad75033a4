"""Measure the peak resident memory and time of tiled and whole-image transfers.

Runs the built binary under GNU time (/usr/bin/time -v: "Maximum resident set
size" is the process's peak RSS) on the CPU with one outer iteration of at most
two evaluations, for each --size/--tile pair, and prints one line per run:
"side tile peak_rss_bytes wall_seconds" (tile 0: the whole image at once).
The fit of the tiled memory estimate (internal/transfer, memory.go) is made
from these lines.

    python scripts/measure_tiles.py --runs 256:64,256:128,512:128
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

CONTENT = "/work/shared/images/content/grace_hopper.jpg"
STYLE = "/work/shared/images/styles/starry_night.jpg"


def measure(args: argparse.Namespace, side: int, tile: int, tmp: str) -> tuple[int, float]:
    cmd = [
        "/usr/bin/time", "-v", args.bin, "transfer", "--model", args.model, "--device", "cpu", "--quiet",
        "--content", args.content, "--style", args.style, "--size", str(side), "--tile", str(tile),
        "--iterations", "1", "--maxfun", "2", "--out", os.path.join(tmp, f"out-{side}-{tile}.png"),
        "--style-layers", args.style_layers,
    ]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if not m:
        raise RuntimeError("no peak RSS in /usr/bin/time's report")
    return int(m.group(1)) * 1024, wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default="bin/neuralstyle")
    p.add_argument("--model", default="build/testmodels/vgg16-random-seed1")
    p.add_argument("--content", default=CONTENT)
    p.add_argument("--style", default=STYLE)
    # Shallower than the notebook's (to block3_conv3: a 32-pixel halo, not 96), so
    # that small tiles cost little; the network runs to block5_conv3 either way,
    # so memory per tile pixel is the same.
    p.add_argument("--style-layers", default="block1_conv2,block2_conv2,block3_conv3")
    p.add_argument("--runs", default="512:0,512:128,512:256", help="comma-separated SIDE:TILE pairs")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for run in args.runs.split(","):
            side, tile = (int(v) for v in run.split(":"))
            rss, wall = measure(args, side, tile, tmp)
            print(side, tile, rss, f"{wall:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
