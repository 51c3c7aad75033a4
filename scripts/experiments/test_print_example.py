import json
from pathlib import Path

import pytest
from PIL import Image

import print_example


def record(scale: int, size: str, evaluations: int, seconds: float, loss: float, **extra: object) -> str:
    return json.dumps({"iteration": 0, "scale": scale, "size": size, "evaluations": evaluations,
                       "seconds": seconds, "loss": loss, **extra})


def test_scales() -> None:
    log = "\n".join([
        json.dumps({"settings": {"size": "512x512"}}),
        record(0, "437x512", 21, 80, 9e8),
        record(0, "437x512", 20, 78, 7e8),
        record(1, "874x1024", 22, 300, 5e8),
        record(2, "1748x2048", 21, 2000, 4e8),
        record(2, "1748x2048", 3, 250, 3.9e8, partial=True),  # an interrupted run's last line
    ])
    got = print_example.scales(log)
    assert got == [print_example.Scale("437x512", 2, 41, 158, 7e8),
                   print_example.Scale("874x1024", 1, 22, 300, 5e8),
                   print_example.Scale("1748x2048", 1, 21, 2000, 4e8)]
    text = print_example.table(got, 2600)
    assert "| all | | 4 | 84 | 2458 | | |" in text
    assert "| 2 | 1748x2048 | 1 | 21 | 2000 | 95.2 | 4e+08 |" in text
    with pytest.raises(ValueError, match="no finished iteration"):
        print_example.scales(json.dumps({"settings": {}}))


def test_figures(tmp_path: Path) -> None:
    full = tmp_path / "full.png"
    Image.new("RGB", (300, 200), (10, 20, 30)).save(full)
    whole, detail = print_example.figures(full, tmp_path / "out", small=60, crop=50, centre=(0.99, 0.0))
    assert Image.open(whole).size == (60, 40)
    # The crop keeps inside the picture even when its centre is at an edge.
    assert Image.open(detail).size == (50, 50)
    big = print_example.figures(full, tmp_path / "out2", small=60, crop=500, centre=(0.5, 0.5))[1]
    assert Image.open(big).size == (300, 200)
