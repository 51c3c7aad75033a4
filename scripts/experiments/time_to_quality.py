"""Time to quality: how long each recipe takes to paint as well as the notebook.

    .venv/bin/python scripts/experiments/time_to_quality.py --model build/model-hed --size 512 \
        --json docs/time-to-quality.json --markdown docs/time-to-quality-table.md

Issue 24's speed measure. For each content/style pair the target is the loss the
notebook's own run ends at (noise start, 10 x 20 evaluations, --size, fp32, the
same weights and pair). For each recipe: the wall seconds and the evaluations
until the notebook's objective, at the final size and in fp32, falls to that
target, and the score columns of the recipe's final image (SSIM to the content,
colour distance to the style: `neuralstyle score`), so that a recipe cannot win
on loss by copying the photo.

How the crossing is found. A recipe whose final size runs in fp32 logs that very
objective at every evaluation (`--log`'s evaluation_losses), so its crossing is
the first evaluation at the final size whose loss is at most the notebook's final
loss. A recipe that runs bf16 logs a bf16 loss; its frames (`--frames`, the image
after each outer iteration) are re-evaluated by `neuralstyle score` in fp32 (the
model's notebook_recipe signature), and its crossing is the first final-size
iteration whose frame scores at most the notebook's output scored the same way:
both PNGs, both rounded to 8 bits. That is iteration resolution, not evaluation
resolution; the table says which each row used.

Wall seconds at a crossing: the process's setup (its wall time less its logged
iterations' seconds: loading, targets, scales' changes, writing) plus the
seconds of the iterations before and of the evaluations up to the crossing.

Stop tolerance (`--stop-improvement R`: a run ends after an outer iteration at
the final size that improves the loss by less than R, relative) stops a run
early without changing anything before the stop. So each recipe's log also
answers, for each R of --stop-rules, where that run would have stopped, how long
it would have taken and whether the image there (its frame, scored in fp32)
reaches the target. Those rows are marked "from the log"; a recipe run with the
setting itself is measured as it is.

Stopping at the crossing (--run-on to turn it off): a recipe other than the
notebook's that runs fp32 at its final size and has no tolerance of its own is
watched as it runs (transfer's plain lines print each iteration's loss, the very
objective), and interrupted (SIGINT: it writes what it reached) once an
iteration ends at or below the notebook's final loss: from there on the crossing
is certain, and the rest of the run would not move it. Its score columns are
then those of that iteration's image (its frame), and the stop rules read from
its log can only say whether they stop before the crossing. A bf16 run cannot be
stopped so (its own loss is not the fp32 objective), and runs its --iterations.

A bf16 run's frames are scored by bisection (the first final-size iteration whose
frame reaches the target, assuming the frames' fp32 losses fall with the
iterations, as they did in every run measured): each score loads the model.

Each transfer runs alone under --lock (others' heavy jobs wait, and this waits
for theirs); the load averages before and after each run are in the JSON. The
JSON is rewritten after each run; a (pair, recipe) already in it is skipped and
its run kept, so recipes and pairs are added to it without measuring again what
it holds.

Minutes per pair at 512 on two cores: for docs/time-to-quality.md, not CI.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from savedmodel import kernels  # noqa: E402
IMAGES = ROOT.parent / "shared" / "images"  # the project's ../shared/images (public domain)

# Three kinds of picture, each with a different painting.
PAIRS = [
    ("content/grace_hopper.jpg", "styles/wave.jpg"),  # a portrait
    ("content/chelsea.png", "styles/starry_night.jpg"),  # an animal
    ("content/coffee.png", "styles/scream.jpg"),  # a still life
]

NOTEBOOK = "notebook"


def recipes_for(size: int) -> dict[str, list[str]]:
    """name -> transfer arguments beyond the pair, size, model and logs.

    The recipes other than the notebook run up to the notebook's 10 iterations at
    the final size, so that each can find its crossing (the fp32 ones stop there);
    coarse to fine runs 4 iterations at a quarter and 4 at half the size first.
    The first pair's content starts ran 5 (its JSON's runs keep their arguments).
    """
    c2f = ["--scales", f"{size // 4},{size // 2}", "--scale-iterations", "4,4"]
    scales = f"{size // 4}+{size // 2} then {size}"
    auto = ["--precision", "auto"]
    return {
        NOTEBOOK: [],
        "content": ["--init", "content"],
        "content, auto precision": ["--init", "content", *auto],
        "stylized": ["--init", "stylized"],
        "stylized, auto precision": ["--init", "stylized", *auto],
        "noise, auto precision": auto,  # the notebook's road at bf16's speed
        f"content, {scales}": ["--init", "content", *c2f],
        f"content, {scales}, auto precision": ["--init", "content", *c2f, *auto],
    }


STOP_RULES = [0.1, 0.05, 0.02, 0.01]


def float32(x: float) -> float:
    """x rounded to float32: the log writes float32 losses in their shortest form, the iteration's loss as float64."""
    return struct.unpack("f", struct.pack("f", x))[0]


