#!/usr/bin/env bash
# bench/ratelimit.sh: HFGIT_MAX_RATE / hf_push_options.max_rate against hfgit-hub on loopback (issue 11;
# design.md §6: within +-10%). A 200 MiB LFS file in 8 MiB parts, 8 at once, pushed
#   (a) with plain `git push` through git-lfs and the agent, HFGIT_MAX_RATE=RATE;
#   (b) with the library (lib_repo push), hf_push_options.max_rate=RATE;
#   (c) the same library push without a limit: the baseline, to show the limit is what sets the pace.
# The rate is the object's bytes over the time the hub spent receiving parts (first part request to last
# part stored, from its stats polled every 100 ms), so git's own round trips and the completion's hashing
# are not counted; the ratio to RATE is the figure (bar 0.9-1.1).
#
#   BUILD=build bash bench/ratelimit.sh        (SIZE_MIB=200 RATE_MIB=20 to change)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"

SIZE_MIB=${SIZE_MIB:-200}
RATE_MIB=${RATE_MIB:-20}
MiB=1048576
RATE=$((RATE_MIB * MiB))
LIB=$BUILD_DIR/tests/lib_repo
export LIB_REPO_USER="Bench" LIB_REPO_EMAIL="bench@hfgit.invalid"

hub_start --chunk-size $((8 * MiB)) >/dev/null || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL"
echo "bench/ratelimit.sh: ${SIZE_MIB} MiB in 8 MiB parts, limit ${RATE_MIB} MiB/s"

# receiving_secs: polls hub stats while "$@" runs; prints seconds from the first received byte to the last
receiving_secs() {
    "$@" >/dev/null 2>"$WORK/cmd.err" &
    local pid=$! t0="" t1="" last=0 now b
    while kill -0 "$pid" 2>/dev/null; do
        b=$(json_num "$(hub_stats)" bytes_received)
        now=$(date +%s.%N)
        if [ "${b:-0}" -gt "$base" ]; then
            [ -z "$t0" ] && t0=$now
            [ "$b" -gt "$last" ] && { t1=$now; last=$b; }
        fi
        sleep 0.1
    done
    wait "$pid" || { echo "command failed: $(tail -n 3 "$WORK/cmd.err")" >&2; echo 0; return; }
    echo "$t0 $t1 $((last - base))" | awk '{ d = $2 - $1; if (d <= 0) d = 0.001; printf "%.2f %d\n", d, $3 }'
}

report() { # NAME SECS BYTES
    awk -v n="$1" -v s="$2" -v b="$3" -v r="$RATE" 'BEGIN { m = b / s / 1048576;
        printf "  %-34s %6.2f s  %7.2f MiB/s  ratio to limit %.3f\n", n, s, m, b / s / r }'
}

# (a) git + git-lfs + agent
hub_create_repo user/ga '"lfsmultipartthresh":1048576' >/dev/null
git_auth clone -q "$HUB_URL/user/ga" "$WORK/ga" 2>/dev/null
(cd "$WORK/ga" && git lfs install --local >/dev/null && "$BUILD_DIR/hfgit" lfs-enable-largefiles . >/dev/null &&
    git lfs track '*.bin' >/dev/null && head -c $((SIZE_MIB * MiB)) /dev/urandom >big.bin &&
    git add .gitattributes big.bin && git commit -q -m big)
base=$(json_num "$(hub_stats)" bytes_received)
read -r secs bytes < <(cd "$WORK/ga" && HFGIT_MAX_RATE=${RATE_MIB}M receiving_secs git_auth push origin main)
report "agent, HFGIT_MAX_RATE=${RATE_MIB}M" "$secs" "$bytes"

# (b) library with max_rate, (c) without
for what in limited unlimited; do
    hub_create_repo "user/l$what" '"lfsmultipartthresh":1048576' >/dev/null
    "$LIB" open "$WORK/l$what" "user/l$what" >/dev/null
    head -c $((SIZE_MIB * MiB)) /dev/urandom >"$WORK/l$what/big.bin"
    "$LIB" add "$WORK/l$what" . --auto >/dev/null && "$LIB" commit "$WORK/l$what" big >/dev/null
    base=$(json_num "$(hub_stats)" bytes_received)
    if [ $what = limited ]; then
        read -r secs bytes < <(LIB_REPO_MAX_RATE=$RATE receiving_secs "$LIB" push "$WORK/l$what")
        report "library, max_rate=${RATE_MIB} MiB/s" "$secs" "$bytes"
    else
        read -r secs bytes < <(receiving_secs "$LIB" push "$WORK/l$what")
        report "library, no limit (baseline)" "$secs" "$bytes"
    fi
done
hub_stop
