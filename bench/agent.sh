#!/usr/bin/env bash
# bench/agent.sh: git-lfs-hfmultipart throughput, CPU and memory against hfgit-hub (issue 3; design.md §6 bars).
#
# 1 GiB of random data in 64 MiB parts (16 parts), the agent driven directly with protocol lines built from a
# real batch response (tests/tools/agent_request), so git-lfs's own overhead is not in the numbers.
#   (a) the hub caps each connection at 50 MB/s: agent MB/s next to min(parallel x cap, hub ceiling), where the
#       hub ceiling is the best uncapped rate seen in this run (curl -T x8 or the agent); bar >= 0.85.
#   (b) uncapped: agent CPU seconds per GB (bar <= 0.25) and peak RSS (bar <= 16 MiB), next to `curl -T` of
#       the same parts (8 curl processes at once) in the same run.
#   (c) uncapped over HTTPS (hfgit-hub --tls-cert, a CA made with openssl here): agent and curl CPU s/GiB.
# Throughput is measured over the part uploads: from the agent's started event to its last progress event
# (the hub's SHA-256 check at completion is the hub's time, not the agent's).
#
#   BUILD=build bash bench/agent.sh         (SIZE_MIB=1024 PART_MIB=64 PARALLEL=8 CAP=50000000 to change)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh" # scratch dir, hub_start/hub_create_repo/hub_knobs/hub_stats, cleanup at exit

SIZE_MIB=${SIZE_MIB:-1024}
PART_MIB=${PART_MIB:-64}
PARALLEL=${PARALLEL:-8}
CAP=${CAP:-50000000}
MiB=1048576
SIZE=$((SIZE_MIB * MiB))
AGENT=${AGENT:-$BUILD_DIR/git-lfs-hfmultipart}
REQ=$BUILD_DIR/tests/agent_request
for p in "$AGENT" "$REQ" "$BUILD_DIR/hfgit-hub"; do
    [ -x "$p" ] || { echo "bench/agent.sh: $p is missing; run make tests first" >&2; exit 1; }
done

echo "bench/agent.sh: ${SIZE_MIB} MiB in ${PART_MIB} MiB parts, ${PARALLEL} parts at once"
head -c "$SIZE" /dev/urandom >"$WORK/data.bin"
OID=$(sha "$WORK/data.bin")
mkdir -p "$WORK/parts"
split -b "${PART_MIB}M" -d -a 5 "$WORK/data.bin" "$WORK/parts/p"

hub_start --empty-repos --chunk-size $((PART_MIB * MiB)) >/dev/null || exit 1
hub_create_repo user/bench '"lfsmultipartthresh":1048576' >/dev/null
STORED="$HUB_ROOT/repos/models/user/bench.git/lfs/objects/${OID:0:2}/${OID:2:2}/$OID"

# batch: a fresh upload action for the object (the stored copy of the previous run is removed first).
batch() {
    rm -f "$STORED"
    curl -sS -H "Authorization: Bearer $HUB_TOKEN" -H 'Accept: application/vnd.git-lfs+json' \
        -H 'Content-Type: application/vnd.git-lfs+json' -o "$WORK/batch.json" \
        --data "{\"operation\":\"upload\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[{\"oid\":\"$OID\",\"size\":$SIZE}],\"hash_algo\":\"sha256\"}" \
        "$HUB_URL/user/bench.git/info/lfs/objects/batch"
}

# run_agent: uploads via the agent; sets A_MBS (parts phase), A_CPU (user+sys s), A_RSS (KiB), A_OK.
run_agent() {
    batch
    { echo '{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}'
      "$REQ" "$WORK/batch.json" "$OID=$WORK/data.bin"
      echo '{"event":"terminate"}'; } >"$WORK/in"
    # Each reply line is stamped on arrival (bash builtin clock: no fork per line). With HFGIT_TRACE=1 the agent
    # reports its own CPU time and VmHWM at exit (ru_maxrss could carry the RSS of the process before exec).
    HFGIT_TRACE=1 "$AGENT" --parallel "$PARALLEL" <"$WORK/in" 2>"$WORK/trace" |
        while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$WORK/out"
    read -r u s A_RSS <<<"$(sed -n 's/.*cpu \([0-9.]*\) s user \([0-9.]*\) s sys; peak RSS (VmHWM) \([0-9]*\) KiB.*/\1 \2 \3/p' \
        "$WORK/trace")"
    A_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
    local t0 t1
    t0=$(grep -m1 '"bytesSoFar":1,"bytesSinceLast":0' "$WORK/out" | cut -d' ' -f1)
    t1=$(grep "\"bytesSoFar\":$SIZE," "$WORK/out" | tail -n 1 | cut -d' ' -f1)
    A_OK=$(grep -c "{\"event\":\"complete\",\"oid\":\"$OID\"}" "$WORK/out")
    A_MBS=$(awk -v b="$SIZE" -v a="$t0" -v z="$t1" 'BEGIN { if (z > a) printf "%.0f", b / (z - a) / 1e6; else print 0 }')
}

