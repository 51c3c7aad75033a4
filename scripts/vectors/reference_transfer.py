"""Independent Python reference of the article's style-transfer notebook.

Written from docs/recipe.md, not from the exporter in savedmodel/: Keras'
VGG16 (weights loaded by Keras from a no-top HDF5 file) runs on one batch of
three images [content, style, combination]; the loss is the recipe's, in
float32, with its quirks; ``scipy.optimize.fmin_l_bfgs_b(f, x, fprime=g,
maxfun=20)`` is called once per outer iteration with a fresh L-BFGS memory, as
the notebook does. The Go ``neuralstyle transfer`` is held to the results of
this script (scripts/vectors/gen_transfer_vectors.py stores them as test vectors).

    python scripts/vectors/reference_transfer.py --content c.png --style s.png \\
        --weights vgg16_notop.h5 --size 64x64 --seed 1 --iterations 3 \\
        --out out.png --log log.jsonl

Float32 details that an exact re-implementation must copy (the Go side):
- Mean subtraction is float32 arithmetic: float32(pixel) - float32(mean).
- The loss is accumulated in the notebook's ``loss += term`` order,
  ((((((0 + C) + S1) + S2) + S3) + S4) + S5) + TV, as reduce_sum(stack(terms))
  (see loss_terms for why not a chain of Add ops), each S_l being
  float32(style_weight / 5) * (sum((G_s - G_x)^2) / float32(4 * 9 * (H*W)^2)),
  C = float32(content_weight) * sum((F_x - F_c)^2) and
  TV = float32(tv_weight) * sum((a + b)^1.25).
- The Gram matrix is matmul(F, transpose(F)) with F of shape (C_l, H_l*W_l),
  made by transposing the layer output to channels-first and flattening.
- Deprocessing is float64 (x comes from L-BFGS-B as float64).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

# Means the notebook subtracts, listed in the order it subtracts them from
# channels 0, 1, 2 (see docs/recipe.md section 1 for the quirk).
MEANS = (103.939, 116.779, 123.68)
CONTENT_LAYER = "block2_conv2"
STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
# Four 2x2 valid max-pools precede block5_conv3 (and a fifth, block5_pool,
# follows it): a side below 16 leaves block4_pool with no pixels.
MIN_SIDE = 16

RESAMPLE = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
PREPROCESS = ("recipe", "caffe")
INIT = ("noise", "content", "style")


class ReferenceError(ValueError):
    """Bad input to the reference; the message says what and where."""


@dataclass(frozen=True)
class Weights:
    content: float = 0.025
    style: float = 5.0
    tv: float = 1.0


def parse_size(s: str) -> tuple[int, int]:
    """Parses "WxH" into (W, H)."""
    try:
        w, h = (int(p) for p in s.lower().split("x"))
    except ValueError:
        raise ReferenceError(f"reference: size {s!r}: want WxH, e.g. 512x512") from None
    if w < MIN_SIDE or h < MIN_SIDE:
        raise ReferenceError(
            f"reference: size {s}: VGG16's pooling needs at least {MIN_SIDE}x{MIN_SIDE}"
        )
    return w, h


# ---------------------------------------------------------------- images


def load_image(path: str | Path, width: int, height: int, resample: str = "nearest") -> np.ndarray:
    """Reads an image as float32 (1, H, W, 3) RGB 0..255, resized like the recipe.

    The recipe resizes with Pillow's default filter of 2017, NEAREST (QUIRK);
    other filters are for experiments only.
    """
    from PIL import Image

    if resample not in RESAMPLE:
        raise ReferenceError(f"reference: resample {resample!r}: want one of {', '.join(RESAMPLE)}")
    try:
        with Image.open(path) as im:
            im.load()
            # Converting first commutes with NEAREST (it picks whole pixels), so
            # the recipe's order (resize, then array) is unchanged for it.
            rgb = im.convert("RGB") if im.mode != "RGB" else im
            filt = getattr(Image.Resampling, resample.upper())
            resized = rgb.resize((width, height), filt)
    except (OSError, ValueError) as e:
        raise ReferenceError(f"reference: read {path}: {e}") from None
    return np.asarray(resized, dtype=np.float32)[np.newaxis].copy()


def preprocess(rgb: np.ndarray, mode: str = "recipe") -> np.ndarray:
    """(1, H, W, 3) float32 RGB 0..255 to the network's BGR mean-subtracted input.

    recipe (QUIRK): subtract MEANS from channels 0, 1, 2 while still RGB, then
    reverse the channels. caffe: reverse first, then subtract (Keras'
    preprocess_input). float32 arithmetic: float32(v) - float32(mean).
    """
    x = np.array(rgb, dtype=np.float32)
    if mode == "recipe":
        for c in range(3):
            x[..., c] -= np.float32(MEANS[c])
        return np.ascontiguousarray(x[..., ::-1])
    if mode == "caffe":
        x = np.ascontiguousarray(x[..., ::-1])
        for c in range(3):
            x[..., c] -= np.float32(MEANS[c])
        return x
    raise ReferenceError(f"reference: preprocess {mode!r}: want recipe or caffe")


def deprocess(x: np.ndarray, height: int, width: int, mode: str = "recipe") -> np.ndarray:
    """Inverse of preprocess in float64, clipped and truncated to uint8 (H, W, 3) RGB."""
    x = np.array(x, dtype=np.float64).reshape((height, width, 3))
    if mode == "recipe":
        x = x[:, :, ::-1].copy()
        for c in range(3):
            x[:, :, c] += MEANS[c]
    elif mode == "caffe":
        for c in range(3):
            x[:, :, c] += MEANS[c]
        x = x[:, :, ::-1].copy()
    else:
        raise ReferenceError(f"reference: preprocess {mode!r}: want recipe or caffe")
    return np.clip(x, 0, 255).astype("uint8")


def initial_noise(seed: int | None, height: int, width: int) -> np.ndarray:
    """The notebook's x0: uniform(0, 255) - 128 in float64 from NumPy's legacy global MT19937."""
    if seed is not None:
        np.random.seed(seed)
    return np.random.uniform(0, 255, (1, height, width, 3)) - 128.0


def array_sha256(a: np.ndarray) -> str:
    """SHA-256 of an array's little-endian C-order bytes (how the vectors record arrays)."""
    a = np.ascontiguousarray(a)
    return hashlib.sha256(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()).hexdigest()


