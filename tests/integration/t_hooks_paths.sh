#!/usr/bin/env bash
# t_hooks_paths: the hooks name every offending path, quoted, in every ref of a push (issue 17, defect 7).
# pre-push: several refs in one push, --all, tags (annotated, and one pointing straight at a blob), a deletion
# next to a refused ref; names with a newline, '"', '$' and a space; two paths sharing one blob; a new branch
# pushed by url (no tracking refs) above a blob the remote already has. The `hfgit track --filename` command
# it prints is valid sh and tracks exactly the file. pre-receive on hfgit-hub: several paths sharing one blob
# and a name with a newline are each reported on one line.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "hook path tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
HOOK="$HFGIT_ROOT/git-hooks/pre-push"
MiB=1048576
git() { if [ "${1:-}" = push ]; then timeout 120 git "$@"; else command git "$@"; fi; }
remote_sha() { git -C "$WORK/$1.git" rev-parse -q --verify "$2" || echo none; }
big() { head -c $((11 * MiB)) /dev/urandom >"$1"; }
cd "$WORK" || exit 1
git init -q --bare r.git
git clone -q "file://$WORK/r.git" r 2>/dev/null
cd r || exit 1
cp "$HOOK" .git/hooks/pre-push && chmod 755 .git/hooks/pre-push
git checkout -q -b main
echo base >base.txt && git add base.txt && git commit -qm base
check "a first push passes" git push -q origin main

# --- every ref of a push is checked ---
git checkout -q -b ok1 main && echo 1 >one.txt && git add one.txt && git commit -qm one
git checkout -q -b bad2 main && big bad2.dat && git add bad2.dat && git commit -qm bad2
git checkout -q main
out=$(git push origin ok1 bad2 2>&1); rc=$?
check_eq "two refs in one push, the big file on the second: refused" "$rc" 1
check_contains "... naming it" "$out" "bad2.dat  (11534336 bytes"
check_eq "... neither ref reached the remote" "$(remote_sha r refs/heads/ok1) $(remote_sha r refs/heads/bad2)" "none none"
out=$(git push --all origin 2>&1); rc=$?
check_eq "git push --all with the big file on one branch: refused" "$rc" 1
check_contains "... naming it" "$out" "bad2.dat  (11534336 bytes"
check "a deletion can go alone" sh -c "git push -q origin ok1 && git push -q origin :ok1"
git push -q origin ok1 2>/dev/null
out=$(git push origin :ok1 bad2 2>&1); rc=$?
check_eq "a deletion listed first, then a refused ref: refused" "$rc" 1
check_eq "... the deletion did not happen either" "$(remote_sha r refs/heads/ok1)" "$(git rev-parse ok1)"
git tag -a -m v1 v1 bad2
out=$(git push origin v1 2>&1); rc=$?
check_eq "an annotated tag on a commit with the big file: refused" "$rc" 1
check_contains "... naming the file" "$out" "bad2.dat  (11534336 bytes"
big blob.dat
git tag blobtag "$(git hash-object -w blob.dat)" && rm blob.dat
out=$(git push origin blobtag 2>&1); rc=$?
check_eq "a tag pointing straight at a big blob: refused" "$rc" 1
check_contains "... saying the blob has no path" "$out" "with no path: a tag or ref points straight at it"
check_not_contains "... never advising to track an empty name" "$out" 'track --filename ""'
git tag -d v1 blobtag >/dev/null

