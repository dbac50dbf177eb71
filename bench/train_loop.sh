#!/usr/bin/env bash
# bench/train_loop.sh: libhfgit in a training loop (issue 16; design.md §6 "training loop" bar).
#
# STEPS checkpoints of MIB MiB (default 100 x 64 MiB, as the issue asks; STEPS=30 MIB=16 for a quick run): each
# step the main thread rewrites the checkpoint, adds it, commits and queues a push (tests/tools/lib_train loop),
# releasing finished command records, and each queued push prunes what it pushed on the worker
# (hf_push_options.auto_lfs_prune), as a long run should. Printed: the main
# thread's longest stall (commit + queueing + clear; writing and hashing the checkpoint are the loop's own
# work and shown apart), RSS at step 10 and at the end, and the total time next to the same steps with blocking
# pushes one after another, measured in the same run. Bars: longest stall <= 50 ms, RSS growth <= 5 MiB.
#
# The hub keeps what it receives in memory (/dev/shm) when there is room: it stands for a remote machine, and
# its own writes of every pushed checkpoint to this machine's disk (64 MiB a step on top of the loop's 64 and
# the library's 64) would make the loop wait for a disk a real hub does not share. HUB_DISK=local puts it on
# this disk anyway, to see that effect (the loop's file operations then wait for the disk: hundreds of ms).
#
#   BUILD=build bash bench/train_loop.sh          (STEPS=100 MIB=64 CAP=0 to change; CAP caps each hub connection)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh" # scratch dir, hub_start/hub_create_repo/hub_knobs, cleanup at exit

STEPS=${STEPS:-100}
MIB=${MIB:-64}
CAP=${CAP:-0}
T=$BUILD_DIR/tests/lib_train R=$BUILD_DIR/tests/lib_repo
for p in "$T" "$R" "$BUILD_DIR/hfgit-hub"; do
    [ -x "$p" ] || { echo "bench/train_loop.sh: $p is missing; run make tests first" >&2; exit 1; }
done
echo "bench/train_loop.sh: $STEPS checkpoints of $MIB MiB, one push per step (hub cap per connection: ${CAP:-0} B/s)"
# the hub's storage: in memory when /dev/shm holds one run's objects with room to spare (the queued run's are
# removed before the blocking run), else on this disk, said either way
RAMHUB=""
need_kib=$((STEPS * MIB * 1024 * 5 / 4))
free_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
if [ "${HUB_DISK:-ram}" != local ] && [ "${free_kib:-0}" -gt "$need_kib" ]; then
    RAMHUB=$(mktemp -d /dev/shm/hfgit-bench-hub.XXXXXX) && ln -s "$RAMHUB" "$WORK/hub" || exit 1
    trap 'cleanup; rm -rf "$RAMHUB"' EXIT
    echo "hub storage:     in memory ($RAMHUB: the hub stands for another machine; HUB_DISK=local for this disk)"
else
    echo "hub storage:     this machine's disk (the hub's writes compete with the loop's for it$(
        [ "${HUB_DISK:-ram}" = local ] || echo "; /dev/shm has ${free_kib:-0} KiB free, $need_kib needed"))"
fi
hub_start >/dev/null || exit 1
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Bench" LIB_REPO_EMAIL="bench@hfgit.invalid"
[ "$CAP" -gt 0 ] && hub_knobs "{\"bandwidth_cap\":$CAP}" >/dev/null
field() { sed -n "s/^$1 //p" <<<"$2"; }
run() { # MODE(queued|blocking)
    hub_create_repo "bench/$1" >/dev/null && "$R" open "$1" "bench/$1" >/dev/null || return 1
    "$T" loop "$1" "$STEPS" "$MIB" --quiet $([ "$1" = blocking ] && echo --blocking)
}
q=$(run queued) || { echo "$q"; echo "bench/train_loop.sh: the queued run failed" >&2; exit 1; }
# the queued run's objects on the hub are not needed any more: room for the blocking run's
[ -n "$RAMHUB" ] && find "$RAMHUB" -path '*queued*' -type d -name objects -path '*/lfs/*' -prune -exec rm -rf {} +
b=$(run blocking) || { echo "$b"; echo "bench/train_loop.sh: the blocking run failed" >&2; exit 1; }
stall=$(field longest_stall_ms "$q"); add=$(field longest_add_ms "$q")
r10=$(field rss_kib_step10 "$q"); rend=$(field rss_kib_end "$q")
tq=$(field total_s "$q"); tb=$(field total_s "$b")
growth=$((rend - r10))
printf 'queued pushes:   longest stall %s ms (bar <= 50), longest add (hashing %s MiB) %s ms\n' "$stall" "$MIB" "$add"
printf '                 stall per step: %s\n' "$(sed -n 's/^stall_p50_ms \(.*\) stall_p99_ms \(.*\)/median \1 ms, 99th percentile \2 ms/p' <<<"$q")"
printf '                 longest of each: %s\n' "$(sed -n 's/^longest_commit_ms \(.*\) longest_push_call_ms \(.*\) longest_prune_ms \(.*\)/commit \1 ms, queueing the push \2 ms/p' <<<"$q")"
printf '                 the longest commit used %s ms of CPU (the rest is waiting for a core: load average %s)\n' \
    "$(field longest_commit_cpu_ms "$q")" "$(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
printf '                 RSS %s KiB at step 10, %s KiB at step %s: growth %s KiB (bar <= 5120)\n' "$r10" "$rend" "$STEPS" "$growth"
printf 'total time:      queued %s s, blocking one after another %s s (ratio %s)\n' "$tq" "$tb" \
    "$(awk -v a="$tq" -v b="$tb" 'BEGIN{printf("%.2f", (b > 0 ? a / b : 0))}')"
awk -v s="$stall" 'BEGIN{exit !(s <= 50)}' && echo "stall bar: met" || echo "stall bar: NOT met"
[ "$growth" -le 5120 ] && echo "RSS bar: met" || echo "RSS bar: NOT met"
