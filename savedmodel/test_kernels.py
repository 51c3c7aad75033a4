"""Tests of savedmodel/kernels.py: the family from cpuinfo flags, and the report lines."""

from __future__ import annotations

from savedmodel import kernels

ZEN3 = set("fpu sse2 avx avx2 fma bmi2".split())
ZEN4 = ZEN3 | set("avx512f avx512bw avx512vl avx512dq avx512_bf16 avx512_vnni".split())
XEON_AMX = ZEN4 | set("amx_tile amx_bf16 amx_int8 avx512_fp16".split())


def test_family():
    assert kernels.family(ZEN3, "x86_64") == kernels.AVX2
    assert kernels.family(ZEN4, "x86_64") == kernels.AVX512
    assert kernels.family(XEON_AMX, "x86_64") == kernels.AVX512
    assert kernels.family({"avx512f", "avx2", "fma"}, "x86_64") == kernels.AVX2  # no BW/VL/DQ
    assert kernels.family({"sse2"}, "x86_64") == "x86-64-baseline"
    assert kernels.family(XEON_AMX, "aarch64") == "aarch64"


def test_features_in_order():
    assert kernels.features(ZEN3) == ["avx", "avx2", "fma"]
    assert kernels.features(XEON_AMX)[-3:] == ["amx_tile", "amx_bf16", "amx_int8"]
    assert "avx512_fp16" not in kernels.features(XEON_AMX)


def test_cpu_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert kernels.cpu_flags(str(info)) == {"fpu", "avx2", "fma"}
    assert kernels.cpu_flags(str(tmp_path / "missing")) == set()


def test_record(tmp_path, monkeypatch):
    monkeypatch.delenv(kernels.REPORT_ENV, raising=False)
    kernels.record("t0", True, "nowhere")  # unset: nothing written
    path = tmp_path / "report.tsv"
    monkeypatch.setenv(kernels.REPORT_ENV, str(path))
    kernels.record("t1", True, "same kernels")
    kernels.record("t2", False, "two graphs")
    kernels.record("t3", None, "no such kernel")
    assert path.read_text() == "t1\texact\tsame kernels\nt2\tbounded\ttwo graphs\nt3\tskipped\tno such kernel\n"


def test_cpu_model(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\n")
    assert kernels.cpu_model(str(info)) == "AMD EPYC 9R14"
    assert kernels.cpu_model(str(tmp_path / "none"))  # platform's word, or "unknown CPU"