# --- names: quoted as git quotes them, one line each; the printed command tracks exactly the file ---
git checkout -q -b names main
big $'new\nline.dat'
big 'cost $HOME "q".dat'
git add -A && git commit -qm names
out=$(git push origin names 2>&1); rc=$?
check_eq "big files with a newline, '\$' and '\"' in their names: refused" "$rc" 1
check_contains "... the newline name is one quoted line" "$out" 'hfgit pre-push:   "new\nline.dat"  (11534336 bytes'
check_contains "... with advice to rename it" "$out" 'rename "new\nline.dat" first'
check_contains "... the other name as git shows it" "$out" 'hfgit pre-push:   "cost $HOME \"q\".dat"  (11534336'
check_contains "... and a track command quoted for sh" "$out" 'hfgit track --filename "cost \$HOME \"q\".dat"'
check_contains "... two files counted" "$out" "push refused: 2 files over 10 MiB"
track=$(sed -n 's/^hfgit pre-push:   \(hfgit track --filename .*\)      (or: .*/\1/p' <<<"$out")
check "the printed track command runs in sh" sh -c "$track"
check_contains "... and wrote the literal name" "$(cat .gitattributes)" 'cost[[:space:]]$HOME[[:space:]]"q".dat filter=lfs'
check_eq "... which git sees as LFS for exactly that file" "$(git check-attr filter -- 'cost $HOME "q".dat' | sed 's/.*: //')" "lfs"
git checkout -q main && git branch -q -D names && git checkout -q -- . 2>/dev/null; rm -f .gitattributes

git checkout -q -b shared main
big w.bin && mkdir -p copy && cp w.bin copy/w.bin && cp w.bin "copy/w 2.bin"
git add -A && git commit -qm shared
out=$(git push origin shared 2>&1); rc=$?
check_eq "one big blob at three paths: refused" "$rc" 1
check_contains "... counts three files" "$out" "push refused: 3 files"
check_contains "... names the first path" "$out" "hfgit pre-push:   w.bin  ("
check_contains "... the second" "$out" "hfgit pre-push:   copy/w.bin  ("
check_contains "... and the third" "$out" "hfgit pre-push:   copy/w 2.bin  ("
git checkout -q main

# --- a new branch by url above a blob the remote already has ---
HFGIT_SKIP_PREPUSH=1 git push -q origin bad2 2>/dev/null
check_eq "(the remote holds the big blob, let through with HFGIT_SKIP_PREPUSH)" "$(remote_sha r refs/heads/bad2)" "$(git rev-parse bad2)"
git checkout -q -b above bad2 && echo a >above.txt && git add above.txt && git commit -qm above
check "a new branch pushed by the remote's url passes" git push -q "file://$WORK/r.git" above:above-url
cd "$WORK" && git clone -q --no-local "$WORK/r.git" -b bad2 other 2>/dev/null && cd other || exit 1
cp "$HOOK" .git/hooks/pre-push && chmod 755 .git/hooks/pre-push
git remote remove origin
echo o >o.txt && git add o.txt && git commit -qm other
check "a new branch pushed by a url no remote has (no tracking refs) passes" git push -q "$WORK/r.git" HEAD:from-other
big new.dat && git add new.dat && git commit -qm new
check_fails "... and a new big file on it is still refused" git push -q "$WORK/r.git" HEAD:from-other2

# --- pre-receive on hfgit-hub: every path, quoted ---
if [ ! -x "$BUILD_DIR/hfgit-hub" ]; then
    skip "pre-receive: every path of a shared blob, quoted" "$BUILD_DIR/hfgit-hub is not built"
elif ! hub_start; then
    not_ok "hub starts"
else
    hub_create_repo me/paths >/dev/null || not_ok "create me/paths"
    cd "$WORK" && git clone -q "$HUB_URL/me/paths" h 2>/dev/null && cd h || exit 1
    # .dat: not among the LFS patterns of the Hub's first commit
    big a.dat && mkdir -p d && cp a.dat d/a.dat && cp a.dat $'d/new\nline.dat'
    git add -A && git commit -qm shared
    out=$(git_auth push origin HEAD:main 2>&1); rc=$?
    check_eq "pre-receive: a blob at three paths, one with a newline: refused" "$rc" 1
    check_contains "... names the first path" "$out" "remote:   - a.dat (11534336 bytes)"
    check_contains "... the second" "$out" "remote:   - d/a.dat (11534336 bytes)"
    check_contains "... and the newline one on one quoted line" "$out" 'remote:   - "d/new\nline.dat" (11534336 bytes)'
    check_contains "... with a track command for sh" "$out" 'hfgit track --filename "d/a.dat"'
    check_not_contains "... never an empty name" "$out" 'track --filename ""'
fi

done_testing
