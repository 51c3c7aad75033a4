"""Makes internal/stylist/static/gallery-photo.jpg, the photo that Stylist's
gallery of the 26 styles shows painted in each (the server paints the
thumbnails from it when it starts): the centre square of the bundled
public-domain Grace Hopper photo (scripts/examples/SOURCES.md), 112x112 by
Pillow's LANCZOS, JPEG quality 90. Run from the repository root:

    .venv/bin/python scripts/experiments/stylist_gallery_photo.py
"""

import argparse

from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photo", default="scripts/examples/grace_hopper.jpg")
    ap.add_argument("--side", type=int, default=112)
    ap.add_argument("--out", default="internal/stylist/static/gallery-photo.jpg")
    args = ap.parse_args()
    img = Image.open(args.photo).convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((args.side, args.side), Image.LANCZOS)
    img.save(args.out, quality=90)
    print(f"{args.out}: {args.side}x{args.side} from {args.photo}")


if __name__ == "__main__":
    main()
