"""Measures what a command pays before its first evaluation, in two builds side by
side: `neuralstyle inspect` and a one-evaluation 32x32 `transfer` (seconds and
peak resident memory), and optionally the wall time of the Go test packages that
load the style model.

    python scripts/experiments/load_cost.py --before /tmp/main --after . \\
        --model build/testmodels/vgg16-random-seed1 --rounds 3 \\
        --packages ./tfgraph,./internal/transfer --package-rounds 1

--before and --after are checkouts of the repository (each with bin/neuralstyle
built, or built here with `go build`; run it with the environment of
`eval "$(make -s env)"`). Every round runs each measurement in both builds, the
order alternating from round to round, so both see the same machine state. A
test package is compiled first (`go test -c`) and its binary timed, so compiling
is not counted. The table (medians, after/before ratios) goes to stdout, with the
CPU and the load average at the start and the end; --json writes every run.
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
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from savedmodel import kernels  # noqa: E402
CONTENT = ROOT / "scripts" / "examples" / "grace_hopper.jpg"
STYLE = ROOT / "scripts" / "examples" / "wave.jpg"


@dataclass
class Run:
    what: str
    build: str  # "before" or "after"
    seconds: float
    max_rss_mb: float


# Linux carries a process's peak resident memory over fork and exec (the old
# address space's peak counts at exec), so a child forked from a large process
# (pytest with TensorFlow loaded: 4 GB) reports that process's peak, not its own.
# A small launcher forks the command instead and reports its wait4 figures.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Runs argv to completion; returns its wall seconds and its peak resident
    memory in MB (the child's own, from wait4 in a small launcher: see _LAUNCHER).
    A failure raises, with its output."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r", suffix=".measure") as figures:
        p = subprocess.run([sys.executable, "-c", _LAUNCHER, figures.name, *argv], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{out.read().decode(errors='replace')[-2000:]}")
        seconds, max_rss_kib = figures.read().split()
    return float(seconds), int(max_rss_kib) / 1024  # ru_maxrss is in KiB on Linux


def commands(binary: Path, model: str, scratch: Path) -> dict[str, list[str]]:
    """The measured commands of one build."""
    return {
        "inspect": [str(binary), "inspect", "--model", model, "--device", "cpu"],
        "transfer 32x32, one evaluation": [
            str(binary), "transfer", "--model", model, "--device", "cpu", "--content", str(CONTENT),
            "--style", str(STYLE), "--size", "32", "--iterations", "1", "--maxfun", "1",
            "--out", str(scratch / "out.png"), "-q",
        ],
    }


def summarize(runs: list[Run]) -> list[dict]:
    """Per measurement: the median seconds and peak RSS of each build, and the
    after/before ratios, in the order the measurements first ran."""
    rows = []
    for what in dict.fromkeys(r.what for r in runs):
        row: dict = {"what": what}
        for build in ("before", "after"):
            mine = [r for r in runs if r.what == what and r.build == build]
            row[build] = {
                "seconds": statistics.median(r.seconds for r in mine),
                "max_rss_mb": statistics.median(r.max_rss_mb for r in mine),
                "n": len(mine),
            }
        row["time_ratio"] = row["after"]["seconds"] / row["before"]["seconds"]
        row["rss_ratio"] = row["after"]["max_rss_mb"] / row["before"]["max_rss_mb"]
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| what | before: s | after: s | after/before | before: peak RSS MB | after: peak RSS MB | after/before |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, a = r["before"], r["after"]
        lines.append(
            f"| {r['what']} (median of {a['n']}) | {b['seconds']:.2f} | {a['seconds']:.2f} | {r['time_ratio']:.3f} "
            f"| {b['max_rss_mb']:.0f} | {a['max_rss_mb']:.0f} | {r['rss_ratio']:.3f} |"
        )
    return "\n".join(lines)


def build_binary(tree: Path) -> Path:
    binary = tree / "bin" / "neuralstyle"
    if not binary.exists():
        subprocess.run(["go", "build", "-o", str(binary), "./cmd/neuralstyle"], cwd=tree, check=True)
    return binary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="checkout of the build to compare against")
    ap.add_argument("--after", type=Path, required=True, help="checkout of the build measured")
    ap.add_argument("--model", required=True, help="SavedModel directory both builds load")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the commands (default 3)")
    ap.add_argument("--packages", default="", help="comma-separated Go test packages to time (default: none)")
    ap.add_argument("--package-rounds", type=int, default=1, help="rounds of the test packages (default 1)")
    ap.add_argument("--json", type=Path, help="write every run and the summary to this file")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.package_rounds < 1:
        ap.error("--rounds and --package-rounds must be at least 1")
    model = str(Path(args.model).resolve())
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    load_start = os.getloadavg()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        cmds = {build: commands(build_binary(tree), model, scratch) for build, tree in trees.items()}
        tests: dict[tuple[str, str], tuple[Path, Path]] = {}
        for pkg in filter(None, args.packages.split(",")):
            for build, tree in trees.items():
                binary = scratch / f"{build}-{pkg.strip('./').replace('/', '_')}.test"
                subprocess.run(["go", "test", "-c", "-o", str(binary), pkg], cwd=tree, check=True)
                tests[(pkg, build)] = (binary, tree / pkg)
        for rnd in range(args.rounds):
            order = ("before", "after") if rnd % 2 == 0 else ("after", "before")
            for what in cmds["before"]:
                for build in order:
                    s, rss = measure(cmds[build][what])
                    runs.append(Run(what, build, s, rss))
                    print(f"round {rnd + 1}: {what}, {build}: {s:.2f} s, {rss:.0f} MB", file=sys.stderr)
        for rnd in range(args.package_rounds):
            order = ("before", "after") if rnd % 2 == 0 else ("after", "before")
            for pkg in dict.fromkeys(p for p, _ in tests):
                for build in order:
                    binary, cwd = tests[(pkg, build)]
                    s, rss = measure([str(binary), "-test.count=1", "-test.timeout=30m"], cwd=cwd)
                    runs.append(Run(f"go test {pkg}", build, s, rss))
                    print(f"package round {rnd + 1}: {pkg}, {build}: {s:.1f} s", file=sys.stderr)
    load_end = os.getloadavg()
    rows = summarize(runs)
    print(f"CPU: {kernels.cpu_model()}, {os.cpu_count()} cores; load average (1, 5, 15 min) "
          f"at the start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}, "
          f"at the end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({
            "cpu": kernels.cpu_model(), "cores": os.cpu_count(), "load_start": load_start, "load_end": load_end,
            "runs": [asdict(r) for r in runs], "summary": rows,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
