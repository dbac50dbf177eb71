#!/usr/bin/env bash
# t_lib_clone: git + git-lfs push, libhfgit clones and pulls identical content (issue 4 acceptance 2).
# skip_lfs_files leaves pointers; a pull fast-forwards and downloads new LFS objects first; a pull with rebase
# replays a local commit on top of the upstream; a diverged pull without rebase is refused and changes
# nothing; hf_repo_open accepts an existing clone of the same repo and refuses anything else.
source "$(dirname "$0")/../lib.sh"
# the system libgit2 1.5 leaks inside PCRE2; keep sanitizer runs about our code
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library clone tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/c >/dev/null || not_ok "create alice/c"
hub_create_repo datasets/alice/other >/dev/null || not_ok "create datasets/alice/other"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

# --- content pushed by git + git-lfs ---
git clone -q "$HUB_URL/alice/c" g 2>/dev/null
(cd g && git lfs track '*.bin' >/dev/null &&
    head -c 3000000 /dev/urandom >big.bin && head -c 70000 /dev/urandom >"sub dir.bin" &&
    : >empty.bin && printf 'text\n' >README.md && mkdir -p d && head -c 5000 /dev/urandom >d/x.bin &&
    git add -A && git commit -qm "lfs content" && git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push" "failed"

check "the library clones it" "$LIB" open lc alice/c
for f in big.bin "sub dir.bin" empty.bin README.md d/x.bin .gitattributes; do
    check "$f is identical" cmp "g/$f" "lc/$f"
done
{ [ "$(json_num "$(hub_stats)" requests_object_get)" -ge 3 ] && ok "the objects came through the batch API" ||
        not_ok "the objects came through the batch API" "$(hub_stats)"; }
check_eq "git sees a clean working tree (index stat data in step)" "$(cd lc && git status --porcelain)" ""
check_eq "no download temp files are left" "$(ls -A lc/.git/lfs/incomplete 2>/dev/null)" ""
check "git lfs fsck passes on the library's clone" sh -c "cd lc && git lfs fsck"

# --- skip_lfs_files ---
check "clone with skip_lfs_files" "$LIB" open skip alice/c --skip-lfs
check_contains "big.bin stays a pointer" "$(head -c 200 skip/big.bin)" "oid sha256:$(sha g/big.bin)"
check "README.md is still identical" cmp g/README.md skip/README.md
check_eq "no LFS object was downloaded" "$(find skip/.git/lfs/objects -type f 2>/dev/null | wc -l | tr -d ' ')" 0

# --- pull: fast-forward with a new LFS object ---
(cd g && head -c 2000000 /dev/urandom >new.bin && git add new.bin && git commit -qm new && git_auth push -q origin main >/dev/null 2>&1)
gets=$(json_num "$(hub_stats)" requests_object_get)
check "hf_repo_pull fast-forwards" "$LIB" pull lc
check "the new LFS file arrived" cmp g/new.bin lc/new.bin
check_eq "the branch is at the remote's commit" "$(cd lc && git rev-parse HEAD)" "$(cd g && git rev-parse HEAD)"
check_eq "only the new object was downloaded" "$(($(json_num "$(hub_stats)" requests_object_get) - gets))" 1
check_eq "the working tree is clean after the pull" "$(cd lc && git status --porcelain)" ""
check "a pull with nothing new passes" "$LIB" pull lc

# --- pull with rebase over a local commit ---
printf 'local\n' >lc/local.txt
"$LIB" add lc . && "$LIB" commit lc "local" >/dev/null
(cd g && printf 'remote\n' >remote.txt && git add remote.txt && git commit -qm remote && git_auth push -q origin main >/dev/null 2>&1)
before=$(cd lc && git rev-parse HEAD)
out=$("$LIB" pull lc 2>&1); rc=$?
check_eq "a diverged pull without rebase is refused" "$rc" 3
check_contains "... saying why" "$out" "diverged"
check_eq "... and changes nothing" "$(cd lc && git rev-parse HEAD):$(ls lc/remote.txt 2>&1 | grep -c 'No such')" "$before:1"
check "a pull with rebase" "$LIB" pull lc --rebase
check "the upstream file is there" cmp g/remote.txt lc/remote.txt
check_eq "the local file is kept" "$(cat lc/local.txt)" "local"
check_eq "history is linear: local commit on top of the upstream" \
    "$(cd lc && git log --format=%s -3 | tr '\n' ,)" "local,remote,new,"
check "the rebased branch pushes" "$LIB" push lc
check "git pulls the library's commit" sh -c "cd g && git pull -q origin main 2>&1 && test -f local.txt"

# --- revision: a remote branch, a commit, a new branch ---
(cd g && git checkout -qb dev && head -c 4000 /dev/urandom >dev.bin && git add dev.bin && git commit -qm dev &&
    cp dev.bin ../dev.bin.want && git_auth push -q origin dev >/dev/null 2>&1 && git checkout -q main)
check "clone with revision = a remote branch" "$LIB" open rv alice/c --revision dev
check "... its LFS file is there" cmp dev.bin.want rv/dev.bin
check_eq "... on a local branch tracking origin/dev" "$(cd rv && git rev-parse --abbrev-ref HEAD '@{u}' | tr '\n' ' ')" \
    "dev origin/dev "
first=$(cd g && git rev-list --max-parents=0 HEAD)
check "re-open with revision = a commit" "$LIB" open rv alice/c --revision "$first"
check_eq "... detaches HEAD there" "$(cd rv && git rev-parse HEAD)" "$first"
check_eq "... and the tree is that commit's" "$(ls rv/dev.bin rv/new.bin 2>&1 | grep -c 'No such')" 2
check "re-open with revision = a new name" "$LIB" open rv alice/c --revision feature
check_eq "... creates that branch at HEAD" "$(cd rv && git rev-parse --abbrev-ref HEAD):$(cd rv && git rev-parse HEAD)" \
    "feature:$first"

# --- hf_repo_open on existing directories ---
check "re-opening the clone with the same clone_from works" "$LIB" open lc alice/c
check "... also with the full URL" "$LIB" open lc "$HUB_URL/alice/c"
out=$("$LIB" open lc datasets/alice/other 2>&1); rc=$?
check_eq "a clone of another repo is refused (HF_EEXISTS)" "$rc" 9
check_contains "... naming both" "$out" "datasets/alice/other"
mkdir junk && echo x >junk/file
out=$("$LIB" open junk alice/c 2>&1); rc=$?
check_eq "a non-empty non-git directory is refused" "$rc" 9
check_eq "... and left alone" "$(ls -A junk)" "file"
out=$("$LIB" open nowhere 2>&1); rc=$?
check_eq "no clone_from and no repository: HF_ENOTFOUND" "$rc" 8
out=$("$LIB" open missing alice/does-not-exist 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "cloning a missing repo fails" || not_ok "cloning a missing repo fails" "$out"
check_eq "... and leaves no directory behind" "$(ls -d missing 2>&1 | grep -c 'No such')" 1

done_testing
