#!/usr/bin/env bash
# t_agent_download: plain git + git-lfs downloading through git-lfs-hfmultipart in standalone mode (issue 12).
# A repository set up by `hfgit lfs-enable-largefiles` (and clones, with --global) fetches a 300 MiB object
# as 8 parallel ranges, byte-identical, through `git lfs pull`, `git lfs fetch` + `git checkout` and
# `git clone`; the agent runs the batch API itself (credentials from `git credential fill`, never printed);
# uploads still work through the same agent (multipart); a download killed halfway resumes with only the
# missing ranges; a corrupted range is caught and nothing lands in .git/lfs/objects.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "agent downloads" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
free_kb=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((3 * 1024 * 1024)) ]; then
    skip "agent downloads" "only $((free_kb / 1024)) MiB free under ${TMPDIR:-/tmp}; this test needs 3 GiB (set TMPDIR)"
    done_testing; exit 0
fi
MiB=1048576 SIZE=$((300 * 1048576)) RANGE=$((300 * 1048576 / 8))
hub_start --chunk-size $((64 * MiB)) || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/big "\"lfsmultipartthresh\":$((100 * MiB))" >/dev/null || not_ok "create alice/big"
cd "$WORK" || exit 1
export HFGIT_DOWNLOAD_RANGE_SIZE=$RANGE HFGIT_DOWNLOAD_PARALLEL=8 HFGIT_RETRY_BASE_MS=10 GIT_TERMINAL_PROMPT=0
# a credential helper script, so git's trace names the script and not the token
printf '#!/bin/sh\n[ "$1" = get ] && printf "username=hf\\npassword=%%s\\n" "$HUB_TOKEN"\nexit 0\n' >"$WORK/cred.sh"
chmod +x "$WORK/cred.sh"
export HUB_TOKEN
git_auth() { git -c credential.helper= -c "credential.helper=$WORK/cred.sh" "$@"; }
objects() { find "$1/.git/lfs/objects" -type f 2>/dev/null | wc -l | tr -d ' '; }
stat_of() { json_num "$(hub_stats)" "$1"; }
reset_stats() { hub_stats_reset; }

# --- upload through the same agent, standalone: multipart as before ---
git clone -q "$HUB_URL/alice/big" g 2>/dev/null
hfgit lfs-enable-largefiles g >/dev/null || not_ok "lfs-enable-largefiles"
(cd g && git lfs track '*.bin' >/dev/null && head -c $SIZE /dev/urandom >w.bin && head -c 1000 /dev/urandom >s.bin &&
    git add -A && git commit -qm weights) || not_ok "commit"
out=$(cd g && GIT_TRACE=1 git_auth push origin main 2>&1) || not_ok "git push through the standalone agent" "$out"
OID=$(sha g/w.bin)
check "the 300 MiB object is on the hub" test -f "$HUB_ROOT/repos/models/alice/big.git/lfs/objects/${OID:0:2}/${OID:2:2}/$OID"
[ "$(stat_of parts_ok)" -ge 5 ] && ok "it went up in parts (multipart, as before)" || not_ok "it went up in parts" "$(hub_stats)"
check_not_contains "the token is not in git's trace output" "$out" "$HUB_TOKEN"
check_not_contains "... nor its Basic form" "$out" "$(printf 'hf:%s' "$HUB_TOKEN" | base64 -w0)"

# --- git lfs pull: 8 ranges, byte-identical, git-lfs checks and moves the file ---
GIT_LFS_SKIP_SMUDGE=1 git clone -q "$HUB_URL/alice/big" p 2>/dev/null
hfgit lfs-enable-largefiles p >/dev/null
reset_stats
out=$(cd p && GIT_TRACE=1 git_auth lfs pull 2>&1) || not_ok "git lfs pull" "$out"
check "git lfs pull: 300 MiB byte-identical" cmp g/w.bin p/w.bin
check "... and the small file" cmp g/s.bin p/s.bin
check_eq "... 8 ranges + 1 small object from the hub" "$(stat_of requests_object_get)" 9
check_contains "... through the agent" "$out" "exec: sh '-c' '$BUILD_DIR/git-lfs-hfmultipart"
check_eq "... no temp files left" "$(ls -A p/.git/lfs/incomplete 2>/dev/null)" ""
check_not_contains "... the token is not in the trace" "$out" "$HUB_TOKEN"

