"""Exports the SavedModel the Go driver runs: the style model (savedmodel/stylemodel.py,
Keras VGG16's conv layers with the notebook's loss and gradient, docs/recipe.md)
with weights that Keras' own VGG16 loader has checked, and its neuralstyle.json.

    python -m savedmodel.export --out build/model                       # ImageNet (download)
    python -m savedmodel.export --out build/model --weights FILE.h5     # local Keras no-top file
    python -m savedmodel.export --out DIR --weights random --seed 1     # deterministic test weights

The contract (signatures, tensors, layer order, errors) is in savedmodel/README.md.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savedmodel import stylemodel as sm  # noqa: E402
from savedmodel import vggweights as vw  # noqa: E402
from savedmodel.cli import ExportError, run_cli, write_metadata  # noqa: E402

_IMAGENET = vw.KerasFile("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc", "58.9 MB")
IMAGENET_FILE = _IMAGENET.name
IMAGENET_URL = _IMAGENET.url  # a module variable, so tests can point it at a closed port
CACHE_DIR: str | None = None  # where the download is kept; None: Keras' cache (~/.keras or $KERAS_HOME)
FORMAT = "neuralstyle-vgg16-loss/1"


# --- weights ------------------------------------------------------------------------


def _keras_vgg16(weights_file: str | None):
    """Keras' own VGG16 without its classifier, loaded by Keras' loader."""
    import keras

    return keras.applications.VGG16(include_top=False, weights=weights_file, input_shape=(None, None, 3))


def _check_architecture(model) -> None:
    """The graph StyleLoss builds mirrors Keras' VGG16: verify the layers' configuration."""
    convs = [l for l in model.layers if l.__class__.__name__ == "Conv2D"]
    pools = [l for l in model.layers if l.__class__.__name__ == "MaxPooling2D"]
    if [l.name for l in convs] != list(sm.LAYERS) or len(pools) != 5:
        raise ExportError(f"unexpected Keras VGG16 layers: {[l.name for l in model.layers]}")
    for l in convs:
        c = l.get_config()
        if (tuple(c["kernel_size"]), tuple(c["strides"]), c["padding"], c["activation"], c["use_bias"]) != (
            (3, 3), (1, 1), "same", "relu", True,
        ):  # fmt: skip
            raise ExportError(f"unexpected Keras VGG16 layer config for {l.name}: {c}")
    for l in pools:
        c = l.get_config()
        if (tuple(c["pool_size"]), tuple(c["strides"]), c["padding"]) != ((2, 2), (2, 2), "valid"):
            raise ExportError(f"unexpected Keras VGG16 pooling config for {l.name}: {c}")


def fetch_imagenet() -> str:
    """Downloads (or finds in Keras' cache) the ImageNet no-top weights file."""
    return vw.fetch_keras_file(_IMAGENET, IMAGENET_URL, CACHE_DIR)


def load_weights(source: str, seed: int | None, workdir: str) -> tuple[dict[str, vw.ConvWeights], dict]:
    """Resolves --weights/--seed to validated weights, as loaded by Keras' VGG16, and
    the provenance record for neuralstyle.json."""
    try:
        path, info = vw.resolve_source(
            source, seed, workdir, write_random_file=vw.write_random, random_name="vgg16-random-seed{seed}.h5",
            fetch_imagenet=fetch_imagenet, imagenet_url=IMAGENET_URL,
        )
        ours = vw.read(path)  # clear errors for wrong shapes or missing layers
        origin = vw.read_origin(path)
    except ValueError as e:
        raise ExportError(str(e)) from None
    info["sha256"] = vw.sha256(path)
    if origin is not None:  # e.g. HED's backbone: recorded, never taken for ImageNet
        info["origin"] = origin
    model = _keras_vgg16(path)
    _check_architecture(model)
    weights = {}
    for name in sm.LAYERS:
        kernel, bias = model.get_layer(name).get_weights()
        if not (np.array_equal(kernel, ours[name].kernel) and np.array_equal(bias, ours[name].bias)):
            raise ExportError(f"{path}: Keras loaded different values for {name} than the file's group {name}")
        weights[name] = vw.ConvWeights(kernel, bias)
    return weights, info


# --- export -------------------------------------------------------------------------


def _signature_info(fn) -> dict:
    def spec(t) -> dict:
        return {"dtype": t.dtype.name, "shape": [-1 if d is None else d for d in t.shape.as_list()]}

    # Signature input keys are the TensorSpec names (the Gram matrices come as a list).
    inputs = {t.name: t for t in tf.nest.flatten(fn.structured_input_signature)}
    outputs = fn.structured_outputs
    return {
        "inputs": {k: spec(inputs[k]) for k in sorted(inputs)},
        "outputs": {k: spec(outputs[k]) for k in sorted(outputs)},
    }



def export(out: str | Path, weights: dict[str, vw.ConvWeights], weights_info: dict) -> dict:
    """Writes the SavedModel and its neuralstyle.json to out; returns the metadata."""
    import keras

    module, sigs = sm.signatures(weights)
    tf.saved_model.save(module, str(out), signatures=sigs)
    meta = {
        "format": FORMAT,
        "weights": weights_info,
        "layers": [{"name": n, "channels": c} for n, c in zip(sm.LAYERS, sm.CHANNELS)],
        "min_side": sm.MIN_SIDE,
        "signatures": {k: _signature_info(v) for k, v in sigs.items()},
        "notebook": {
            "content_layer": sm.NOTEBOOK_CONTENT_LAYER,
            "style_layers": list(sm.NOTEBOOK_STYLE_LAYERS),
            "content_weight": sm.NOTEBOOK_CONTENT_WEIGHT,
            "style_weight": sm.NOTEBOOK_STYLE_WEIGHT,
            "tv_weight": sm.NOTEBOOK_TV_WEIGHT,
        },
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_metadata(out, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    def build(weights_source: str, seed: int | None, workdir: str, staged: str) -> dict:
        weights, info = load_weights(weights_source, seed, workdir)
        export(staged, weights, info)
        return info

    return run_cli(argv, "export", __doc__, "no-top", build)


if __name__ == "__main__":
    sys.exit(main())
