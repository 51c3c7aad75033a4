"""Test vectors for packages preprocess/resample and preprocess/vggtensor, made with
Pillow and NumPy.

    make vectors-preprocess      # or: .venv/bin/python scripts/vectors/preprocess_vectors.py

Writes preprocess/resample/testdata/pixels/ (Pillow's resizing and thumbnail sizes):
  *.png             small crops of /work/shared/images (PNG, so no JPEG decoder is involved),
                    and sweep_row.png, one row of seeded random pixels
  vectors.json      expected outputs: SHA-256 (or a 16-hex-digit prefix of it for the sweep)
                    of every output plus its first values, and the versions that made them
and preprocess/vggtensor/testdata/pixels/ (VGG pre/deprocessing, NumPy's noise):
  *.png             the same crops
  deprocess_in.f64  float64 input for the deprocess vectors, little endian, shape (1, H, W, 3)
  vectors.json      as above

Pillow 11.0.0 and NumPy 2.0.2 as pinned in savedmodel/requirements.txt. Outputs are
hashed over their raw bytes: uint8 RGB rows for images, little-endian float32/float64
in C order for arrays.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
OUT_RESAMPLE = ROOT / "preprocess" / "resample" / "testdata" / "pixels"
OUT_VGGTENSOR = ROOT / "preprocess" / "vggtensor" / "testdata" / "pixels"
SHARED = Path("/work/shared/images")

# name -> (source image, crop box). Odd, non-square, and 1-pixel-wide sizes.
CROPS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "astronaut_96x80.png": ("content/astronaut.png", (200, 100, 296, 180)),
    "chelsea_37x23.png": ("content/chelsea.png", (180, 90, 217, 113)),
    "coffee_5x7.png": ("content/coffee.png", (300, 150, 305, 157)),
    "astronaut_1x31.png": ("content/astronaut.png", (250, 40, 251, 71)),
    "coffee_29x1.png": ("content/coffee.png", (150, 200, 179, 201)),
    "chelsea_200x150.png": ("content/chelsea.png", (120, 60, 320, 210)),
}

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

MEANS = (103.939, 116.779, 123.68)
SWEEP_WIDTH = 1024
SWEEP_MAX = 128  # the sweep resizes every length 1..SWEEP_MAX to every length 1..SWEEP_MAX


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def target_sizes(w: int, h: int) -> list[tuple[int, int]]:
    """Up- and downscaling, odd and non-square sizes, 1-pixel sides, one side unchanged."""
    sizes = [
        (w * 3, h * 2),
        (2 * w + 1, 2 * h - 1 if h > 1 else 3),
        (w + 1, h),  # vertical pass skipped
        (w, h + 1),  # horizontal pass skipped
        (max(1, w // 2), max(1, h // 3)),
        (max(1, w * 5 // 7 + 1), max(1, h * 3 // 11 + 1)),
        (max(1, w - 1), h + 7),
        (17, 5),
        (5, 17),
        (1, 1),
        (1, h),
        (w, 1),
        (w, h),  # same size: a copy
    ]
    if w * h <= 100:
        sizes.append((w * 7 + 3, h * 9 + 1))
    if w >= 100:
        sizes += [(17, 13), (64, 64), (w - 1, h - 1), (512, 384)]
    seen: set[tuple[int, int]] = set()
    return [s for s in sizes if not (s in seen or seen.add(s))]


def make_inputs(out: Path, crops_too: Path) -> dict[str, Image.Image]:
    images = {}
    for name, (src, box) in CROPS.items():
        im = Image.open(SHARED / src).convert("RGB").crop(box)
        im.save(out / name, optimize=True)
        (crops_too / name).write_bytes((out / name).read_bytes())
        images[name] = Image.open(out / name)
        assert images[name].tobytes() == im.tobytes()
    rng = np.random.RandomState(5)
    row = rng.randint(0, 256, size=(1, SWEEP_WIDTH, 3)).astype(np.uint8)
    Image.fromarray(row, "RGB").save(out / "sweep_row.png")
    images["sweep_row.png"] = Image.open(out / "sweep_row.png")
    return images


def resize_vectors(images: dict[str, Image.Image]) -> list[dict[str, Any]]:
    cases = []
    for name in CROPS:
        im = images[name]
        for w, h in target_sizes(*im.size):
            for fname, f in FILTERS.items():
                b = im.resize((w, h), f).tobytes()
                cases.append({"input": name, "w": w, "h": h, "filter": fname, "sha256": sha256(b), "head": b[:12].hex()})
    return cases


def sweep_vectors(row: Image.Image) -> list[dict[str, Any]]:
    """Every length 1..SWEEP_MAX to every length 1..SWEEP_MAX, as a row (horizontal pass)
    and as a column (vertical pass), plus long ones; one hash per input length."""
    col = row.transpose(Image.Transpose.TRANSPOSE)
    # Output lengths as Python ranges [start, stop, step].
    full = [[1, SWEEP_MAX + 1, 1]]
    runs: list[tuple[str, int, list[list[int]]]] = []
    for n in range(1, SWEEP_MAX + 1):
        runs.append(("row", n, full))
        runs.append(("col", n, full))
    for n in (1024, 777):
        runs.append(("row", n, [[1, 1200, 7]]))
    for n in (1, 3, 7):
        runs.append(("row", n, [[1000, 1001, 1], [4097, 4098, 1], [10007, 10008, 1]]))
    out = []
    for fname, f in FILTERS.items():
        for axis, n, ranges in runs:
            src = row.crop((0, 0, n, 1)) if axis == "row" else col.crop((0, 0, 1, n))
            h = hashlib.sha256()
            for r in ranges:
                for m in range(*r):
                    h.update(src.resize((m, 1) if axis == "row" else (1, m), f).tobytes())
            out.append({"filter": fname, "axis": axis, "in": n, "out": ranges, "sha256_16": h.hexdigest()[:16]})
    return out


def noise(seed: int, w: int, h: int) -> np.ndarray:
    """The notebook's initial image with a seed: NumPy's legacy global generator."""
    np.random.seed(seed)
    return np.random.uniform(0, 255, (1, h, w, 3)) - 128.0


def noise_vectors() -> list[dict[str, Any]]:
    cases = []
    for seed in (0, 1, 42, 123456789, 2**31, 2**32 - 1):
        for w, h in ((1, 1), (5, 4), (64, 48), (48, 64), (512, 512)):
            x = noise(seed, w, h)
            assert x.dtype == np.float64
            cases.append(
                {"seed": seed, "w": w, "h": h, "sha256": sha256(x.astype("<f8").tobytes()), "head": [v.hex() for v in x.flat[:4]]}
            )
    return cases


def preprocess(im: Image.Image, mode: str) -> np.ndarray:
    """The notebook's preprocessing ("recipe") or Keras' preprocess_input ("caffe"), in float32."""
    x = np.asarray(im, dtype="float32")
    x = np.expand_dims(x, axis=0)
    if mode == "recipe":
        # QUIRK: means subtracted from R, G, B while still RGB, then reversed.
        x[:, :, :, 0] -= MEANS[0]
        x[:, :, :, 1] -= MEANS[1]
        x[:, :, :, 2] -= MEANS[2]
        x = x[:, :, :, ::-1]
    else:
        x = x[..., ::-1]
        x[..., 0] -= MEANS[0]
        x[..., 1] -= MEANS[1]
        x[..., 2] -= MEANS[2]
    assert x.dtype == np.float32
    return np.ascontiguousarray(x)


def deprocess(x: np.ndarray, w: int, h: int, mode: str) -> np.ndarray:
    """The notebook's deprocess_image ("recipe") or the inverse of Keras' caffe mode, in
    the dtype of x (float64 from the optimizer, or float32)."""
    x = x.reshape((h, w, 3)).copy()
    if mode == "recipe":
        x = x[:, :, ::-1]
        x[:, :, 0] += MEANS[0]
        x[:, :, 1] += MEANS[1]
        x[:, :, 2] += MEANS[2]
    else:
        x[:, :, 0] += MEANS[0]
        x[:, :, 1] += MEANS[1]
        x[:, :, 2] += MEANS[2]
        x = x[:, :, ::-1]
    return np.clip(x, 0, 255).astype("uint8")


def deprocess_input(out: Path) -> tuple[np.ndarray, int, int]:
    """Random values well outside [0, 255] after the means, and values at and next to
    every integer level k - mean, where truncation is decided."""
    special = [-0.0, 0.0, np.inf, -np.inf]
    for k in range(-2, 258):
        for m in MEANS + (MEANS[0] + 0.5,):
            v = k - m
            special += [v, np.nextafter(v, -np.inf), np.nextafter(v, np.inf), float(np.float32(v))]
    w, h = 30, 56
    rng = np.random.RandomState(7)
    x = rng.uniform(-300, 450, (1, h, w, 3))
    x.reshape(-1)[: len(special)] = special
    x.astype("<f8").tofile(out / "deprocess_in.f64")
    return x, w, h


def vgg_vectors(images: dict[str, Image.Image], out: Path) -> dict[str, Any]:
    pre = []
    roundtrip = []
    for name in CROPS:
        im = images[name]
        w, h = im.size
        for mode in ("recipe", "caffe"):
            x = preprocess(im, mode)
            pre.append({"input": name, "mode": mode, "sha256": sha256(x.astype("<f4").tobytes()), "head": [float(v).hex() for v in x.flat[:6]]})
            src = np.asarray(im)
            # float64, as the optimizer hands x back.
            y = deprocess(x.astype("float64"), w, h, mode)
            roundtrip.append(
                {
                    "input": name,
                    "mode": mode,
                    "sha256": sha256(y.tobytes()),
                    "changed": int((y != src).sum()),
                    "max_diff": int(np.abs(y.astype(int) - src).max()),
                }
            )
    x, w, h = deprocess_input(out)
    dep = []
    for mode in ("recipe", "caffe"):
        y = deprocess(x, w, h, mode)
        dep.append({"mode": mode, "out": y.tobytes().hex()})
    return {"preprocess": pre, "roundtrip": roundtrip, "deprocess": {"w": w, "h": h, "cases": dep}}


def fit_vectors() -> list[dict[str, int]]:
    """Pillow's thumbnail((n, n)) size: the longest side becomes n, the other keeps the
    aspect ratio as closely as an integer can. Only downscaling (thumbnail never enlarges)."""
    sizes = [
        (4000, 3000, 512), (3000, 4000, 512), (1920, 1080, 512), (1080, 1920, 512),
        (1000, 1, 100), (1, 1000, 100), (513, 511, 512), (511, 513, 512), (1023, 1024, 512),
        (600, 400, 512), (451, 300, 256), (7, 3, 2), (3, 7, 2), (1001, 999, 3), (640, 427, 512),
        (5000, 2, 512), (2, 5000, 512), (4032, 3024, 1), (1025, 1024, 1024),
    ]
    rng = np.random.RandomState(11)
    for _ in range(60):
        w, h = (int(v) for v in rng.randint(1, 3000, size=2))
        n = int(rng.randint(1, max(w, h)))
        sizes.append((w, h, n))
    cases = []
    for w, h, n in sizes:
        assert max(w, h) > n
        im = Image.new("L", (w, h))
        im.thumbnail((n, n))
        cases.append({"w": w, "h": h, "n": n, "fw": im.size[0], "fh": im.size[1]})
    return cases


def write_json(path: Path, vectors: dict[str, Any]) -> None:
    with open(path, "w") as f:
        json.dump(vectors, f, indent=0, separators=(",", ":"))
        f.write("\n")


def generate(resample_out: Path, vggtensor_out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Writes both folders; returns their vectors.json contents (resample's, vggtensor's)."""
    resample_out.mkdir(parents=True, exist_ok=True)
    vggtensor_out.mkdir(parents=True, exist_ok=True)
    images = make_inputs(resample_out, vggtensor_out)
    # The name the checked-in vectors record: they were made before the script moved to
    # scripts/vectors/, and a vectors file changes only with its vectors.
    head = {"generator": "scripts/vectors/preprocess_vectors.py", "versions": {"pillow": PIL.__version__, "numpy": np.__version__}}
    resample = dict(
        head,
        resize=resize_vectors(images),
        sweep={"row": "sweep_row.png", "runs": sweep_vectors(images["sweep_row.png"])},
        fit=fit_vectors(),
    )
    vggtensor = dict(head, noise=noise_vectors(), vgg=vgg_vectors(images, vggtensor_out))
    write_json(resample_out / "vectors.json", resample)
    write_json(vggtensor_out / "vectors.json", vggtensor)
    return resample, vggtensor


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--resample-out", type=Path, default=OUT_RESAMPLE, help="resample's folder (default %(default)s)")
    p.add_argument("--vggtensor-out", type=Path, default=OUT_VGGTENSOR, help="vggtensor's folder (default %(default)s)")
    args = p.parse_args(argv)
    if PIL.__version__ != "11.0.0" or np.__version__ != "2.0.2":
        print(f"want Pillow 11.0.0 and NumPy 2.0.2, have {PIL.__version__} and {np.__version__}", file=sys.stderr)
        return 1
    r, v = generate(args.resample_out, args.vggtensor_out)
    print(f"{args.resample_out}: {len(r['resize'])} resize cases, {len(r['sweep']['runs'])} sweep runs, {len(r['fit'])} fit cases")
    print(f"{args.vggtensor_out}: {len(v['noise'])} noise cases, {len(v['vgg']['preprocess'])} preprocess cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
