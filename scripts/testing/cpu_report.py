"""Prints make test-cpu-report's table: this CPU's model and the instruction sets
TensorFlow's kernels choose by (savedmodel/kernels.py), then which regression
tests held their results bit for bit here and which within measured bounds, from
the lines the tests appended to the report file (Go's kernels.Record, Python's
kernels.record)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from savedmodel import kernels  # noqa: E402

MODES = ("exact", "bounded", "skipped")
HEADINGS = {"exact": "bit for bit", "bounded": "within measured bounds", "skipped": "not compared on this CPU"}


def read_report(path: Path) -> dict[str, list[tuple[str, str]]]:
    """The report's tests by mode, each test once (its last line wins), sorted."""
    last: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in MODES:
            raise ValueError(f"{path}:{n}: not 'test<TAB>exact|bounded|skipped<TAB>why': {line!r}")
        last[parts[0]] = (parts[1], parts[2])
    by_mode: dict[str, list[tuple[str, str]]] = {m: [] for m in MODES}
    for test, (mode, why) in sorted(last.items()):
        by_mode[mode].append((test, why))
    return by_mode


def report(by_mode: dict[str, list[tuple[str, str]]], model: str, family: str, features: list[str]) -> str:
    lines = [f"CPU: {model}", f"TensorFlow float32 kernels: {family}", f"features: {' '.join(features) or '(none)'}"]
    for mode in MODES:
        tests = by_mode[mode]
        lines.append(f"{HEADINGS[mode]}: {len(tests)}")
        lines += [f"  {test}  ({why})" for test, why in tests]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("report", type=Path, help="the file the tests appended to ($NEURALSTYLE_EXACTNESS_REPORT)")
    a = p.parse_args(argv)
    if not a.report.exists():
        print(f"{a.report}: no report (did the tests run with NEURALSTYLE_EXACTNESS_REPORT set?)", file=sys.stderr)
        return 1
    try:
        by_mode = read_report(a.report)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print(report(by_mode, kernels.cpu_model(), kernels.family(), kernels.features()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
