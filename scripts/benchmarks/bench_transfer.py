"""Side-by-side benchmark of a style transfer: the bare network, the Go driver with the
recipe graph, with the fast graph in float32 and in bfloat16, and the Python reference
of the notebook, in one run on the same machine, with the same random weights and images.

    .venv/bin/python scripts/benchmarks/bench_transfer.py --sizes 256,512 [--iterations 1]

For each size and runner it reports seconds per evaluation (the median over the
evaluations after the first, which pays for tracing and kernel selection), seconds
per outer iteration (one L-BFGS-B call of maxfun 20) and the process's peak resident
memory, and prints a Markdown table (also written to build/bench/transfer.md). The bare
network is VGG16 forward and backward to block5_conv3 in TensorFlow from Python
(profile_fast.py's "bare"), timed alternately with the exported graph's `fast`
in the same process: that pair's ratio is the fast graph's cost over the network's,
free of the machine's drift between processes. bf16 runs --bf16-evaluations
evaluations only (it is many times slower on CPUs without AVX512-BF16/AMX).
Full-size runs take minutes per iteration on two cores: this is for `make bench`,
not CI.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
IMAGES = ROOT / "scripts" / "testdata" / "transfer"
WEIGHTS = ROOT / "build" / "vgg16-random-seed1.h5"
MODEL = ROOT / "build" / "testmodels" / "vgg16-random-seed1"
BINARY = ROOT / "bin" / "neuralstyle"


@dataclass
class Result:
    runner: str
    size: int
    per_eval: float  # seconds, median after the first evaluation
    per_iteration: float  # seconds, the last outer iteration
    peak_mib: float
    evaluations: int


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Runs cmd; returns (wall seconds, peak RSS in MiB of that child alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench_transfer: {' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024.0


def go_run(graph: str, size: int, iterations: int, env: dict[str, str], tmp: Path,
           precision: str = "fp32", maxfun: int = 20) -> Result:
    log = tmp / f"go-{graph}-{precision}-{size}.jsonl"
    cmd = [
        str(BINARY), "transfer", "--model", str(MODEL), "--device", "cpu",
        "--content", str(IMAGES / "content.png"), "--style", str(IMAGES / "style.png"),
        "--size", str(size), "--iterations", str(iterations), "--graph", graph, "--seed", "1",
        "--precision", precision, "--maxfun", str(maxfun),
        "--out", str(tmp / f"go-{graph}-{precision}-{size}.png"), "--log", str(log), "--quiet",
    ]
    _, peak = run_measured(cmd, env)
    # The first line records the settings; the others are iterations.
    lines = [l for l in map(json.loads, log.read_text().splitlines()) if "iteration" in l]
    evals = [s for l in lines for s in l["evaluation_seconds"]]
    name = f"Go, --graph {graph}" + (f" --precision {precision}" if precision != "fp32" else "")
    return Result(name, size, statistics.median(evals[1:]), lines[-1]["seconds"], peak, len(evals))


def network_run(size: int, rounds: int, env: dict[str, str], tmp: Path) -> list[Result]:
    """The bare network and the exported fast graph, alternating in one TensorFlow process."""
    out = tmp / f"profile-{size}.json"
    cmd = [PY, "-m", "savedmodel.profile_fast", "--sizes", str(size), "--rounds", str(rounds),
           "--only", "bare,fast", "--json", str(out)]
    _, peak = run_measured(cmd, env)
    med = json.loads(out.read_text())[str(size)]
    # One process for both: its peak is the larger of the two.
    return [Result("bare VGG16 to block5_conv3, forward and backward (TensorFlow)", size, med["bare"], 0.0, peak, rounds + 1),
            Result("the exported fast graph alone (TensorFlow, same process)", size, med["fast"], 0.0, peak, rounds + 1)]


def python_run(size: int, iterations: int, env: dict[str, str], tmp: Path) -> Result:
    out = tmp / f"py-{size}.jsonl"
    cmd = [
        PY, str(ROOT / "scripts" / "benchmarks" / "bench_reference.py"), "--weights", str(WEIGHTS),
        "--content", str(IMAGES / "content.png"), "--style", str(IMAGES / "style.png"),
        "--size", f"{size}x{size}", "--evals", "3", "--iterations", str(iterations), "--seed", "1",
        "--json", str(out),
    ]
    _, peak = run_measured(cmd, env)
    r = json.loads(out.read_text().splitlines()[-1])
    return Result("Python reference (Keras + SciPy)", size, r["eval_seconds_median"], r["iteration_seconds"], peak,
                  r["evals"] + 1 + sum(r["iteration_nfev"]))


def ensure_inputs(env: dict[str, str]) -> None:
    if not WEIGHTS.exists():
        subprocess.run([PY, "-m", "savedmodel.vggweights", "random", "--seed", "1", "--out", str(WEIGHTS)],
                       cwd=ROOT, env=env, check=True)
    if not (MODEL / "saved_model.pb").exists():
        subprocess.run(["make", "-s", "testmodels"], cwd=ROOT, env=env, check=True)
    if not BINARY.exists():
        raise SystemExit(f"bench_transfer: no {BINARY}: run make build")


def table(results: list[Result]) -> str:
    rows = ["| size | runner | s / evaluation | evaluations | s / outer iteration | vs bare network | vs recipe | peak memory |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        bare = next((x for x in results if x.size == r.size and x.runner.startswith("bare")), None)
        recipe = next((x for x in results if x.size == r.size and x.runner == "Go, --graph recipe"), None)
        vs_bare = f"{r.per_eval / bare.per_eval:.2f}x" if bare else ""
        vs_recipe = f"{r.per_eval / recipe.per_eval:.2f}x" if recipe else ""
        per_it = f"{r.per_iteration:.1f}" if r.per_iteration else ""
        rows.append(f"| {r.size}x{r.size} | {r.runner} | {r.per_eval:.3f} | {r.evaluations} | {per_it} | "
                    f"{vs_bare} | {vs_recipe} | {r.peak_mib:,.0f} MiB |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="256,512", help="comma-separated square sizes")
    p.add_argument("--iterations", type=int, default=1, help="outer iterations per run")
    p.add_argument("--rounds", type=int, default=5, help="calls of each of bare and fast in the network's process")
    p.add_argument("--bf16-evaluations", type=int, default=3, help="--maxfun of the bf16 run (0: skip it)")
    a = p.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    ensure_inputs(env)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for size in (int(s) for s in a.sizes.split(",")):
            # Interleaved in one run, so all see the same machine.
            results.extend(network_run(size, a.rounds, env, tmp))
            results.append(go_run("recipe", size, a.iterations, env, tmp))
            results.append(python_run(size, a.iterations, env, tmp))
            results.append(go_run("fast", size, a.iterations, env, tmp))
            if a.bf16_evaluations:
                results.append(go_run("fast", size, 1, env, tmp, precision="bf16", maxfun=a.bf16_evaluations))
            print(table([r for r in results if r.size == size]), flush=True)
    out = table(results)
    (ROOT / "build" / "bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "build" / "bench" / "transfer.md").write_text(out + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
