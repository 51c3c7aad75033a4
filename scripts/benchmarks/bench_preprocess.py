"""Benchmark: decode a 12-megapixel JPEG, resize it to 512x512 and preprocess it,
Pillow + NumPy against packages preprocess/imagefile, resample and vggtensor, side by
side in one run.

    .venv/bin/python scripts/benchmarks/bench_preprocess.py [--rounds 3] [--reps 5]

Makes build/bench/photo_12mp.jpg once (coffee.png from the shared images upscaled
to 4000x3000 with Pillow's bicubic, plus seeded grain so that it compresses like a
photo, saved at quality 90 with 4:2:0 chroma), then alternates rounds of the
Python steps and of `go test -bench BenchmarkPipeline ./preprocess` on it, and
prints per-step times (best round's mean per call) and the ratios Python / Go
(above 1: Go is faster), for wall time and for process CPU time (all threads
together; it varies less on a busy machine). Pillow runs on one core; Go resizes
on all of them, so its CPU time can exceed its wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import PIL
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
JPEG = ROOT / "build" / "bench" / "photo_12mp.jpg"
SOURCE = Path("/work/shared/images/content/coffee.png")
MEANS = (103.939, 116.779, 123.68)
STEPS = ["decode", "resize/nearest", "resize/bicubic", "preprocess", "all/nearest", "all/bicubic"]


def make_jpeg(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.open(SOURCE).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = np.random.RandomState(0).normal(0, 4, (3000, 4000, 3))
    x = np.clip(np.asarray(im, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    tmp = path.with_suffix(".tmp")
    Image.fromarray(x).save(tmp, "JPEG", quality=90, subsampling="4:2:0")
    tmp.rename(path)


def decode(path: Path) -> Image.Image:
    """Keras' load_img as the notebook ran it: open, convert only if not RGB."""
    im = Image.open(path)
    im.load()
    return im if im.mode == "RGB" else im.convert("RGB")


def preprocess(im: Image.Image) -> np.ndarray:
    """The notebook's preprocessing (recipe mode)."""
    x = np.asarray(im, dtype="float32")
    x = np.expand_dims(x, axis=0)
    x[:, :, :, 0] -= MEANS[0]
    x[:, :, :, 1] -= MEANS[1]
    x[:, :, :, 2] -= MEANS[2]
    return x[:, :, :, ::-1]


Timings = dict[str, tuple[float, float]]  # step -> (wall s, CPU s) per call


def python_round(path: Path, reps: int) -> Timings:
    src = decode(path)
    small = src.resize((512, 512), Image.Resampling.NEAREST)
    steps: dict[str, Callable[[], object]] = {
        "decode": lambda: decode(path),
        "resize/nearest": lambda: src.resize((512, 512), Image.Resampling.NEAREST),
        "resize/bicubic": lambda: src.resize((512, 512), Image.Resampling.BICUBIC),
        "preprocess": lambda: preprocess(small),
        "all/nearest": lambda: preprocess(decode(path).resize((512, 512), Image.Resampling.NEAREST)),
        "all/bicubic": lambda: preprocess(decode(path).resize((512, 512), Image.Resampling.BICUBIC)),
    }
    out = {}
    for name, fn in steps.items():
        fn()  # warm up
        t, c = time.perf_counter(), time.process_time()
        for _ in range(reps):
            fn()
        out[name] = ((time.perf_counter() - t) / reps, (time.process_time() - c) / reps)
    return out


def go_round(path: Path, reps: int) -> tuple[Timings, str]:
    env = dict(os.environ, NEURALSTYLE_BENCH_JPEG=str(path))
    cmd = ["go", "test", "-run", "^$", "-bench", "^BenchmarkPipeline$", "-benchtime", f"{reps}x", "-count", "1", "-v", "./preprocess"]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    out = {}
    pat = r"^BenchmarkPipeline/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) cpu-ns/op"
    for m in re.finditer(pat, res.stdout, re.M):
        out[m.group(1)] = (float(m.group(2)) / 1e9, float(m.group(3)) / 1e9)
    missing = [s for s in STEPS if s not in out]
    if missing:
        raise SystemExit(f"no Go timings for {missing} in:\n{res.stdout}")
    dec = re.search(r"JPEG decoder: (.*)", res.stdout)
    return out, dec.group(1).strip() if dec else "unknown"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="alternating Python/Go rounds (default %(default)s)")
    p.add_argument("--reps", type=int, default=5, help="calls per step per round (default %(default)s)")
    args = p.parse_args(argv)
    make_jpeg(JPEG)
    with Image.open(JPEG) as im:
        size = im.size
    # Build the test binary before timing anything.
    subprocess.run(["go", "test", "-count=1", "-run", "^$", "./preprocess"], cwd=ROOT, check=True, capture_output=True)
    py: dict[str, list[float]] = {}
    go: dict[str, list[float]] = {}
    decoder = ""
    for _ in range(args.rounds):
        for k, v in python_round(JPEG, args.reps).items():
            py[k] = [min(a, b) for a, b in zip(py.get(k, v), v)]
        g, decoder = go_round(JPEG, args.reps)
        for k, v in g.items():
            go[k] = [min(a, b) for a, b in zip(go.get(k, v), v)]
    print(f"{JPEG.relative_to(ROOT)}: {size[0]}x{size[1]}, {JPEG.stat().st_size} bytes; "
          f"Pillow {PIL.__version__}, NumPy {np.__version__}; Go JPEG decoder: {decoder}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':<16}{'---------------- wall ----------------':>40}{'---------------- CPU -----------------':>40}")
    print(f"{'step':<16}" + f"{'Pillow+NumPy ms':>18}{'Go ms':>11}{'Python/Go':>11}" * 2)
    for s in STEPS:
        row = f"{s:<16}"
        for i in (0, 1):
            row += f"{py[s][i] * 1e3:>18.2f}{go[s][i] * 1e3:>11.2f}{py[s][i] / go[s][i]:>11.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
