"""Peak resident memory and wall time of `neuralstyle inspect`, two builds side by side.

Each round runs, for each build (the order alternating from round to round, so
both see the same machine state), `neuralstyle --help` (the floor: a process
that links TensorFlow and loads nothing) and `inspect --device cpu` on each
model. A run's peak is wait4's ru_maxrss (exact); its anonymous and file-backed
parts are the largest RssAnon and RssFile that /proc/PID/status showed while it
ran, sampled every millisecond (a sample can miss a short peak: they bound the
split from below). Prints a Markdown table of medians (min to max) with the CPU
and the load average at the start and the end; --json writes every run.

    .venv/bin/python scripts/benchmarks/bench_inspect.py --before /tmp/main/bin/neuralstyle \\
        --after bin/neuralstyle --models build/model-hed,build/testmodels/vgg16-random-seed1 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Run:
    build: str  # "before" or "after"
    what: str  # "--help" or "inspect MODEL"
    seconds: float
    peak_mb: float  # ru_maxrss
    anon_mb: float  # largest RssAnon sampled
    file_mb: float  # largest RssFile sampled


def parse_status(text: str) -> dict[str, int]:
    """Returns the kB figures of /proc/PID/status (VmHWM, RssAnon, ...) by name."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            out[name] = int(parts[0])
    return out


def measure(argv: list[str], build: str, what: str) -> Run:
    """Runs argv (stdout and stderr to /dev/null) and samples its memory until it
    exits; a failure raises."""
    null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=null)
    anon = file = 0
    while True:
        try:
            with open(f"/proc/{pid}/status") as f:
                st = parse_status(f.read())
            anon, file = max(anon, st.get("RssAnon", 0)), max(file, st.get("RssFile", 0))
        except OSError:
            pass
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done == pid:
            break
        time.sleep(0.001)
    seconds = time.perf_counter() - start
    if (code := os.waitstatus_to_exitcode(status)) != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return Run(build, what, seconds, usage.ru_maxrss / 1024, anon / 1024, file / 1024)


def spread(values: list[float], fmt: str) -> str:
    """The median, and the range when the values differ."""
    med = format(statistics.median(values), fmt)
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return med if lo == hi else f"{med} ({lo} to {hi})"


def table(runs: list[Run]) -> str:
    """A Markdown table: a row per command and build, in the order first run."""
    keys: list[tuple[str, str]] = []
    for r in runs:
        if (r.what, r.build) not in keys:
            keys.append((r.what, r.build))
    lines = [
        "| command | build | runs | peak resident MB | RssAnon MB (sampled) | RssFile MB (sampled) | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for what, build in keys:
        rs = [r for r in runs if (r.what, r.build) == (what, build)]
        lines.append(
            f"| `{what}` | {build} | {len(rs)} | {spread([r.peak_mb for r in rs], '.0f')} | "
            f"{spread([r.anon_mb for r in rs], '.0f')} | {spread([r.file_mb for r in rs], '.0f')} | "
            f"{spread([r.seconds for r in rs], '.2f')} |"
        )
    return "\n".join(lines)


def cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, help="the neuralstyle binary to compare against (optional)")
    p.add_argument("--after", type=Path, default=Path("bin/neuralstyle"))
    p.add_argument("--models", default="build/model-hed,build/testmodels/vgg16-random-seed1", help="comma-separated")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", type=Path, help="write every run here")
    args = p.parse_args(argv)
    builds = {"after": args.after} | ({"before": args.before} if args.before else {})
    models = [m for m in args.models.split(",") if m]
    for path in [*builds.values()]:
        if not os.access(path, os.X_OK):
            p.error(f"{path}: not an executable (build it with make build)")
    for m in models:
        if not (Path(m) / "saved_model.pb").is_file():
            p.error(f"{m}: not a SavedModel (no saved_model.pb)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    load_start = os.getloadavg()
    runs: list[Run] = []
    for i in range(args.rounds):
        order = list(builds.items())
        if i % 2:
            order.reverse()
        for build, binary in order:
            runs.append(measure([str(binary), "--help"], build, "--help"))
            for m in models:
                runs.append(measure([str(binary), "inspect", "--model", m, "--device", "cpu"], build, f"inspect {m}"))
    load_end = os.getloadavg()
    print(f"{cpu_model()}, {len(os.sched_getaffinity(0))} CPUs available; load average (1, 5, 15 min) "
          f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, {' '.join(f'{x:.2f}' for x in load_end)} at the end; "
          f"{args.rounds} rounds\n")
    print(table(runs))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
