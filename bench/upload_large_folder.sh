#!/usr/bin/env bash
# bench/upload_large_folder.sh: `hfgit upload-large-folder` against `hfgit upload` and plain git + git-lfs on
# the same data, in one run, against hfgit-hub over loopback (issue 14, Benchmark).
#
#   data set 1: SMALL_FILES files of SMALL_KIB KiB (text), in folders of 1,000
#   data set 2: BIG_FILES random files of BIG_MIB MiB
#   for each: upload-large-folder (parallel hashing, chunked commits, LFS files hard-linked, never copied),
#             upload (one commit from the cache clone), git + git-lfs (init, track *.bin, add, commit, push
#             with the basic transfer); each to a fresh repository. Files per second and MB/s (wall clock,
#             from start to the push's end) and the ratio to git + git-lfs measured in this run.
#
# Defaults run in a few minutes on a loaded 2-core machine; the issue's sizes (20,000 files of 4 KiB and
# 4 files of 1 GiB, about 17 GiB free needed) with --issue-sizes, the same as
#   SMALL_FILES=20000 SMALL_KIB=4 BIG_FILES=4 BIG_MIB=1024 bash bench/upload_large_folder.sh
# WORKERS sets --num-workers (default: the command's own); WAYS="upload ulf" picks the ways compared with
# git + git-lfs (the baseline always runs); BIG_FILES=0 or SMALL_FILES=0 skips a data set. Page cache warm:
# every input is read once first.
set -u
case "${1:-}" in
--issue-sizes) SMALL_FILES=20000 SMALL_KIB=4 BIG_FILES=4 BIG_MIB=1024 ;;
"") ;;
*) echo "usage: bench/upload_large_folder.sh [--issue-sizes]" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
SMALL_FILES=${SMALL_FILES:-2000}
SMALL_KIB=${SMALL_KIB:-4}
BIG_FILES=${BIG_FILES:-2}
BIG_MIB=${BIG_MIB:-64}
WORKERS=${WORKERS:-}
WAYS=${WAYS:-upload ulf}
for p in hfgit hfgit-hub; do
    [ -x "$BUILD_DIR/$p" ] || { echo "bench/upload_large_folder.sh: $BUILD_DIR/$p is missing; run make" >&2; exit 1; }
done
command -v git-lfs >/dev/null || { echo "bench/upload_large_folder.sh: git-lfs is not installed (make deps)" >&2; exit 1; }
need_kb=$(((BIG_FILES * BIG_MIB * 4 + SMALL_FILES * SMALL_KIB * 4 / 1024) * 1024 + 1024 * 1024))
free_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
[ "${free_kb:-0}" -ge "$need_kb" ] || { echo "bench/upload_large_folder.sh: needs $((need_kb >> 20)) GiB free under $WORK (set TMPDIR)" >&2; exit 1; }

hub_start --empty-repos >/dev/null || exit 1
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

# --- the data ---
mkdir -p small big
# one awk for all the small files (a shell loop takes minutes at 20,000): "xxx...x<i>\n", SMALL_KIB KiB each
awk -v n="$SMALL_FILES" -v size=$((SMALL_KIB * 1024)) 'BEGIN {
    line = sprintf("%*s", size - 1, ""); gsub(/ /, "x", line)
    for (i = 0; i < n; i++) {
        d = "small/d" int(i / 1000); if (i % 1000 == 0) system("mkdir -p " d)
        f = d "/f" i ".txt"; s = i ""
        printf "%s%s\n", substr(line, 1, size - 1 - length(s)), s > f; close(f)
    }
}' || exit 1
for ((i = 0; i < BIG_FILES; i++)); do head -c $((BIG_MIB << 20)) /dev/urandom >"big/w$i.bin"; done
cat small/*/* big/* >/dev/null 2>&1
sync

now() { date +%s.%N; }
repo_n=0
# run_way NAME DATASET: sets T (seconds)
run_way() {
    local way=$1 set=$2 start rc
    repo_n=$((repo_n + 1))
    local id="bench/r$repo_n"
    rm -rf "$WORK/src" && cp -al "$WORK/$set" "$WORK/src" # same inodes, fresh state dir for each way
    sync
    start=$(now)
    case "$way" in
    ulf) hfgit -q upload-large-folder "$id" "$WORK/src" --repo-type model --no-report ${WORKERS:+--num-workers $WORKERS} >/dev/null 2>"$WORK/err" ;;
    upload) hfgit -q upload "$id" "$WORK/src" >/dev/null 2>"$WORK/err" ;;
    git)
        hub_create_repo "$id" >/dev/null &&
            (cd "$WORK/src" && git init -q -b main && git lfs track '*.bin' >/dev/null && git add -A &&
                git commit -qm bench && git_auth push -q "$HUB_URL/$id" main) >/dev/null 2>"$WORK/err" ;;
    esac
    rc=$?
    T=$(echo "$(now) - $start" | bc -l)
    [ $rc = 0 ] || { echo "bench: $way on $set failed:"; sed 's/^/    /' "$WORK/err"; exit 1; }
    # the hub holds the data: a clone has every file
    [ "$(git ls-remote "$HUB_URL/$id" refs/heads/main | wc -l)" = 1 ] || { echo "bench: $way left no branch"; exit 1; }
    rm -rf "$WORK/src"
}

report() { # SET FILES BYTES
    local set=$1 files=$2 bytes=$3 base
    run_way git "$set"; base=$T
    printf '%-28s %8.2f s %10.1f files/s %8.1f MB/s   (baseline)\n' "git + git-lfs" "$base" \
        "$(echo "$files / $base" | bc -l)" "$(echo "$bytes / $base / 1000000" | bc -l)"
    for way in $WAYS; do
        run_way "$way" "$set"
        printf '%-28s %8.2f s %10.1f files/s %8.1f MB/s   %.2fx git + git-lfs\n' \
            "$([ "$way" = ulf ] && echo "hfgit upload-large-folder" || echo "hfgit upload")" "$T" \
            "$(echo "$files / $T" | bc -l)" "$(echo "$bytes / $T / 1000000" | bc -l)" "$(echo "$base / $T" | bc -l)"
    done
}

if [ "$SMALL_FILES" -gt 0 ]; then
    echo "== $SMALL_FILES files of $SMALL_KIB KiB ($(nproc) CPUs)"
    report small "$SMALL_FILES" $((SMALL_FILES * SMALL_KIB * 1024))
fi
if [ "$BIG_FILES" -gt 0 ]; then
    echo "== $BIG_FILES files of $BIG_MIB MiB ($(nproc) CPUs)"
    report big "$BIG_FILES" $((BIG_FILES * BIG_MIB << 20))
fi
