"""The benchmark's parsing and table (no networks run)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_fastnets as bf  # noqa: E402


def test_go_bench_seconds():
    out = "goos: linux\nBenchmarkMultistyle/512-2   \t       3\t 435922006 ns/op\nPASS\n"
    assert bf.go_bench_seconds(out, "Multistyle/512") == 0.435922006
    try:
        bf.go_bench_seconds(out, "Multistyle/256")
    except RuntimeError as e:
        assert "Multistyle/256" in str(e)
    else:
        raise AssertionError("a missing benchmark went unnoticed")


def test_table_ratio_and_missing_engine():
    rows = [bf.Measure("multistyle26", "go", 512, 0.4, 700), bf.Measure("multistyle26", "ort", 512, 0.5, 300),
            bf.Measure("arbitrary_transform", "go", 1024, 2.0, 900)]
    t = bf.table(rows, "Test CPU", 2)
    assert "Test CPU, 2 threads" in t
    assert "| multistyle26 | 512 | 0.400 | 0.500 | 0.80x | 700 / 300 |" in t
    assert "| arbitrary_transform | 1024 | 2.000 | - | - | 900 / - |" in t


def test_run_measured_reports_memory_and_failure():
    out, mib = bf.run_measured([sys.executable, "-c", "b = bytearray(64 << 20); print('hi')"])
    assert out.strip() == "hi" and mib >= 64
    try:
        bf.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])
    except RuntimeError as e:
        assert "exit 3" in str(e)
    else:
        raise AssertionError("a failed command went unnoticed")


def test_clip_table_frames_per_second():
    assert bf.clip_table([]) == ""
    t = bf.clip_table([bf.Measure("clip (alone)", "go", 512, 0.25, 700)])
    assert "| clip (alone) | 512 | 0.250 | 4.00 | 700 |" in t
    # A sub-benchmark name with a slash is parsed as go test prints it.
    out = "BenchmarkClip/smoothed/512-2   \t       5\t 500000000 ns/op\n"
    assert bf.go_bench_seconds(out, "Clip/smoothed/512") == 0.5


def test_median_of_alternations_and_bf16_row():
    runs = [bf.Measure("multistyle26", "go", 256, s, m) for s, m in ((0.05, 300), (0.02, 350), (0.03, 320))]
    runs.append(bf.Measure("multistyle26", "ort", 256, 0.9, 100))
    med = bf.median(runs, "multistyle26", "go")
    assert (med.seconds, med.peak_mib, med.side) == (0.03, 350, 256)
    # The bf16 row is set against ONNX Runtime's float32 figure of the same network.
    rows = [med, bf.Measure("multistyle26 bf16", "go", 256, 0.015, 360), bf.Measure("multistyle26", "ort", 256, 0.025, 150)]
    t = bf.table(rows, "Test CPU", 2)
    assert "| multistyle26 | 256 | 0.030 | 0.025 | 1.20x | 350 / 150 |" in t
    assert "| multistyle26 bf16 | 256 | 0.015 | 0.025 | 0.60x | 360 / 150 |" in t


def test_paired_ratio_is_the_median_of_each_alternations_ratio():
    # Load that slows one alternation slows both engines in it: the paired
    # ratios are 2.0, 1.5 and 1.0, their median 1.5, where the medians' ratio
    # would be 0.05 / 0.04 = 1.25; the table shows the paired one.
    runs = []
    for go, ort in ((0.08, 0.04), (0.03, 0.02), (0.05, 0.05)):
        runs += [bf.Measure("multistyle26", "go", 256, go, 1), bf.Measure("multistyle26", "ort", 256, ort, 1)]
    assert bf.paired_ratio(runs, "multistyle26") == 1.5
    med = bf.median(runs, "multistyle26", "go")
    med.ratio = bf.paired_ratio(runs, "multistyle26")
    t = bf.table([med, bf.median(runs, "multistyle26", "ort")], "Test CPU", 2)
    assert "| multistyle26 | 256 | 0.050 | 0.040 | 1.50x | 1 / 1 |" in t
