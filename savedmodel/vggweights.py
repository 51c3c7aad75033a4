"""VGG16 convolutional weights in the file format Keras distributes them in.

Keras' ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`` is a legacy Keras
HDF5 weights file: the root carries the attribute ``layer_names`` (every layer of
the no-top model, in order, pools included); each layer has a group of that name
whose attribute ``weight_names`` lists its datasets in order (kernel, then bias;
empty for layers without weights). Kernels are (3, 3, in, out) float32 in the
TensorFlow dimension ordering, biases (out,).

This module reads such a file with validation that names the problem, writes one,
and makes deterministic random weights for tests and machines without internet:

    python -m savedmodel.vggweights random --seed 1 --out build/vgg16-random-seed1.h5
    python -m savedmodel.vggweights check FILE
    python -m savedmodel.vggweights random --top --seed 1 --out build/vgg16-top-random-seed1.h5

Random weights (``random_weights``): kernels are He-normal, drawn from
``numpy.random.RandomState(seed)`` (legacy MT19937, whose stream NumPy keeps
stable across versions) with standard deviation sqrt(2 / (9 * in_channels));
biases are normal with standard deviation 0.5. He scaling keeps the mean square
of a ReLU layer's output equal to its input's, so on preprocessed images
(magnitudes up to about 150) the activations stay within a few hundred through
all 13 conv layers, and the notebook's style loss at 512x512 stays in float32's
comfortable range (neither vanishing nor overflowing). Small non-zero biases make
a kernel/bias mix-up visible without dominating the activations. Draw order:
for each conv layer in network order, its kernel (float64 draws, cast to
float32), then its bias.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

# The 13 conv layers of VGG16 as Keras names them, with (in, out) channels.
CONV_LAYERS: tuple[tuple[str, int, int], ...] = (
    ("block1_conv1", 3, 64),
    ("block1_conv2", 64, 64),
    ("block2_conv1", 64, 128),
    ("block2_conv2", 128, 128),
    ("block3_conv1", 128, 256),
    ("block3_conv2", 256, 256),
    ("block3_conv3", 256, 256),
    ("block4_conv1", 256, 512),
    ("block4_conv2", 512, 512),
    ("block4_conv3", 512, 512),
    ("block5_conv1", 512, 512),
    ("block5_conv2", 512, 512),
    ("block5_conv3", 512, 512),
)
LAYER_NAMES: tuple[str, ...] = tuple(name for name, _, _ in CONV_LAYERS)

# Every layer of the no-top model in order, as the distributed file lists them.
ALL_LAYER_NAMES: tuple[str, ...] = (
    "input_1",
    "block1_conv1", "block1_conv2", "block1_pool",
    "block2_conv1", "block2_conv2", "block2_pool",
    "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool",
    "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool",
    "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool",
)  # fmt: skip

BIAS_STDDEV = 0.5


class WeightsError(ValueError):
    """A weights file that is not VGG16 no-top weights; the message says why."""


@dataclass(frozen=True)
class ConvWeights:
    kernel: np.ndarray  # (3, 3, in, out) float32
    bias: np.ndarray  # (out,) float32


def expected_shapes(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    for layer, cin, cout in CONV_LAYERS:
        if layer == name:
            return (3, 3, cin, cout), (cout,)
    raise KeyError(name)


def _random_state(seed: int) -> np.random.RandomState:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"vggweights: seed must be an integer in [0, 2**32), got {seed!r}")
    return np.random.RandomState(int(seed))


def _draw_conv(rs: np.random.RandomState) -> dict[str, ConvWeights]:
    out: dict[str, ConvWeights] = {}
    for name, cin, cout in CONV_LAYERS:
        std = np.sqrt(2.0 / (9 * cin))
        kernel = rs.normal(0.0, std, size=(3, 3, cin, cout)).astype(np.float32)
        bias = rs.normal(0.0, BIAS_STDDEV, size=(cout,)).astype(np.float32)
        out[name] = ConvWeights(kernel, bias)
    return out


def random_weights(seed: int) -> dict[str, ConvWeights]:
    """Deterministic He-normal weights for the 13 conv layers (see module doc)."""
    return _draw_conv(_random_state(seed))


def write(path: str | Path, weights: dict[str, ConvWeights], note: str = "") -> None:
    """Writes weights in the legacy Keras HDF5 layout of the no-top VGG16 file."""
    _write(path, _NO_TOP, weights, note)


def write_random(path: str | Path, seed: int) -> None:
    """Writes random_weights(seed) to path."""
    write(path, random_weights(seed), note=f"random he-normal seed={seed}")


def _attr_list(group: h5py.Group, name: str) -> list[str]:
    # Keras splits attributes over 64 KB into name0, name1, ...; read both forms.
    def decode(values: np.ndarray) -> list[str]:
        return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]

    if name in group.attrs:
        return decode(group.attrs[name])
    out: list[str] = []
    i = 0
    while f"{name}{i}" in group.attrs:
        out.extend(decode(group.attrs[f"{name}{i}"]))
        i += 1
    return out


def read(path: str | Path) -> dict[str, ConvWeights]:
    """Reads and validates a no-top VGG16 weights file.

    Layers are matched by name. Extra layers without weights (input, pools) are
    ignored; missing conv layers, extra weighted layers and wrong shapes are
    errors that name the layer.
    """
    return _read(path, _NO_TOP)


@dataclass(frozen=True)
class KerasFile:
    """One of the ImageNet weights files Keras downloads for VGG16."""

    name: str
    md5: str  # the hash Keras checks the download against
    size: str  # for messages, e.g. "58.9 MB"

    @property
    def url(self) -> str:
        return "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + self.name


def fetch_keras_file(file: KerasFile, url: str, cache_dir: str | None) -> str:
    """Downloads (or finds in Keras' cache) an ImageNet weights file. A failure is a
    WeightsError that says how to go on without the network; nothing falls back."""
    import keras

    try:
        return keras.utils.get_file(file.name, url, cache_subdir="models", file_hash=file.md5, cache_dir=cache_dir)
    except Exception as e:  # Keras wraps network failures in several exception types
        raise WeightsError(
            f"cannot download the ImageNet weights from {url}: {e}\n"
            "Nothing was exported. If you have the file, pass it with --weights PATH "
            f"(it is {file.name}, about {file.size}); for test weights pass "
            "--weights random --seed N."
        ) from None


def resolve_source(
    source: str,
    seed: int | None,
    workdir: str,
    *,
    write_random_file: Callable[[str, int], None],
    random_name: str,
    fetch_imagenet: Callable[[], str],
    imagenet_url: str,
) -> tuple[str, dict]:
    """Turns an exporter's --weights/--seed into a weights file and the provenance
    record for neuralstyle.json: "random" (written into workdir as random_name with
    the seed), "imagenet" (fetch_imagenet), or the path of a Keras .h5 file."""
    if source == "random":
        if seed is None:
            raise WeightsError("--weights random needs --seed N (a non-negative integer)")
        path = str(Path(workdir) / random_name.format(seed=seed))
        write_random_file(path, seed)
        generator = f"savedmodel.vggweights.{write_random_file.__name__}"
        return path, {"source": "random", "seed": seed, "generator": generator}
    if seed is not None:
        raise WeightsError("--seed applies only to --weights random")
    if source == "imagenet":
        path = fetch_imagenet()
        return path, {"source": "imagenet", "url": imagenet_url, "path": path}
    if not source.endswith((".h5", ".hdf5")):
        raise WeightsError(f"--weights {source}: want imagenet, random, or a Keras .h5/.hdf5 weights file")
    return source, {"source": "file", "path": os.path.abspath(source)}


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- With-top file -----------------------------------------------------------
# Keras' ``vgg16_weights_tf_dim_ordering_tf_kernels.h5`` (the classifier the
# article's notebook 5 uses) has the same layout with four more layers after
# block5_pool: flatten (no weights), then the dense layers fc1, fc2 and
# predictions, whose kernels are (in, out) float32 and biases (out,).
# The functions below read, write and randomise that file, through the reader and
# writer the no-top file uses (_read, _write), with this file's layer list.

DENSE_LAYERS: tuple[tuple[str, int, int], ...] = (
    ("fc1", 7 * 7 * 512, 4096),
    ("fc2", 4096, 4096),
    ("predictions", 4096, 1000),
)
TOP_LAYER_NAMES: tuple[str, ...] = LAYER_NAMES + tuple(name for name, _, _ in DENSE_LAYERS)
ALL_TOP_LAYER_NAMES: tuple[str, ...] = ALL_LAYER_NAMES + ("flatten", "fc1", "fc2", "predictions")

# Random classifier weights: fc1 and fc2 are He-normal like the conv layers;
# the predictions kernel is drawn with standard deviation PREDICTIONS_STDDEV
# instead, because with He scaling the logits of a preprocessed photo come out
# in the hundreds and the softmax is exactly one-hot (every other probability
# underflows to 0), which leaves nothing to rank. Measured on three of the shared
# images (224x224 nearest, caffe preprocessing, seed 1): fc2 outputs have a root
# mean square of 90 to 190, and with 1e-3 the top-5 probabilities came out
# between 0.05 and 0.32, so the ranking is visible.
PREDICTIONS_STDDEV = 1e-3


def top_expected_shapes(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Kernel and bias shapes of a weighted layer of the with-top model."""
    for layer, fin, fout in DENSE_LAYERS:
        if layer == name:
            return (fin, fout), (fout,)
    return expected_shapes(name)


def _normal_rows(rs: np.random.RandomState, std: float, shape: tuple[int, int]) -> np.ndarray:
    # Row blocks keep the float64 temporaries small (fc1 alone is 103 M values);
    # the legacy generator draws in sequence, so the values equal one big draw.
    out = np.empty(shape, np.float32)
    step = max(1, (1 << 22) // shape[1])
    for i in range(0, shape[0], step):
        rows = min(step, shape[0] - i)
        out[i : i + rows] = rs.normal(0.0, std, size=(rows, shape[1]))
    return out


def random_top_weights(seed: int) -> dict[str, ConvWeights]:
    """Deterministic weights for all 16 weighted layers of VGG16 with its classifier.

    One ``RandomState(seed)`` stream: the 13 conv layers are drawn exactly as
    ``random_weights(seed)`` draws them (so they are equal), then fc1, fc2 and
    predictions, each kernel then bias.
    """
    rs = _random_state(seed)
    out = _draw_conv(rs)
    for name, fin, fout in DENSE_LAYERS:
        std = PREDICTIONS_STDDEV if name == "predictions" else float(np.sqrt(2.0 / fin))
        kernel = _normal_rows(rs, std, (fin, fout))
        bias = rs.normal(0.0, BIAS_STDDEV, size=(fout,)).astype(np.float32)
        out[name] = ConvWeights(kernel, bias)
    return out


def write_top(path: str | Path, weights: dict[str, ConvWeights], note: str = "") -> None:
    """Writes weights in the legacy Keras HDF5 layout of the with-top VGG16 file."""
    _write(path, _TOP, weights, note)


def write_random_top(path: str | Path, seed: int) -> None:
    """Writes random_top_weights(seed) to path."""
    write_top(path, random_top_weights(seed), note=f"random he-normal seed={seed} with top")


def read_top(path: str | Path) -> dict[str, ConvWeights]:
    """Reads and validates a with-top VGG16 weights file (16 weighted layers).

    Same rules as ``read``: layers matched by name, layers without weights
    ignored, a missing or extra weighted layer or a wrong shape is an error
    that names the layer. A no-top file is reported as such.
    """
    return _read(path, _TOP)


# --- One reader and writer for both files ------------------------------------


@dataclass(frozen=True)
class _Layout:
    """One of the two files: its layers and how its errors read."""

    weighted: tuple[str, ...]  # the layers with weights, in order
    listed: tuple[str, ...]  # every layer, as the file's layer_names lists them
    shapes: Callable[[str], tuple[tuple[int, ...], tuple[int, ...]]]  # kernel and bias shapes
    missing: str  # what a missing weighted layer is called in errors
    extra_hint: str  # what the error about unexpected weighted layers adds


_NO_TOP = _Layout(
    LAYER_NAMES, ALL_LAYER_NAMES, expected_shapes, "VGG16 conv layers",
    " (want the no-top file, vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5)",
)  # fmt: skip
_TOP = _Layout(TOP_LAYER_NAMES, ALL_TOP_LAYER_NAMES, top_expected_shapes, "VGG16 layers", "")
_DENSE_NAMES = tuple(name for name, _, _ in DENSE_LAYERS)


def _write(path: str | Path, layout: _Layout, weights: dict[str, ConvWeights], note: str) -> None:
    missing = [n for n in layout.weighted if n not in weights]
    if missing:
        raise WeightsError(f"vggweights: write {path}: missing layers {', '.join(missing)}")
    for name in layout.weighted:
        ks, bs = layout.shapes(name)
        w = weights[name]
        if w.kernel.shape != ks or w.bias.shape != bs:
            raise WeightsError(
                f"vggweights: write {path}: layer {name}: kernel {w.kernel.shape} bias "
                f"{w.bias.shape}, want {ks} and {bs}"
            )
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in layout.listed])
        f.attrs["backend"] = b"tensorflow"
        if note:
            f.attrs["neuralstyle_note"] = note.encode()
        for name in layout.listed:
            g = f.create_group(name)
            if name not in weights:
                g.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            # The distributed files name their datasets the Keras 1 way.
            kname, bname = f"{name}_W_1:0", f"{name}_b_1:0"
            g.attrs["weight_names"] = np.array([kname.encode(), bname.encode()])
            g.create_dataset(kname, data=np.asarray(weights[name].kernel, np.float32))
            g.create_dataset(bname, data=np.asarray(weights[name].bias, np.float32))


