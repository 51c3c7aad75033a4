"""Tests of bench_transfer's table (the runs themselves are benchmarks)."""

from __future__ import annotations

import bench_transfer as bt


def test_table_ratios() -> None:
    rs = [
        bt.Result("bare VGG16 to block5_conv3, forward and backward (TensorFlow)", 256, 1.0, 0.0, 900.0, 6),
        bt.Result("Go, --graph recipe", 256, 2.5, 52.0, 1300.0, 21),
        bt.Result("Go, --graph fast", 256, 1.25, 26.0, 950.0, 21),
    ]
    rows = bt.table(rs).splitlines()
    assert rows[2] == "| 256x256 | bare VGG16 to block5_conv3, forward and backward (TensorFlow) | 1.000 | 6 |  | 1.00x | 0.40x | 900 MiB |"
    assert rows[3] == "| 256x256 | Go, --graph recipe | 2.500 | 21 | 52.0 | 2.50x | 1.00x | 1,300 MiB |"
    assert rows[4] == "| 256x256 | Go, --graph fast | 1.250 | 21 | 26.0 | 1.25x | 0.50x | 950 MiB |"


def test_table_without_baselines() -> None:
    rows = bt.table([bt.Result("Go, --graph fast", 512, 3.0, 60.0, 1700.0, 21)]).splitlines()
    assert rows[2] == "| 512x512 | Go, --graph fast | 3.000 | 21 | 60.0 |  |  | 1,700 MiB |"
