#!/usr/bin/env bash
# bench/hub_ingest.sh: hfgit-hub part ingest on loopback (issue 2 acceptance 5; design.md §5: the hub must not
# be the bottleneck, >= 1 GB/s of part ingest; peak RSS flat, < 64 MiB).
#
#   (a) one `curl -T` of a 2 GiB part: MB/s, next to the MD5 ceiling of this CPU measured in the same run.
#       A part's ETag is the MD5 of its bytes (as S3's), computed while the body streams in, so one stream
#       can never ingest faster than one MD5 stream runs (`openssl speed -evp md5`, 1 MiB blocks).
#   (b) the same 2 GiB as 2 and 4 parts PUT at once (one curl each): aggregate MB/s.
#   (c) the completion of (b): the parts concatenated into the object while SHA-256 is checked.
#   The hub's peak RSS (VmHWM from /proc/<pid>/status) before and after all of it.
# The hub root is the scratch dir ($TMPDIR, default /tmp): parts really go to files on that file system.
#
#   BUILD=build bash bench/hub_ingest.sh          (SIZE_MIB=2048 to change the size)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh" # scratch dir, hub_start/hub_create_repo/hub_stats, cleanup at exit
source "$ROOT/tests/integration/lfs_curl.sh"

SIZE_MIB=${SIZE_MIB:-2048}
MiB=1048576
SIZE=$((SIZE_MIB * MiB))
[ -x "$BUILD_DIR/hfgit-hub" ] || { echo "bench/hub_ingest.sh: $BUILD_DIR/hfgit-hub is missing; run make" >&2; exit 1; }

mbs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / t / 1e6 }'; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$HUB_PID/status"; }
# hub CPU seconds (user + sys) so far: the figure that does not depend on what else runs on the machine.
# cpu: "user sys" seconds of the hub so far; per_gb BEFORE AFTER: "T s/GB (user U, sys S)".
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f %.2f", $14 / hz, $15 / hz }' "/proc/$HUB_PID/stat"; }
per_gb() {
    awk -v a="$1" -v b="$2" -v n="$SIZE" 'BEGIN { split(a, x, " "); split(b, y, " "); g = n / 1e9
        u = (y[1] - x[1]) / g; s = (y[2] - x[2]) / g; printf "%.2f s/GB (user %.2f, sys %.2f)", u + s, u, s }'
}
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ceiling() { # openssl speed ALG: MB/s on 1 MiB blocks, 2 s
    openssl speed -evp "$1" -bytes 1048576 -seconds 2 2>/dev/null |
        awk -v a="$1" '$1 == a { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'
}
# hub_for CHUNK: a fresh hub whose parts are CHUNK bytes, with repo bench/ingest.
hub_for() {
    hub_stop
    rm -rf "$WORK/hub"
    hub_start --empty-repos --chunk-size "$1" --multipart-threshold 1048576 >/dev/null || exit 1
    hub_create_repo bench/ingest >/dev/null || exit 1
    LFS_REPO=bench/ingest
}
# put_timed N: PUTs parts 1..N of $resp at once (one curl each, the part files $WORK/part.<n>); prints seconds.
put_timed() {
    local n=$1 i t0 pids=()
    t0=$EPOCHREALTIME
    for ((i = 1; i <= n; i++)); do
        curl -sS -f -o /dev/null -D "$WORK/h.$i" -T "$WORK/part.$i" "$(part_url "$resp" "$i")" &
        pids+=($!)
    done
    local rc=0
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    [ $rc = 0 ] || echo "bench/hub_ingest.sh: a part PUT failed" >&2
    awk -v a="$t0" -v z="$EPOCHREALTIME" 'BEGIN { printf "%.3f", z - a }'
}

echo "bench/hub_ingest.sh: ${SIZE_MIB} MiB over loopback to $BUILD_DIR/hfgit-hub (root on $(df --output=fstype "$WORK" | tail -n 1), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
MD5=$(ceiling md5)
SHA=$(ceiling sha256)
# rand_file BYTES NAME FILE: random bytes (not zeros, so nothing downstream can shortcut), read back from the
# page cache by curl.
rand_file() { openssl enc -aes-128-ctr -pass "pass:hfgit-$2" -nosalt -pbkdf2 </dev/zero 2>/dev/null | head -c "$1" >"$3"; }
# Each timed phase starts with no dirty pages left over from the previous one, so the kernel's write-back
# throttling of earlier files is not charged to the hub.
settle() { sync; sleep 1; }
rand_file "$SIZE" data "$WORK/data"
OID=$(sha "$WORK/data")

