#!/usr/bin/env bash
# t_lib_empty_repo: a repository with no commit yet (what the Hub creates), on a machine whose git has no
# init.defaultBranch, or another one: hf_repo_open clones it onto the branch the server's HEAD names (asked
# in protocol v2, as git clone does), else main (the Hub's branch), never master by accident; the
# first commit and push land on main, and a git clone shows the files; revision "main", hf_repo_checkout
# "main" and hf_push_options.branch "main" work on the unborn branch; `hfgit clone` does the same. A clone
# whose revision checkout fails leaves nothing behind.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
# hfgit-hub creates repositories without a commit, or with an initial one unless --empty-repos says so
if "$BUILD_DIR/hfgit-hub" --help 2>&1 | grep -q -- --empty-repos; then hub_start --empty-repos; else hub_start; fi ||
    { not_ok "hub starts"; done_testing; exit 1; }
for r in alice/e1 alice/e2 alice/e3 alice/e4 alice/e5 alice/full; do hub_create_repo "$r" >/dev/null || not_ok "create $r"; done
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
git config --global --unset init.defaultBranch 2>/dev/null # as on Debian: none configured (git says master)
check_eq "the hub's new repository has no commit" "$(git ls-remote "$HUB_URL/alice/e1" | wc -l)" 0

# --- clone, commit, push: everything lands on main ---
check "hf_repo_open clones the empty repository" "$LIB" open c1 alice/e1
check_eq "... onto main, not master" "$(git -C c1 symbolic-ref HEAD)" refs/heads/main
check_eq "... with origin/main as upstream" "$(git -C c1 config branch.main.merge)" refs/heads/main
check_eq "... and no leftover master settings" "$(git -C c1 config --get-regexp '^branch\.master\.' | wc -l)" 0
check_eq "hf_repo_current_branch says main" "$("$LIB" branch c1)" main
printf 'hello\n' >c1/README.md
head -c 300000 /dev/urandom >c1/w.bin
check "add, commit" sh -c "'$LIB' add c1 . --auto && '$LIB' commit c1 first >/dev/null"
check "the first push" "$LIB" push c1
check_eq "the hub has refs/heads/main, and only it" "$(git ls-remote --heads "$HUB_URL/alice/e1" | awk '{print $2}')" \
    refs/heads/main
git clone -q "$HUB_URL/alice/e1" g1 2>/dev/null
check "a git clone shows the files (not an empty tree)" cmp c1/w.bin g1/w.bin
check_eq "... on main" "$(git -C g1 symbolic-ref HEAD)" refs/heads/main

# --- whatever the user's init.defaultBranch says ---
git config --global init.defaultBranch trunk
check "with init.defaultBranch=trunk, the clone" "$LIB" open c2 alice/e2
check_eq "... is still on main (the Hub's branch)" "$(git -C c2 symbolic-ref HEAD)" refs/heads/main
git config --global --unset init.defaultBranch

# --- the server says which branch its HEAD names (protocol v2 ls-refs): that one ---
hub_create_repo alice/e7 >/dev/null || not_ok "create alice/e7"
git --git-dir="$(find "$HUB_ROOT/repos" -maxdepth 3 -path "*/alice/e7.git")" symbolic-ref HEAD refs/heads/trunk
check "a repository whose HEAD names trunk" "$LIB" open c7 alice/e7
check_eq "... clones onto trunk, as git clone does" "$(git -C c7 symbolic-ref HEAD)" refs/heads/trunk
git clone -q "$HUB_URL/alice/e7" g7 2>/dev/null
check_eq "... (git clone: $(git -C g7 symbolic-ref HEAD 2>&1))" "$(git -C g7 symbolic-ref HEAD 2>&1)" refs/heads/trunk

# --- revision, checkout and push branch on the unborn branch ---
check "revision=main on an empty repository" "$LIB" open c3 alice/e3 --revision main
check_eq "... HEAD is main" "$(git -C c3 symbolic-ref HEAD)" refs/heads/main
check "hf_repo_checkout(main, create) on the unborn branch" "$LIB" checkout c3 main --create
check "hf_repo_checkout(main) without create: it is the current branch" "$LIB" checkout c3 main
out=$("$LIB" checkout c3 nosuch 2>&1); rc=$?
check_eq "hf_repo_checkout(nosuch) without create: HF_ENOTFOUND" "$rc" 8
check_contains "... saying there is no commit yet" "$out" "no commit yet"
printf 'x\n' >c3/x.txt
"$LIB" add c3 . >/dev/null && "$LIB" commit c3 one >/dev/null
check "hf_push_options.branch = main" env LIB_REPO_BRANCH=main "$LIB" push c3
check_eq "... landed on the hub's main" "$(git ls-remote --heads "$HUB_URL/alice/e3" | awk '{print $2}')" refs/heads/main
check "revision=dev on an empty repository (a new unborn branch)" "$LIB" open c4 alice/e4 --revision dev
check_eq "... HEAD is dev" "$(git -C c4 symbolic-ref HEAD)" refs/heads/dev

# --- hfgit clone of a new repository ---
check "hfgit clone of the empty repository" hfgit -q clone alice/e5 h5
check_eq "... is on main" "$(git -C h5 symbolic-ref HEAD 2>&1)" refs/heads/main

# --- hfgit upload to a new (empty) repository ---
hub_create_repo alice/e6 >/dev/null || not_ok "create alice/e6"
printf 'up\n' >up.txt
check "hfgit upload to the empty repository" hfgit -q upload alice/e6 up.txt
check_eq "... landed on the hub's main" "$(git ls-remote --heads "$HUB_URL/alice/e6" | awk '{print $2}')" refs/heads/main

# --- a failed revision checkout after a successful clone leaves nothing behind ---
git clone -q "$HUB_URL/alice/full" gf 2>/dev/null
(cd gf && git checkout -q -b main 2>/dev/null; echo a >a.txt && git add a.txt && git commit -qm a &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "seed alice/full"
out=$("$LIB" open cf alice/full --revision 'bad..name' 2>&1); rc=$?
check_fails "a revision that cannot be checked out fails the open" test "$rc" -eq 0
check_contains "... naming it" "$out" "bad..name"
check_eq "... and the clone it made is gone" "$(ls -d cf 2>/dev/null)" ""
mkdir cg
"$LIB" open cg alice/full --revision 'bad..name' >/dev/null 2>&1
check_eq "... into an existing empty directory: the directory stays, empty" "$(ls -A cg | wc -l)" 0

done_testing