@dataclass
class Iteration:
    iteration: int
    size: str
    scale: int
    loss: float  # what L-BFGS-B returned (float64 of a float32)
    seconds: float
    losses: list[float]  # each evaluation's, float32
    evaluation_seconds: list[float]

    @property
    def improvement(self) -> float:
        """The relative fall of the loss over this iteration: from its first evaluation (its start) to its end."""
        first = self.losses[0]
        return (first - self.loss) / first


@dataclass
class Crossing:
    evaluations: int  # all of the run's, coarse scales' included
    final_evaluations: int  # those at the final size
    seconds: float
    iteration: int
    by: str  # "log" (evaluation resolution, fp32) or "frames" (iteration resolution, re-evaluated)


@dataclass
class Run:
    recipe: str
    args: list[str]
    wall: float
    settings: dict
    iterations: list[Iteration]
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)
    frame_scores: dict[int, float] = field(default_factory=dict)  # iteration -> fp32 loss of its frame
    final: dict = field(default_factory=dict)  # neuralstyle score of the output (of the last frame when stopped)
    stopped: bool = False  # interrupted once the crossing was certain
    partial_seconds: float = 0.0  # of the iteration under way when it was interrupted

    @property
    def final_size(self) -> str:
        return self.iterations[-1].size

    @property
    def fp32(self) -> bool:
        return self.settings.get("precision", "fp32") == "fp32"

    @property
    def setup(self) -> float:
        """Wall seconds outside the logged iterations (and the interrupted one's)."""
        return self.wall - sum(it.seconds for it in self.iterations) - self.partial_seconds

    def final_median(self) -> float:
        """The median seconds of an evaluation at the final size: this run's speed."""
        secs = sorted(s for it in self.at_final() for s in it.evaluation_seconds)
        return secs[len(secs) // 2] if secs else 0.0

    def at_final(self) -> list[Iteration]:
        return [it for it in self.iterations if it.size == self.final_size]

    def end_of(self, k: int) -> tuple[int, int, float]:
        """(evaluations, at the final size, wall seconds) at the end of iteration k."""
        done = [it for it in self.iterations if it.iteration <= k]
        finals = sum(len(it.losses) for it in done if it.size == self.final_size)
        return sum(len(it.losses) for it in done), finals, self.setup + sum(it.seconds for it in done)

    def crossing_from_log(self, target: float) -> Crossing | None:
        """The first evaluation at the final size whose fp32 loss is at most target."""
        t, n, nf = self.setup, 0, 0
        for it in self.iterations:
            final = it.size == self.final_size
            for loss, s in zip(it.losses, it.evaluation_seconds):
                t += s
                n += 1
                nf += final
                if final and loss <= target:
                    return Crossing(n, nf, t, it.iteration, "log")
            # An iteration's seconds also hold the optimizer's own work between evaluations.
            t += it.seconds - sum(it.evaluation_seconds)
        return None

    def crossing_from_frames(self, target: float) -> Crossing | None:
        """The first final-size iteration whose frame, re-evaluated in fp32, is at most target (frame_scores must hold it)."""
        for it in self.at_final():
            score = self.frame_scores.get(it.iteration)
            if score is not None and score <= target:
                n, nf, t = self.end_of(it.iteration)
                return Crossing(n, nf, t, it.iteration, "frames")
        return None

    def stop_at(self, rule: float) -> int:
        """The iteration after which --stop-improvement rule would end this run (its last if none)."""
        k = self.triggers(rule)
        return self.iterations[-1].iteration if k is None else k

    def triggers(self, rule: float) -> int | None:
        """The first final-size iteration that gains less than rule, None if none does."""
        for it in self.at_final():
            if it.improvement < rule:
                return it.iteration
        return None


def simulate_stops(args: list[str]) -> bool:
    """Whether the stop rules are read from a recipe's log: not where it has a tolerance of its own (a preset's)."""
    return not any(a.startswith(("--stop-improvement", "--preset")) for a in args)


def read_log(text: str) -> tuple[dict, list[Iteration]]:
    settings: dict = {}
    its: list[Iteration] = []
    for rec in map(json.loads, text.splitlines()):
        if "settings" in rec:
            settings = rec["settings"]
        elif "iteration" in rec and not rec.get("partial"):
            its.append(Iteration(rec["iteration"], rec.get("size", settings.get("size", "")), rec.get("scale", 0),
                                 float(rec["loss"]), float(rec["seconds"]),
                                 [float32(x) for x in rec["evaluation_losses"] or []],
                                 list(rec["evaluation_seconds"] or [])))  # fmt: skip
    return settings, its


def partial_seconds(text: str) -> float:
    """The seconds of an interrupted run's last, partial iteration (0 if none)."""
    return sum(float(r.get("seconds", 0)) for r in map(json.loads, text.splitlines()) if r.get("partial"))


def runs_fp32(args: list[str]) -> bool:
    """Whether a recipe's final size runs fp32, so that its own loss is the target's objective."""
    if any(x.startswith("--preset") for x in args):
        return False
    for i, x in enumerate(args):
        if x.startswith("--precision"):
            value = x.partition("=")[2] or (args[i + 1] if i + 1 < len(args) else "")
            return value == "fp32"
    return True


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def command(cmd: list[str]) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"time_to_quality: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


LOSS_LINE = "Current loss value: "  # transfer's plain line at each iteration's end


def transfer(a: argparse.Namespace, content: Path, style: Path, recipe: str, args: list[str], tmp: Path,
             stop_below: float | None = None) -> tuple[Run, Path, Path]:  # fmt: skip
    """Runs one recipe; with stop_below, interrupts it after the first iteration that ends at or below it."""
    name = recipe.replace(" ", "_").replace(",", "").replace("+", "_").replace("`", "")
    log, out, frames = tmp / f"{name}.jsonl", tmp / f"{name}.png", tmp / f"{name}-frames"
    cmd = [a.bin, "transfer", "--model", a.model, "--device", "cpu", "--content", str(content), "--style", str(style),
           "--size", str(a.size), *args, "--frames", str(frames), "--out", str(out), "--log", str(log)]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    lock = open(a.lock, "w") if a.lock else None
    if lock:  # shared cores: wait for the other heavy jobs, then time
        fcntl.flock(lock, fcntl.LOCK_EX)
    stopped = False
    with open(tmp / f"{name}.stderr", "w+") as err:
        before = loadavg()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        assert p.stdout is not None
        for line in p.stdout:
            if stop_below is not None and not stopped and line.startswith(LOSS_LINE):
                if float(line[len(LOSS_LINE) :]) <= stop_below:
                    p.send_signal(signal.SIGINT)
                    stopped = True
        rc = p.wait()
        wall = time.monotonic() - t0
        after = loadavg()
        if lock:
            lock.close()
        if rc != 0 and not (stopped and rc == 130):
            err.seek(0)
            raise SystemExit(f"time_to_quality: {' '.join(cmd)} failed ({rc}):\n{err.read()}")
    text = log.read_text()
    settings, its = read_log(text)
    run = Run(recipe, args, wall, settings, its, before, after, stopped=stopped, partial_seconds=partial_seconds(text))
    return run, out, frames


def score(a: argparse.Namespace, image: Path, content: Path, style: Path) -> dict:
    cmd = [a.bin, "score", "--model", a.model, "--device", "cpu", "--size", str(a.size),
           "--content", str(content), "--style", str(style), str(image)]  # fmt: skip
    return json.loads(command(cmd))


def frame(frames: Path, k: int) -> Path:
    return frames / f"iteration_{k:03d}.png"


def measure_pair(a: argparse.Namespace, content: Path, style: Path, recipes: dict[str, list[str]], pair: dict,
                 save: Callable[[], None]) -> None:  # fmt: skip
    """Adds to pair (its JSON object, new or read) the runs of the recipes it lacks, calling save after each."""
    pair.setdefault("content", content.name)
    pair.setdefault("style", style.name)
    pair.setdefault("load_before", loadavg())
    pair.setdefault("recipes", {})
    runs = pair.setdefault("runs", {})
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.keep:  # each run's output, frames and log kept, for a closer look
            tmp = a.keep / f"{content.stem}-{style.stem}"
            tmp.mkdir(parents=True, exist_ok=True)
        if NOTEBOOK not in runs:
            note, out, _ = transfer(a, content, style, NOTEBOOK, recipes[NOTEBOOK], tmp)
            note.final = score(a, out, content, style)
            pair.update(target=note.iterations[-1].loss,  # what the notebook prints last
                        target_png=float(note.final["loss"]))  # its output, 8 bits, re-evaluated; fmt: skip
            pair["recipes"][NOTEBOOK], runs[NOTEBOOK] = recipes[NOTEBOOK], asdict(note)
            save()
            print(f"  {NOTEBOOK}: {note.wall:.0f} s, final loss {pair['target']:.5g} (its PNG {pair['target_png']:.5g})",
                  file=sys.stderr, flush=True)  # fmt: skip
        target, target_png = pair["target"], pair["target_png"]
        for recipe, args in recipes.items():
            if recipe in runs:
                continue
            stop = a.stop_at_crossing and runs_fp32(args) and simulate_stops(args)
            run, out, frames = transfer(a, content, style, recipe, args, tmp, target if stop else None)

            def rescore(k: int) -> float:
                if k not in run.frame_scores:
                    run.frame_scores[k] = float(score(a, frame(frames, k), content, style)["loss"])
                return run.frame_scores[k]

            last = run.iterations[-1].iteration
            run.final = score(a, frame(frames, last) if run.stopped else out, content, style)
            if run.stopped:
                run.frame_scores[last] = float(run.final["loss"])
            if not run.fp32:  # crossing by frames: bisect for the first that reaches
                its = [it.iteration for it in run.at_final()]
                lo, hi = 0, len(its)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if rescore(its[mid]) <= target_png:
                        hi = mid
                    else:
                        lo = mid + 1
            for rule in a.stop_rules if simulate_stops(args) else []:  # where the tolerance would stop: is that image good enough?
                rescore(run.stop_at(rule))
            pair["recipes"][recipe], runs[recipe] = args, asdict(run)
            pair["load_after"] = loadavg()
            save()
            print(f"  {recipe}: {run.wall:.0f} s" + (" (stopped at the crossing)" if run.stopped else ""),
                  file=sys.stderr, flush=True)  # fmt: skip


def run_from(d: dict) -> Run:
    d = dict(d)
    d["iterations"] = [Iteration(**it) for it in d["iterations"]]
    d["frame_scores"] = {int(k): v for k, v in d["frame_scores"].items()}
    return Run(**d)


def rows(pair: dict, stop_rules: list[float]) -> list[dict]:
    """One row per recipe, and one per stop rule of each recipe other than the notebook."""
    runs = {k: run_from(v) for k, v in pair["runs"].items()}
    note = runs[NOTEBOOK]
    base = note.crossing_from_log(pair["target"])
    base_seconds = base.seconds if base else note.wall
    out = []
    for name, run in runs.items():
        c = run.crossing_from_log(pair["target"]) if run.fp32 else run.crossing_from_frames(pair["target_png"])
        n, nf, _ = run.end_of(run.iterations[-1].iteration)
        # The host's speed drifts between runs: the notebook's time rescaled to this run's speed (its evaluations
        # at the final size against the notebook's; float32 runs only, whose evaluations are the notebook's graph).
        same = run.fp32 and c is not None and note.final_median() > 0
        same_ratio = c.seconds / (base_seconds * run.final_median() / note.final_median()) if same else None
        out.append({"recipe": name, "crossing": c, "ratio": c.seconds / base_seconds if c else None, "same_speed": same_ratio,
                    "wall": run.wall, "evaluations": n, "final_evaluations": nf, "from_log": False,
                    "loss": float(run.final["loss"]), "ssim": float(run.final["ssim_content"]),
                    "colour": float(run.final["color_distance_style"])})  # fmt: skip
        out[-1]["stopped"] = run.stopped
        if name == NOTEBOOK or not simulate_stops(run.args):
            continue
        for rule in stop_rules:
            k = run.stop_at(rule)
            n, nf, t = run.end_of(k)
            loss = run.frame_scores.get(k)
            # A run stopped at its crossing that no rule stopped before: the rule stops later, beyond what was run.
            beyond = run.stopped and run.triggers(rule) is None
            out.append({"recipe": f"{name}, stop {rule:g}", "stop_iteration": k, "wall": t, "evaluations": n,
                        "final_evaluations": nf, "ratio": t / base_seconds, "from_log": True, "loss": loss,
                        "reached": loss is not None and loss <= pair["target_png"], "beyond": beyond})  # fmt: skip
    return out


def evals(n: int, nf: int) -> str:
    return f"{n}" if n == nf else f"{n} ({nf} at full size)"


def table(pairs: list[dict], stop_rules: list[float]) -> str:
    lines = [
        "| pair | recipe | evaluations to the target | wall s to the target | / notebook's | / notebook's at this run's speed "
        "| whole run: s, evaluations | final loss, fp32 | SSIM to content | colour distance to style |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for pair in pairs:
        name = f"{Path(pair['content']).stem} / {Path(pair['style']).stem}"
        for r in rows(pair, stop_rules):
            whole = f"{r['wall']:.0f}, {evals(r['evaluations'], r['final_evaluations'])}"
            if r["from_log"] and r.get("beyond"):
                lines.append(f"| {name} | {r['recipe']} (from the log: stops after iteration {r['stop_iteration']}, "
                             f"the crossing, or later) | reached | | at least {r['ratio']:.2f}x | | | | | |")  # fmt: skip
                continue
            if r["from_log"]:
                reached = "reached" if r["reached"] else "not reached"
                loss = f"{r['loss']:.4e}" if r["loss"] is not None else "-"
                lines.append(f"| {name} | {r['recipe']} (from the log: stops after iteration {r['stop_iteration']}) "
                             f"| {reached} | | {r['ratio']:.2f}x (whole run) | | {whole} | {loss} | | |")  # fmt: skip
                continue
            c = r["crossing"]
            if c is None:
                to, secs, ratio = "not reached", "-", "-"
            else:
                to = evals(c.evaluations, c.final_evaluations) + (" (frames)" if c.by == "frames" else "")
                secs, ratio = f"{c.seconds:.0f}", f"{r['ratio']:.2f}x"
            recipe = r["recipe"] + (" (stopped at the crossing)" if r.get("stopped") else "")
            same = f"{r['same_speed']:.2f}x" if r.get("same_speed") is not None else "-"
            lines.append(f"| {name} | {recipe} | {to} | {secs} | {ratio} | {same} | {whole} | {r['loss']:.4e} "
                         f"| {r['ssim']:.3f} | {r['colour']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / "bin" / "neuralstyle"))
    p.add_argument("--model", default=str(ROOT / "build" / "model-hed"))
    p.add_argument("--images", default=str(IMAGES))
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the pairs to run")
    p.add_argument("--skip", type=int, default=0, help="how many of the pairs to skip first")
    p.add_argument("--recipes", default="", help="names separated by ';' to run besides the notebook (default: all; none: the notebook and --extra only)")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=ARGS",
                   help="one more recipe: its name and its transfer arguments, space-separated")
    p.add_argument("--stop-rules", type=lambda s: [float(x) for x in s.split(",") if x], default=STOP_RULES)
    p.add_argument("--lock", default="/tmp/neuralstyle-heavy.lock", help="flock this file around each transfer (\"\": none)")
    p.add_argument("--run-on", dest="stop_at_crossing", action="store_false",
                   help="run every recipe to its end (default: stop an fp32 recipe once it reaches the target)")
    p.add_argument("--json", type=Path,
                   help="the raw numbers, rewritten after each run; a (pair, recipe) already in it is skipped")
    p.add_argument("--markdown", type=Path, help="also write the table here")
    p.add_argument("--keep", type=Path, help="keep each run's output, frames and log in DIR/CONTENT-STYLE/ (default: none kept)")
    a = p.parse_args(argv)
    recipes = {k: v for k, v in recipes_for(a.size).items() if not a.recipes or k == NOTEBOOK or k in a.recipes.split(";")}
    for e in a.extra:
        name, sep, args = e.partition("=")
        if not sep:
            raise SystemExit(f"time_to_quality: --extra {e!r}: want NAME=ARGS")
        recipes[name] = args.split()
    if not Path(a.bin).exists():
        raise SystemExit(f"time_to_quality: no {a.bin}: run make build")
    for content, style in PAIRS[a.skip : a.skip + a.pairs]:
        for f in (Path(a.images) / content, Path(a.images) / style):
            if not f.exists():
                raise SystemExit(f"time_to_quality: missing {f} (--images)")
    doc = {"size": a.size, "model": a.model, "cpu": kernels.cpu_model(), "pairs": []}
    if a.json and a.json.exists():
        old = json.loads(a.json.read_text())
        if old.get("size") != a.size:
            raise SystemExit(f"time_to_quality: {a.json} holds runs at {old.get('size')}, not --size {a.size}")
        doc = old

    def save() -> None:
        if a.json:
            a.json.write_text(json.dumps(doc, indent=1) + "\n")

    for content, style in PAIRS[a.skip : a.skip + a.pairs]:
        pair = next((pr for pr in doc["pairs"] if pr["content"] == Path(content).name and pr["style"] == Path(style).name), None)
        if pair is None:
            pair = {}
            doc["pairs"].append(pair)
        print(f"{content} / {style}", file=sys.stderr, flush=True)
        measure_pair(a, Path(a.images) / content, Path(a.images) / style, recipes, pair, save)
    text = table(doc["pairs"], a.stop_rules)
    if a.markdown:
        a.markdown.write_text(text + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
