#!/usr/bin/env bash
# The one-node Slurm test (make slurm-test): a cluster of this machine alone
# (munged, slurmctld and slurmd on localhost, with a configuration, key, state
# and logs in a temporary folder of its own), an sbatch --array=0-2 of a tiny
# sweep with --shard auto, then `sweep finish`, compared with the same sweep run
# on one machine: sheet.png and sweep.gif byte for byte, summary.csv but for its
# seconds column (each run's wall time). The daemons are stopped at the end,
# however it ends. Needs root and Debian's slurm-wlm and munge (make
# test-sysdeps-slurm installs them; they are test tools, never the tool's).
#
#   test.sh BINARY MODEL CHECKOUT
set -euo pipefail
bin=$(readlink -f "$1") model=$(readlink -f "$2") checkout=$(readlink -f "$3")
fail() { echo "slurm-test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (slurmd)"
for t in munged slurmctld slurmd sbatch scontrol sinfo; do
	command -v $t >/dev/null || fail "needs $t: apt-get install slurm-wlm munge (make test-sysdeps-slurm)"
done
start=$(date +%s)
tmp=$(mktemp -d /tmp/neuralstyle-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
stop() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ "${keep:-}" != 1 ]; then rm -rf "$tmp"; fi
}
trap stop EXIT
logs() { for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done; }

# munge, with a key and socket of its own.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge.key"
mkdir -m 700 "$tmp/munge"
munged --force --foreground --key-file="$tmp/munge.key" --socket="$tmp/munge/socket" \
	--pid-file="$tmp/munge/pid" --seed-file="$tmp/munge/seed" --log-file="$tmp/munged.log" > "$tmp/munged.out.log" 2>&1 &
pids+=($!)

host=$(hostname -s)
port=$((30000 + $$ % 10000))
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/out"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=neuralstyle-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
LaunchParameters=use_interactive_step
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
for _ in $(seq 1 50); do [ -S "$tmp/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" > "$tmp/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$tmp/slurmd.out.log" 2>&1 &
pids+=($!)
ready=
for _ in $(seq 1 120); do
	if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then ready=1; break; fi
	sleep 0.5
done
[ -n "$ready" ] || { logs; fail "the node did not come up"; }
echo "slurm-test: one-node cluster up in $(($(date +%s) - start)) s ($(sinfo -h -N -o '%N %c CPUs %T'))"

# The tiny sweep: three points at 32x32, one L-BFGS-B step each.
data=$checkout/scripts/testdata/transfer
args=(--model "$model" --device cpu --threads 1 --inter-threads 1 --content "$data/content.png" --style "$data/style.png"
	--size 32 --iterations 1 --maxfun 1 --style-weight 0.1,1,10)
cat > "$tmp/job.sh" <<JOB
#!/bin/bash
#SBATCH --job-name=neuralstyle-sweep
#SBATCH --cpus-per-task=1
#SBATCH --output=$tmp/task-%a.log
exec "$bin" sweep --shard auto --out "$tmp/out/sharded" $(printf '%q ' "${args[@]}")
JOB
# finish before the array: refused, naming the three points, writing nothing.
mkdir -p "$tmp/out/sharded"
if "$bin" sweep finish --out "$tmp/out/sharded" "${args[@]}" 2> "$tmp/early.err"; then fail "sweep finish before the array succeeded"; fi
grep -q "3 of 3 points in $tmp/out/sharded are not finished" "$tmp/early.err" || { cat "$tmp/early.err"; fail "early finish: not the error expected"; }
t0=$(date +%s)
timeout 600 sbatch --wait --array=0-2 "$tmp/job.sh" || { logs; cat "$tmp"/task-*.log; fail "the job array failed"; }
echo "slurm-test: sbatch --array=0-2 ran in $(($(date +%s) - t0)) s"
for i in 0 1 2; do
	grep -q "shard $((i + 1))/3 (SLURM_ARRAY_TASK_ID=$i of 3 tasks (0-2)) has 1; 0 finished before, 1 to run" "$tmp/task-$i.log" ||
		{ cat "$tmp/task-$i.log"; fail "task $i did not run shard $((i + 1))/3 of one point"; }
done
rm -f "$tmp/out/sharded"/{sheet.png,sweep.gif,summary.csv} # the last task wrote them; finish writes them again
"$bin" sweep finish --out "$tmp/out/sharded" "${args[@]}"
"$bin" sweep --out "$tmp/out/whole" -q "${args[@]}"
for f in sheet.png sweep.gif; do
	cmp "$tmp/out/whole/$f" "$tmp/out/sharded/$f" || fail "$f of the job array differs from the one-machine run's"
done
nosec() { python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
i = rows[0].index("seconds")
csv.writer(sys.stdout, lineterminator="\n").writerows(r[:i] + r[i + 1:] for r in rows)' "$1"; }
diff <(nosec "$tmp/out/whole/summary.csv") <(nosec "$tmp/out/sharded/summary.csv") ||
	fail "summary.csv of the job array differs from the one-machine run's"
echo "slurm-test: passed in $(($(date +%s) - start)) s: sheet.png and sweep.gif byte for byte, summary.csv but its seconds"
