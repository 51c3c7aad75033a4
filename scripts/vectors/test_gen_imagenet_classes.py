"""The checked-in internal/imagenet/classes.go is what the pinned generator writes."""

from __future__ import annotations

from pathlib import Path

import gen_imagenet_classes as gen

ROOT = Path(__file__).resolve().parents[2]


def test_classes_go_is_up_to_date():
    want = gen.go_source(gen.classes())
    have = (ROOT / "internal" / "imagenet" / "classes.go").read_text()
    assert have == want, "internal/imagenet/classes.go is stale: run python scripts/vectors/gen_imagenet_classes.py"


def test_keras_names():
    cs = gen.classes()
    assert cs[386][:2] == ("n02504458", "African_elephant")
    assert cs[101][1] == "tusker" and cs[385][1] == "Indian_elephant"
    assert cs[134][1] == cs[517][1] == "crane"  # Keras' list has the duplicate too
