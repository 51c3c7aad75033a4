"""Regression vectors for `neuralstyle transfer`, made by the Python reference.

    make vectors-transfer      # or: .venv/bin/python scripts/vectors/gen_transfer_vectors.py

Writes scripts/testdata/transfer/: the small content and style images, one
folder per case (out.png, log.jsonl, x.npy) and manifest.json with every
parameter, checksum and the reproducibility measured while generating (each
case is run twice with the same settings, and once more with other TensorFlow
thread counts). See scripts/testdata/transfer/README.md for the format.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
import reference_transfer as ref  # noqa: E402

from savedmodel import kernels  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "scripts" / "testdata" / "transfer"
WEIGHTS_SEED = 1
WEIGHTS_FILE = ROOT / "build" / f"vgg16-random-seed{WEIGHTS_SEED}.h5"
WEIGHTS_ARGS = ["-m", "savedmodel.vggweights", "random", "--seed", str(WEIGHTS_SEED), "--out"]

# Inputs: made once from the shared public-domain images, stored as PNG so that
# no JPEG decoder is involved downstream. The style image is deliberately not
# square and not the content's size, so NEAREST resizing is exercised in both
# directions and with non-integer ratios.
INPUTS = {
    "content.png": ("content/chelsea.png", (75, 0, 375, 300), (96, 96)),
    "style.png": ("styles/wave.jpg", (0, 80, 840, 680), (112, 80)),
}

SIZES = ("64x64", "48x80")  # WxH; 48x80: non-square, sides 3*16 and 5*16
SEEDS = (1, 2)
ITERATIONS = 3
MAXFUN = 20
# The stored vectors come from single-threaded TensorFlow: the Go tests can ask
# for the same, and results must not depend on the machine's core count.
THREADS = (1, 1)  # (intra, inter)
ALT_THREADS = (2, 2)
TIMING_KEYS = ("seconds", "eval_seconds")


def sha256_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def weights_arrays_sha256(path: Path) -> str:
    """SHA-256 over the weight arrays in file order (kernel then bias per layer,
    float32 little-endian C order): independent of HDF5 container bytes."""
    h = hashlib.sha256()
    with h5py.File(path, "r") as f:
        for name in f.attrs["layer_names"]:
            g = f[name.decode() if isinstance(name, bytes) else name]
            for wn in g.attrs["weight_names"]:
                a = np.asarray(g[wn.decode() if isinstance(wn, bytes) else wn], dtype="<f4")
                h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def make_weights(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, *WEIGHTS_ARGS, str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def make_inputs(images: Path) -> dict[str, Any]:
    info = {}
    for name, (src, box, size) in INPUTS.items():
        dst = OUT / name
        if (images / src).is_file():
            with Image.open(images / src) as im:
                small = im.convert("RGB").crop(box).resize(size, Image.Resampling.LANCZOS)
            small.save(dst)
        elif not dst.is_file():
            raise SystemExit(f"gen_transfer_vectors: {images / src}: no such file, and no {dst} to reuse")
        info[name] = {
            "from": f"{src}, crop {list(box)}, LANCZOS resize to {size[0]}x{size[1]}",
            "width": size[0],
            "height": size[1],
            "sha256": sha256_file(dst),
        }
    return info


def run_reference(case: dict[str, Any], weights: Path, outdir: Path, threads: tuple[int, int]) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, str(ROOT / "scripts" / "vectors" / "reference_transfer.py"),
        "--content", str(OUT / "content.png"), "--style", str(OUT / "style.png"),
        "--weights", str(weights), "--size", case["size"], "--seed", str(case["seed"]),
        "--iterations", str(case["iterations"]), "--maxfun", str(case["maxfun"]),
        "--content-weight", repr(case["content_weight"]), "--style-weight", repr(case["style_weight"]),
        "--tv-weight", repr(case["tv_weight"]),
        "--out", str(outdir / "out.png"), "--log", str(outdir / "log.jsonl"), "--save-x", str(outdir / "x.npy"),
        "--grad0", str(outdir / "grad0.npy"),
        "--intra-threads", str(threads[0]), "--inter-threads", str(threads[1]),
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"gen_transfer_vectors: reference failed for {case['name']}:\n{r.stderr}")


def read_log(p: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def log_without_timing(p: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in read_log(p)]


def compare(a: Path, b: Path) -> dict[str, Any]:
    """How far run b is from run a: bytes, losses, evaluations, image, x."""
    la, lb = read_log(a / "log.jsonl"), read_log(b / "log.jsonl")
    rel = [abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(la, lb)]
    # Per evaluation, counted over the whole run: where runs part, and how fast.
    ea = [(i, u) for r in la for i, u in [(r["iteration"], u) for u in r["eval_losses"]]]
    eb = [u for r in lb for u in r["eval_losses"]]
    first_diff = above = None
    for k, ((i, u), v) in enumerate(zip(ea, eb)):
        rel_k = abs(u - v) / abs(u)
        if first_diff is None and u != v:
            first_diff = {"evaluation": k, "iteration": i, "rel": rel_k}
        if above is None and rel_k > 1e-4:
            above = {"evaluation": k, "iteration": i, "rel": rel_k}
    ga, gb = np.load(a / "grad0.npy").astype(np.float64), np.load(b / "grad0.npy")
    ia = np.asarray(Image.open(a / "out.png"), dtype=np.int16)
    ib = np.asarray(Image.open(b / "out.png"), dtype=np.int16)
    d = np.abs(ia - ib)
    xa, xb = np.load(a / "x.npy"), np.load(b / "x.npy")
    return {
        "identical_png": (a / "out.png").read_bytes() == (b / "out.png").read_bytes(),
        "identical_x": (a / "x.npy").read_bytes() == (b / "x.npy").read_bytes(),
        "identical_log_except_timing": log_without_timing(a / "log.jsonl") == log_without_timing(b / "log.jsonl"),
        "nfev_equal": [x["nfev"] for x in la] == [y["nfev"] for y in lb],
        "loss_rel_diff_per_iteration": rel,
        "first_differing_evaluation": first_diff,
        "first_evaluation_rel_above_1e-4": above,
        "grad0_identical": bool(np.array_equal(ga, gb)),
        "grad0_max_abs_diff_over_max_abs": float(np.max(np.abs(ga - gb)) / np.max(np.abs(ga))),
        "pixels_max_abs_diff": int(d.max()),
        "pixels_within_1": float(np.mean(d <= 1)),
        "x_max_abs_diff": float(np.max(np.abs(xa.astype(np.float64) - xb))),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", default="/work/shared/images", help="the shared images folder")
    p.add_argument("--no-check", action="store_true", help="skip the reproducibility runs (3x faster)")
    a = p.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(Path(a.images))
    make_weights(WEIGHTS_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        again = Path(tmp) / "again.h5"
        make_weights(again)
        deterministic = WEIGHTS_FILE.read_bytes() == again.read_bytes()

    cases = []
    for size in SIZES:
        for seed in SEEDS:
            w, h = ref.parse_size(size)
            x0 = ref.initial_noise(seed, h, w)
            cases.append({
                "name": f"{size}_seed{seed}", "size": size, "width": w, "height": h, "seed": seed,
                "iterations": ITERATIONS, "maxfun": MAXFUN,
                "content_weight": 0.025, "style_weight": 5.0, "tv_weight": 1.0,
                "init": "noise", "resample": "nearest", "preprocess": "recipe",
                "content_layer": ref.CONTENT_LAYER, "style_layers": list(ref.STYLE_LAYERS),
                "x0_sha256": ref.array_sha256(x0), "x0_first4": [float(v) for v in x0.flat[:4]],
            })  # fmt: skip

    repro: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            dst = OUT / case["name"]
            if dst.exists():
                shutil.rmtree(dst)
            print(f"{case['name']}: reference, threads {THREADS}", flush=True)
            run_reference(case, WEIGHTS_FILE, dst, THREADS)
            log = read_log(dst / "log.jsonl")
            case.update({
                "out": f"{case['name']}/out.png", "out_sha256": sha256_file(dst / "out.png"),
                "log": f"{case['name']}/log.jsonl",
                "x": f"{case['name']}/x.npy", "x_sha256": ref.array_sha256(np.load(dst / "x.npy")),
                "grad0": f"{case['name']}/grad0.npy", "x0_eval": log[0]["start"],
                "losses": [r["loss"] for r in log], "nfev": [r["nfev"] for r in log],
            })  # fmt: skip
            if a.no_check:
                continue
            print(f"{case['name']}: again, threads {THREADS}", flush=True)
            run_reference(case, WEIGHTS_FILE, Path(tmp) / case["name"] / "again", THREADS)
            print(f"{case['name']}: threads {ALT_THREADS}", flush=True)
            run_reference(case, WEIGHTS_FILE, Path(tmp) / case["name"] / "alt", ALT_THREADS)
            repro[case["name"]] = {
                "same_threads_again": compare(dst, Path(tmp) / case["name"] / "again"),
                f"threads_{ALT_THREADS[0]}_{ALT_THREADS[1]}": compare(dst, Path(tmp) / case["name"] / "alt"),
            }

    import keras
    import scipy
    import tensorflow as tf
    import PIL

    manifest = {
        "regenerate": "make vectors-transfer",
        "reference": "scripts/vectors/reference_transfer.py",
        "weights": {
            "command": f"python {' '.join(WEIGHTS_ARGS)} FILE",
            "file_sha256": sha256_file(WEIGHTS_FILE),
            "arrays_sha256": weights_arrays_sha256(WEIGHTS_FILE),
            "bytes_deterministic": deterministic,
            "size_bytes": WEIGHTS_FILE.stat().st_size,
        },
        "inputs": inputs,
        "threads": {"intra": THREADS[0], "inter": THREADS[1]},
        # The Go tests hold the driver to these files bit for bit only on a CPU of
        # the same family of TensorFlow kernels (savedmodel/kernels.py).
        "kernels": {"family": kernels.family(), "features": kernels.features()},
        "environment": {
            "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "pillow": PIL.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: oneDNN on)"),
        },  # fmt: skip
        "cases": cases,
    }
    if repro:
        manifest["reproducibility"] = repro
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {OUT / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
