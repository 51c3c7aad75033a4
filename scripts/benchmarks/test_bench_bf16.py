"""Tests of bench_bf16's summary and table (the runs themselves are benchmarks)."""

from __future__ import annotations

import bench_bf16 as bb


def runners(**medians: float) -> dict[str, bb.Runner]:
    names = {"bare32": "bare fp32", "bare16": "bare bf16", "go32": "Go fp32", "go16": "Go bf16"}
    return {names[k]: bb.Runner(names[k], "bf16" in names[k], [v]) for k, v in medians.items()}


def test_has_bf16() -> None:
    assert bb.has_bf16({"avx512f", "avx512_bf16"})
    assert bb.has_bf16({"amx_bf16"})
    assert not bb.has_bf16({"avx2", "avx512f", "fma"})


def test_summary_ratio() -> None:
    s = bb.summarize(runners(bare32=2.0, bare16=1.0, go32=2.4, go16=1.5), bf16=True)
    assert s.bare_speedup == 2.0
    assert abs(s.project_speedup - 1.6) < 1e-12
    assert abs(s.ratio - 0.8) < 1e-12
    assert s.verdict == "target 0.9x: not met"
    s = bb.summarize(runners(bare32=2.0, bare16=1.0, go32=2.2, go16=1.15), bf16=True)
    assert s.verdict == "target 0.9x: met"


def test_without_bf16_skips_not_slow() -> None:
    rs = runners(bare32=2.0, go32=2.4)
    rs["bare bf16"] = bb.Runner("bare bf16", True)
    rs["Go bf16"] = bb.Runner("Go bf16", True)
    s = bb.summarize(rs, bf16=False)
    assert s.ratio is None and "not measurable here" in s.verdict and "slow" not in s.verdict
    rows = bb.table(rs, 512, bf16=False).splitlines()
    assert "| bare fp32 | 2.000 | 2.000 | 1 |" in rows
    assert "| Go bf16 | skipped (no bf16 on this CPU) | | |" in rows


def test_cpu_line() -> None:
    assert bb.cpu_line({"avx2", "amx_bf16"}) == "avx2 yes, avx512f no, avx512_bf16 no, amx_bf16 yes, amx_tile no"
