#!/usr/bin/env bash
# t_lib_commit: libhfgit's commit context against hfgit-hub (issue 5 acceptance 3 and 4).
# A body that fails leaves the file it wrote uncommitted and untouched, and the remote unchanged; a body that
# succeeds lands exactly one commit. The context pulls with rebase first when the branch has an upstream,
# checks out (creating) a branch when asked, queues its push when not blocking, and refuses a detached HEAD.
# examples/first_file.c (huggingface_hub's `with repo.commit("My first file :)")`) is built with pkg-config
# against `make install` and run against the hub.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v git-lfs >/dev/null || { skip "commit context tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
Q="$BUILD_DIR/tests/lib_queue" R="$BUILD_DIR/tests/lib_repo"
[ -x "$Q" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $Q or $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/ctx >/dev/null || not_ok "create alice/ctx"
hub_create_repo alice/example >/dev/null || not_ok "create alice/example"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Ctx User" LIB_REPO_EMAIL="ctx@hfgit.invalid"
remote_head() { git ls-remote "$HUB_URL/alice/ctx" "refs/heads/${1:-main}" | cut -f1; }

check "clone alice/ctx" "$R" open c alice/ctx
printf 'seed\n' >c/README.md
"$R" add c . && "$R" commit c seed >/dev/null && check "a first commit is pushed" "$R" push c
before=$(remote_head)

# --- acceptance 3: a failing body ---
out=$("$Q" commit c "failing body" --fail 2>&1); rc=$?
check_eq "a commit context whose body fails returns HF_ECANCELLED" "$rc" 11
check_contains "the body ran" "$out" "body_ran 1"
check_contains "... and the call says nothing was committed" "$out" "nothing was added, committed or pushed"
check_eq "the body's file is still there, as written" "$(cat c/failing_body.txt 2>/dev/null)" "failing body"
check_eq "... and uncommitted (untracked, nothing staged)" "$(cd c && git status --porcelain)" "?? failing_body.txt"
check_eq "the local branch did not move" "$(cd c && git rev-parse HEAD)" "$before"
check_eq "the remote did not move" "$(remote_head)" "$before"
rm c/failing_body.txt

# --- acceptance 3: a successful body lands exactly one commit ---
out=$("$Q" commit c "My first file" 2>&1); rc=$?
check_eq "a commit context whose body succeeds returns 0" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
after=$(remote_head)
check_eq "the remote moved by exactly one commit" "$(cd c && git rev-list --count "$before..$after")" 1
check_eq "... whose parent is the old tip" "$(cd c && git rev-parse "$after^")" "$before"
check_eq "... and which is the local HEAD" "$(cd c && git rev-parse HEAD)" "$after"
check "git clone has the body's file" sh -c "git clone -q '$HUB_URL/alice/ctx' g && test \"\$(cat g/My_first_file.txt)\" = 'My first file'"
check_eq "the working tree is clean afterwards" "$(cd c && git status --porcelain)" ""

# --- begin pulls with rebase when the branch has an upstream ---
(cd g && printf 'from elsewhere\n' >other.txt && git add other.txt && git commit -qm other && git_auth push -q origin main) \
    || not_ok "someone else pushes"
out=$("$Q" commit c "after other" 2>&1); rc=$?
check_eq "a commit context after someone else pushed succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "it pulled their file first" "$(cat c/other.txt 2>/dev/null)" "from elsewhere"
check_eq "history stays linear: their commit, then ours" "$(cd c && git log --format=%s -3 | tr '\n' ,)" "after other,other,My first file,"
check_eq "the remote has ours on top" "$(remote_head)" "$(cd c && git rev-parse HEAD)"

# --- options: a branch, created when missing; a queued push ---
out=$("$Q" commit c "on feature" --branch feature 2>&1); rc=$?
check_eq "a commit context on a new branch" "$rc" 0
check_eq "... landed on the remote's feature branch" "$(remote_head feature)" "$(cd c && git rev-parse HEAD)"
check_eq "... main did not move" "$(remote_head main)" "$(cd c && git rev-parse main)"
check_eq "... and the branch stays checked out" "$(cd c && git rev-parse --abbrev-ref HEAD)" "feature"
out=$("$Q" commit c "queued" --nonblocking 2>&1); rc=$?
check_eq "a non-blocking commit context" "$rc" 0
check_contains "... queued one push, running or queued at the end" "$out" "queued 1 last_status -1"
check_contains "... which succeeded" "$out" "last_status_after_wait 0"
check_eq "... and the remote has it" "$(remote_head feature)" "$(cd c && git rev-parse HEAD)"

# auto_lfs_prune with a queued push: the replaced object leaves the store once the push is done
objpath() { local o; o=$(sha "$1"); echo "c/.git/lfs/objects/${o:0:2}/${o:2:2}/$o"; }
head -c 2097152 /dev/urandom >c/model.bin
out=$("$Q" commit c "model v1" 2>&1) || not_ok "commit model v1" "$out"
old=$(objpath c/model.bin)
head -c 2097152 /dev/urandom >c/model.bin
new=$(objpath c/model.bin)
out=$("$Q" commit c "model v2" --nonblocking --prune 2>&1); rc=$?
check_eq "a non-blocking commit context with auto_lfs_prune" "$rc" 0
check_contains "... its queued push succeeded" "$out" "last_status_after_wait 0"
check "... the pushed and replaced object was pruned" test ! -e "$old"
check "... the one HEAD needs stays" test -e "$new"
check_eq "... and the worker emptied its trash (.git/lfs/tmp/prune-*)" "$(ls -d c/.git/lfs/tmp/prune-* 2>/dev/null)" ""
check "... and the hub has v2 intact" sh -c "git clone -q -b feature '$HUB_URL/alice/ctx' gm && cmp c/model.bin gm/model.bin"

# nothing written: nothing to commit is fine
out=$("$Q" commit c "nothing" 2>&1); rc=$?
check_eq "a body that writes what is already there: nothing to commit is fine" "$rc" 0

# a detached HEAD is refused before the body runs
(cd c && git checkout -q --detach HEAD)
out=$("$Q" commit c "detached" 2>&1); rc=$?
check_eq "a commit context on a detached HEAD fails" "$rc" 3
check_contains "... before the body ran" "$out" "body_ran 0"
check_contains "... saying why" "$out" "detached"
(cd c && git checkout -q feature)

# --- acceptance 4: the example, built against an installed library ---
command -v pkg-config >/dev/null || { skip "example" "pkg-config is not installed (make deps)"; done_testing; exit 0; }
P="$WORK/prefix"
if out=$(make -C "$HFGIT_ROOT" --no-print-directory install PREFIX="$P" BUILD="$BUILD" SAN="${SAN:-}" 2>&1); then
    ok "make install PREFIX=DIR"
else
    not_ok "make install PREFIX=DIR" "$out"; done_testing; exit 1
fi
if out=$(cc -std=c11 -Wall -Wextra -Werror ${SAN:+-fsanitize=$SAN} -o first_file "$HFGIT_ROOT/examples/first_file.c" \
    $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs hfgit) 2>&1); then
    ok "examples/first_file.c builds with pkg-config, warning-free"
else
    not_ok "examples/first_file.c builds with pkg-config, warning-free" "$out"; done_testing; exit 1
fi
out=$(LD_LIBRARY_PATH="$P/lib" ./first_file ex alice/example 2>first_file.err); rc=$?
check_eq "the example runs against the hub" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' first_file.err
sha=$(git ls-remote "$HUB_URL/alice/example" refs/heads/main | cut -f1)
check_eq "... and prints the commit's page" "$out" "$HUB_URL/alice/example/commit/$sha"
check "... file.txt is on the hub" git clone -q "$HUB_URL/alice/example" gex
check_eq "... with the reference's content" "$(cat gex/file.txt)" '{"hey": 8}'
check_eq "... in one commit, \"My first file :)\"" "$(cd gex && git log --format=%s)" "My first file :)"

done_testing
