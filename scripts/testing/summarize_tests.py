"""Ends `make test` with what failed: each part's exit status (PART.status in the
results folder) and, from its log (PART.log), the Go tests and packages and the
pytest tests that failed. Exits 1 when a part failed or left no status, so make's
exit code stays non-zero on any failure, after every part has run to its end."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# Go: "--- FAIL: TestX/sub (0.00s)" (indented for subtests), then the package's
# "FAIL\tpath\t1.2s" (or "FAIL\tpath [build failed]"); pytest: "FAILED file::test - ..."
# and "ERROR file::test - ..." in its short summary.
GO_TEST = re.compile(r"^\s*--- FAIL: (\S+)")
GO_PKG = re.compile(r"^FAIL\s+(\S+)(?:\s+(\[.*\]|\S+s))?\s*$")
PY_TEST = re.compile(r"^(FAILED|ERROR) (\S+)")


def failures(log: str) -> list[str]:
    """The failed tests and packages that log names, in its order, each once."""
    out: list[str] = []
    pending: list[str] = []
    for line in log.splitlines():
        if m := GO_TEST.match(line):
            pending.append(m.group(1))
        elif m := GO_PKG.match(line):
            pkg, why = m.group(1), m.group(2) or ""
            out.append(f"{pkg} {why}".strip() + (": " + ", ".join(pending) if pending else ""))
            pending = []
        elif m := PY_TEST.match(line):
            out.append(f"{m.group(2)}" + (" (error)" if m.group(1) == "ERROR" else ""))
    out.extend(pending)  # a test whose package line never came (a panic, a timeout)
    return list(dict.fromkeys(out))


def summarize(results: Path, parts: list[str]) -> tuple[str, bool]:
    """The summary's text and whether every part passed."""
    lines, failed = [], []
    for part in parts:
        status = results / f"{part}.status"
        log = results / f"{part}.log"
        if not status.exists():
            lines.append(f"  {part}: did not run (no {status})")
            failed.append(part)
            continue
        code = status.read_text().strip()
        if code == "0":
            lines.append(f"  {part}: ok")
            continue
        failed.append(part)
        lines.append(f"  {part}: FAILED (exit {code}; log {log})")
        for f in failures(log.read_text(errors="replace") if log.exists() else ""):
            lines.append(f"    {f}")
    head = "make test: every part passed" if not failed else f"make test: {len(failed)} of {len(parts)} parts failed: {', '.join(failed)}"
    return "\n".join([head, *lines]), not failed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results", type=Path, help="the folder of PART.status and PART.log files")
    p.add_argument("parts", nargs="+", help="the parts make test runs, in order")
    a = p.parse_args(argv)
    text, ok = summarize(a.results, a.parts)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
