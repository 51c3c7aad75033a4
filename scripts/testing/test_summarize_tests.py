"""Tests of scripts/testing/summarize_tests.py on logs of the shapes go test and pytest print."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import summarize_tests as ts  # noqa: E402

GO_LOG = """\
ok  \tgithub.com/neuralstyle/neuralstyle/optimize\t1.2s
--- FAIL: TestTensorFlowLogLines (3.10s)
    tflog_test.go:130: stderr lacks TensorFlow's "Reading SavedModel from"
--- FAIL: TestOuter (0.00s)
    --- FAIL: TestOuter/inner (0.00s)
FAIL
FAIL\tgithub.com/neuralstyle/neuralstyle/cmd/neuralstyle\t95.1s
FAIL\tgithub.com/neuralstyle/neuralstyle/internal/broken [build failed]
ok  \tgithub.com/neuralstyle/neuralstyle/tfgraph\t20.0s
FAIL
"""

PY_LOG = """\
....F.
FAILED savedmodel/test_controls.py::test_mask_of_ones_equals_no_mask[] - Asse...
ERROR scripts/test_x.py::test_y - fixture 'z' not found
1 failed, 186 passed, 1 skipped, 1 error in 243.25s (0:04:03)
"""


def test_go_failures_name_tests_and_packages():
    assert ts.failures(GO_LOG) == [
        "github.com/neuralstyle/neuralstyle/cmd/neuralstyle 95.1s: TestTensorFlowLogLines, TestOuter, TestOuter/inner",
        "github.com/neuralstyle/neuralstyle/internal/broken [build failed]",
    ]


def test_pytest_failures():
    assert ts.failures(PY_LOG) == [
        "savedmodel/test_controls.py::test_mask_of_ones_equals_no_mask[]",
        "scripts/test_x.py::test_y (error)",
    ]


def test_a_panic_without_a_package_line_still_names_the_test():
    assert ts.failures("--- FAIL: TestHang (600.00s)\npanic: test timed out\n") == ["TestHang"]


def test_summary_and_exit_code(tmp_path):
    (tmp_path / "check.status").write_text("0\n")
    (tmp_path / "go.status").write_text("1\n")
    (tmp_path / "go.log").write_text(GO_LOG)
    (tmp_path / "py.status").write_text("0\n")
    text, ok = ts.summarize(tmp_path, ["check", "go", "py", "fuzz"])
    assert not ok
    lines = text.splitlines()
    assert lines[0] == "make test: 2 of 4 parts failed: go, fuzz"
    assert "  check: ok" in lines and "  py: ok" in lines
    assert any(l.startswith("  go: FAILED (exit 1") for l in lines)
    assert any("TestTensorFlowLogLines" in l for l in lines)
    assert any(l.startswith("  fuzz: did not run") for l in lines)
    assert ts.main([str(tmp_path), "check", "go"]) == 1
    assert ts.main([str(tmp_path), "check", "py"]) == 0
