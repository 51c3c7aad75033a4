"""Peak memory and time of `neuralstyle stylize` at print sizes, whole against
tiled, for docs/feedforward.md's print-size table.

Each run is `stylize --size NxN --threads 2 --json` under GNU time (`/usr/bin/time
-v`), whose maximum resident set size is the whole process's peak; seconds are the
networks' work from the JSON record (model loading excluded). A tiled run is
compared with the whole run of the same side, when there is one, in 8-bit values.

    python scripts/experiments/print_sizes.py --bin bin/neuralstyle --net arbitrary \\
        --runs 1024:0,2048:0,2048:1024,4096:1024
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def parse_runs(text: str) -> list[tuple[int, int]]:
    """"1024:0,4096:1024" as (side, tile) pairs; tile 0 is the whole photo."""
    runs = []
    for part in text.split(","):
        side, _, tile = part.partition(":")
        if not side.strip().isdigit() or not tile.strip().isdigit():
            raise ValueError(f"--runs {text!r}: want SIDE:TILE pairs such as 1024:0,4096:1024")
        runs.append((int(side), int(tile)))
    return runs


def peak_mib(time_v: str) -> float:
    """GNU time -v's maximum resident set size, in MiB."""
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v)
    if not m:
        raise ValueError("no maximum resident set size in GNU time's output")
    return int(m.group(1)) / 1024


def compare(a: Path, b: Path) -> str:
    x = np.asarray(Image.open(a).convert("RGB"), np.int16)
    y = np.asarray(Image.open(b).convert("RGB"), np.int16)
    d = np.abs(x - y)
    return f"max {int(d.max())} of 255, {100 * np.count_nonzero(d) / d.size:.2g}% of values differ"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--fastnets", default=str(ROOT / "build" / "fastnets" / "model"))
    p.add_argument("--content", default=str(ROOT / "scripts" / "examples" / "grace_hopper.jpg"))
    p.add_argument("--net", choices=["26", "arbitrary"], default="arbitrary")
    p.add_argument("--styles", default="7", help="--net 26's style")
    p.add_argument("--style", default=str(ROOT / "scripts" / "examples" / "wave.jpg"), help="--net arbitrary's painting")
    p.add_argument("--runs", default="1024:0,1024:512,2048:0,2048:1024,4096:1024")
    a = p.parse_args(argv)
    runs = parse_runs(a.runs)
    print("| side | `--tile` | peak RSS | seconds | tiled vs whole (8-bit) |")
    print("| ---: | --- | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        wholes: dict[int, Path] = {}
        for side, tile in runs:
            out = Path(tmp) / f"{side}_{tile}.png"
            net = ["--styles", a.styles] if a.net == "26" else ["--style", a.style]
            cmd = ["/usr/bin/time", "-v", a.bin, "stylize", "--content", a.content, "--out", str(out), *net,
                   "--size", f"{side}x{side}", "--tile", str(tile), "--threads", "2", "--fastnets", a.fastnets, "--json"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr[-2000:]}", file=sys.stderr)
                return 1
            rec = json.loads(r.stdout)
            note = ""
            if tile == 0:
                wholes[side] = out
            elif side in wholes:
                note = compare(wholes[side], out)
            label = "0 (whole)" if tile == 0 else str(tile)
            print(f"| {side} | {label} | {peak_mib(r.stderr):.0f} MiB | {rec['seconds']:.1f} | {note} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
