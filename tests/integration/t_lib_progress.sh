#!/usr/bin/env bash
# t_lib_progress: download progress (clone through hf_repo_options, pull and checkout through
# hf_repo_set_progress) and hashing progress (hf_repo_add): the last report equals the bytes of the objects
# downloaded / files staged, done never goes back; a cancel from the callback is HF_ECANCELLED (a clone leaves
# no directory, an add stages nothing). The CLI draws "Downloading LFS objects" / "Hashing" lines on a
# terminal (through script(1)) and nothing on a pipe.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library progress tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/p >/dev/null || not_ok "create alice/p"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

git clone -q "$HUB_URL/alice/p" g 2>/dev/null
(cd g && git lfs track '*.bin' >/dev/null && head -c 3000000 /dev/urandom >a.bin && head -c 1234567 /dev/urandom >b.bin &&
    printf 'text\n' >README.md && git add -A && git commit -qm one && git_auth push -q origin main >/dev/null 2>&1) ||
    not_ok "git push"

# --- downloads ---
out=$(LIB_REPO_DOWNLOAD_PROGRESS=1 "$LIB" open c alice/p 2>&1)
check_contains "clone reports download progress: all LFS bytes" "$out" "download 4234567/4234567 calls"
check_not_contains "... never going back" "$out" "NOT-MONOTONIC"
check "... and the files are right" cmp g/a.bin c/a.bin
(cd g && head -c 777777 /dev/urandom >n.bin && git add n.bin && git commit -qm n && git_auth push -q origin main >/dev/null 2>&1)
out=$(LIB_REPO_DOWNLOAD_PROGRESS=1 "$LIB" pull c 2>&1)
check_contains "pull reports the new object only" "$out" "download 777777/777777 calls"
out=$(LIB_REPO_DOWNLOAD_PROGRESS=1 "$LIB" pull c 2>&1)
check_contains "a pull with nothing to download reports nothing" "$out" "download 0/0 calls 0"
(cd g && git checkout -qb side && head -c 55555 /dev/urandom >s.bin && git add s.bin && git commit -qm s &&
    git_auth push -q origin side >/dev/null 2>&1 && git checkout -q main)
# the library's pull brings origin/side (no git fetch doing its work for it)
"$LIB" pull c >/dev/null 2>&1 || not_ok "hf_repo_pull before the checkout"
out=$(LIB_REPO_DOWNLOAD_PROGRESS=1 "$LIB" checkout c side 2>&1)
check_contains "checkout reports its download" "$out" "download 55555/55555 calls"
out=$(LIB_REPO_DOWNLOAD_PROGRESS=1 LIB_REPO_CANCEL_DOWNLOAD=1 "$LIB" open cancelled alice/p 2>&1); rc=$?
check_eq "a clone cancelled from the download callback: HF_ECANCELLED" "$rc" 11
check_eq "... leaves no directory" "$(ls -d cancelled 2>&1 | grep -c 'No such')" 1

# --- hashing ---
"$LIB" checkout c main >/dev/null 2>&1
head -c 11000000 /dev/urandom >c/big.dat && printf 'small\n' >c/small.txt
objects=$(find c/.git/lfs/objects -type f | wc -l)
out=$(LIB_REPO_HASH_PROGRESS=1 LIB_REPO_CANCEL_HASH=1 "$LIB" add c . --auto 2>&1); rc=$?
check_eq "an add cancelled from the hash callback: HF_ECANCELLED" "$rc" 11
check_eq "... stages nothing" "$(git -C c diff --cached --name-only)" ""
check_eq "... stores no (truncated) object and leaves no temp file" \
    "$(find c/.git/lfs/objects -type f | wc -l):$(find c/.git/lfs/tmp -type f 2>/dev/null | wc -l)" "$objects:0"
out=$(LIB_REPO_HASH_PROGRESS=1 "$LIB" add c . --auto 2>&1)
# the cancelled add left its auto-tracking line in .gitattributes, so that file is staged (hashed) too
want=$((11000006 + $(stat -c %s c/.gitattributes)))
check_contains "add reports hashing: the bytes of the staged files" "$out" "hash $want/$want calls"
check_not_contains "... never going back" "$out" "NOT-MONOTONIC"
[ "$(sed -n 's/.*hash .* calls \([0-9]*\).*/\1/p' <<<"$out")" -ge 3 ] && ok "... in several reports while hashing" ||
    not_ok "... in several reports while hashing" "$out"
check_eq "... and staged big.dat as LFS" "$(git -C c lfs ls-files -n 2>/dev/null | grep -c big.dat)" 1

# --- the CLI: progress on a terminal only ---
if command -v script >/dev/null; then
    out=$(script -qec "hfgit clone alice/p tc" /dev/null 2>&1); rc=$?
    check_eq "hfgit clone on a terminal" "$rc" 0
    check_contains "... draws download progress with the size" "$out" "Downloading LFS objects 100% 4.8 MiB / 4.8 MiB"
    (cd g && head -c 2000000 /dev/urandom >p.bin && git add p.bin && git commit -qm p && git_auth push -q origin main >/dev/null 2>&1)
    out=$(script -qec "hfgit pull -C tc" /dev/null 2>&1)
    check_contains "hfgit pull on a terminal draws download progress" "$out" "Downloading LFS objects 100% 1.9 MiB / 1.9 MiB"
    # the pull wrote p.bin and the index within one timestamp tick: refresh, else add re-stages it (racy)
    git -C tc update-index -q --refresh >/dev/null 2>&1
    head -c 12000000 /dev/urandom >tc/h.bin
    out=$(script -qec "hfgit add -C tc ." /dev/null 2>&1)
    check_contains "hfgit add on a terminal draws hashing progress" "$out" "Hashing 100% 11.4 MiB / 11.4 MiB"
else
    skip "progress on a terminal" "script(1) is not installed (bsdutils)"
fi
out=$(hfgit clone alice/p pc 2>&1)
check_eq "hfgit clone on a pipe draws no progress" "$(grep -c -e Downloading -e $'\r' <<<"$out")" 0
head -c 2000000 /dev/urandom >pc/q.bin
out=$(hfgit add -C pc . 2>&1)
check_eq "hfgit add on a pipe draws no progress" "$(grep -c -e Hashing -e $'\r' <<<"$out")" 0

done_testing
