"""Runs the article's four MNIST trainings through the Go binary and writes the
README's results table (the article's test accuracy against ours).

    python scripts/experiments/mnist_table.py [--bin bin/neuralstyle] [--models build/mnist]
        [--seed 1] [--out build/mnist/results.md] [--only linear,nn] [-- extra flags]

Each model is trained at the article's full length (the defaults recorded in its
neuralstyle.json) by `neuralstyle mnist --json`; the table lists the article's
accuracy, ours, steps x batch, seed and training seconds, and the JSON results go
beside the table (results.json) so the numbers can be checked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

MODELS = ("linear", "nn-zero", "nn", "convnet")
LABELS = {
    "linear": "linear softmax, zero init, SGD 0.5",
    "nn-zero": "100 ReLU hidden, all zero, SGD 0.5",
    "nn": "100 ReLU hidden, truncated normal, SGD 0.5",
    "convnet": "conv 5x5x32 + pool + dense 1024, Adam 1e-4",
}


def run_one(binary: str, models: str, model: str, seed: int, extra: list[str]) -> dict:
    cmd = [binary, "mnist", "--model", model, "--models", models, "--seed", str(seed), "--json", *extra]
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    t = time.time()
    # Progress lines go to stderr, which stays on the terminal.
    # TensorFlow reads its log level when the library loads, before the binary's
    # main can set it, so the children get it from here.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"mnist_table: {model}: neuralstyle exited with status {p.returncode}")
    res = json.loads(p.stdout)
    res["wall_seconds"] = time.time() - t
    return res


def table(results: list[dict]) -> str:
    lines = [
        "| model | the article | ours | steps x batch | seed | training seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} ({LABELS.get(r['model'], '')}) | {100 * r['article_accuracy']:.2f}% "
            f"| {100 * r['test_accuracy']:.2f}% | {r['steps']} x {r['batch']} | {r['seed']} "
            f"| {r['train_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default="bin/neuralstyle")
    p.add_argument("--models", default="build/mnist", help="folder of the exported models (make mnist-models)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", default=",".join(MODELS), help="comma-separated subset of the models")
    p.add_argument("--out", default="build/mnist/results.md")
    p.add_argument("extra", nargs="*", help="more flags for neuralstyle mnist, after --")
    a = p.parse_args(argv)
    chosen = [m for m in a.only.split(",") if m]
    bad = [m for m in chosen if m not in MODELS]
    if bad:
        p.error(f"unknown model {', '.join(bad)}; want some of {', '.join(MODELS)}")
    results = [run_one(a.bin, a.models, m, a.seed, a.extra) for m in chosen]
    text = table(results)
    note = (
        f"\nMeasured on {platform.machine()} ({os.cpu_count()} cores) with TensorFlow "
        f"{results[0]['tensorflow'] if results else '?'}, {time.strftime('%Y-%m-%d')}; training seconds "
        "exclude loading and testing.\n"
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + note)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(text)
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