# run_curl: `curl -T` of the same parts to fresh part URLs, PARALLEL at once; sets C_MBS, C_CPU, C_RSS.
run_curl() {
    batch
    # part URLs in order: keys "00001".. from the header map, via the request builder (it sorts keys)
    "$REQ" "$WORK/batch.json" | grep -o '"[0-9]\+":"[^"]*"' | sed 's/^"[0-9]*":"//; s/"$//; s/\\u0026/\&/g' \
        >"$WORK/urls"
    ls "$WORK/parts" | paste - "$WORK/urls" >"$WORK/jobs"
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S %M' -o "$WORK/ctime" \
        xargs -P "$PARALLEL" -L 1 sh -c 'curl -sS -f -o /dev/null -T "$0/$1" "$2"' "$WORK/parts" <"$WORK/jobs"
    local t1=$EPOCHREALTIME
    read -r u s C_RSS <"$WORK/ctime"
    C_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    C_MBS=$(awk -v b="$SIZE" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }')
}

GB=$(awk -v b="$SIZE" 'BEGIN { printf "%.4f", b / 1e9 }')

# ---- uncapped: curl baseline (also the hub ceiling), then the agent ----
run_curl
run_agent
CEIL=$((C_MBS > A_MBS ? C_MBS : A_MBS)) # the hub ceiling: the best uncapped rate seen in this run
echo
echo "(b) uncapped                       MB/s   CPU s/GB   peak RSS MiB"
printf '    curl -T x%-2d (same parts)   %6s   %8.3f   %6.1f (largest single process)\n' "$PARALLEL" "$C_MBS" \
    "$(awk -v c="$C_CPU" -v g="$GB" 'BEGIN { print c / g }')" "$(awk -v k="$C_RSS" 'BEGIN { print k / 1024 }')"
printf '    git-lfs-hfmultipart        %6s   %8.3f   %6.1f    (bars: <= 0.25 s/GB, <= 16 MiB)  complete=%s\n' \
    "$A_MBS" "$(awk -v c="$A_CPU" -v g="$GB" 'BEGIN { print c / g }')" \
    "$(awk -v k="$A_RSS" 'BEGIN { print k / 1024 }')" "$A_OK"

# ---- (a) capped per connection ----
hub_knobs "{\"bandwidth_cap\":$CAP}" >/dev/null
run_agent
PARTS=$(((SIZE + PART_MIB * MiB - 1) / (PART_MIB * MiB)))
INFLIGHT=$((PARTS < PARALLEL ? PARTS : PARALLEL))
IDEAL=$(awk -v p="$INFLIGHT" -v c="$CAP" -v h="$CEIL" 'BEGIN { i = p * c / 1e6; if (h < i) i = h; printf "%.0f", i }')
echo
echo "(a) hub caps each connection at $((CAP / 1000000)) MB/s"
printf '    git-lfs-hfmultipart %s MB/s vs min(%d x %d, hub ceiling %s) = %s MB/s: ratio %.2f (bar >= 0.85)  complete=%s\n' \
    "$A_MBS" "$INFLIGHT" "$((CAP / 1000000))" "$CEIL" "$IDEAL" \
    "$(awk -v a="$A_MBS" -v i="$IDEAL" 'BEGIN { print a / i }')" "$A_OK"
stats=$(hub_stats)
echo "    hub: peak parts in flight $(json_num "$stats" peak_parts_in_flight), Authorization on signed URLs $(json_num "$stats" auth_on_signed_urls)"

# ---- (c) over HTTPS (hfgit-hub --tls-cert/--tls-key, a CA made here): CPU per GiB, agent next to curl ----
if command -v openssl >/dev/null; then
    (cd "$WORK" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=bench CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null &&
        openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1\n' >srv.ext &&
        openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 \
            -extfile srv.ext 2>/dev/null)
    hub_stop
    export CURL_CA_BUNDLE=$WORK/ca.crt SSL_CERT_FILE=$WORK/ca.crt
    hub_start --empty-repos --chunk-size $((PART_MIB * MiB)) --tls-cert "$WORK/srv.crt" --tls-key "$WORK/srv.key" \
        >/dev/null || exit 1
    run_curl
    run_agent
    GIB=$(awk -v b="$SIZE" 'BEGIN { printf "%.4f", b / 1073741824 }')
    echo
    echo "(c) uncapped over HTTPS ($HUB_URL)   MB/s   CPU s/GiB"
    printf '    curl -T x%-2d (same parts)     %6s   %8.3f\n' "$PARALLEL" "$C_MBS" \
        "$(awk -v c="$C_CPU" -v g="$GIB" 'BEGIN { print c / g }')"
    printf '    git-lfs-hfmultipart          %6s   %8.3f   ratio to curl %.2f  complete=%s\n' "$A_MBS" \
        "$(awk -v c="$A_CPU" -v g="$GIB" 'BEGIN { print c / g }')" \
        "$(awk -v a="$A_CPU" -v c="$C_CPU" 'BEGIN { if (c > 0) print a / c; else print 0 }')" "$A_OK"
else
    echo "(c) over HTTPS: SKIPPED: openssl is not installed"
fi
