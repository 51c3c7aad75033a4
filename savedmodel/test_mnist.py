"""Tests for savedmodel.mnist: the optimiser steps against NumPy, the dead network,
deterministic initialisation, and the exported signatures and metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from savedmodel import mnist


def _batch(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.RandomState(seed)
    images = rs.randint(0, 256, size=(n, mnist.PIXELS)).astype(np.float32) * np.float32(1 / 255)
    labels = np.eye(mnist.CLASSES, dtype=np.float32)[rs.randint(0, 10, size=n)]
    return images, labels


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_linear_sgd_step_matches_numpy():
    c = mnist.Classifier("linear", 1)
    c.init(tf.constant(1.0))
    w0 = np.random.RandomState(0).normal(0, 0.01, (784, 10)).astype(np.float32)
    c.params[0].assign(w0)
    x, y = _batch(16, 1)
    out = c.train(x, y, tf.constant(0.5))
    # Cross-entropy of softmax regression: dL/dz = (softmax(z) - y) / n.
    z = x.astype(np.float64) @ w0
    p = _softmax(z)
    loss = -np.mean(np.sum(y * np.log(p), axis=1))
    dz = (p - y) / len(x)
    # float32 arithmetic in TensorFlow against float64 here: measured differences
    # 2.8e-8 (loss), 2.4e-8 (W) and 6.3e-9 (b); the tolerances leave about 10x room.
    assert abs(float(out["loss"]) - loss) < 3e-7
    np.testing.assert_allclose(c.params[0].numpy(), w0 - 0.5 * (x.T @ dz), rtol=0, atol=3e-7)
    np.testing.assert_allclose(c.params[1].numpy(), -0.5 * dz.sum(axis=0), rtol=0, atol=1e-7)
    assert float(out["accuracy"]) == np.mean(np.argmax(z, 1) == np.argmax(y, 1))


def test_adam_is_tf1_adam():
    # TensorFlow 1's AdamOptimizer formula, checked on the convnet's output bias
    # over two steps (the bias correction changes between them).
    c = mnist.Classifier("convnet", 3)
    x, y = _batch(8, 2)
    lr = 1e-3
    m = np.zeros(10)
    v = np.zeros(10)
    b = c.params[5].numpy().astype(np.float64)
    for t in (1, 2):
        with tf.GradientTape() as tape:
            logits = c._logits(tf.constant(x))
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        g = tape.gradient(loss, c.params[5]).numpy().astype(np.float64)
        c.train(x, y, tf.constant(lr, tf.float32))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        b -= lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
    # Measured: 8.6e-9 apart (float32 state against float64 here); an Adam
    # without bias correction would be off by about lr = 1e-3.
    np.testing.assert_allclose(c.params[5].numpy(), b, rtol=0, atol=1e-7)
    assert c.beta1_power.numpy() == np.float32(np.float32(0.9) * np.float32(0.9) * np.float32(0.9))


def test_zero_network_stays_dead():
    c = mnist.Classifier("nn-zero", 1)
    for s in range(5):
        x, y = _batch(32, s)
        c.train(x, y, tf.constant(0.5))
    for name, var in zip(("W1", "b1", "W2"), c.params[:3]):
        assert not np.any(var.numpy()), f"{name} moved"
    assert np.any(c.params[3].numpy()), "the output bias did not learn"


def test_init_is_deterministic_truncated_normal():
    a = mnist.Classifier("nn", 7)
    w = a.params[0].numpy()
    b = mnist.Classifier("nn", 7).params[0].numpy()
    np.testing.assert_array_equal(w, b)
    assert not np.array_equal(w, mnist.Classifier("nn", 8).params[0].numpy())
    assert np.all(np.abs(w) <= 2 * mnist.STDDEV)
    # A normal truncated at two standard deviations has std 0.8796 of the
    # untruncated one; 78,400 draws estimate it to about 0.3%.
    assert abs(w.std() / (0.8796 * mnist.STDDEV) - 1) < 0.02
    np.testing.assert_array_equal(a.params[1].numpy(), np.full(100, mnist.BIAS, np.float32))
    assert not np.any(mnist.Classifier("linear", 7).params[0].numpy())


def test_export_signatures_and_metadata(tmp_path):
    out = mnist.export("linear", tmp_path / "linear", seed=3)
    meta = json.loads((out / "neuralstyle.json").read_text())
    assert meta["kind"] == "mnist" and meta["model"] == "linear" and meta["seed"] == 3
    assert (meta["optimizer"], meta["learning_rate"], meta["steps"], meta["batch"]) == ("sgd", 0.5, 1000, 100)
    assert meta["article_accuracy"] == 0.9205 and meta["parameters"] == 7850
    loaded = tf.saved_model.load(str(out))
    assert set(loaded.signatures) == {"init", "train", "predict"}
    x, y = _batch(4, 0)
    pred = loaded.signatures["predict"](images=tf.constant(x))
    assert set(pred) == {"logits", "probabilities"}
    np.testing.assert_allclose(pred["probabilities"].numpy().sum(axis=1), 1, rtol=1e-6)
    train = loaded.signatures["train"](images=tf.constant(x), labels=tf.constant(y), learning_rate=tf.constant(0.5))
    assert set(train) == {"loss", "accuracy"}
    # Zero weights: the first loss is ln 10.
    assert abs(float(train["loss"]) - np.log(10)) < 1e-6


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'cnn'"):
        mnist.Classifier("cnn", 1)
    with pytest.raises(ValueError, match="seed must be an integer in"):
        mnist.export("linear", tmp_path / "x", seed=2**24)
    assert mnist.main(["--out", str(tmp_path), "--models", "linear,cnn"]) == 2


def test_main_stages_and_replaces(tmp_path, capsys):
    out = tmp_path / "linear"
    assert mnist.main(["--model", "linear", "--out", str(out), "--seed", "2"]) == 0
    meta = json.loads((out / "neuralstyle.json").read_text())
    assert meta["seed"] == 2 and meta["exporter"] == "savedmodel/mnist.py"
    assert meta["tensorflow_version"] == tf.__version__ and meta["exported_at"]
    assert mnist.main(["--model", "linear", "--out", str(out), "--seed", "3"]) == 0
    assert json.loads((out / "neuralstyle.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linear"]  # no staging left
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert mnist.main(["--model", "linear", "--out", str(foreign)]) == 2
    assert "mnist: --out" in capsys.readouterr().err and (foreign / "notes.txt").read_text() == "keep me"
