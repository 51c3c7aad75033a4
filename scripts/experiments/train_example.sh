#!/usr/bin/env bash
# Issue 27's longer run (docs/training.md): trains the paper's network (width 32) on
# HED's VGG16 weights (make train-model-hed, model-hed) for STEPS steps of 4 crops of
# CROP on the example photos in PHOTOS, with the example painting, times it, and
# compares the notebook's loss (neuralstyle score at CROP) of the network's output
# for the held-out photo with that of transfer's optimisation (its default ten
# L-BFGS-B iterations) at the same size. Prints a Markdown table.
#
#   scripts/experiments/train_example.sh OUTDIR [STEPS] [CROP] [LR]
#
# CONTENT_WEIGHT, if set, is train's --content-weight (the score stays the notebook's).
set -euo pipefail
out=${1:?usage: scripts/experiments/train_example.sh OUTDIR [STEPS] [CROP] [LR]}
steps=${2:-300}
crop=${3:-128}
lr=${4:-5e-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/bin/neuralstyle
photos_src=${PHOTOS:-$root/../shared/images/content}
style=${STYLE:-$root/scripts/examples/wave.jpg}
held=${HELD:-$root/scripts/examples/grace_hopper.jpg}
mkdir -p "$out/photos"
rm -rf "$out/photos" && mkdir -p "$out/photos"
# The held-out photo is left out of the training photos (the examples hold it too).
for f in "$photos_src"/*; do cmp -s "$f" "$held" || ln -sf "$f" "$out/photos/"; done
ln -sf "$held" "$out/photos/held-out-$(basename "$held")"
rm -rf "$out/net"
t0=$(date +%s.%N)
"$bin" train --model "$root/build/train-model-hed" --style "$style" --images "$out/photos" \
	--preview "$out/photos/held-out-$(basename "$held")" --out "$out/net" --crop "$crop" --batch 4 \
	--steps "$steps" --learning-rate "$lr" ${CONTENT_WEIGHT:+--content-weight "$CONTENT_WEIGHT"} --checkpoint-every 100 --preview-every $((steps / 6)) --progress 60s --json > "$out/train.json"
t1=$(date +%s.%N)
"$bin" stylize --net "$out/net" --content "$held" --size "$crop" --resample nearest --out "$out/net.png"
t2=$(date +%s.%N)
"$bin" transfer --model "$root/build/model-hed" --content "$held" --style "$style" --size "$crop" --out "$out/transfer.png" > "$out/transfer.txt"
t3=$(date +%s.%N)
"$bin" score --model "$root/build/model-hed" --size "$crop" --content "$held" --style "$style" "$out/net.png" > "$out/score-net.json"
"$bin" score --model "$root/build/model-hed" --size "$crop" --content "$held" --style "$style" "$out/transfer.png" > "$out/score-transfer.json"
python3 - "$out" "$t0" "$t1" "$t2" "$t3" <<'PY'
import json, sys
out, t0, t1, t2, t3 = sys.argv[1], *map(float, sys.argv[2:])
tr = json.load(open(f"{out}/train.json"))
n, o = json.load(open(f"{out}/score-net.json")), json.load(open(f"{out}/score-transfer.json"))
def loss(s):
    return s.get("loss", s.get("losses", {}).get("loss"))
print(f"training: {tr['steps']} steps of {tr['settings']['batch']} crops of {tr['settings']['crop']} in {t1 - t0:.0f} s "
      f"({(t1 - t0) / tr['steps']:.2f} s/step), batch loss {tr['first']['loss']:.4g} -> {tr['last']['loss']:.4g}")
print()
print("| output at %d | notebook loss | seconds |" % tr['settings']['crop'])
print("| --- | --- | --- |")
print(f"| trained network (one forward pass) | {loss(n):.4g} | {t2 - t1:.1f} (whole command) |")
print(f"| transfer (10 L-BFGS-B iterations) | {loss(o):.4g} | {t3 - t2:.1f} (whole command) |")
print(f"\nfactor: {loss(n) / loss(o):.2f}")
PY
