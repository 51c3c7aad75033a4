#!/usr/bin/env bash
# Runs an unpacked release as a user would, with nothing from the checkout: the
# commands of issue 26's check. Used by scripts/dist/check.sh (the checkout's
# paths hidden) and scripts/dist/root-check.sh (a bare Debian root).
#
#   run.sh RELEASE_DIR IMAGES_DIR WORK_DIR
#
# IMAGES_DIR holds content.png and style.png; WORK_DIR is written to.
set -euo pipefail
rel=$1 images=$2 work=$3
ns=$rel/bin/neuralstyle
mkdir -p "$work"
cd "$work"
step() { echo "== $*"; }

step "neuralstyle version"
"$ns" version

step "neuralstyle inspect (the model beside the binary, no --model)"
"$ns" inspect --device cpu > inspect.txt
head -3 inspect.txt
grep -q "$rel/model" inspect.txt || { echo "inspect did not load $rel/model" >&2; exit 1; }

step "neuralstyle transfer (32x32, one iteration of two evaluations)"
"$ns" transfer --device cpu --content "$images/content.png" --style "$images/style.png" --out out.png \
	--size 32 --iterations 1 --maxfun 2
test -s out.png

if [ -d "$rel/fastnets" ]; then
	step "neuralstyle stylize (the networks beside the binary, no --fastnets): style 7, then the arbitrary network"
	"$ns" stylize --device cpu --content "$images/content.png" --styles 7 --out styled.png
	"$ns" stylize --device cpu --content "$images/content.png" --style "$images/style.png" --out arbitrary.png
	test -s styled.png && test -s arbitrary.png
else
	step "no fastnets/ in this release: no stylize to run"
fi

step "neuralstyle serve answers a request"
port=$((20000 + $$ % 20000))
"$ns" serve --device cpu --addr "127.0.0.1:$port" --data "$work/data" > serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
reply=
for _ in $(seq 1 240); do
	if ! kill -0 $pid 2>/dev/null; then
		cat serve.log
		echo "serve exited before answering" >&2
		exit 1
	fi
	if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
		printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		reply=$(cat <&3)
		exec 3>&-
		break
	fi
	sleep 0.5
done
kill $pid
wait $pid 2>/dev/null || true
trap - EXIT
head -1 <<<"$reply"
grep -q '^HTTP/1.[01] 200' <<<"$reply" || { echo "serve's reply to GET /:"; head -20 <<<"$reply"; cat serve.log; exit 1; } >&2
echo "== the release ran: version, inspect, transfer, stylize where present, serve"
