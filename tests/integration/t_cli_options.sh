#!/usr/bin/env bash
# t_cli_options: smaller promises of the command line (issue 17, defect 6). `hfgit status` quotes paths as
# `git status --short` does (a newline never splits an entry); lfs-enable-largefiles uses the shared option
# parser (-q, --parallel=N, --, global -q), exits 4 for a missing PATH, takes PATH defaulting to "." like
# install-hooks, and warns when git-lfs is missing; an empty folder uploaded to an empty repository fails
# clearly (5) instead of saying "nothing was committed" and then failing; `--include` with no pattern uploads
# nothing, as huggingface-cli does.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "hfgit option tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
cd "$WORK" || exit 1

# --- status: quoted as git quotes ---
git init -q s
(cd s && touch plain "a b" $'nl\nx' $'tab\ty' 'q"z' 'back\s' 'é' $'esc\x1b' && git add 'a b' 'back\s')
got=$(hfgit status -C s | grep -v '^##')
check_eq "hfgit status prints the entries exactly as git status --short" "$got" "$(git -C s status --short)"
check_contains "... a newline in a name stays in one quoted entry" "$got" '?? "nl\nx"'
git -C s config core.quotePath false
check_contains "... and core.quotePath=false leaves UTF-8 alone, as git does" "$(hfgit status -C s)" "?? é"
check_eq "... still matching git" "$(hfgit status -C s | grep -v '^##')" "$(git -C s status --short)"

# --- lfs-enable-largefiles on the shared parser; PATH defaults to "." for it and for install-hooks ---
git init -q l
out=$(cd l && hfgit lfs-enable-largefiles --parallel=4 2>&1); rc=$?
check_eq "lfs-enable-largefiles --parallel=4 with no PATH (the current folder)" "$rc" 0
check_eq "... set the agent's args" "$(git -C l config lfs.customtransfer.multipart.args)" "--parallel 4"
check "... and installed the pre-push hook" grep -q "hfgit-hook: pre-push" l/.git/hooks/pre-push
out=$(hfgit lfs-enable-largefiles -q --parallel 2 -- l 2>&1); rc=$?
check_eq "lfs-enable-largefiles -q --parallel 2 -- PATH: quiet and done" "$rc:$out" "0:"
check_eq "... set --parallel 2" "$(git -C l config lfs.customtransfer.multipart.args)" "--parallel 2"
out=$(hfgit -q lfs-enable-largefiles l 2>&1); rc=$?
check_eq "hfgit -q lfs-enable-largefiles PATH (global -q) prints nothing" "$rc:$out" "0:"
git init -q lc
check "lfs-enable-largefiles -C DIR (no PATH), as install-hooks -C DIR" hfgit -q lfs-enable-largefiles -C lc
check_eq "... configured that repository" "$(git -C lc config lfs.customtransfer.multipart.direction)" "both"
hfgit lfs-enable-largefiles "$WORK/no/such/dir" >/dev/null 2>&1
check_eq "a missing PATH is not found (4)" "$?" 4
hfgit lfs-enable-largefiles --parallel 99 l >/dev/null 2>&1
check_eq "--parallel 99 is a usage error (2)" "$?" 2
hfgit lfs-enable-largefiles l extra >/dev/null 2>&1
check_eq "a second PATH is a usage error (2)" "$?" 2
mkdir -p "$WORK/nolfs"
for t in git; do ln -sf "$(type -P "$t")" "$WORK/nolfs/$t"; done
out=$(PATH="$WORK/nolfs" "$BUILD_DIR/hfgit" lfs-enable-largefiles l 2>&1); rc=$?
check_eq "without git-lfs on PATH: still configures (0)" "$rc" 0
check_contains "... with a warning that git push needs git-lfs" "$out" "warning: git-lfs is not installed"
check_not_contains "with git-lfs installed there is no such warning" "$(hfgit lfs-enable-largefiles l 2>&1)" "git-lfs is not installed"
git init -q ih
check "install-hooks PATH" hfgit install-hooks ih
check "... installed the hook there" grep -q "hfgit-hook: pre-push" ih/.git/hooks/pre-push
git init -q ih2
check "install-hooks with no PATH: the current folder" sh -c "cd ih2 && hfgit install-hooks"
check "... installed the hook there" grep -q "hfgit-hook: pre-push" ih2/.git/hooks/pre-push
hfgit install-hooks "$WORK/no/such/dir" >/dev/null 2>&1
check_eq "install-hooks with a missing PATH is not found (4), as lfs-enable-largefiles" "$?" 4

# --- upload: an empty folder into an empty repository; --include with no pattern ---
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
hub_create_repo alice/empty >/dev/null || not_ok "create alice/empty"
mkdir -p emptydir
out=$(hfgit upload alice/empty emptydir 2>&1); rc=$?
check_eq "an empty folder uploaded to an empty repository: nothing to commit (5)" "$rc" 5
check_contains "... saying there is nothing to upload" "$out" "nothing to upload: emptydir has no file to upload"
check_not_contains "... without claiming success first" "$out" "no files have changed since the last commit"
mkdir -p inc && echo a >inc/a.txt && echo b >inc/b.bin
out=$(hfgit upload alice/empty inc --include 2>&1); rc=$?
check_eq "--include with no pattern selects nothing (as huggingface-cli): nothing to commit (5)" "$rc" 5
check_contains "... saying so" "$out" "(after --include/--exclude)"
check "an upload with --include '*.txt' works" hfgit upload alice/empty inc --include '*.txt'
git clone -q "$HUB_URL/alice/empty" g 2>/dev/null
check_eq "... only a.txt arrived" "$(git -C g ls-tree -r --name-only HEAD | tr '\n' ' ')" "a.txt "
head=$(git -C g rev-parse HEAD)
echo c >inc/c.txt
out=$(hfgit upload alice/empty inc --include 2>/dev/null); rc=$?
check_eq "--include with no pattern on a repository with commits: nothing uploaded, exit 0" "$rc:$out" \
    "0:$HUB_URL/alice/empty/commit/$head"
check_eq "... no new commit" "$(git ls-remote "$HUB_URL/alice/empty" refs/heads/main | cut -f1)" "$head"

done_testing
