"""Test vectors for imagefile's shrinking JPEG decode (DecodeOptions.ShrinkTo).

For each JPEG of testdata/decode (made by decode_vectors.py) and a few sizes
S, the pixels Pillow gives for Image.open -> draft("RGB", (S, S)) ->
ImageOps.exif_transpose -> convert("RGB"): libjpeg's DCT scaling by 1/2, 1/4
or 1/8, the largest that leaves both sides at least S. Writes
testdata/decode/shrink.json (size and SHA-256 of each) and the pixels as
PNGs under want/shrink/; vectors.json and its files are left as they are.

Run from the repository root: .venv/bin/python scripts/vectors/decode_shrink_vectors.py
(make vectors-decode runs it after decode_vectors.py).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from PIL import Image, ImageOps, features

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "preprocess" / "imagefile" / "testdata" / "decode"


def main() -> None:
    out = DIR / "want" / "shrink"
    out.mkdir(parents=True, exist_ok=True)
    vectors = []
    for path in sorted(DIR.glob("jpeg_*.jpg")):
        data = path.read_bytes()
        w, h = Image.open(io.BytesIO(data)).size
        m = min(w, h)
        # Sizes that ask for each reduction, and one just over half, which
        # asks for none.
        for side in sorted({max(1, m // 8), max(1, m // 4), max(1, m // 2), m // 2 + 1}):
            im = Image.open(io.BytesIO(data))
            im.draft("RGB", (side, side))
            im = ImageOps.exif_transpose(im).convert("RGB")
            want = f"shrink/{path.stem}_{side}.png"
            im.save(DIR / "want" / want)
            vectors.append({"file": path.name, "shrink_to": side, "width": im.width, "height": im.height,
                            "sha256": hashlib.sha256(im.tobytes()).hexdigest(), "want": want})
    doc = {"versions": {"pillow": Image.__version__, "libjpeg_turbo": features.version("libjpeg_turbo")},
           "vectors": vectors}
    (DIR / "shrink.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(vectors)} vectors in {DIR / 'shrink.json'}")


if __name__ == "__main__":
    main()
