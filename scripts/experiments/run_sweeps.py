"""Runs the article's experiments (scripts/sweeps/*.json) with the Go binary.

Each experiment is one `neuralstyle sweep` into OUT/NAME: the style-weight sweep,
the content-layer comparison and the total-variation sweep (docs/recipe.md section 6).
Reruns resume: finished points are skipped.

    python scripts/experiments/run_sweeps.py --bin bin/neuralstyle --model build/model --out build/sweeps
    python scripts/experiments/run_sweeps.py --only style_weight --size 128 --iterations 3    # a quick look

On a batch scheduler, run the same command as a job array with --shard-from-env:
every task runs its share of every sweep into the same (shared) OUT, and the task
that finishes a sweep's last point writes its sheet, GIF and summary. For Slurm:

    #!/bin/bash
    #SBATCH --array=1-4
    #SBATCH --gres=gpu:1
    python scripts/experiments/run_sweeps.py --bin bin/neuralstyle --model build/model \\
        --out /shared/sweeps --shard-from-env

Without a shared folder, give each task its own OUT, copy every OUT/NAME/points
into one folder afterwards and run `neuralstyle sweep --collect` there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SWEEPS_DIR = Path(__file__).resolve().parents[1] / "sweeps"
EXPERIMENTS = ("style_weight", "content_layer", "tv_weight")


def shard_from_env(env: dict[str, str]) -> str:
    """The shard "i/n" of this task of a Slurm job array (ids need not start at 1)."""
    try:
        task = int(env["SLURM_ARRAY_TASK_ID"])
        count = int(env["SLURM_ARRAY_TASK_COUNT"])
        first = int(env.get("SLURM_ARRAY_TASK_MIN", "1"))
    except (KeyError, ValueError) as e:
        raise SystemExit(f"--shard-from-env: not in a Slurm job array (SLURM_ARRAY_TASK_ID/COUNT): {e}")
    index = task - first + 1
    if not 1 <= index <= count:
        raise SystemExit(f"--shard-from-env: task {task} of {count} from {first}: use contiguous array ids such as 1-{count}")
    return f"{index}/{count}"


def commands(args: argparse.Namespace, shard: str | None) -> list[list[str]]:
    """One `neuralstyle sweep` command line per selected experiment."""
    cmds = []
    for name in args.only:
        cmd = [args.bin, "sweep", "--model", args.model, "--out", str(Path(args.out) / name)]
        if shard:
            cmd += ["--shard", shard]
        for flag in ("content", "style", "size", "iterations", "device", "threads"):
            value = getattr(args, flag)
            if value is not None:
                cmd += [f"--{flag}", str(value)]
        cmd += args.extra
        cmd.append(str(SWEEPS_DIR / f"{name}.json"))
        cmds.append(cmd)
    return cmds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="bin/neuralstyle", help="the neuralstyle binary (make build)")
    p.add_argument("--model", default="build/model", help="the style model's SavedModel folder (make model)")
    p.add_argument("--out", default="build/sweeps", help="folder of the sweeps' output folders")
    p.add_argument("--only", default=",".join(EXPERIMENTS), help="comma-separated experiments (default: all three)")
    p.add_argument("--content", help="content image (default: the sweep files' bundled example)")
    p.add_argument("--style", help="style image (default: the sweep files' bundled example)")
    p.add_argument("--size", help="image size N or WxH instead of the article's 512")
    p.add_argument("--iterations", type=int, help="outer iterations instead of the article's 10")
    p.add_argument("--device", help="cpu, gpu or GPU indices (neuralstyle's --device)")
    p.add_argument("--threads", type=int, help="TensorFlow intra-op threads")
    shard = p.add_mutually_exclusive_group()
    shard.add_argument("--shard", help="run part I/N of every sweep")
    shard.add_argument("--shard-from-env", action="store_true", help="take the shard from a Slurm job array's task")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    p.add_argument("extra", nargs="*", help="more neuralstyle sweep flags, after --")
    args = p.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    for name in args.only:
        if name not in EXPERIMENTS:
            p.error(f"--only: no experiment {name!r}; the experiments are {', '.join(EXPERIMENTS)}")
    shard_value = shard_from_env(dict(os.environ)) if args.shard_from_env else args.shard

    for cmd in commands(args, shard_value):
        print("+ " + " ".join(cmd), flush=True)
        if args.dry_run:
            continue
        rc = subprocess.call(cmd)
        if rc != 0:
            name = Path(cmd[-1]).stem
            raise SystemExit(f"{name}: neuralstyle sweep exited with status {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
