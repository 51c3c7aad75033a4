"""Measure the peak resident memory of neuralstyle commands at a few image sizes.

internal/memory's coefficients (fixed bytes + bytes per pixel) are fitted to what
this prints: one line per run, "workload side peak_rss_bytes". It runs the built
binary under GNU time (/usr/bin/time -v), whose "Maximum resident set size" is the
peak RSS of the process, on the CPU (--device cpu), with random-weights models.

    python scripts/experiments/measure_memory.py --bin bin/neuralstyle \
        --style-model build/testmodels/vgg16-random-seed1 \
        --classify-model build/testmodels/vgg16-classifier-random-seed1 \
        --sizes 128,256,384
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

CONTENT = "scripts/examples/grace_hopper.jpg"
STYLE = "scripts/examples/wave.jpg"


def peak_rss(cmd: list[str]) -> int:
    """Runs cmd under /usr/bin/time -v and returns its peak RSS in bytes."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if not m:
        raise RuntimeError("no peak RSS in /usr/bin/time's report")
    return int(m.group(1)) * 1024


def workloads(args: argparse.Namespace, side: int, tmp: str) -> dict[str, list[str]]:
    transfer = [
        args.bin, "transfer", "--model", args.style_model, "--device", "cpu", "--quiet",
        "--content", CONTENT, "--style", STYLE, "--size", str(side),
        "--iterations", "1", "--maxfun", "2", "--out", os.path.join(tmp, "out.png"),
    ]
    return {
        "features": [
            args.bin, "features", "--model", args.classify_model, "--device", "cpu",
            "--layer", "block5_pool", "--size", str(side), "--out", os.path.join(tmp, "f.npy"), CONTENT,
        ],
        "transfer-fast": [*transfer, "--graph", "fast"],
        "transfer-recipe": [*transfer, "--graph", "recipe"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default="bin/neuralstyle")
    p.add_argument("--style-model", default="build/testmodels/vgg16-random-seed1")
    p.add_argument("--classify-model", default="build/testmodels/vgg16-classifier-random-seed1")
    p.add_argument("--sizes", default="128,256,384", help="square sides, comma-separated")
    p.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    args = p.parse_args()
    only = set(filter(None, args.only.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        for side in (int(s) for s in args.sizes.split(",")):
            for name, cmd in workloads(args, side, tmp).items():
                if only and name not in only:
                    continue
                print(name, side, peak_rss(cmd), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