def _read(path: str | Path, layout: _Layout) -> dict[str, ConvWeights]:
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise WeightsError(f"vggweights: {path}: no such file") from None
    except OSError as e:
        raise WeightsError(f"vggweights: {path}: not an HDF5 file ({e})") from None
    with f:
        root: h5py.Group = f
        if "layer_names" not in root.attrs and "model_weights" in root:
            root = root["model_weights"]  # a whole saved model: weights live here
        names = _attr_list(root, "layer_names")
        if not names:
            raise WeightsError(
                f"vggweights: {path}: no layer_names attribute; not a Keras HDF5 weights file"
            )
        weighted: dict[str, list[str]] = {}
        for name in names:
            if name not in root:
                raise WeightsError(f"vggweights: {path}: layer {name} listed but has no group")
            wn = _attr_list(root[name], "weight_names")
            if wn:
                weighted[name] = wn
        missing = [n for n in layout.weighted if n not in weighted]
        extra = [n for n in weighted if n not in layout.weighted]
        if tuple(missing) == _DENSE_NAMES and not extra:
            # Only the with-top layout can miss exactly these: the no-top file.
            raise WeightsError(
                f"vggweights: {path}: a no-top file (no fc1, fc2, predictions); the classifier "
                "needs vgg16_weights_tf_dim_ordering_tf_kernels.h5"
            )
        if missing:
            raise WeightsError(f"vggweights: {path}: missing {layout.missing} {', '.join(missing)}")
        if extra:
            raise WeightsError(
                f"vggweights: {path}: unexpected layers with weights {', '.join(extra)}{layout.extra_hint}"
            )
        out: dict[str, ConvWeights] = {}
        for name in layout.weighted:
            wn = weighted[name]
            g = root[name]
            if len(wn) != 2:
                raise WeightsError(
                    f"vggweights: {path}: layer {name}: {len(wn)} weights, want 2 (kernel, bias)"
                )
            try:
                kernel, bias = (np.asarray(g[w]) for w in wn)
            except KeyError as e:
                raise WeightsError(f"vggweights: {path}: layer {name}: missing dataset {e}") from None
            ks, bs = layout.shapes(name)
            if kernel.shape != ks or bias.shape != bs:
                raise WeightsError(
                    f"vggweights: {path}: layer {name}: kernel shape {kernel.shape} and bias "
                    f"shape {bias.shape}, want {ks} and {bs}"
                )
            if not (np.issubdtype(kernel.dtype, np.floating) and np.issubdtype(bias.dtype, np.floating)):
                raise WeightsError(
                    f"vggweights: {path}: layer {name}: dtypes {kernel.dtype}, {bias.dtype}, want float"
                )
            out[name] = ConvWeights(kernel.astype(np.float32), bias.astype(np.float32))
        return out


