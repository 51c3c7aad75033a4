"""The command-line plumbing the exporters share: the --out checks, staging an export
beside --out and swapping it into place, the neuralstyle.json record, and the
--out/--weights/--seed command line of the VGG16 exporters (export.py, classify.py).

It imports no TensorFlow, so its tests run in a moment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

METADATA_FILE = "neuralstyle.json"


class ExportError(Exception):
    """A problem the user can fix (bad arguments, unavailable weights); the message says how."""


def write_metadata(out: str | Path, meta: dict) -> None:
    """Writes the export's record, neuralstyle.json, which Go reads and inspect shows."""
    with open(os.path.join(out, METADATA_FILE), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def check_out(dst: Path) -> None:
    """Refuses an --out that is a file, or a folder that is not a previous export."""
    if dst.exists():
        if not dst.is_dir():
            raise ExportError(f"--out {dst}: exists and is not a directory")
        if any(dst.iterdir()) and not (dst / METADATA_FILE).exists():
            raise ExportError(f"--out {dst}: not empty and not a previous export; refusing to replace it")


def replace_dir(src: str | Path, dst: Path) -> None:
    """Moves the staged export src (on dst's file system) into place. A previous export
    is renamed aside, src renamed in, then the old one deleted, so dst always holds a
    whole model: if renaming src in fails, the old one goes back."""
    check_out(dst)
    if not dst.exists():
        os.rename(src, dst)
        return
    # A fresh folder beside dst (so the renames stay on one file system) holds the old
    # export until the new one is in.
    aside_dir = tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent)
    aside = os.path.join(aside_dir, "model")
    try:
        os.rename(dst, aside)
    except BaseException:
        os.rmdir(aside_dir)
        raise
    try:
        os.rename(src, dst)
    except BaseException:
        os.rename(aside, dst)  # should this fail too, the old export stays in aside_dir
        os.rmdir(aside_dir)
        raise
    shutil.rmtree(aside_dir, ignore_errors=True)


@contextlib.contextmanager
def staging(out: Path, prog: str) -> Iterator[tuple[str, str]]:
    """Checks out, then yields (workdir, staged): a temporary folder beside out and the
    path in it to write the export to. When the block ends without an error, staged
    replaces out; otherwise out is left as it was. The folder goes either way."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{prog}-", dir=out.parent) as tmp:
        staged = os.path.join(tmp, "model")
        yield tmp, staged
        replace_dir(staged, out)


def run_cli(argv: list[str] | None, prog: str, doc: str, file_kind: str,
            build: Callable[[str, int | None, str, str], dict]) -> int:
    """The command line shared by the exporters: --out, --weights, --seed. build(weights,
    seed, workdir, staged) writes the model into staged and returns its weights record;
    the export is staged beside --out and moved into place only when complete."""
    p = argparse.ArgumentParser(prog=f"python -m savedmodel.{prog}", description=doc.split("\n")[0])
    p.add_argument("--out", required=True, help="SavedModel directory to write (replaced if a previous export)")
    p.add_argument("--weights", default="imagenet",
                   help=f"imagenet (default, downloads), random, or PATH to a Keras {file_kind} .h5 file")
    p.add_argument("--seed", type=int, help="seed for --weights random")
    a = p.parse_args(argv)
    out = Path(a.out)
    start = time.monotonic()
    try:
        with staging(out, prog) as (workdir, staged):
            info = build(a.weights, a.seed, workdir, staged)
    except ExportError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"exported {out} ({size / 1e6:.1f} MB, weights {info['source']} sha256 {info['sha256'][:12]}) "
          f"in {time.monotonic() - start:.1f} s")
    return 0