# ---------------------------------------------------------------- loss


def loss_terms(tf: Any, feats: dict[str, Any], x: Any, height: int, width: int, w: Weights):
    """The recipe's loss from the batch's layer outputs and the combination x.

    feats maps layer name to a (3, H_l, W_l, C_l) float32 tensor (batch items:
    content, style, combination). Returns float32 scalars (total, content,
    style, tv) and the list of the five weighted style terms; total is
    accumulated in the notebook's order (module doc).
    """
    f32 = tf.float32

    def gram(f):  # f: (H_l, W_l, C_l)
        flat = tf.reshape(tf.transpose(f, (2, 0, 1)), (tf.shape(f)[2], -1))
        return tf.matmul(flat, tf.transpose(flat))

    fc = feats[CONTENT_LAYER]
    content = tf.constant(w.content, f32) * tf.reduce_sum(tf.square(fc[2] - fc[0]))

    # QUIRK: channels 3 and the input image's size for every layer.
    divisor = tf.constant(4.0 * (3**2) * float(height * width) ** 2, f32)
    per_layer = tf.constant(w.style / len(STYLE_LAYERS), f32)
    style_terms = []
    for name in STYLE_LAYERS:
        fl = feats[name]
        e = tf.reduce_sum(tf.square(gram(fl[1]) - gram(fl[2]))) / divisor
        style_terms.append(per_layer * e)

    a = tf.square(x[:, : height - 1, : width - 1, :] - x[:, 1:, : width - 1, :])
    b = tf.square(x[:, : height - 1, : width - 1, :] - x[:, : height - 1, 1:, :])
    tv = tf.constant(w.tv, f32) * tf.reduce_sum(tf.pow(a + b, tf.constant(1.25, f32)))

    # The notebook's `loss += term` order, summed as one reduction over the
    # stacked terms: for fewer than a SIMD packet of elements Eigen adds them
    # one by one from 0, the same bits as the chain of Adds. A chain of Add ops
    # is not used because its order of additions varied between processes
    # (measured: at the same x the total was 1 float32 ulp off in 3 of 11
    # processes, the terms equal; presumably Grappler's rewrite of Add chains
    # into AddN). L-BFGS then amplifies it. With the stacked sum: 0 of 12.
    style = tf.reduce_sum(tf.stack(style_terms))
    total = tf.reduce_sum(tf.stack([content, *style_terms, tv]))
    return (total, content, style, tv), style_terms


