#!/usr/bin/env bash
# The release's stand-alone check (make dist-root-check): a minimal Debian root
# made by debootstrap from Debian's packages (no Go, no Python, no checkout), the
# README's one apt-get line run in it, then the unpacked tarball run there
# (scripts/dist/run.sh: version, inspect, a small transfer, stylize where present,
# serve answering a request). Needs root, debootstrap and Debian's mirror; the
# root is made afresh in ROOT each time (about 3 minutes of the check).
#
#   root-check.sh TARBALL CHECKOUT ROOT [SUITE]
set -euo pipefail
tarball=$(readlink -f "$1") checkout=$(readlink -f "$2") root=$3 suite=${4:-bookworm}
fail() { echo "dist-root-check: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || fail "needs debootstrap: apt-get install debootstrap"
# The mirror apt uses here (deb822 or one-line sources), else Debian's own.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\) .*/\2/p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

rm -rf "$root"
mkdir -p "$(dirname "$root")"
start=$(date +%s)
echo "dist-root-check: debootstrap --variant=minbase $suite $root $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$root.debootstrap.log" 2>&1 ||
	{ tail -20 "$root.debootstrap.log"; fail "debootstrap failed (log: $root.debootstrap.log)"; }
echo "dist-root-check: root made in $(($(date +%s) - start)) s"
for tool in go python3 python; do
	if chroot "$root" sh -c "command -v $tool" >/dev/null; then fail "the root has $tool"; fi
done

mkdir -p "$root/opt/check/images"
tar -C "$root/opt" -xzf "$tarball"
rel=$(cd "$root/opt" && echo neuralstyle-*-linux-amd64)
[ -d "$root/opt/$rel" ] || fail "no release folder in $tarball"
cp "$checkout/scripts/testdata/transfer/content.png" "$checkout/scripts/testdata/transfer/style.png" "$root/opt/check/images/"
cp "$checkout/scripts/dist/run.sh" "$root/opt/check/run.sh"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The README's apt-get line, as a user would run it.
apt=$(grep -o 'apt-get install[^(]*' "$root/opt/$rel/README" | head -1)
[ -n "$apt" ] || fail "the README names no apt-get line"
echo "dist-root-check: in the root: apt-get update && $apt"
unshare --mount --propagation private bash -euo pipefail -c "
	mount -t proc proc '$root/proc'
	mount --rbind /sys '$root/sys'
	mount --rbind /dev '$root/dev'
	chroot '$root' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -qq && $apt -qq' > '$root.apt.log' 2>&1 ||
		{ tail -20 '$root.apt.log'; exit 1; }
	exec chroot '$root' env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TF_CPP_MIN_LOG_LEVEL=2 \
		bash /opt/check/run.sh '/opt/$rel' /opt/check/images /opt/check/work
"
echo "dist-root-check: passed in $(($(date +%s) - start)) s (root: $root)"
