#!/usr/bin/env bash
# The release's cheap check (make dist-check, CI): unpack the tarball into a
# temporary folder; check that the binary's only runpath is $ORIGIN/../lib, that
# nothing in it or lib/ names the checkout, the virtual environment or the Go
# toolchain, and that ldd finds TensorFlow in the unpacked lib/; then run it
# (scripts/dist/run.sh) with a clean environment and, where this runs as root,
# with the checkout, the virtual environment and Go hidden under empty mounts.
#
#   check.sh TARBALL CHECKOUT
set -euo pipefail
tarball=$(readlink -f "$1") checkout=$(readlink -f "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/neuralstyle-dist-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tarball"
rel=$(echo "$tmp"/neuralstyle-*-linux-amd64)
[ -x "$rel/bin/neuralstyle" ] || { echo "dist-check: no bin/neuralstyle in $tarball" >&2; exit 1; }
venv=$(readlink -f "$checkout/.venv")
goroot=$(go env GOROOT 2>/dev/null || true)
fail() { echo "dist-check: $*" >&2; exit 1; }

runpath=$(readelf -d "$rel/bin/neuralstyle" | sed -n 's/.*R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
[ "$runpath" = '$ORIGIN/../lib' ] || fail "bin/neuralstyle's runpath is '$runpath', want \$ORIGIN/../lib"
printf '%s\n' "$checkout" "$venv" /.venv/ site-packages ${goroot:+"$goroot"} > "$tmp/paths"
for f in "$rel/bin/neuralstyle" "$rel"/lib/*; do
	if found=$(strings "$f" | grep -F -m1 -f "$tmp/paths"); then fail "${f#$rel/} names a build path: $found"; fi
done
ldd "$rel/bin/neuralstyle" > "$tmp/ldd.txt"
if grep -q "not found" "$tmp/ldd.txt"; then cat "$tmp/ldd.txt"; fail "a library is missing"; fi
for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
	got=$(awk -v l="$lib" '$1 == l {print $3}' "$tmp/ldd.txt")
	[ -n "$got" ] && [ "$(readlink -f "$got")" = "$rel/lib/$lib" ] || { cat "$tmp/ldd.txt"; fail "ldd finds $lib at '$got', not in lib/"; }
done
echo "dist-check: runpath \$ORIGIN/../lib, TensorFlow from lib/, no path of the checkout, .venv or Go"

mkdir "$tmp/images"
cp "$checkout/scripts/testdata/transfer/content.png" "$checkout/scripts/testdata/transfer/style.png" "$tmp/images/"
cp "$checkout/scripts/dist/run.sh" "$tmp/run.sh"
clean=(env -i HOME="$tmp" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TF_CPP_MIN_LOG_LEVEL=2)
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
	hide=""
	# .venv (inside the checkout in a clone) before the checkout, which hides it.
	for p in "$venv" ${goroot:+"$goroot"} "$checkout"; do
		[ -d "$p" ] && hide+="mount -t tmpfs none '$p'; "
	done
	echo "dist-check: running the release with $checkout, $venv${goroot:+ and $goroot} hidden"
	"${clean[@]}" unshare --mount --propagation private bash -c "$hide exec bash '$tmp/run.sh' '$rel' '$tmp/images' '$tmp/work'"
else
	echo "dist-check: not root (or no mount namespaces): running the release with a clean environment, the checkout not hidden"
	"${clean[@]}" bash "$tmp/run.sh" "$rel" "$tmp/images" "$tmp/work"
fi