# --- Where weights that are not ImageNet's come from -------------------------
# A weights file made from another network (scripts/models/hed_weights.py: HED's
# backbone) carries a JSON record in this root attribute; the exporter copies it
# into neuralstyle.json as weights.origin, so such weights are never taken for
# ImageNet's.
ORIGIN_ATTR = "neuralstyle_origin"


def read_origin(path: str | Path) -> dict | None:
    """The origin record of a weights file, or None when it has none."""
    with h5py.File(path, "r") as f:
        raw = f.attrs.get(ORIGIN_ATTR)
    if raw is None:
        return None
    try:
        record = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except ValueError as e:
        raise WeightsError(f"vggweights: {path}: attribute {ORIGIN_ATTR} is not JSON ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise WeightsError(f"vggweights: {path}: attribute {ORIGIN_ATTR} has no name")
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m savedmodel.vggweights", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("random", help="write deterministic random weights")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--top", action="store_true", help="the with-top (classifier) file")
    c = sub.add_parser("check", help="validate a weights file and print its SHA-256")
    c.add_argument("file")
    c.add_argument("--top", action="store_true", help="expect the with-top (classifier) file")
    a = p.parse_args(argv)
    try:
        if a.cmd == "random":
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            (write_random_top if a.top else write_random)(a.out, a.seed)
            print(f"{a.out} sha256 {sha256(a.out)}")
        else:
            w = read_top(a.file) if a.top else read(a.file)
            n = sum(v.kernel.size + v.bias.size for v in w.values())
            what = "13 conv and 3 dense layers" if a.top else "13 conv layers"
            print(f"{a.file}: {what}, {n} parameters, sha256 {sha256(a.file)}")
    except (WeightsError, ValueError, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
