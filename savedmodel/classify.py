"""Exports Keras VGG16 with its classifier (the article's notebook 5) as a SavedModel.

Signatures (all float32; images are Keras' preprocess_input in caffe mode: BGR,
ImageNet means subtracted, as preprocess.ModeCaffe makes them):

    predict(images (B, 224, 224, 3))              -> probabilities (B, 1000)
    features(images (B, H, W, 3), layer ())       -> features (B, h, w, c)

``features`` returns the output of one layer of the convolutional part, chosen at
run time by ``layer``, an index into FEATURE_LAYERS (recorded in neuralstyle.json
as ``feature_layers``): block1_conv1 ... block5_pool, conv outputs after their
ReLU. One signature with an index input, rather than one signature per layer or
one returning every layer: Go fetches every output of a signature it calls, and
the 18 layers together are about 60 MB per 224x224 image; with the index, only
the chosen layer's prefix of the network runs (a tf.switch_case with one branch
per layer) and only its output comes back. H and W are free (the conv part is
size-agnostic); each 2x2 pool floors, so a layer after k pools needs H, W >= 2^k.
The article reads block4_pool at 224x224: (1, 14, 14, 512). An index outside
FEATURE_LAYERS fails with an error naming the range.

Weights, as the style exporter (savedmodel/export.py) takes them:

    --weights imagenet        Keras downloads vgg16_weights_tf_dim_ordering_tf_kernels.h5
                              (528 MB); if that fails the export stops, never falling back
    --weights PATH            a local file in that format
    --weights random --seed N deterministic random weights (vggweights.random_top_weights)

The weights file is validated by savedmodel.vggweights.read_top (errors name the
layer), loaded by Keras' own loader, and both must agree. neuralstyle.json records
the weights' source and SHA-256, the feature layers, the input size, and a check:
Keras' top-5 classes for a fixed synthetic input (CHECK_INPUT), computed before
export, which the Go tests reproduce through the SavedModel.

    python -m savedmodel.classify --out build/classify [--weights imagenet|PATH|random] [--seed N]
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savedmodel import vggweights as vw  # noqa: E402
from savedmodel.cli import ExportError, run_cli, write_metadata  # noqa: E402

_IMAGENET = vw.KerasFile("vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b", "528 MB")
IMAGENET_FILE = _IMAGENET.name
IMAGENET_URL = _IMAGENET.url
CACHE_DIR: str | None = None  # None: Keras' cache (~/.keras or $KERAS_HOME)

FORMAT = "neuralstyle-vgg16-classifier/1"
SIZE = 224
CLASSES = 1000
# The layers ``features`` can return, in network order; the index is the input.
FEATURE_LAYERS: tuple[str, ...] = tuple(n for n in vw.ALL_LAYER_NAMES if n != "input_1")


def fetch_imagenet() -> str:
    """Downloads (or finds in Keras' cache) the ImageNet with-top weights file."""
    return vw.fetch_keras_file(_IMAGENET, IMAGENET_URL, CACHE_DIR)


def build_model(source: str, seed: int | None, workdir: str):
    """Resolves --weights/--seed to Keras' VGG16 with its classifier, loaded by
    Keras' loader and checked against vggweights.read_top, and the provenance
    record for neuralstyle.json."""
    import keras

    try:
        path, info = vw.resolve_source(
            source, seed, workdir, write_random_file=vw.write_random_top, random_name="vgg16-top-random-seed{seed}.h5",
            fetch_imagenet=fetch_imagenet, imagenet_url=IMAGENET_URL,
        )
        ours = vw.read_top(path)  # clear errors for wrong shapes or missing layers
    except ValueError as e:
        raise ExportError(str(e)) from None
    info["sha256"] = vw.sha256(path)
    model = keras.applications.VGG16(include_top=True, weights=path)
    for name in vw.TOP_LAYER_NAMES:
        kernel, bias = model.get_layer(name).get_weights()
        if not (np.array_equal(kernel, ours[name].kernel) and np.array_equal(bias, ours[name].bias)):
            raise ExportError(f"{path}: Keras loaded different values for {name} than the file's group {name}")
    return model, info


class Classifier(tf.Module):
    """VGG16 with its classifier: class probabilities and any conv/pool layer's output.

    The network is written out in TensorFlow ops on the module's own variables,
    as Keras' VGG16 computes it (3x3 SAME convolutions with bias and ReLU, 2x2
    VALID max-pools, flatten in (h, w, c) order, fc1 and fc2 with ReLU,
    predictions with softmax); the tests hold it to Keras' own model.
    """

    def __init__(self, weights: dict[str, vw.ConvWeights]) -> None:
        super().__init__(name="vgg16_classifier")
        self.kernels = {n: tf.Variable(weights[n].kernel, trainable=False, name=f"{n}_kernel")
                        for n in vw.TOP_LAYER_NAMES}
        self.biases = {n: tf.Variable(weights[n].bias, trainable=False, name=f"{n}_bias")
                       for n in vw.TOP_LAYER_NAMES}

    def _layer(self, name: str, x: tf.Tensor) -> tf.Tensor:
        if name.endswith("_pool"):
            return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
        y = tf.nn.conv2d(x, self.kernels[name], strides=1, padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(y, self.biases[name]))

    def _dense(self, name: str, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.kernels[name]) + self.biases[name]

    @tf.function(input_signature=[tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32, name="images")])
    def predict(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        x = images
        for name in FEATURE_LAYERS:
            x = self._layer(name, x)
        x = tf.reshape(x, [-1, 7 * 7 * 512])
        x = tf.nn.relu(self._dense("fc1", x))
        x = tf.nn.relu(self._dense("fc2", x))
        return {"probabilities": tf.nn.softmax(self._dense("predictions", x))}

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, None, 3], tf.float32, name="images"),
        tf.TensorSpec([], tf.float32, name="layer"),
    ])  # fmt: skip
    def features(self, images: tf.Tensor, layer: tf.Tensor) -> dict[str, tf.Tensor]:
        n = len(FEATURE_LAYERS)
        index = tf.cast(layer, tf.int32)
        ok = tf.logical_and(tf.equal(tf.cast(index, tf.float32), layer),
                            tf.logical_and(index >= 0, index < n))
        check = tf.debugging.Assert(ok, [f"features: layer must be an integer index in [0, {n}), got", layer])

        def prefix(k: int):
            def run() -> tf.Tensor:
                x = images
                for name in FEATURE_LAYERS[: k + 1]:
                    x = self._layer(name, x)
                return x

            return run

        # switch_case runs its last branch for an index out of range: the check
        # must come first.
        with tf.control_dependencies([check]):
            index = tf.identity(index)
        return {"features": tf.switch_case(index, [prefix(k) for k in range(n)])}


