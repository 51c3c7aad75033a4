"""Tests for savedmodel.classify: the exported graph against Keras' VGG16, the
features index, and the weights options' errors (no fallback)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from savedmodel import classify
from savedmodel import vggweights as vw


@pytest.fixture(scope="module")
def keras_model():
    import keras

    keras.utils.set_random_seed(0)  # Keras' own initialisation: any weights will do
    return keras.applications.VGG16(include_top=True, weights=None)


@pytest.fixture(scope="module")
def module(keras_model):
    return classify.Classifier(classify.keras_weights(keras_model))


def test_predict_matches_keras(keras_model, module):
    x = np.concatenate([classify.check_input(), -0.5 * classify.check_input()])
    got = module.predict(tf.constant(x))["probabilities"].numpy()
    want = keras_model(x, training=False).numpy()
    assert got.shape == (2, 1000)
    # The same float32 operations: measured identical here (largest difference
    # 0; probabilities about 1e-3 with Keras' initialisation). rtol 1e-6 leaves
    # room for another CPU's kernels, and is far below any graph mistake.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("size", [(224, 224), (64, 96)])
def test_features_match_keras(keras_model, module, size):
    import keras

    conv = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    for name in vw.LAYER_NAMES:
        conv.get_layer(name).set_weights(keras_model.get_layer(name).get_weights())
    rs = np.random.RandomState(1)
    x = rs.uniform(-128, 128, size=(1, *size, 3)).astype(np.float32)
    for name in ("block1_conv1", "block2_pool", "block4_pool", "block5_conv3", "block5_pool"):
        want = keras.Model(conv.input, conv.get_layer(name).output)(x).numpy()
        index = classify.FEATURE_LAYERS.index(name)
        got = module.features(tf.constant(x), tf.constant(float(index)))["features"].numpy()
        assert got.shape == want.shape, name
        # Measured identical (largest difference 0; activations up to about 100).
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max(), err_msg=name)


def test_features_index_checked(module):
    x = tf.zeros((1, 8, 8, 3))
    for bad in (-1.0, 18.0, 0.5):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"layer must be an integer index in \[0, 18\)"):
            module.features(x, tf.constant(bad))
    assert classify.FEATURE_LAYERS[13] == "block4_pool" and len(classify.FEATURE_LAYERS) == 18


def test_weights_options(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure: network unreachable")

    import keras

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(classify.ExportError) as e:
        classify.build_model("imagenet", None, str(tmp_path))
    msg = str(e.value)
    assert "cannot download the ImageNet weights" in msg and "network unreachable" in msg
    assert "Nothing was exported" in msg and "--weights PATH" in msg and "--weights random --seed N" in msg
    out = tmp_path / "model"
    assert classify.main(["--out", str(out)]) == 2
    assert not out.exists()

    notop = tmp_path / "notop.h5"
    vw.write_random(notop, 1)
    for source, seed, want in [
        ("random", None, "--weights random needs --seed N"),
        (str(notop), 3, "--seed applies only to --weights random"),
        (str(tmp_path / "w.bin"), None, "want imagenet, random, or a Keras .h5/.hdf5 weights file"),
        (str(tmp_path / "absent.h5"), None, "absent.h5: no such file"),
        (str(notop), None, "a no-top file (no fc1, fc2, predictions)"),
    ]:
        with pytest.raises(classify.ExportError, match=None) as e:
            classify.build_model(source, seed, str(tmp_path))
        assert want in str(e.value), (source, str(e.value))
