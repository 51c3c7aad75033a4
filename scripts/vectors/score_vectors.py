"""Reference values for package internal/score's SSIM, made with scikit-image.

    python scripts/vectors/score_vectors.py      # needs scikit-image (pip install scikit-image==0.26.0)

Writes internal/score/testdata/ssim.json: pairs of small RGB images (seeded NumPy
pixels, and crops of /work/shared/images with edits; base64 of the RGB bytes) and skimage's
structural_similarity of their luminances, Y = 0.299 R + 0.587 G + 0.114 B in float64,
with gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
(Wang et al. 2004, as the Go code computes it).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import skimage
from PIL import Image
from skimage.metrics import structural_similarity

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "internal" / "score" / "testdata" / "ssim.json"
SHARED = Path("/work/shared/images")


def luminance(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(luminance(a), luminance(b), gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255))


def b64(rgb: np.ndarray) -> str:
    """The pixels as base64 of their bytes, rows top to bottom (Go's JSON []byte)."""
    return base64.b64encode(np.ascontiguousarray(rgb, np.uint8).tobytes()).decode()


def crop(name: str, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(Image.open(SHARED / name).convert("RGB").crop(box))


def cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rs = np.random.RandomState(14)
    noise16 = rs.randint(0, 256, (16, 16, 3), dtype=np.uint8)
    other16 = rs.randint(0, 256, (16, 16, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:23, 0:31]
    ramp = np.stack([xx * 8, yy * 11, (xx + yy) * 4], axis=-1).clip(0, 255).astype(np.uint8)
    noisy = (ramp + rs.randint(-20, 21, ramp.shape)).clip(0, 255).astype(np.uint8)
    photo = crop("content/astronaut.png", (200, 100, 248, 140))  # 48x40
    shifted = crop("content/astronaut.png", (201, 100, 249, 140))
    darker = (photo.astype(np.int32) * 3 // 4).astype(np.uint8)
    flat = np.full((12, 13, 3), 90, np.uint8)
    return [
        ("noise_vs_noise_16x16", noise16, other16),
        ("ramp_vs_noisy_31x23", ramp, noisy),
        ("photo_vs_shifted_48x40", photo, shifted),
        ("photo_vs_darker_48x40", photo, darker),
        ("photo_vs_itself_48x40", photo, photo),
        ("flat_vs_flat_13x12", flat, flat + 40),
    ]


def main() -> int:
    out = []
    for name, a, b in cases():
        h, w, _ = a.shape
        out.append({"name": name, "width": w, "height": h, "a": b64(a), "b": b64(b),
                    "ssim": ssim(a, b)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"skimage": skimage.__version__, "numpy": np.__version__, "cases": out}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(out)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
