"""The family of TensorFlow's float32 CPU kernels on this machine (as Go's
internal/kernels names it), so that a test requires bit-for-bit equality only
where the two sides ran the same kernels.

oneDNN and Eigen choose their float32 kernels, and so the order of every sum, by
the widest instruction set the CPU has: AVX-512 (F, BW, VL, DQ) or AVX2 with FMA.
AVX512-BF16 and AMX change only the bf16 kernels.
"""

from __future__ import annotations

import os
import platform

AVX512 = "x86-64-avx512"
AVX2 = "x86-64-avx2"

# Linux's names of the instruction sets TensorFlow's kernels use, in Go's order.
FEATURES = (
    "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq",
    "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8",
)


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    """The flags of the first CPU in cpuinfo (empty where it cannot be read)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name from cpuinfo, or platform's word for it where there is none."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def features(flags: set[str] | None = None) -> list[str]:
    """The kernels' instruction sets this CPU has (FEATURES' names and order)."""
    flags = cpu_flags() if flags is None else flags
    return [f for f in FEATURES if f in flags]


def family(flags: set[str] | None = None, machine: str | None = None) -> str:
    """AVX512, AVX2, or another name that no stored vector was made on."""
    machine = machine or platform.machine()
    if machine not in ("x86_64", "AMD64"):
        return machine
    flags = cpu_flags() if flags is None else flags
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return AVX512
    if {"avx2", "fma"} <= flags:
        return AVX2
    return "x86-64-baseline"


REPORT_ENV = "NEURALSTYLE_EXACTNESS_REPORT"


def record(test: str, exact: bool | None, why: str) -> None:
    """Notes for make test-cpu-report that test held its results bit for bit
    (exact), within a measured bound (False), or could not compare on this CPU
    (None: skipped), and why: a line appended to the file
    $NEURALSTYLE_EXACTNESS_REPORT names (as Go's kernels.Record); unset, nothing."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    mode = "skipped" if exact is None else "exact" if exact else "bounded"
    line = f"{test}\t{mode}\t{why}\n"
    # One write of the whole line: appends from parallel processes don't interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