# ---- (a) one 2 GiB part ----
hub_for "$SIZE"
RSS0=$(hwm)
ln -sf "$WORK/data" "$WORK/part.1"
batch "$OID" "$SIZE"
settle
c0=$(cpu)
t=$(put_timed 1)
c1=$(cpu)
A=$(mbs "$SIZE" "$t")
want="\"$(md5sum "$WORK/data" | cut -d' ' -f1)\""
got=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$WORK/h.1" | tr -d '\r')
[ "$got" = "$want" ] && etag=ok || etag="WRONG ($got, want $want)"
RSS_A=$(hwm)
echo
echo "(a) one curl -T of a ${SIZE_MIB} MiB part: ${A} MB/s in ${t}s (target >= 1000)   ETag $etag"
echo "    MD5 ceiling of one stream on this CPU (openssl speed -evp md5, same run): ${MD5} MB/s;" \
    "ratio $(awk -v a="$A" -v m="$MD5" 'BEGIN { printf "%.2f", a / m }')"
echo "    hub CPU per GB received: $(per_gb "$c0" "$c1") (MD5 alone needs $(awk -v m="$MD5" 'BEGIN { printf "%.2f", 1000 / m }') s/GB; the hub hashes on a helper thread while the connection thread receives and writes)"
[ "$MD5" -lt 1000 ] 2>/dev/null &&
    echo "    -> MD5 caps a single stream below 1 GB/s here: the ETag must be the real MD5, so see (b) for aggregate ingest"

# ---- (b) 2 and 4 parts at once; (c) completion ----
for n in 2 4; do
    chunk=$((SIZE / n))
    hub_for "$chunk"
    rm -f "$WORK/data" "$WORK"/part.*
    for ((i = 1; i <= n; i++)); do rand_file "$chunk" "$n.$i" "$WORK/part.$i"; done
    OID=$(cat "$WORK"/part.? | sha256sum | cut -d' ' -f1)
    batch "$OID" "$SIZE"
    settle
    c0=$(cpu)
    t=$(put_timed "$n")
    c1=$(cpu)
    B=$(mbs "$SIZE" "$t")
    etags=()
    for ((i = 1; i <= n; i++)); do etags+=("$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$WORK/h.$i" | tr -d '\r')"); done
    settle
    t0=$EPOCHREALTIME
    completion "$(complete_url "$resp")" "$OID" "${etags[@]}"
    tc=$(awk -v a="$t0" -v z="$EPOCHREALTIME" 'BEGIN { printf "%.3f", z - a }')
    stored=$(obj_path "$OID")
    [ "$COMPLETE_CODE" = 200 ] && [ -f "$stored" ] && c=ok || c="FAILED ($COMPLETE_CODE $body)"
    echo
    echo "(b) ${n} parts of $((chunk / MiB)) MiB at once: ${B} MB/s aggregate in ${t}s (target >= 1000; ${n} x MD5 ceiling = $((n * MD5)) MB/s, $(nproc) CPUs shared with curl); hub CPU $(per_gb "$c0" "$c1")"
    echo "(c) completion of ${SIZE_MIB} MiB (concatenate + SHA-256 check): $(mbs "$SIZE" "$tc") MB/s in ${tc}s, $c  (SHA-256 ceiling ${SHA} MB/s)"
    echo "    hub peak RSS after (b)+(c): $(kib_mib "$(hwm)") MiB"
    rm -f "$WORK"/part.*
done

echo
echo "hub peak RSS (VmHWM): $(kib_mib "$RSS0") MiB at start, $(kib_mib "$RSS_A") MiB after the ${SIZE_MIB} MiB part (target: flat, < 64 MiB)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs; other work on the machine lowers the MB/s figures, not the CPU s/GB ones)"
