"""Does bf16 paint as well as fp32? The final image's loss, re-evaluated in fp32.

    .venv/bin/python scripts/experiments/bf16_quality.py --model build/model-hed --size 256 \
        --iterations 5 --maxfun 20

Issue 24's quality target for --precision bf16: the final image's loss, re-evaluated
in fp32, within 2% of the fp32 run's, on three content/style pairs. For each pair it
runs `neuralstyle transfer --graph fast` twice, --precision fp32 and --precision
bf16, with the same seed, start and budget, then `neuralstyle score` on each output
PNG at the same size: the notebook's loss in float32 (its notebook_recipe
signature), so both images are judged by the same arithmetic, both after the same
rounding to 8 bits. It prints (and writes with --markdown) a table: each run's wall
seconds, the loss each run reported, both re-evaluated losses, bf16's over fp32's,
and the SSIM to the content and colour distance to the style of each.

The pairs are public domain: scripts/examples and the project's ../shared/images.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "bin" / "neuralstyle"
SHARED = ROOT.parent / "shared" / "images"
EXAMPLES = ROOT / "scripts" / "examples"
TOLERANCE = 0.02


def default_pairs(shared: Path = SHARED) -> list[tuple[Path, Path]]:
    return [
        (EXAMPLES / "grace_hopper.jpg", EXAMPLES / "wave.jpg"),
        (shared / "content" / "chelsea.png", shared / "styles" / "starry_night.jpg"),
        (shared / "content" / "astronaut.png", shared / "styles" / "scream.jpg"),
    ]


def parse_pairs(text: str, shared: Path = SHARED) -> list[tuple[Path, Path]]:
    """CONTENT:STYLE,CONTENT:STYLE,... (empty: the three default pairs)."""
    if not text:
        return default_pairs(shared)
    pairs = []
    for item in text.split(","):
        content, sep, style = item.partition(":")
        if not sep or not content or not style:
            raise ValueError(f"pair {item!r}: want CONTENT:STYLE")
        pairs.append((Path(content), Path(style)))
    return pairs


@dataclass
class Run:
    precision: str
    seconds: float  # the transfer process's wall time
    loss: float  # the last loss the run itself reported
    evaluations: int
    rescored: float  # the output PNG's loss, float32 (neuralstyle score)
    ssim_content: float
    color_distance_style: float


@dataclass
class Pair:
    content: str
    style: str
    fp32: Run
    bf16: Run

    def relative(self) -> float:
        """bf16's re-evaluated loss over fp32's, less one."""
        return self.bf16.rescored / self.fp32.rescored - 1

    def within(self, tolerance: float = TOLERANCE) -> bool:
        """bf16's final loss no more than tolerance above fp32's (lower is better, and fine)."""
        return self.relative() <= tolerance


def transfer(content: Path, style: Path, precision: str, a: argparse.Namespace, tmp: Path) -> tuple[Path, float, float, int]:
    out = tmp / f"{content.stem}-{style.stem}-{precision}.png"
    log = tmp / f"{content.stem}-{style.stem}-{precision}.jsonl"
    cmd = [str(a.binary), "transfer", "--model", str(a.model), "--device", a.device, "--graph", "fast",
           "--content", str(content), "--style", str(style), "--size", str(a.size), "--seed", str(a.seed),
           "--iterations", str(a.iterations), "--maxfun", str(a.maxfun), "--precision", precision,
           "--out", str(out), "--log", str(log), "--quiet"]
    t0 = time.perf_counter()
    run(cmd)
    seconds = time.perf_counter() - t0
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    its = [l for l in lines if "iteration" in l]
    return out, seconds, float(its[-1]["loss"]), sum(int(l["evaluations"]) for l in its)


def score(image: Path, content: Path, style: Path, a: argparse.Namespace) -> dict:
    cmd = [str(a.binary), "score", "--model", str(a.model), "--device", a.device, "--size", str(a.size),
           "--content", str(content), "--style", str(style), str(image)]
    return json.loads(run(cmd))


def run(cmd: list[str]) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bf16_quality: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def measure(content: Path, style: Path, a: argparse.Namespace, tmp: Path) -> Pair:
    runs = {}
    for precision in ("fp32", "bf16"):
        out, seconds, loss, evals = transfer(content, style, precision, a, tmp)
        s = score(out, content, style, a)
        runs[precision] = Run(precision, seconds, loss, evals, float(s["loss"]), float(s["ssim_content"]),
                              float(s["color_distance_style"]))
    return Pair(content.name, style.name, runs["fp32"], runs["bf16"])


def table(pairs: list[Pair], tolerance: float = TOLERANCE) -> str:
    rows = ["| content | style | fp32 s | bf16 s | fp32 loss (run) | bf16 loss (run) | fp32 loss, re-evaluated | "
            "bf16 loss, re-evaluated in fp32 | bf16 / fp32 - 1 | within | SSIM content fp32 / bf16 | "
            "colour distance fp32 / bf16 |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for p in pairs:
        f, b = p.fp32, p.bf16
        rows.append(f"| {p.content} | {p.style} | {f.seconds:.1f} | {b.seconds:.1f} | {f.loss:.4e} | {b.loss:.4e} | "
                    f"{f.rescored:.4e} | {b.rescored:.4e} | {p.relative():+.2%} | "
                    f"{'yes' if p.within(tolerance) else 'no'} | {f.ssim_content:.3f} / {b.ssim_content:.3f} | "
                    f"{f.color_distance_style:.3f} / {b.color_distance_style:.3f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, default=ROOT / "build" / "model-hed")
    p.add_argument("--binary", type=Path, default=BINARY)
    p.add_argument("--device", default="cpu")
    p.add_argument("--pairs", default="", help="CONTENT:STYLE,... (default: three public-domain pairs)")
    p.add_argument("--shared", type=Path, default=SHARED,
                   help="the project's shared images (content/, styles/), for the default pairs; ../shared/images beside the checkout by default")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--maxfun", type=int, default=20)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--tolerance", type=float, default=TOLERANCE)
    p.add_argument("--markdown", type=Path, help="also write the table here")
    a = p.parse_args(argv)
    if not a.binary.exists():
        raise SystemExit(f"bf16_quality: no {a.binary}: run make build")
    pairs = parse_pairs(a.pairs, a.shared)
    missing = [str(f) for pair in pairs for f in pair if not f.exists()]
    if missing:
        raise SystemExit(f"bf16_quality: missing {', '.join(missing)} (--shared or --pairs)")
    results = []
    with tempfile.TemporaryDirectory() as d:
        for content, style in pairs:
            results.append(measure(content, style, a, Path(d)))
            r = results[-1]
            print(f"{r.content} x {r.style}: bf16 {r.relative():+.2%} against fp32, re-evaluated in fp32", flush=True)
    print(f"\n{a.size}x{a.size}, {a.iterations} x {a.maxfun} evaluations, seed {a.seed}, model {a.model}\n")
    out = table(results, a.tolerance)
    print(out)
    if a.markdown:
        a.markdown.write_text(out + "\n")
    ok = all(r.within(a.tolerance) for r in results)
    print(f"\nbf16 within {a.tolerance:.0%} of fp32 on every pair: {'yes' if ok else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
