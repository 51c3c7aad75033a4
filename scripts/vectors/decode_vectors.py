"""Test vectors for package preprocess/imagefile's decoders (Go) against Pillow.

Writes small image files in every format and layout imagefile.Decode reads,
made with Pillow from crops of the shared images (or, where Pillow cannot write
a variant, assembled byte by byte here), and for each the RGB pixels Pillow
gives for Image.open -> ImageOps.exif_transpose -> convert("RGB"), stored as a
PNG under want/. vectors.json lists them with their SHA-256, together with
the SHA-256 of the full-size shared images decoded the same way.

Run from the repository root: .venv/bin/python scripts/vectors/decode_vectors.py
(make vectors-decode). Versions: see vectors.json ("versions").
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageOps, TiffImagePlugin, features

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "preprocess" / "imagefile" / "testdata" / "decode"
SHARED = ROOT.parent / "shared" / "images"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/images")

Vector = dict[str, Any]


def pillow_rgb(data: bytes) -> Image.Image:
    """What the Go decoder must reproduce."""
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def sha(im: Image.Image) -> str:
    return hashlib.sha256(im.tobytes()).hexdigest()


def source(name: str) -> Image.Image:
    return Image.open(SHARED / name).convert("RGB")


def crop(im: Image.Image, x: int, y: int, w: int, h: int) -> Image.Image:
    return im.crop((x, y, x + w, y + h))


def save(im: Image.Image, fmt: str, **kw: Any) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


# ---------------------------------------------------------------- PNG by hand


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_raw(w: int, h: int, depth: int, ctype: int, rows: list[bytes], extra: list[bytes] = ()) -> bytes:
    raw = b"".join(b"\x00" + r for r in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
        + b"".join(extra)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def png16(arr: np.ndarray, ctype: int, extra: list[bytes] = ()) -> bytes:
    h, w = arr.shape[:2]
    a = arr.astype(">u2").reshape(h, -1)
    return png_raw(w, h, 16, ctype, [a[y].tobytes() for y in range(h)], extra)


def png_insert(data: bytes, chunk: bytes, after_idat: bool = False) -> bytes:
    """Insert a chunk after IHDR (or before IEND)."""
    if after_idat:
        i = data.rindex(b"IEND") - 4
    else:
        i = 8 + 8 + 13 + 4
    return data[:i] + chunk + data[i:]


def exif_bytes(orientation: int, endian: str = "<") -> bytes:
    """A minimal EXIF TIFF structure with IFD0 holding only Orientation."""
    head = (b"II*\x00" if endian == "<" else b"MM\x00*") + struct.pack(endian + "I", 8)
    ifd = struct.pack(endian + "H", 1) + struct.pack(endian + "HHI", 0x0112, 3, 1)
    ifd += struct.pack(endian + "H", orientation) + b"\x00\x00" + struct.pack(endian + "I", 0)
    return head + ifd


def tiff_set_short(data: bytes, tag: int, value: int) -> bytes:
    """Overwrite the (inline, SHORT) value of a tag in IFD0 of a little-endian TIFF."""
    b = bytearray(data)
    assert b[:4] == b"II*\x00"
    ifd = struct.unpack_from("<I", b, 4)[0]
    for i in range(struct.unpack_from("<H", b, ifd)[0]):
        e = ifd + 2 + 12 * i
        if struct.unpack_from("<H", b, e)[0] == tag:
            struct.pack_into("<H", b, e + 8, value)
            return bytes(b)
    raise KeyError(tag)


def tiff_raw(arr: np.ndarray, extra_samples: int | None = None) -> bytes:
    """An uncompressed little-endian 16-bit RGB(A) TIFF, which Pillow cannot write."""
    h, w, n = arr.shape
    data = arr.astype("<u2").tobytes()
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, n, None), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, None), (277, 3, 1, n), (278, 4, 1, h), (279, 4, 1, len(data))]
    if extra_samples is not None:
        entries.append((338, 3, 1, extra_samples))
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = 8 + ifd_size
    data_at = bits_at + 2 * n
    out = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 258:
            value = bits_at
        elif tag == 273:
            value = data_at
        fmt = "<HHIHH" if typ == 3 and count == 1 else "<HHII"
        out += struct.pack(fmt, tag, typ, count, value, 0) if fmt == "<HHIHH" else struct.pack(fmt, tag, typ, count, value)
    out += struct.pack("<I", 0) + struct.pack("<" + "H" * n, *([16] * n)) + data
    return out


# ---------------------------------------------------------------- GIF by hand


def gif_parts(im: Image.Image) -> tuple[int, bytes]:
    """LZW code size and sub-blocks of Pillow's encoding of a P image."""
    b = save(im, "GIF", optimize=False, interlace=False)
    flags = b[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while b[pos] == 0x21:  # skip extensions
        pos += 2
        while b[pos]:
            pos += 1 + b[pos]
        pos += 1
    assert b[pos] == 0x2C
    dflags = b[pos + 9]
    pos += 10 + (3 << ((dflags & 7) + 1) if dflags & 0x80 else 0)
    code = b[pos]
    start = pos + 1
    pos = start
    while b[pos]:
        pos += 1 + b[pos]
    return code, b[start : pos + 1]


def gif_build(
    screen: tuple[int, int],
    gct: bytes | None,
    frame: tuple[int, int, int, int],
    lzw: tuple[int, bytes],
    lct: bytes | None = None,
    transparency: int | None = None,
    junk: bytes = b"",
) -> bytes:
    def table_flags(t: bytes) -> int:
        n = len(t) // 3
        bits = max(1, (n - 1).bit_length())
        assert n == 1 << bits
        return 0x80 | (bits - 1)

    out = b"GIF89a" + struct.pack("<HH", *screen)
    out += bytes([(table_flags(gct) | 0x70) if gct else 0, 0, 0]) + (gct or b"")
    out += junk
    if transparency is not None:
        out += b"\x21\xf9\x04" + bytes([1, 0, 0, transparency, 0])
    out += b"\x2c" + struct.pack("<HHHH", *frame)
    out += bytes([table_flags(lct) if lct else 0]) + (lct or b"")
    out += bytes([lzw[0]]) + lzw[1] + b"\x3b"
    return out


def pal(colors: list[tuple[int, int, int]]) -> bytes:
    return b"".join(bytes(c) for c in colors)


# ---------------------------------------------------------------- the vectors


def build() -> list[tuple[str, bytes, str]]:
    """(file name, data, note) for every vector."""
    grace = source("content/grace_hopper.jpg")
    wave = source("styles/wave.jpg")
    coffee = source("content/coffee.png")
    chelsea = Image.open(SHARED / "content/chelsea.png").convert("RGB")
    v: list[tuple[str, bytes, str]] = []

    def add(name: str, data: bytes, note: str) -> None:
        v.append((name, data, note))

    # JPEG: subsamplings, odd sizes, progressive, grey, CMYK.
    face = crop(grace, 200, 150, 64, 48)
    add("jpeg_420_64x48.jpg", save(face, "JPEG", quality=90, subsampling=2), "4:2:0 q90")
    add("jpeg_444_33x17.jpg", save(crop(wave, 500, 300, 33, 17), "JPEG", quality=90, subsampling=0), "4:4:4, odd size")
    add("jpeg_422_47x31.jpg", save(crop(grace, 180, 240, 47, 31), "JPEG", quality=85, subsampling=1), "4:2:2, odd size")
    add("jpeg_420_31x23.jpg", save(crop(wave, 100, 700, 31, 23), "JPEG", quality=75, subsampling=2), "4:2:0 odd size q75")
    add("jpeg_420_prog_65x49.jpg", save(crop(grace, 150, 100, 65, 49), "JPEG", quality=88, progressive=True), "progressive")
    add("jpeg_420_1x1.jpg", save(crop(grace, 260, 200, 1, 1), "JPEG", quality=95), "1x1")
    add("jpeg_grey_40x30.jpg", save(crop(grace, 220, 180, 40, 30).convert("L"), "JPEG", quality=90), "greyscale")
    cmyk = crop(wave, 600, 400, 36, 28).convert("CMYK")
    add("jpeg_cmyk_36x28.jpg", save(cmyk, "JPEG", quality=90), "Adobe CMYK (inverted)")
    # EXIF orientations, non-square so that every transform is distinguishable.
    small = crop(grace, 230, 160, 24, 16)
    for o in range(1, 9):
        ex = Image.Exif()
        ex[0x0112] = o
        add(f"jpeg_orient{o}.jpg", save(small, "JPEG", quality=92, exif=ex.tobytes()), f"EXIF orientation {o}")
    ex = Image.Exif()
    ex[0x0112] = 6
    add("jpeg_orient6_noexif_opt.jpg", save(small, "JPEG", quality=92, exif=ex.tobytes()), "orientation 6 (IgnoreOrientation test)")

    # PNG: every colour type and depth Pillow distinguishes.
    c = crop(coffee, 250, 150, 29, 21)
    add("png_rgb_29x21.png", save(c, "PNG"), "RGB 8")
    rgba = c.copy()
    alpha = Image.linear_gradient("L").resize(c.size)
    alpha.putpixel((0, 0), 0)
    rgba.putalpha(alpha)
    add("png_rgba_29x21.png", save(rgba, "PNG"), "RGBA 8: alpha dropped")
    add("png_l_29x21.png", save(c.convert("L"), "PNG"), "L 8")
    la = c.convert("L")
    la.putalpha(alpha)
    add("png_la_29x21.png", save(la, "PNG"), "LA 8")
    p = c.quantize(16)
    add("png_p16_29x21.png", save(p, "PNG"), "palette, 4-bit")
    pt = p.copy()
    pt.info["transparency"] = 3
    add("png_p_trns_29x21.png", save(pt, "PNG", transparency=3), "palette with tRNS")
    add("png_1bit_29x21.png", save(c.convert("1"), "PNG"), "1-bit")
    g16 = (np.asarray(c.convert("L"), dtype=np.uint16) * 300 // 255 + np.arange(29, dtype=np.uint16)[None, :]).astype(np.uint16)
    g16[0, :4] = [0, 255, 256, 65535]
    add("png_grey16_29x21.png", png16(g16, 0), "16-bit grey: Pillow I;16 clips at 255")
    add("png_grey16_trns_29x21.png", png16(g16, 0, [png_chunk(b"tRNS", struct.pack(">H", 256))]), "16-bit grey with tRNS")
    rng = np.random.default_rng(5)
    rgb16 = rng.integers(0, 65536, (13, 11, 3), dtype=np.uint16)
    add("png_rgb16_11x13.png", png16(rgb16, 2), "16-bit RGB: high byte")
    rgba16 = rng.integers(0, 65536, (13, 11, 4), dtype=np.uint16)
    add("png_rgba16_11x13.png", png16(rgba16, 6), "16-bit RGBA")
    la16 = rng.integers(0, 65536, (13, 11, 2), dtype=np.uint16)
    add("png_la16_11x13.png", png16(la16, 4), "16-bit grey+alpha: high byte")
    g4 = rng.integers(0, 16, (9, 7), dtype=np.uint8)
    rows = [bytes((int(r[i]) << 4 | (int(r[i + 1]) if i + 1 < 7 else 0)) for i in range(0, 7, 2)) for r in g4]
    add("png_grey4_7x9.png", png_raw(7, 9, 4, 0, rows), "4-bit grey")
    add("png_rgb_trns_29x21.png", png_insert(save(c, "PNG"), png_chunk(b"tRNS", struct.pack(">HHH", *c.getpixel((1, 1))))), "RGB with tRNS colour")
    base = save(crop(chelsea, 200, 100, 20, 12), "PNG")
    add("png_exif6.png", png_insert(base, png_chunk(b"eXIf", exif_bytes(6, ">")), after_idat=True), "eXIf after IDAT, orientation 6")
    rawprof = "\nexif\n      %d\n%s\n" % (len(b"Exif\x00\x00" + exif_bytes(8)), (b"Exif\x00\x00" + exif_bytes(8)).hex())
    add("png_rawprofile8.png", png_insert(base, png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(rawprof.encode()))), "ImageMagick raw profile, orientation 8")
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="3"/></x:xmpmeta>'
    add("png_xmp3.png", png_insert(base, png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode())), "XMP orientation 3")

    # GIF: Pillow's own output, and first-frame corner cases built around its LZW data.
    g = crop(chelsea, 180, 80, 37, 29)
    add("gif_pillow_37x29.gif", save(g, "GIF"), "Pillow-quantised, interlaced")
    idx = Image.frombytes("P", (6, 4), bytes([0, 1, 2, 3, 1, 0, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2, 3, 3, 0, 2, 1, 3, 0, 1]))
    idx.putpalette([0, 0, 0] * 256)
    lz = gif_parts(idx)
    four = pal([(200, 10, 10), (10, 200, 10), (10, 10, 200), (250, 250, 0)])
    add("gif_offset.gif", gif_build((10, 7), four, (3, 2, 6, 4), lz), "frame inside a larger screen: fill index 0")
    add("gif_offset_trns.gif", gif_build((10, 7), four, (3, 2, 6, 4), lz, transparency=2), "fill with the transparent index")
    add("gif_grows.gif", gif_build((5, 3), four, (2, 1, 6, 4), lz), "frame larger than the screen")
    add("gif_local.gif", gif_build((6, 4), four, (0, 0, 6, 4), lz, lct=pal([(1, 2, 3), (4, 5, 6), (7, 8, 9), (90, 91, 92)])), "local colour table")
    add("gif_grey_ramp.gif", gif_build((6, 4), pal([(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)]), (0, 0, 6, 4), lz), "identity grey table: mode L")
    add("gif_no_table.gif", gif_build((6, 4), None, (0, 0, 6, 4), lz), "no colour table")
    two = pal([(99, 98, 97), (50, 60, 70)])
    add("gif_index_past_table.gif", gif_build((6, 4), two, (0, 0, 6, 4), lz), "indices past a 2-entry table")
    add("gif_junk.gif", gif_build((6, 4), four, (0, 0, 6, 4), lz, junk=b"\x00\x07"), "stray bytes before the frame")

    # BMP
    b = crop(wave, 300, 500, 23, 15)
    add("bmp_rgb_23x15.bmp", save(b, "BMP"), "24-bit bottom-up")
    add("bmp_p_23x15.bmp", save(b.quantize(64), "BMP"), "8-bit palette")
    add("bmp_1bit_23x15.bmp", save(b.convert("1"), "BMP"), "1-bit")
    rb = b.copy()
    rb.putalpha(Image.linear_gradient("L").resize(b.size))
    add("bmp_rgba_23x15.bmp", save(rb, "BMP"), "32-bit")
    bmp = bytearray(save(b, "BMP"))  # top-down: negative height, rows reversed
    off, w, h = struct.unpack_from("<I", bmp, 10)[0], 23, 15
    stride = (3 * w + 3) & ~3
    rows_b = [bmp[off + y * stride : off + (y + 1) * stride] for y in range(h)]
    bmp[off:] = b"".join(reversed(rows_b))
    struct.pack_into("<i", bmp, 22, -h)
    add("bmp_topdown_23x15.bmp", bytes(bmp), "24-bit top-down")

    # TIFF
    t = crop(coffee, 300, 200, 27, 19)
    add("tiff_rgb_raw.tif", save(t, "TIFF"), "RGB uncompressed")
    add("tiff_rgb_lzw.tif", save(t, "TIFF", compression="tiff_lzw"), "RGB LZW")
    add("tiff_rgb_deflate.tif", save(t, "TIFF", compression="tiff_adobe_deflate"), "RGB deflate")
    add("tiff_rgb_packbits.tif", save(t, "TIFF", compression="packbits"), "RGB PackBits")
    add("tiff_l.tif", save(t.convert("L"), "TIFF"), "L")
    add("tiff_p.tif", save(t.quantize(32), "TIFF"), "palette (16-bit colour map)")
    add("tiff_1bit.tif", save(t.convert("1"), "TIFF"), "1-bit")
    add("tiff_cmyk.tif", save(t.convert("CMYK"), "TIFF"), "CMYK")
    rt = t.copy()
    rt.putalpha(Image.linear_gradient("L").resize(t.size))
    add("tiff_rgba.tif", save(rt, "TIFF"), "RGBA (unassociated)")
    pre = np.asarray(rt).astype(np.uint16)
    pre[..., :3] = pre[..., :3] * pre[..., 3:] // 255
    add("tiff_rgba_assoc.tif", tiff_set_short(save(Image.fromarray(pre.astype(np.uint8), "RGBA"), "TIFF"), 338, 1),
        "RGBa (associated alpha): Pillow un-premultiplies")
    i16 = Image.fromarray((np.asarray(t.convert("L"), dtype=np.uint16) * 2).astype(np.uint16))
    add("tiff_grey16.tif", save(i16, "TIFF"), "16-bit grey: clipped")
    add("tiff_rgb16.tif", tiff_raw(rng.integers(0, 65536, (9, 13, 3), dtype=np.uint16)), "16-bit RGB: high byte")
    add("tiff_rgba16.tif", tiff_raw(rng.integers(0, 65536, (9, 13, 4), dtype=np.uint16), extra_samples=2),
        "16-bit RGBA (unassociated): high byte")
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[0x0112] = 6
    add("tiff_orient6.tif", save(t, "TIFF", tiffinfo=ifd), "Orientation tag 6 in IFD0")

    # WebP: lossy sizes with every parity, alpha, lossless, EXIF.
    for w, h in [(33, 17), (64, 48), (31, 32), (2, 2), (1, 1), (17, 1)]:
        add(f"webp_lossy_{w}x{h}.webp", save(crop(grace, 190, 170, w, h), "WEBP", quality=80), f"lossy {w}x{h}")
    wa = crop(grace, 190, 170, 30, 22)
    wa.putalpha(Image.linear_gradient("L").resize(wa.size))
    add("webp_lossy_alpha.webp", save(wa, "WEBP", quality=80), "lossy with alpha")
    add("webp_lossless.webp", save(crop(wave, 400, 400, 25, 19), "WEBP", lossless=True), "lossless RGB")
    add("webp_lossless_alpha.webp", save(wa, "WEBP", lossless=True), "lossless RGBA")
    ex = Image.Exif()
    ex[0x0112] = 6
    add("webp_exif6.webp", save(crop(grace, 190, 170, 20, 12), "WEBP", quality=80, exif=ex.tobytes()), "EXIF orientation 6")
    return v


