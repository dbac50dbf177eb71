#!/usr/bin/env bash
# t_put_expired.sh: a single PUT (an object below the multipart threshold) whose presigned URL has expired gets
# a fresh URL from the batch API and is sent again, with the library and with git push through the agent.
# The hub's knob expire_object_times answers the next N whole-object PUTs with 403 "Request has expired", as
# S3 answers an expired presigned URL (on HFGIT_TEST_STORAGE=s3 the fault proxy in front of the store does).
#   1. expired once: the library push succeeds, the hub's object is the file, progress ends exactly at the size;
#   2. the same with git push through git-lfs-hfmultipart;
#   3. expired three times (more than the two refreshes allowed): the push fails saying the URL expired and
#      what to do, and the hub has no object (library and agent).
source "$(dirname "$0")/../lib.sh"

KiB=1024
LIB=$BUILD_DIR/tests/lib_repo
HFGIT=$BUILD_DIR/hfgit
export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid" HFGIT_RETRY_BASE_MS=20 HFGIT_RETRY_MAX_DELAY_MS=200
[ -x "$LIB" ] || { not_ok "test tools are built" "missing $LIB (make tests)"; done_testing; exit 1; }

hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL"
hub_create_repo user/lib >/dev/null || not_ok "create user/lib"
hub_create_repo user/agent >/dev/null || not_ok "create user/agent"
cd "$WORK" || exit 1

stored() { hub_bytes "$HUB_ROOT/repos/models/$1.git/lfs/objects/${2:0:2}/${2:2:2}/$2"; }
# progress_ok FILE SIZE: lib_repo's "progress done/total" lines never go backwards and end at SIZE
progress_ok() {
    sed -n 's|^progress \([0-9]*\)/\([0-9]*\)$|\1 \2|p' "$1" |
        awk -v size="$2" 'BEGIN { last = -1; ok = 1; n = 0 } { n++; if ($1 < last || $1 > size) ok = 0; last = $1; total = $2 }
            END { exit !(n && ok && last == size && total == size) }'
}
knob_left() { json_num "$(hub_stats)" expire_object_times; }
object_puts() { json_num "$(hub_stats)" requests_object_put; }

# ---- 1. library ----
"$LIB" open lw "$HUB_URL/user/lib" >/dev/null || not_ok "library clone"
printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' >lw/.gitattributes
head -c $((700 * KiB + 3)) /dev/urandom >lw/a.bin
"$LIB" add lw . >/dev/null && "$LIB" commit lw "a" >/dev/null || not_ok "library add and commit"
a=$(sha lw/a.bin)
hub_stats_reset
hub_knobs '{"expire_object_times":1}' >/dev/null
out=$(LIB_REPO_PROGRESS=1 "$LIB" push lw 2>"$WORK/progress.txt"); rc=$?
check_eq "library: a push whose object URL expired once succeeds" "$rc" 0
[ "$rc" -eq 0 ] || { echo "$out"; cat "$WORK/progress.txt"; } | sed 's/^/#   /'
check_eq "... the knob was used (the PUT was refused once)" "$(knob_left)" 0
check_eq "... two object PUTs: the refused one and the one to the fresh URL" "$(object_puts)" 2
check "... the hub's object is the file" cmp "$(stored user/lib "$a")" lw/a.bin
check "... progress never went backwards and ended at the size" progress_ok "$WORK/progress.txt" $((700 * KiB + 3))

# ---- 2. git push through the agent ----
git_auth clone -q "$HUB_URL/user/agent" gw 2>/dev/null || not_ok "git clone"
(
    cd gw && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null &&
        git lfs track '*.bin' >/dev/null && head -c $((500 * KiB + 1)) /dev/urandom >b.bin &&
        git add .gitattributes b.bin && git commit -q -m b
) || not_ok "git repo with an LFS file"
b=$(sha gw/b.bin)
hub_stats_reset
hub_knobs '{"expire_object_times":1}' >/dev/null
out=$(cd gw && GIT_TRACE=0 git_auth push origin HEAD:main 2>&1); rc=$?
check_eq "agent: a git push whose object URL expired once succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "... the knob was used (the PUT was refused once)" "$(knob_left)" 0
check_eq "... two object PUTs: the refused one and the one to the fresh URL" "$(object_puts)" 2
check "... the hub's object is the file" cmp "$(stored user/agent "$b")" gw/b.bin

# ---- 3. expired more times than the refreshes allowed: a clear failure, nothing on the hub ----
head -c $((600 * KiB)) /dev/urandom >lw/c.bin
"$LIB" add lw . >/dev/null && "$LIB" commit lw "c" >/dev/null || not_ok "library add and commit c"
c=$(sha lw/c.bin)
hub_knobs '{"expire_object_times":3}' >/dev/null
out=$("$LIB" push lw 2>&1); rc=$?
check_eq "library: expired three times: the push fails" "$((rc != 0))" 1
echo "$out" | grep -i expired | sed 's/^/# lib_repo push said: /'
check_contains "... naming the object" "$out" "$c"
check_contains "... with the server's answer" "$out" "Request has expired"
check_contains "... saying the URL expired again and what to do" "$out" "expired again after 2 fresh URLs"
check_contains "... ... push again" "$out" "push again"
check_eq "... three PUTs were refused (no more)" "$(knob_left)" 0
check "... nothing half-written: the hub has no object c" test ! -e "$(stored user/lib "$c")"
check_eq "... and main did not move to commit c" "$(git ls-remote "$HUB_URL/user/lib" refs/heads/main | cut -f1)" \
    "$(git -C lw rev-parse HEAD~1)"

(cd gw && head -c $((400 * KiB)) /dev/urandom >d.bin && git add d.bin && git commit -q -m d) || not_ok "commit d"
d=$(sha gw/d.bin)
hub_knobs '{"expire_object_times":3}' >/dev/null
out=$(cd gw && git_auth push origin HEAD:main 2>&1); rc=$?
check_eq "agent: expired three times: the push fails" "$((rc != 0))" 1
echo "$out" | grep -i expired | sed 's/^/# git push said: /'
check_contains "... naming the object" "$out" "$d"
check_contains "... saying the URL expired again and what to do" "$out" "expired again after 2 fresh URLs"
check_eq "... three PUTs were refused (no more)" "$(knob_left)" 0
check "... nothing half-written: the hub has no object d" test ! -e "$(stored user/agent "$d")"
hub_knobs '{"expire_object_times":0}' >/dev/null
out=$(cd gw && git_auth push origin HEAD:main 2>&1); rc=$?
check_eq "agent: the next push goes through" "$rc" 0
check "... the hub's object is the file" cmp "$(stored user/agent "$d")" gw/d.bin

done_testing
