#!/usr/bin/env bash
# t_faults_matrix.sh: every hub fault knob against every client path, table-driven (issue 7, fault matrix).
#
# Clients:  A  plain `git push` through git-lfs 3.3 and git-lfs-hfmultipart (after `hfgit lfs-enable-largefiles`)
#           B  the library's push (tests/tools/lib_repo: hf_repo_add + hf_repo_commit + hf_repo_push)
#           C  downloads: the library's clone (lib_repo open) and `hfgit clone`
# For each row and client: the knobs are set, the client runs, and the outcome is checked (succeeded, or failed
# with a message naming the cause); then nothing half-written may be left behind:
#   hub:    every file under repos/*/lfs/objects is <aa>/<bb>/<oid> with that SHA-256, hub tmp/ holds no file,
#           uploads/ holds nothing named like an object, and a failed object is not in the store;
#   client: every file under .git/lfs/objects hashes to its name; after a success .git/lfs/tmp and
#           .git/lfs/incomplete hold no file.
# A failed push is followed by the same push with the knobs cleared, which must succeed (nothing stuck).
# Part and completion knobs act on multipart uploads only, so C takes part in the rows that reach a download.
#
#   row                        A, B expected                         C expected
#   part 500 x2                retried, succeeds (hub refused 2)     -
#   part 500 forever           fails: "part 2", "HTTP 500", the oid  -
#   completion 500 once        retried, succeeds                     -
#   completion 500 forever     fails: "complet...", "HTTP 500"       -
#   connection dropped         retried, succeeds                     -
#   expired URLs (+ cap)       fresh URLs asked for, succeeds        a GET outliving its 1 s URL succeeds
#   per-connection cap         succeeds, no faster than size/cap     the same
#   wrong token                fails clearly, token never shown      public repo: succeeds, token never shown
#   disk full on .git/lfs      add fails: "No space left"            pull: "No space left"; clone: "File too large"
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "fault matrix" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB=$BUILD_DIR/tests/lib_repo
HFGIT=$BUILD_DIR/hfgit
for p in "$LIB" "$HFGIT" "$BUILD_DIR/git-lfs-hfmultipart"; do
    [ -x "$p" ] || { not_ok "$(basename "$p") is built" "missing $p (make tests)"; done_testing; exit 1; }
done

MiB=1048576
# 1 MiB parts keep files small while a 10-part file still has more parts (11) than run at once (8). On S3 storage
# parts are 5 MiB, the store's minimum (AWS, MinIO and radosgw refuse smaller ones at completion; the hub hands
# out no smaller ones there), and the files grow with them: the same part counts.
PART=$MiB
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && PART=$((5 * MiB))
# The bandwidth caps of the upload rows grow with the parts (700 kB/s and 1 MB/s per MiB of part), so that a part
# takes as long on S3 as on the hub's own storage: the same waves of parts, expiries and minimum times, not five
# times as long.
PART_X=$((PART / MiB))
hub_start --empty-repos --chunk-size $PART || { not_ok "hub starts"; done_testing; exit 1; }
for r in fa fb fc fd; do hub_create_repo "user/$r" '"lfsmultipartthresh":3000000' >/dev/null || not_ok "create user/$r"; done
# Fast retries: the policy (attempt count, backoff shape) is the real one, only the waits are short.
export HFGIT_RETRY_BASE_MS=5 HFGIT_RETRY_MAX_DELAY_MS=50
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" HF_HOME="$WORK/hf"
export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
CLEAR='{"bandwidth_cap":0,"fail_part_number":0,"fail_part_times":0,"fail_complete_times":0,"drop_part_number":0,"drop_part_times":0,"url_lifetime_secs":3600}'
cd "$WORK" || exit 1

