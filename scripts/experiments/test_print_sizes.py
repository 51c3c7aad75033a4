"""Tests of scripts/experiments/print_sizes.py's parts that need no model."""

import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import print_sizes  # noqa: E402


def test_parse_runs() -> None:
    assert print_sizes.parse_runs("1024:0, 4096:1024") == [(1024, 0), (4096, 1024)]
    for bad in ["1024", "x:0", "1024:-4", ""]:
        with pytest.raises(ValueError, match="SIDE:TILE"):
            print_sizes.parse_runs(bad)


def test_peak_mib() -> None:
    assert print_sizes.peak_mib("\tMaximum resident set size (kbytes): 2048\n") == 2.0
    with pytest.raises(ValueError, match="maximum resident"):
        print_sizes.peak_mib("exit 1")


def test_compare(tmp_path) -> None:
    a = np.zeros((4, 5, 3), np.uint8)
    b = a.copy()
    b[1, 2, 0] = 3
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    assert print_sizes.compare(tmp_path / "a.png", tmp_path / "b.png") == "max 3 of 255, 1.7% of values differ"
