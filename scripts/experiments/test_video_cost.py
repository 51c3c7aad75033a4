import pytest

import video_cost


@pytest.mark.parametrize("text, want", [
    ("850ms", 0.85), ("4.14s", 4.14), ("1m5s", 65), ("1h2m3s", 3723), ("2h0m0s", 7200),
])
def test_parse_duration(text: str, want: float) -> None:
    assert video_cost.parse_duration(text) == pytest.approx(want)


@pytest.mark.parametrize("text", ["", "5", "5x", "1m5", "s", "1m 5s"])
def test_parse_duration_bad(text: str) -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        video_cost.parse_duration(text)


def test_frame_seconds() -> None:
    out = "\n".join([
        "frame 1/3: clip/frame_0001.png",
        "frame 1/3 done in 4m10s: loss 1.2e+08",
        "frame 2/3 done in 55.5s: loss 1e+08",
        "frame 3/3 done in 1m0s: loss 9e+07 (temporal term 12)",
        "wrote out/video.gif",
    ])
    assert video_cost.frame_seconds(out) == [250, 55.5, 60]
    with pytest.raises(ValueError, match="no 'frame"):
        video_cost.frame_seconds("nothing here")
    # A resumed run prints only the frames it ran: the ones before are missing.
    with pytest.raises(ValueError, match=r"no time for frames \[1\]"):
        video_cost.frame_seconds("frame 2/3 done in 1s: loss 1")


def test_clip_seconds() -> None:
    # 240 frames: the first, then 239 at the later rate.
    assert video_cost.clip_seconds(100, 10) == 100 + 239 * 10
    assert video_cost.clip_seconds(5, 1, seconds=1, fps=2) == 6