# ---- the clients ----
# A: a git clone set up for large files.
git_auth clone -q "$HUB_URL/user/fa" a 2>/dev/null
(cd a && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null &&
    git lfs track '*.bin' >/dev/null && git add .gitattributes && git commit -qm attributes &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "client A is set up"
# B: a library clone.
"$LIB" open b user/fb >/dev/null 2>&1 || not_ok "client B is set up"
# C downloads user/fc: a 2 MiB LFS file (basic transfer) and a text file, pushed by git.
git_auth clone -q "$HUB_URL/user/fc" seed 2>/dev/null
(cd seed && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null &&
    git lfs track '*.bin' >/dev/null && head -c $((2 * MiB + 3)) /dev/urandom >dl.bin &&
    printf 'download me\n' >README.md && git add -A && git commit -qm seed &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "user/fc is seeded"

# ---- nothing half-written ----
declare -A HASHED # path -> what `stat` said of it (and of its S3 key file) when it was found to hash to its name
# bad_objects DIR: adds to $BAD each file under DIR (an lfs/objects store) that is not <aa>/<bb>/<oid> with that
# SHA-256. Not run in a $(...) subshell, so that HASHED keeps what was checked: each check hashes (on S3 storage,
# downloads) only the files new or changed since the last one, the rest of the 100-odd checks in the matrix.
bad_objects() {
    local f name key
    [ -d "$1" ] || return 0
    while IFS= read -r -d '' f; do
        name=${f##*/}
        key=$(stat -c '%s %y %i' "$f" "${f%/lfs/objects/*}/lfs/s3/$name" 2>/dev/null)
        [ "${HASHED[$f]:-}" = "$key" ] && continue
        if [[ ! $name =~ ^[0-9a-f]{64}$ ]] || [ "${f%/*}" != "$1/${name:0:2}/${name:2:2}" ] ||
            [ "$(sha "$(hub_bytes "$f")")" != "$name" ]; then
            BAD+=$f$'\n'
        else
            HASHED[$f]=$key
        fi
    done < <(find "$1" -type f -print0)
}
# hub_clean LABEL [OID that must not be stored]
hub_clean() {
    local bad d BAD=""
    for d in "$HUB_ROOT"/repos/*/*/*.git/lfs/objects; do bad_objects "$d"; done
    bad=$BAD
    bad+=$(find "$HUB_ROOT/tmp" -type f 2>/dev/null)
    bad+=$(find "$HUB_ROOT/uploads" -type f -regextype posix-extended -regex '.*/[0-9a-f]{64}' 2>/dev/null)
    if [ -n "${2:-}" ]; then bad+=$(find "$HUB_ROOT/repos" -name "$2" 2>/dev/null); fi
    if [ -z "$bad" ]; then ok "$1: nothing half-written on the hub"; else
        not_ok "$1: nothing half-written on the hub" "$bad"; fi
}
# client_clean LABEL DIR ok|fail [KNOWN BUG]: the store holds only whole objects; after a success, no temp file
# either (after a failure, temp files left are only reported).
client_clean() {
    local bad tmps BAD=""
    bad_objects "$2/.git/lfs/objects"
    bad=$BAD
    tmps=$(find "$2/.git/lfs/tmp" "$2/.git/lfs/incomplete" -type f 2>/dev/null)
    if [ "$3" = ok ]; then bad+=$tmps; elif [ -n "$tmps" ]; then echo "# $1: temp files left after the failure: $tmps"; fi
    if [ -z "$bad" ]; then ok "$1: nothing half-written in $2/.git/lfs"
    elif [ -n "${4:-}" ]; then skip "$1: nothing half-written in $2/.git/lfs" "KNOWN BUG: $4; found: $bad"
    else not_ok "$1: nothing half-written in $2/.git/lfs" "$bad"; fi
}
# stored REPO OID: the file with the hub's bytes of OID (read back from the store on S3 storage)
stored() { hub_bytes "$HUB_ROOT/repos/models/$1.git/lfs/objects/${2:0:2}/${2:2:2}/$2"; }


# ---- client actions: each sets $out, $rc, $secs and $OID, $FILE, $DIR, $REPO for the checks; a row-specific
# try_<client>_<row id> may also change $EXPECT and $NEEDLES for its client ----
timed() {
    local t0=$EPOCHREALTIME
    out=$("$@" 2>&1); rc=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}
new_file() { # DIR NAME BYTES: a fresh random file, committed by the client that owns DIR
    head -c "$3" /dev/urandom >"$1/$2"
    FILE=$1/$2 OID=$(sha "$1/$2") DIR=$1
    if [ "$1" = a ]; then git -C a add "$2" && git -C a commit -qm "$2"; else
        "$LIB" add b "$2" --auto && "$LIB" commit b "$2" >/dev/null; fi
}
push_A() { REPO=user/fa; timed git_auth -C a push origin main; }
push_B() { REPO=user/fb; timed "$LIB" push b; }
try_A() { new_file a "$1.bin" "$2" && push_A; }
try_B() { new_file b "$1.bin" "$2" && push_B; }
# C: both download paths, one after the other; $out holds both outputs, $rc the first failure, $secs the
# slower one.
try_C() {
    local o r s
    rm -rf c_lib c_cli
    REPO=user/fc FILE=seed/dl.bin OID=$(sha seed/dl.bin) CLONES="c_lib c_cli"
    timed "$LIB" open c_lib user/fc; o=$out r=$rc s=$secs
    timed "$HFGIT" clone user/fc c_cli
    out="[library clone] $o"$'\n'"[hfgit clone] $out"
    [ "$r" -ne 0 ] && rc=$r
    secs=$(awk -v a="$s" -v b="$secs" 'BEGIN { print (a > b ? a : b) }')
}

# -- expired URLs: git-lfs 3.3 itself treats an action expiring within 5 s as expired and re-runs the batch
# (measured: ~35 s, then "action upload expires at ..."), never handing it to the agent. A lifetime of 0 s
# ("expires_in":0, which git-lfs reads as "no expiry") gets the URLs to the agent, and they die within
# the second like 1 s ones: parts 9-11 start after the first 8 (a part at 700 kB/s per MiB: 1.5 s) and get
# 403; the agent and the library then ask the batch API again, get the same open upload with fresh URLs
# (issue 11) and finish.
try_A_expired() { hub_knobs '{"url_lifetime_secs":0}' >/dev/null; echo "# A: URL lifetime 0 s (see above)"; try_A "$@"; }

# -- wrong token --
BAD="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
try_A_token() {
    new_file a "$1.bin" "$2" && REPO=user/fa
    timed env GIT_TERMINAL_PROMPT=0 git -c credential.helper= \
        -c "credential.helper=!f() { echo username=hf; echo password=$BAD; }; f" -C a push origin main
    NEEDLES="authentication failed" NAMED=$REPO
}
try_B_token() { new_file b "$1.bin" "$2" && REPO=user/fb && timed env HF_TOKEN="$BAD" "$LIB" push b; NEEDLES="refused the token" NAMED=$REPO; }
# Downloads from a public repo need no token: the hub ignores a wrong one, so the clones succeed.
try_C_token() { HF_TOKEN="$BAD" try_C; EXPECT=ok; }
after_token() { # CLIENT: the wrong token is never shown nor stored
    local d hits=""
    check_not_contains "$1: wrong token: not in the output" "$out" "$BAD"
    for d in $CLONES $DIR; do hits+=$(grep -rlF -e "$BAD" -e "$HUB_TOKEN" "$d/.git" 2>/dev/null); done
    [ -z "$hits" ] && ok "$1: wrong token: no token in any file under .git" ||
        not_ok "$1: wrong token: no token in any file under .git" "$hits"
}

# -- disk full on the client's .git/lfs: an 8 MiB tmpfs mounted there, then 10 MiB to store. Where no tmpfs
# can be mounted (not root, no `sudo -n`), a file size limit stands in: `ulimit -f` with SIGXFSZ ignored, so the
# write fails with EFBIG instead of the signal killing the process. --
MOUNTS=()
SUDO=""
[ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && SUDO="sudo -n"; }
unmount_all() { local m; for m in "${MOUNTS[@]}"; do $SUDO umount "$m" 2>/dev/null || $SUDO umount -l "$m"; done; MOUNTS=(); }
trap 'unmount_all; cleanup' EXIT
DISK_MODE="tmpfs"
small_lfs() { # DIR: mounts an 8 MiB tmpfs on DIR/.git/lfs, keeping what was there
    mv "$1/.git/lfs" "$1/.git/lfs.orig" 2>/dev/null
    mkdir -p "$1/.git/lfs"
    if ! $SUDO mount -t tmpfs -o "size=8m,uid=$(id -u),gid=$(id -g)" tmpfs "$1/.git/lfs" 2>"$WORK/mount.err"; then
        [ "$DISK_MODE" = tmpfs ] && skip "disk full through a tmpfs on .git/lfs" \
            "cannot mount one ($(head -n 1 "$WORK/mount.err")): using ulimit -f instead"
        DISK_MODE="ulimit"
    else
        MOUNTS+=("$WORK/$1/.git/lfs")
    fi
    [ -d "$1/.git/lfs.orig" ] && cp -a "$1/.git/lfs.orig/." "$1/.git/lfs/" && rm -rf "$1/.git/lfs.orig"
    return 0
}
limited() { # CMD...: runs CMD under the 8 MiB file size limit when there is no tmpfs
    if [ "$DISK_MODE" = tmpfs ]; then "$@"; else bash -c "trap '' XFSZ; ulimit -f 8192; exec \"\$@\"" limited "$@"; fi
}
disk_words() { if [ "$DISK_MODE" = tmpfs ]; then echo "no space left"; else echo "file too large"; fi; }
BIG=$((10 * MiB + 7))
try_A_disk() {
    rm -rf ad
    GIT_LFS_SKIP_SMUDGE=1 git_auth clone -q "$HUB_URL/user/fa" ad 2>/dev/null
    small_lfs ad
    head -c $BIG /dev/urandom >ad/big.bin
    FILE=ad/big.bin OID=$(sha ad/big.bin) DIR=ad NEEDLES=$(disk_words)
    timed limited git -C ad add big.bin
}
try_B_disk() {
    rm -rf bd
    "$LIB" open bd user/fb --skip-lfs >/dev/null 2>&1
    small_lfs bd
    head -c $BIG /dev/urandom >bd/big.bin
    FILE=bd/big.bin OID=$(sha bd/big.bin) DIR=bd NEEDLES=$(disk_words)
    timed limited "$LIB" add bd big.bin --auto
}
# C: the library pulls a commit whose 10 MiB LFS file does not fit; `hfgit clone` of it runs under a 4 MiB
# file size limit.
try_C_disk() {
    local o r
    rm -rf cd c_ulim
    "$LIB" open cd user/fd >/dev/null 2>&1
    small_lfs cd
    head -c $BIG /dev/urandom >seed_d/big.bin
    (cd seed_d && git add big.bin && git commit -qm big && git_auth push -q origin main >/dev/null 2>&1) ||
        not_ok "C: disk full: the big file is pushed to user/fd"
    FILE=seed_d/big.bin OID=$(sha seed_d/big.bin) DIR=cd CLONES="cd c_ulim"
    HEAD_BEFORE=$(git -C cd rev-parse HEAD)
    timed limited "$LIB" pull cd; o=$out r=$rc
    timed bash -c "trap '' XFSZ; ulimit -f 4096; exec '$HFGIT' clone user/fd c_ulim"
    out="[library pull] $o"$'\n'"[hfgit clone, ulimit -f 4 MiB] $out"
    [ "$r" -ne 0 ] && [ "$rc" -ne 0 ] || rc=0
    NEEDLES="$(disk_words);file too large"
}
after_disk() {
    [ "$1" = C ] && check_eq "C: disk full: the failed pull left HEAD where it was" "$(git -C cd rev-parse HEAD)" "$HEAD_BEFORE"
    [ "$1" = C ] && check "C: disk full: ... and the working tree clean" test -z "$(git -C cd status --porcelain)"
    unmount_all
}
# user/fd: the repo the disk-full download row pulls from (seeded with a text file; the big file comes later)
git_auth clone -q "$HUB_URL/user/fd" seed_d 2>/dev/null
(cd seed_d && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null &&
    git lfs track '*.bin' >/dev/null && printf 'small\n' >README.md && git add -A && git commit -qm seed &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "user/fd is seeded"

# -- the transient faults really happened: the hub counted them --
refused_delta() { # STAT: how much it grew during the row's try
    echo $(($(json_num "$(hub_stats)" "$1") - $(json_num "$STATS_BEFORE" "$1")))
}
after_part500() { check_eq "$1: the hub refused part 2 twice" "$(refused_delta parts_refused)" 2; }
after_complete500() { check_eq "$1: the hub refused one completion" "$(refused_delta completions_refused)" 1; }
after_drop() { check_eq "$1: the hub dropped one part" "$(refused_delta parts_refused)" 1; }

# -- per-connection cap: the transfer takes at least (bytes per connection) / cap --
after_cap_dl() { after_cap "$@"; }
after_cap() {
    local min # A, B: 0.9 s per MiB of a part at 1 MB/s per MiB of part, all parts in flight at once
    min=$(awk -v p="$PART" -v m="$MiB" -v x="$PART_X" 'BEGIN { print 0.9 * p / m / x }')
    [ "$1" = C ] && min=1.8 # C: one 2 MiB GET per clone, at 1 MB/s
    awk -v t="$secs" -v m="$min" 'BEGIN { exit !(t >= m) }' &&
        ok "$1: capped: slower, as it must be (${secs}s >= ${min}s)" || not_ok "$1: capped: took ${secs}s, expected >= ${min}s"
}

# ---- the matrix ----
# id | title | clients | knobs set before each client | file bytes | expect | what the failure message says (;)
K4=$((4 * PART + 5)) # 5 parts
# Download URLs of 1 s: the hub's live 1-2 s. A SigV4 URL's X-Amz-Date has whole seconds and the store compares
# its clock in milliseconds, so an S3 URL of L s lives L-1 to L s: 2 s there, so that the GET starts in time.
DL_LIFE=1
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && DL_LIFE=2
ROWS=(
    "part500|part 500 x2 (within the retry budget)|A B|{\"fail_part_number\":2,\"fail_part_times\":2}|$K4|ok|"
    "part500max|part 500 forever (past the retry budget)|A B|{\"fail_part_number\":2,\"fail_part_times\":1000}|$K4|fail|part 2;HTTP 500"
    "complete500|completion 500 once|A B|{\"fail_complete_times\":1}|$K4|ok|"
    "complete500max|completion 500 forever|A B|{\"fail_complete_times\":1000}|$K4|fail|complet;HTTP 500"
    "drop|connection dropped mid-part|A B|{\"drop_part_number\":3,\"drop_part_times\":1}|$K4|ok|"
    "expired|expired part URLs (short lifetime, $((PART_X * 700)) kB/s cap): fresh URLs asked for and used|A B|{\"url_lifetime_secs\":1,\"bandwidth_cap\":$((PART_X * 700000))}|$((10 * PART + 5))|ok|"
    "expired_dl|downloads outliving ${DL_LIFE} s URLs (1 MB/s cap)|C|{\"url_lifetime_secs\":$DL_LIFE,\"bandwidth_cap\":1000000}|0|ok|"
    "cap|per-connection cap $PART_X MB/s|A B|{\"bandwidth_cap\":$((PART_X * 1000000))}|$K4|ok|"
    "cap_dl|per-connection cap 1 MB/s|C|{\"bandwidth_cap\":1000000}|0|ok|"
    "token|wrong token|A B C|{}|$K4|fail|"
    "disk|disk full on .git/lfs|A B C|{}|$BIG|fail|"
)

run_row() {
    local id=$1 title=$2 clients=$3 knobs=$4 bytes=$5 c d w n
    for c in $clients; do
        local label="$c: $title"
        EXPECT=$6 NEEDLES=$7 NAMED="" KNOWN_BUG="" CLONES="" DIR="" OID="" FILE=""
        hub_knobs "$CLEAR" >/dev/null && hub_knobs "$knobs" >/dev/null
        STATS_BEFORE=$(hub_stats)
        if declare -F "try_${c}_$id" >/dev/null; then "try_${c}_$id" "r$TEST_N$c" "$bytes"; else "try_$c" "r$TEST_N$c" "$bytes"; fi
        hub_knobs "$CLEAR" >/dev/null
        echo "# $label: exit $rc in ${secs}s"
        if [ "$EXPECT" = ok ]; then
            check_eq "$label: succeeds" "$rc" 0
            [ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
            if [ "$c" = C ]; then
                for d in $CLONES; do check "$label: $d has the file intact" cmp "$d/dl.bin" "$FILE"; done
            else
                check "$label: the hub has the object intact" cmp "$(stored "$REPO" "$OID")" "$FILE"
            fi
            hub_clean "$label"
            for d in ${CLONES:-$DIR}; do client_clean "$label" "$d" ok; done
        else
            check_eq "$label: fails" "$((rc != 0))" 1
            printf '%s\n' "$out" | grep -i -e error -e fail -e refused -e denied -e space -e large | head -n 4 | sed "s/^/#   said: /"
            IFS=';' read -ra n <<<"$NEEDLES"
            for w in "${n[@]}"; do check_contains "$label: the message says \"$w\"" "${out,,}" "${w,,}"; done
            if [ -n "$NAMED" ]; then check_contains "$label: the message names $NAMED" "$out" "$NAMED"
            elif [[ "$out" == *"$OID"* || "$out" == *"${FILE##*/}"* ]]; then ok "$label: the message names the object or file"
            else not_ok "$label: the message names the object or file" "$out"; fi
            # a failed upload must leave no object on the hub; a failed download leaves the hub as it was
            if [ "$c" = C ]; then hub_clean "$label"; else hub_clean "$label" "$OID"; fi
            for d in ${CLONES:-$DIR}; do [ -d "$d" ] && client_clean "$label" "$d" fail "$KNOWN_BUG"; done
            if [ "$id" != disk ] && [ "$c" != C ]; then
                "push_$c"
                check_eq "$label: the same push succeeds once the fault is gone" "$rc" 0
                [ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
                check "$label: ... and the object is intact on the hub" cmp "$(stored "$REPO" "$OID")" "$FILE"
                hub_clean "$label, after the retry"
                client_clean "$label, after the retry" "$DIR" ok
            fi
        fi
        if declare -F "after_$id" >/dev/null; then "after_$id" "$c"; fi
    done
}
# On S3 storage parts and downloads go straight to the store, through the fault proxy in front of it
# (tests/lib.sh s3_start), where the same knobs act.
for row in "${ROWS[@]}"; do
    IFS='|' read -r id title clients knobs bytes expect needles <<<"$row"
    run_row "$id" "$title" "$clients" "$knobs" "$bytes" "$expect" "$needles"
done
echo "# incomplete multipart uploads left in the hub's uploads/ (kept as S3 keeps them; never objects):" \
    "$(find "$HUB_ROOT/uploads" -mindepth 1 -maxdepth 1 -type d | wc -l)"
check_eq "no credentials were ever sent to a signed URL" "$(json_num "$(hub_stats)" auth_on_signed_urls)" 0

done_testing
