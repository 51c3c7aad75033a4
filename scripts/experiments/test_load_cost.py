import sys

import pytest

import load_cost


def test_measure_reports_the_child_peak_memory() -> None:
    # 200 MiB written in the child: its own peak, not this process's, even while
    # this process holds more (in make test, pytest holds TensorFlow's 4 GB).
    big = bytearray(600 * 2**20)
    big[::4096] = b"1" * len(big[::4096])
    s, rss = load_cost.measure([sys.executable, "-c", "x = bytearray(200 * 2**20); x[::4096] = b'1' * len(x[::4096])"])
    assert s > 0
    assert 200 <= rss < 400
    del big


def test_measure_raises_with_the_output() -> None:
    with pytest.raises(RuntimeError, match="exited 3:\nbroken"):
        load_cost.measure([sys.executable, "-c", "import sys; print('broken'); sys.exit(3)"])


def test_summarize_medians_and_ratios() -> None:
    runs = [
        load_cost.Run("inspect", "before", 8.0, 1500),
        load_cost.Run("inspect", "after", 0.5, 400),
        load_cost.Run("inspect", "before", 10.0, 1600),
        load_cost.Run("inspect", "after", 0.3, 420),
        load_cost.Run("inspect", "before", 9.0, 1550),
        load_cost.Run("inspect", "after", 0.4, 410),
        load_cost.Run("go test ./tfgraph", "after", 5.0, 300),
        load_cost.Run("go test ./tfgraph", "before", 20.0, 900),
    ]
    rows = load_cost.summarize(runs)
    assert [r["what"] for r in rows] == ["inspect", "go test ./tfgraph"]
    ins = rows[0]
    assert ins["before"] == {"seconds": 9.0, "max_rss_mb": 1550, "n": 3}
    assert ins["after"] == {"seconds": 0.4, "max_rss_mb": 410, "n": 3}
    assert ins["time_ratio"] == pytest.approx(0.4 / 9.0)
    assert rows[1]["rss_ratio"] == pytest.approx(300 / 900)
    text = load_cost.table(rows)
    assert "| inspect (median of 3) | 9.00 | 0.40 | 0.044 | 1550 | 410 | 0.265 |" in text
    assert "| go test ./tfgraph (median of 1) | 20.00 | 5.00 | 0.250 |" in text


def test_bad_rounds() -> None:
    with pytest.raises(SystemExit):
        load_cost.main(["--before", ".", "--after", ".", "--model", "m", "--rounds", "0"])