class Network:
    """Keras VGG16 on the batch [content, style, combination] with the recipe's loss.

    evaluate(x) returns (loss float32, grad float32 (1,H,W,3), (content, style, tv)).
    """

    def __init__(self, weights_path: str, content: np.ndarray, style: np.ndarray, w: Weights):
        import keras
        import tensorflow as tf

        if keras.config.floatx() != "float32":
            raise ReferenceError(f"reference: Keras floatx is {keras.config.floatx()}, want float32")
        _, height, width, _ = content.shape
        self.height, self.width = height, width
        inp = keras.Input(shape=(height, width, 3), batch_size=3, dtype="float32")
        try:
            vgg = keras.applications.VGG16(include_top=False, weights=weights_path, input_tensor=inp)
        except (ValueError, OSError, KeyError) as e:
            raise ReferenceError(f"reference: load weights {weights_path}: {e}") from None
        names = sorted({CONTENT_LAYER, *STYLE_LAYERS})
        self.model = keras.Model(inp, {n: vgg.get_layer(n).output for n in names})
        c = tf.constant(content, tf.float32)
        s = tf.constant(style, tf.float32)
        spec = tf.TensorSpec((1, height, width, 3), tf.float32)

        @tf.function(input_signature=[spec])
        def run(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                batch = tf.concat([c, s, x], axis=0)
                feats = self.model(batch, training=False)
                (total, ct, st, tvt), _ = loss_terms(tf, feats, x, height, width, w)
            return total, tape.gradient(total, x), ct, st, tvt

        self._run = run
        self._tf = tf

    def evaluate(self, x: np.ndarray) -> tuple[np.float32, np.ndarray, tuple[np.float32, ...]]:
        xt = self._tf.constant(np.asarray(x).reshape((1, self.height, self.width, 3)), self._tf.float32)
        total, grad, ct, st, tvt = self._run(xt)
        return total.numpy(), grad.numpy(), (ct.numpy(), st.numpy(), tvt.numpy())


class Evaluator:
    """The notebook's Evaluator: loss(x) runs the network once and caches the
    gradient that grads(x) then hands out, so one f/g pair is one evaluation.
    It also remembers the terms of each evaluated x for the per-iteration log."""

    def __init__(self, net: Network):
        self.net = net
        self._x: np.ndarray | None = None
        self._grad: np.ndarray | None = None
        self.losses: list[float] = []
        self.terms: dict[bytes, tuple[float, tuple[float, float, float]]] = {}
        self.seconds = 0.0
        self.first_grad: np.ndarray | None = None  # gradient of the run's first evaluation

    def loss(self, x: np.ndarray) -> np.float32:
        if self._grad is not None:
            raise RuntimeError("reference: loss called twice without grads")
        t0 = time.perf_counter()
        value, grad, terms = self.net.evaluate(x)
        self.seconds += time.perf_counter() - t0
        self._x = np.array(x, copy=True)
        self._grad = grad.flatten().astype("float64")
        if self.first_grad is None:
            self.first_grad = grad
        self.losses.append(float(value))
        self.terms[_xkey(x)] = (float(value), tuple(float(t) for t in terms))
        return value

    def grads(self, x: np.ndarray) -> np.ndarray:
        if self._grad is None or not np.array_equal(x, self._x):
            raise RuntimeError("reference: grads called without loss at the same x")
        g, self._grad, self._x = self._grad, None, None
        return g

    def reset(self) -> None:
        self.losses, self.terms, self.seconds = [], {}, 0.0


def _xkey(x: np.ndarray) -> bytes:
    return hashlib.sha1(np.ascontiguousarray(x, dtype=np.float64).tobytes()).digest()


# ---------------------------------------------------------------- driver


@dataclass
class Config:
    content: str
    style: str
    weights: str
    width: int
    height: int
    seed: int | None = None
    iterations: int = 10
    maxfun: int = 20
    loss_weights: Weights = Weights()
    init: str = "noise"
    resample: str = "nearest"
    preprocess: str = "recipe"
    out: str | None = None
    log: str | None = None
    frames_dir: str | None = None
    save_x: str | None = None
    grad0: str | None = None


def validate(cfg: Config) -> None:
    """Checks everything that can be checked before the long computation."""
    for what, p in (("content image", cfg.content), ("style image", cfg.style), ("weights", cfg.weights)):
        if not Path(p).is_file():
            raise ReferenceError(f"reference: {what} {p}: no such file")
    for name, v in vars(cfg.loss_weights).items():
        if not math.isfinite(v) or v < 0:
            raise ReferenceError(f"reference: {name} weight {v}: want a finite number >= 0")
    if cfg.width < MIN_SIDE or cfg.height < MIN_SIDE:
        raise ReferenceError(
            f"reference: size {cfg.width}x{cfg.height}: VGG16's pooling needs at least {MIN_SIDE}x{MIN_SIDE}"
        )
    if cfg.iterations < 0 or cfg.maxfun < 1:
        raise ReferenceError("reference: want iterations >= 0 and maxfun >= 1")
    if cfg.init not in INIT:
        raise ReferenceError(f"reference: init {cfg.init!r}: want one of {', '.join(INIT)}")
    if cfg.preprocess not in PREPROCESS:
        raise ReferenceError(f"reference: preprocess {cfg.preprocess!r}: want recipe or caffe")
    if cfg.resample not in RESAMPLE:
        raise ReferenceError(f"reference: resample {cfg.resample!r}: want one of {', '.join(RESAMPLE)}")
    for what, p in (("output", cfg.out), ("log", cfg.log), ("x", cfg.save_x), ("grad0", cfg.grad0)):
        if p and not Path(p).resolve().parent.is_dir():
            raise ReferenceError(f"reference: {what} {p}: folder {Path(p).parent} does not exist")
    if cfg.out:
        from PIL import Image

        Image.init()
        fmt = Image.registered_extensions().get(Path(cfg.out).suffix.lower())
        if fmt not in Image.SAVE:
            raise ReferenceError(f"reference: output {cfg.out}: Pillow cannot write {Path(cfg.out).suffix!r}")
    if cfg.frames_dir and not Path(cfg.frames_dir).is_dir():
        raise ReferenceError(f"reference: frames folder {cfg.frames_dir} does not exist")


def save_png(path: str | Path, rgb: np.ndarray) -> None:
    """Writes atomically: a temporary file in the same folder, then a rename."""
    from PIL import Image

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    Image.fromarray(rgb).save(tmp, format=Image.registered_extensions()[path.suffix.lower()])
    os.replace(tmp, path)


def run(cfg: Config, echo: Callable[[str], None] = print) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Runs the notebook's loop; returns the final x (float64, flat) and the log records."""
    from scipy.optimize import fmin_l_bfgs_b

    validate(cfg)
    h, w = cfg.height, cfg.width
    content = preprocess(load_image(cfg.content, w, h, cfg.resample), cfg.preprocess)
    style = preprocess(load_image(cfg.style, w, h, cfg.resample), cfg.preprocess)
    net = Network(cfg.weights, content, style, cfg.loss_weights)
    ev = Evaluator(net)

    if cfg.init == "noise":
        x = initial_noise(cfg.seed, h, w)
    else:
        x = (content if cfg.init == "content" else style).astype(np.float64)

    records: list[dict[str, Any]] = []
    logf = open(cfg.log, "w") if cfg.log else None
    try:
        for i in range(cfg.iterations):
            echo(f"Start of iteration {i}")
            ev.reset()
            start = time.time()
            start_x = x.flatten()
            x, min_val, info = fmin_l_bfgs_b(ev.loss, x.flatten(), fprime=ev.grads, maxfun=cfg.maxfun)
            seconds = time.time() - start
            echo(f"Current loss value: {float(min_val)!r}")
            key = _xkey(x)
            if key not in ev.terms:  # not expected: L-BFGS-B returns an evaluated x
                value, _, terms = net.evaluate(x)
                ev.terms[key] = (float(value), tuple(float(t) for t in terms))
            at_x, (ct, st, tvt) = ev.terms[key]
            # SciPy evaluates the starting point first.
            start_loss, (sc, ss, stv) = ev.terms[_xkey(start_x)]
            if len(ev.losses) != info["funcalls"]:
                raise RuntimeError(f"reference: {len(ev.losses)} evaluations, SciPy counted {info['funcalls']}")
            rec = {
                "iteration": i,
                "loss": float(min_val),
                "loss_at_x": at_x,
                "content": ct,
                "style": st,
                "tv": tvt,
                "nfev": int(info["funcalls"]),
                "nit": int(info["nit"]),
                "warnflag": int(info["warnflag"]),
                "message": str(info["task"]),
                "seconds": seconds,
                "eval_seconds": ev.seconds,
                "eval_losses": list(ev.losses),
                "start": {"loss": start_loss, "content": sc, "style": ss, "tv": stv},
            }
            records.append(rec)
            if logf:
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
            if cfg.frames_dir:
                save_png(Path(cfg.frames_dir) / f"frame_{i:04d}.png", deprocess(x, h, w, cfg.preprocess))
            echo(f"Iteration {i} completed in {int(seconds)}s")
    finally:
        if logf:
            logf.close()
    if cfg.out:
        save_png(cfg.out, deprocess(x, h, w, cfg.preprocess))
    if cfg.grad0 and ev.first_grad is not None:
        np.save(cfg.grad0, ev.first_grad)
    if cfg.save_x:
        np.save(cfg.save_x, np.asarray(x, np.float32).reshape((1, h, w, 3)))
    return np.asarray(x).flatten(), records


def set_threads(intra: int, inter: int) -> None:
    """TensorFlow's thread pools; must run before TensorFlow executes anything."""
    import tensorflow as tf

    if intra:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter:
        tf.config.threading.set_inter_op_parallelism_threads(inter)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", required=True, help="content image")
    p.add_argument("--style", required=True, help="style image")
    p.add_argument("--weights", required=True, help="VGG16 no-top weights, Keras HDF5 (.h5)")
    p.add_argument("--size", default="512x512", help="WxH (default 512x512)")
    p.add_argument("--seed", type=int, default=None, help="np.random.seed for the noise (default: unseeded)")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--maxfun", type=int, default=20)
    p.add_argument("--content-weight", type=float, default=0.025)
    p.add_argument("--style-weight", type=float, default=5.0)
    p.add_argument("--tv-weight", type=float, default=1.0)
    p.add_argument("--init", choices=INIT, default="noise")
    p.add_argument("--resample", choices=RESAMPLE, default="nearest",
                   help="resize filter (recipe: nearest, Pillow 4.3's default)")
    p.add_argument("--preprocess", choices=PREPROCESS, default="recipe")
    p.add_argument("--out", help="output image (PNG)")
    p.add_argument("--log", help="JSON lines, one per outer iteration")
    p.add_argument("--frames-dir", help="folder for the image after each iteration")
    p.add_argument("--save-x", help="final x as float32 .npy, shape (1,H,W,3), preprocessed space")
    p.add_argument("--grad0", help="gradient at the initial x as float32 .npy, shape (1,H,W,3)")
    p.add_argument("--intra-threads", type=int, default=0, help="TensorFlow intra-op threads (0: default)")
    p.add_argument("--inter-threads", type=int, default=0, help="TensorFlow inter-op threads (0: default)")
    a = p.parse_args(argv)
    try:
        width, height = parse_size(a.size)
        cfg = Config(
            content=a.content, style=a.style, weights=a.weights, width=width, height=height,
            seed=a.seed, iterations=a.iterations, maxfun=a.maxfun,
            loss_weights=Weights(a.content_weight, a.style_weight, a.tv_weight),
            init=a.init, resample=a.resample, preprocess=a.preprocess,
            out=a.out, log=a.log, frames_dir=a.frames_dir, save_x=a.save_x, grad0=a.grad0,
        )  # fmt: skip
        validate(cfg)
        set_threads(a.intra_threads, a.inter_threads)
        run(cfg, echo=lambda s: print(s, flush=True))
    except ReferenceError as e:
        print(e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
