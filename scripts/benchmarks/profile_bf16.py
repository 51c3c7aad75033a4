"""Where an exported fast signature's time goes, op by op (issue 24, item 2).

    .venv/bin/python scripts/benchmarks/profile_bf16.py --model build/model-hed --size 512 --rounds 3

Loads the SavedModel with tf.compat.v1's loader into one session, as the Go driver
does (same C runtime, same Grappler pass), gets fast_targets' outputs for the
bundled grace_hopper.jpg and wave.jpg at --size (the notebook's layers), then runs
each of --signatures (default fast_bf16 and fast) --rounds times with
RunOptions(trace_level=FULL_TRACE), after one untraced warm-up call. Each
signature's kernels' times from step_stats (all_end_rel_micros of every node, the
function bodies' nodes included) are summed by op type, averaged over the rounds,
and printed as a table beside the call's wall time (--nodes N: also the N slowest
nodes by name). The sum of op times exceeds
the wall time where the two cores run ops side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

CONTENT = ROOT / "scripts" / "examples" / "grace_hopper.jpg"
STYLE = ROOT / "scripts" / "examples" / "wave.jpg"

# step_stats' timeline_label reads "node_name = OpType(inputs...)".
_LABEL = re.compile(r"^\s*[^=]+=\s*([A-Za-z0-9_]+)\(")


@dataclass
class OpTime:
    op_type: str
    micros: float  # summed over the op's nodes, averaged over the calls
    nodes: int  # executed nodes of this type per call


def op_type(node_name: str, timeline_label: str) -> str:
    """The op type of one step_stats node: from its timeline label, else its name's
    last path element before any ':' (the runtime's own _SOURCE, _Recv, ...)."""
    m = _LABEL.match(timeline_label)
    if m:
        return m.group(1)
    return node_name.split("/")[-1].split(":")[0] or node_name


def aggregate(calls: list[list[tuple[str, str, int]]]) -> list[OpTime]:
    """Per op type, the mean over calls of the summed micros and of the node count.
    Each call is a list of (node_name, timeline_label, micros). Sorted by time,
    largest first."""
    if not calls:
        return []
    micros: dict[str, float] = defaultdict(float)
    nodes: dict[str, int] = defaultdict(int)
    for call in calls:
        for name, label, us in call:
            t = op_type(name, label)
            micros[t] += us
            nodes[t] += 1
    n = len(calls)
    out = [OpTime(t, micros[t] / n, round(nodes[t] / n)) for t in micros]
    out.sort(key=lambda o: (-o.micros, o.op_type))
    return out


def table(rows: list[OpTime], wall: float, top: int) -> str:
    """A markdown table of the top rows, the rest summed in one row."""
    total = sum(r.micros for r in rows)
    lines = [f"wall {wall:.3f} s per call (median); op times summed {total / 1e6:.3f} s", "",
             "| op type | ms / call | share of op time | nodes |", "| --- | ---: | ---: | ---: |"]
    for r in rows[:top]:
        lines.append(f"| {r.op_type} | {r.micros / 1e3:.1f} | {100 * r.micros / total:.1f}% | {r.nodes} |")
    rest = rows[top:]
    if rest:
        us = sum(r.micros for r in rest)
        lines.append(f"| {len(rest)} other types | {us / 1e3:.1f} | {100 * us / total:.1f}% | {sum(r.nodes for r in rest)} |")
    return "\n".join(lines)


def slowest_nodes(calls: list[list[tuple[str, str, int]]], n: int) -> list[tuple[str, str, float]]:
    """The n nodes with the largest mean micros over calls: (op type, node name, micros)."""
    micros: dict[tuple[str, str], float] = defaultdict(float)
    for call in calls:
        for name, label, us in call:
            micros[(op_type(name, label), name)] += us / len(calls)
    return sorted(((t, name, us) for (t, name), us in micros.items()), key=lambda r: -r[2])[:n]


def load_image(path: Path, size: int) -> np.ndarray:
    """The notebook's preprocessing: resized, RGB to BGR, ImageNet's mean off."""
    from PIL import Image

    img = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
    x = np.asarray(img, np.float32)[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    return x[None].copy()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--signatures", default="fast_bf16,fast")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--nodes", type=int, default=0, help="also list this many slowest nodes")
    a = p.parse_args(argv)
    if not (a.model / "saved_model.pb").is_file():
        p.error(f"--model {a.model}: no saved_model.pb there")
    if a.size < 16 or a.rounds < 1:
        p.error("--size must be at least 16 and --rounds at least 1")

    import tensorflow as tf

    from savedmodel import stylemodel as sm

    tf.compat.v1.disable_eager_execution()
    cw, sw = sm.layer_weights()
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(a.model))
        sigs = meta.signature_def

        def call(name: str, inputs: dict, options=None, metadata=None) -> dict:
            sd = sigs[name]
            feeds = {sd.inputs[k].name: v for k, v in inputs.items()}
            fetches = {k: v.name for k, v in sd.outputs.items()}
            return sess.run(fetches, feeds, options=options, run_metadata=metadata)

        content, style = load_image(CONTENT, a.size), load_image(STYLE, a.size)
        rng = np.random.default_rng(0)
        combination = rng.uniform(-128, 128, content.shape).astype(np.float32)
        for name in a.signatures.split(","):
            targets = call("fast_targets" + ("_bf16" if name.endswith("_bf16") else ""),
                           {"content": content, "style": style, "content_weights": cw, "style_weights": sw})
            inputs = {"combination": combination, "content_weights": cw, "style_weights": sw,
                      "tv_weight": np.float32(sm.NOTEBOOK_TV_WEIGHT), **targets}
            call(name, inputs)  # warm-up: Grappler and the kernels' first-call setup
            calls, walls = [], []
            for _ in range(a.rounds):
                md = tf.compat.v1.RunMetadata()
                opts = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
                t0 = time.perf_counter()
                call(name, inputs, opts, md)
                walls.append(time.perf_counter() - t0)
                calls.append([(n.node_name, n.timeline_label, n.all_end_rel_micros)
                              for d in md.step_stats.dev_stats for n in d.node_stats])
            print(f"## {name}, {a.size}x{a.size}, {a.rounds} traced calls\n")
            print(table(aggregate(calls), statistics.median(walls), a.top))
            for t, node, us in slowest_nodes(calls, a.nodes):
                print(f"    {us / 1e3:7.1f} ms  {t:32s} {node}")
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