# Files the Go decoder must refuse, with the error it must give (the sentinel's
# name in Go); vectors.json records whether Pillow reads them.
def refused() -> list[tuple[str, bytes, str]]:
    grace = source("content/grace_hopper.jpg")
    f1, f2 = crop(grace, 0, 0, 8, 8), crop(grace, 8, 8, 8, 8)
    idx = Image.frombytes("P", (6, 4), bytes(range(24)))
    idx.putpalette(list(range(72)) * 10)
    four = pal([(200, 10, 10), (10, 200, 10), (10, 10, 200), (250, 250, 0)])
    return [
        ("refuse_webp_animated.webp", save(f1, "WEBP", save_all=True, append_images=[f2], duration=100), "ErrUnsupported"),
        ("refuse_tiff_jpeg.tif", save(f1, "TIFF", compression="jpeg"), "ErrUnsupported"),
        ("refuse_gif_early_end.gif", gif_build((6, 4), four, (0, 0, 6, 4), gif_parts(idx.crop((0, 0, 6, 2)))),
         "io.ErrUnexpectedEOF"),
    ]


def pillow_reads(data: bytes) -> bool:
    try:
        pillow_rgb(data)
    except OSError:
        return False
    return True


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "want").mkdir(exist_ok=True)
    for old in list(OUT.glob("*.*")) + list((OUT / "want").glob("*.png")):
        if old.name != "vectors.json":
            old.unlink()
    vectors: list[Vector] = []
    for name, data, note in build():
        (OUT / name).write_bytes(data)
        im = pillow_rgb(data)
        want = "want/" + name.rsplit(".", 1)[0] + ".png"
        Image.frombytes("RGB", im.size, im.tobytes()).save(OUT / want, "PNG", optimize=True)
        vectors.append({"file": name, "width": im.width, "height": im.height, "sha256": sha(im), "want": want, "note": note})
    refusals = []
    for name, data, kind in refused():
        (OUT / name).write_bytes(data)
        refusals.append({"file": name, "error": kind, "pillow_reads_it": pillow_reads(data)})
    shared = []
    for rel in ["content/grace_hopper.jpg", "styles/wave.jpg", "styles/starry_night.jpg", "styles/scream.jpg",
                "styles/van_gogh_self_portrait.jpg", "content/astronaut.png", "content/chelsea.png", "content/coffee.png"]:
        im = pillow_rgb((SHARED / rel).read_bytes())
        shared.append({"path": rel, "width": im.width, "height": im.height, "sha256": sha(im)})
    doc = {
        # The name the checked-in vectors record: they were made before the script moved to
        # scripts/vectors/, and a vectors file changes only with its vectors.
        "generator": "scripts/vectors/decode_vectors.py",
        "versions": {
            "pillow": Image.__version__,
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "libwebp": features.version("webp"),
            "libtiff": features.version("libtiff"),
            "zlib": features.version("zlib"),
            "numpy": np.__version__,
        },
        "vectors": vectors,
        "refused": refusals,
        "shared": shared,
    }
    (OUT / "vectors.json").write_text(json.dumps(doc, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(vectors)} vectors, {len(refusals)} refusals, {len(shared)} shared images; {total} bytes in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
