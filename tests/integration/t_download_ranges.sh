#!/usr/bin/env bash
# t_download_ranges: one large LFS object fetched by the library as parallel byte ranges (issue 12).
# A 300 MiB object in 8 ranges arrives byte-identical; a corrupted range is caught by the SHA-256 check and
# nothing reaches .git/lfs/objects; a range failing twice is retried; a server answering 200 to Range still
# works; a download killed halfway resumes and fetches only the ranges that were missing.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "ranged downloads" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
free_kb=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((3 * 1024 * 1024)) ]; then
    skip "ranged downloads" "only $((free_kb / 1024)) MiB free under ${TMPDIR:-/tmp}; this test needs 3 GiB (set TMPDIR)"
    done_testing; exit 0
fi
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
# basic uploads up to 1 GiB, so plain git-lfs can push the test object
hub_create_repo alice/big '"lfsmultipartthresh":1073741824' >/dev/null || not_ok "create alice/big"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
SIZE=$((300 * 1024 * 1024)) RANGE=$((SIZE / 8))
export HFGIT_DOWNLOAD_RANGE_SIZE=$RANGE HFGIT_RETRY_BASE_MS=10

git clone -q "$HUB_URL/alice/big" g 2>/dev/null
(cd g && printf 'hello\n' >README.md && git add README.md && git commit -qm readme &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push of the README" "failed"
for d in lc lk; do "$LIB" open $d alice/big >/dev/null || not_ok "library clone $d before the big file"; done
(cd g && git lfs track '*.bin' >/dev/null && head -c $SIZE /dev/urandom >w.bin && git add -A &&
    git commit -qm weights && git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push of 300 MiB" "failed"
OID=$(sha g/w.bin)
objects() { find "$1/.git/lfs/objects" -type f 2>/dev/null | wc -l | tr -d ' '; }
stat_of() { json_num "$(hub_stats)" "$1"; }
hub_stats_reset

# --- a corrupted range: caught, nothing in the store, next run starts over ---
hub_knobs "{\"corrupt_range_from\":$((3 * RANGE)),\"corrupt_range_times\":1}" >/dev/null
out=$("$LIB" pull lc 2>&1); rc=$?
[ $rc -ne 0 ] && ok "a corrupted range fails the pull" || not_ok "a corrupted range fails the pull" "rc 0"
check_contains "... saying the content does not hash to the oid" "$out" "hashes to"
check_eq "... nothing in .git/lfs/objects" "$(objects lc)" 0
check_eq "... no partial file or record kept" "$(ls -A lc/.git/lfs/incomplete 2>/dev/null)" ""

# --- 8 ranges, one failing twice: retried, byte-identical, exact progress ---
hub_knobs "{\"fail_range_from\":$((5 * RANGE)),\"fail_range_times\":2}" >/dev/null
hub_stats_reset
out=$(LIB_REPO_DOWNLOAD_PARALLEL=8 LIB_REPO_DOWNLOAD_PROGRESS=1 "$LIB" pull lc 2>&1) ||
    not_ok "pull with a range failing twice" "$out"
check "300 MiB in 8 ranges is byte-identical" cmp g/w.bin lc/w.bin
check_eq "the failing range was retried (8 ranges + 2 failures)" "$(stat_of requests_object_get)" 10
check_eq "the knob is used up" "$(json_num "$(hub_stats)" fail_range_times)" 0
check_contains "progress is exact" "$out" "download $SIZE/$SIZE"
check_not_contains "... and monotonic" "$out" "NOT-MONOTONIC"
check_eq "no download temp files are left" "$(ls -A lc/.git/lfs/incomplete 2>/dev/null)" ""
check "git lfs fsck passes" sh -c "cd lc && git lfs fsck >/dev/null"

# --- a server that answers 200 to Range ---
hub_knobs '{"ignore_range":1}' >/dev/null
check "a clone works when the server ignores Range" "$LIB" open l200 alice/big
check "... byte-identical" cmp g/w.bin l200/w.bin
hub_knobs '{"ignore_range":0}' >/dev/null

# --- killed halfway, resumed: only the missing ranges are fetched again ---
hub_knobs '{"bandwidth_cap":31457280}' >/dev/null # 30 MiB/s per connection: 1.25 s per range
HFGIT_DOWNLOAD_PARALLEL=2 "$LIB" pull lk >/dev/null 2>&1 &
pid=$!
rec="lk/.git/lfs/incomplete/$OID.hfdl.ranges"
for _ in $(seq 1 600); do
    [ "$(wc -l 2>/dev/null <"$rec" || echo 0)" -ge 3 ] && break # header + 2 ranges
    sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done_ranges=$(($(wc -l 2>/dev/null <"$rec" || echo 1) - 1))
[ "$done_ranges" -ge 2 ] && [ "$done_ranges" -lt 8 ] && ok "killed with $done_ranges of 8 ranges on disk" ||
    not_ok "killed halfway" "$done_ranges ranges recorded"
check_eq "nothing in the store after the kill" "$(objects lk)" 0
hub_knobs '{"bandwidth_cap":0}' >/dev/null
hub_stats_reset
check "the next pull resumes" "$LIB" pull lk
check "... byte-identical" cmp g/w.bin lk/w.bin
got=$(stat_of object_get_bytes)
[ "$got" -le $(((8 - done_ranges) * RANGE)) ] && ok "the resume fetched $got bytes: only the $((8 - done_ranges)) missing ranges" ||
    not_ok "the resume fetched only the missing ranges" "$got bytes > $(((8 - done_ranges) * RANGE))"

done_testing
