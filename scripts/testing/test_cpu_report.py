"""Tests of scripts/testing/cpu_report.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_report as cr  # noqa: E402


def test_report_groups_by_mode(tmp_path):
    f = tmp_path / "r.tsv"
    f.write_text("TestB\texact\tsame kernels\nTestA\tbounded\ttwo graphs\nTestB\texact\tsame kernels\nt::x\tskipped\tno kernel\n")
    by_mode = cr.read_report(f)
    assert by_mode == {"exact": [("TestB", "same kernels")], "bounded": [("TestA", "two graphs")], "skipped": [("t::x", "no kernel")]}
    text = cr.report(by_mode, "Some CPU", "x86-64-avx2", ["avx", "avx2", "fma"])
    assert text.splitlines() == [
        "CPU: Some CPU", "TensorFlow float32 kernels: x86-64-avx2", "features: avx avx2 fma",
        "bit for bit: 1", "  TestB  (same kernels)",
        "within measured bounds: 1", "  TestA  (two graphs)",
        "not compared on this CPU: 1", "  t::x  (no kernel)",
    ]  # fmt: skip


def test_bad_lines_and_missing_file(tmp_path, capsys):
    f = tmp_path / "r.tsv"
    f.write_text("TestA\tmaybe\twhy\n")
    with pytest.raises(ValueError, match="r.tsv:1"):
        cr.read_report(f)
    assert cr.main([str(f)]) == 1
    assert cr.main([str(tmp_path / "none.tsv")]) == 1
    assert "no report" in capsys.readouterr().err