# --- a corrupted range: caught, nothing in the store ---
GIT_LFS_SKIP_SMUDGE=1 git clone -q "$HUB_URL/alice/big" k 2>/dev/null
hfgit lfs-enable-largefiles k >/dev/null
hub_knobs "{\"corrupt_range_from\":$((2 * RANGE)),\"corrupt_range_times\":1}" >/dev/null
out=$(cd k && git_auth lfs fetch 2>&1); rc=$?
[ $rc -ne 0 ] && ok "a corrupted range fails git lfs fetch" || not_ok "a corrupted range fails git lfs fetch" "rc 0: $out"
check_eq "... the big object is not in .git/lfs/objects" "$(find k/.git/lfs/objects -name "$OID" | wc -l | tr -d ' ')" 0
check_eq "... no record kept to resume from" "$(ls k/.git/lfs/incomplete 2>/dev/null | grep -c "$OID.hfdl.ranges")" 0

# --- killed halfway, resumed by the next git lfs fetch: only the missing ranges ---
hub_knobs '{"bandwidth_cap":31457280}' >/dev/null # 30 MiB/s per connection: 1.25 s per range
HFGIT_DOWNLOAD_PARALLEL=2 setsid sh -c "cd k && git -c credential.helper= lfs fetch >/dev/null 2>&1" &
pid=$!
rec="k/.git/lfs/incomplete/$OID.hfdl.ranges"
for _ in $(seq 1 600); do
    [ "$(wc -l 2>/dev/null <"$rec" || echo 0)" -ge 3 ] && break # header + 2 ranges
    sleep 0.05
done
kill -9 -- -$pid 2>/dev/null; wait $pid 2>/dev/null
sleep 0.3
done_ranges=$(($(wc -l 2>/dev/null <"$rec" || echo 1) - 1))
[ "$done_ranges" -ge 2 ] && [ "$done_ranges" -lt 8 ] && ok "git lfs fetch killed with $done_ranges of 8 ranges on disk" ||
    not_ok "git lfs fetch killed halfway" "$done_ranges ranges recorded"
hub_knobs '{"bandwidth_cap":0}' >/dev/null
reset_stats
check "the next git lfs fetch resumes" sh -c "cd k && git -c credential.helper= lfs fetch >/dev/null 2>&1"
check "... git checkout writes the file" sh -c "cd k && git lfs checkout >/dev/null 2>&1"
check "... byte-identical" cmp g/w.bin k/w.bin
got=$(stat_of object_get_bytes)
[ "$got" -le $(((8 - done_ranges) * RANGE + 1000)) ] &&
    ok "the resume fetched $got bytes: only the $((8 - done_ranges)) missing ranges (and the small object)" ||
    not_ok "the resume fetched only the missing ranges" "$got bytes > $(((8 - done_ranges) * RANGE + 1000))"

# --- git clone, with the global form ---
out=$(hfgit lfs-enable-largefiles --global 2>&1) || not_ok "lfs-enable-largefiles --global" "$out"
check_eq "--global sets the standalone agent in ~/.gitconfig" "$(git config --global lfs.standalonetransferagent)" multipart
reset_stats
check "git clone downloads through the agent" sh -c "git -c credential.helper= clone -q '$HUB_URL/alice/big' c 2>/dev/null"
check "... 300 MiB byte-identical" cmp g/w.bin c/w.bin
check_eq "... in 8 ranges" "$(stat_of requests_object_get)" 9
check_eq "... git status is clean" "$(cd c && git status --porcelain)" ""
git config --global --unset lfs.standalonetransferagent
git config --global --remove-section lfs.customtransfer.multipart

check_contains "lfs-enable-largefiles --help says what it sets" "$(hfgit lfs-enable-largefiles --help)" "lfs.standalonetransferagent"
check_contains "... and how to undo it" "$(hfgit lfs-enable-largefiles --help)" "git config --remove-section lfs.customtransfer.multipart"
done_testing