def keras_weights(model) -> dict[str, vw.ConvWeights]:
    """The weights of Keras' model, by layer name."""
    out = {}
    for name in vw.TOP_LAYER_NAMES:
        kernel, bias = model.get_layer(name).get_weights()
        out[name] = vw.ConvWeights(kernel, bias)
    return out


CHECK_INPUT = "x[0, i, j, c] = (i + 2j + 3c) mod 256 - 128"


def check_input() -> np.ndarray:
    """A deterministic input the Go tests can rebuild (CHECK_INPUT)."""
    i, j, c = np.meshgrid(np.arange(SIZE), np.arange(SIZE), np.arange(3), indexing="ij")
    return ((i + 2 * j + 3 * c) % 256 - 128).astype(np.float32)[None]


def reference_check(model) -> dict:
    """Keras' top-5 on check_input(), for the Go tests to reproduce."""
    p = model.predict(check_input(), verbose=0)[0]
    top = np.argsort(-p, kind="stable")[:5]
    return {"input": CHECK_INPUT, "top5": [[int(i), float(p[i])] for i in top]}


def _signature_info(fn) -> dict:
    def spec(t) -> dict:
        return {"dtype": t.dtype.name, "shape": [-1 if d is None else d for d in t.shape.as_list()]}

    args, kwargs = fn.structured_input_signature
    inputs = {**{t.name: t for t in args}, **kwargs}
    outputs = fn.structured_outputs
    return {
        "inputs": {k: spec(inputs[k]) for k in sorted(inputs)},
        "outputs": {k: spec(outputs[k]) for k in sorted(outputs)},
    }


def export(out: str | Path, model, weights_info: dict) -> dict:
    """Writes the SavedModel and its neuralstyle.json to out; returns the metadata."""
    import keras

    module = Classifier(keras_weights(model))
    sigs = {"predict": module.predict.get_concrete_function(), "features": module.features.get_concrete_function()}
    tf.saved_model.save(module, str(out), signatures=sigs)
    meta = {
        "format": FORMAT,
        "kind": "vgg16-classifier",
        "weights": weights_info,
        "input_size": [SIZE, SIZE],
        "preprocess": "caffe",
        "classes": CLASSES,
        "feature_layers": list(FEATURE_LAYERS),
        "check": reference_check(model),
        "signatures": {k: _signature_info(v) for k, v in sigs.items()},
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "exporter": "savedmodel/classify.py",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_metadata(out, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    def build(weights_source: str, seed: int | None, workdir: str, staged: str) -> dict:
        model, info = build_model(weights_source, seed, workdir)
        export(staged, model, info)
        return info

    return run_cli(argv, "classify", __doc__, "with-top", build)


if __name__ == "__main__":
    sys.exit(main())
