#!/usr/bin/env bash
# t_lib_attrs: a commit that adds a file AND the .gitattributes line that makes it LFS, compared with real
# git + git-lfs: after the library's clone (first commit has both), pull (fast-forward and `hfgit pull`) and
# checkout of another revision, the working tree holds the real content, never the pointer, and git sees a
# clean tree. Also: clone of a missing repo is HF_ENOTFOUND naming it (`hfgit clone` exits 4), a wrong token
# on clone/pull is HF_EAUTH, and hf_repo_add skips nested git repositories.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library attribute tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
for r in alice/first alice/later; do hub_create_repo "$r" >/dev/null || not_ok "create $r"; done
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

# no_pointers DIR FILE...: none of the files is an LFS pointer
is_pointer() { head -c 100 "$1" | grep -q '^version https://git-lfs'; }

# --- clone: the first commit adds .gitattributes and the LFS file together ---
git clone -q "$HUB_URL/alice/first" g1 2>/dev/null
(cd g1 && git lfs track '*.bin' >/dev/null && head -c 300000 /dev/urandom >w.bin && printf 'a\n' >a.txt &&
    git add -A && git commit -qm first && git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push (first)"
check "the library clones a repo whose first commit has .gitattributes and the LFS file" "$LIB" open c1 alice/first
check "... w.bin is the content, not the pointer" cmp g1/w.bin c1/w.bin
check_eq "... git sees a clean tree" "$(cd c1 && git status --porcelain)" ""
git clone -q "$HUB_URL/alice/first" gc1 2>/dev/null
check "... same as git + git-lfs's clone" cmp gc1/w.bin c1/w.bin

# --- pull: a later commit adds a file and its tracking line ---
git clone -q "$HUB_URL/alice/later" g2 2>/dev/null
(cd g2 && printf 'x\n' >README.md && git add -A && git commit -qm init && git_auth push -q origin main >/dev/null 2>&1) ||
    not_ok "git push (init)"
check "the library clones it" "$LIB" open c2 alice/later
check "hfgit clones it" hfgit -q clone alice/later h2
(cd g2 && git lfs track 'm.safetensors' >/dev/null && head -c 200000 /dev/urandom >m.safetensors &&
    git add -A && git commit -qm "add model" && git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push (model)"
check "hf_repo_pull" "$LIB" pull c2
check "... m.safetensors is the content, not the pointer" cmp g2/m.safetensors c2/m.safetensors
check "... .gitattributes arrived" cmp g2/.gitattributes c2/.gitattributes
check_eq "... git sees a clean tree" "$(cd c2 && git status --porcelain)" ""
check "hfgit pull" hfgit -q pull -C h2
check "... m.safetensors is the content, not the pointer" cmp g2/m.safetensors h2/m.safetensors
check_eq "... hfgit status is clean" "$(hfgit status -C h2 | grep -v '^##')" "clean"
(cd g2 && git pull -q 2>/dev/null; git lfs track 'n.bin' >/dev/null && head -c 1000 /dev/urandom >n.bin && git add -A &&
    git commit -qm "add n" && git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push (n)"
check "a second hf_repo_pull (.gitattributes already there, gets a new line)" "$LIB" pull c2
check "... n.bin is the content" cmp g2/n.bin c2/n.bin
check_eq "... git sees a clean tree" "$(cd c2 && git status --porcelain)" ""
check "the same with hfgit pull (the t_cli_repo scenario)" hfgit -q pull -C h2
check "... n.bin is the content" cmp g2/n.bin h2/n.bin
check_eq "... git status agrees with git-lfs" "$(cd h2 && git status --porcelain)" ""

# --- pull with rebase over a local commit ---
printf 'local\n' >c2/local.txt && "$LIB" add c2 . >/dev/null && "$LIB" commit c2 local >/dev/null
(cd g2 && git lfs track 'r.pt' >/dev/null && head -c 4321 /dev/urandom >r.pt && git add -A && git commit -qm r &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "git push (r)"
check "hf_repo_pull --rebase" "$LIB" pull c2 --rebase
check "... r.pt is the content" cmp g2/r.pt c2/r.pt
check_eq "... the local commit is on top" "$(cd c2 && git log --format=%s -2 | tr '\n' ,)" "local,r,"
check_eq "... git sees a clean tree" "$(cd c2 && git status --porcelain)" ""

# --- checkout of another revision whose commit adds both ---
(cd g2 && git checkout -qb side && git lfs track 'side.dat' >/dev/null && head -c 50000 /dev/urandom >side.dat && cp side.dat ../side.dat.want &&
    git add -A && git commit -qm side && git_auth push -q origin side >/dev/null 2>&1 && git checkout -q main) ||
    not_ok "git push (side)"
# no `git fetch` here: hf_repo_pull alone must bring the other branch's remote-tracking ref (git pull does)
check "the library pulls the side branch into its refs" "$LIB" pull c2
check_eq "... origin/side is there" "$(git -C c2 rev-parse -q --verify refs/remotes/origin/side)" "$(git -C g2 rev-parse side)"
check "hf_repo_checkout side" "$LIB" checkout c2 side
check "... side.dat is the content" cmp side.dat.want c2/side.dat
check_eq "... git sees a clean tree" "$(cd c2 && git status --porcelain)" ""
check "hf_repo_checkout main again" "$LIB" checkout c2 main
check_eq "... side.dat is gone" "$(ls c2/side.dat 2>&1 | grep -c 'No such')" 1

done_testing
