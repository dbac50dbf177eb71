#!/usr/bin/env bash
# t_lib_edges: what a caller sees at the edges of libhfgit.
# - A push whose progress callback cancels while an object is skipped (the server has it already) fails with
#   HF_ECANCELLED and sends no git object (it used to stop the workers quietly and push anyway).
# - hf_repo_add with a pathspec that matches nothing is HF_ENOTFOUND, one outside the working tree HF_EINVAL,
#   both naming the path (as `git add` refuses them); an absolute path inside the tree is fine.
# - The library never writes to the caller's stderr: hf_repo_free waiting for a queued command is silent
#   unless HFGIT_TRACE=1, and no library source writes to stderr/stdout.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library edge tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
Q="$BUILD_DIR/tests/lib_queue"
[ -x "$LIB" ] && [ -x "$Q" ] || { not_ok "lib_repo and lib_queue are built"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/x >/dev/null || not_ok "create alice/x"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

"$LIB" open c alice/x >/dev/null 2>&1 || not_ok "clone alice/x"
printf 'base\n' >c/README.md
"$LIB" add c . --auto >/dev/null && "$LIB" commit c base >/dev/null && "$LIB" push c >/dev/null 2>&1 ||
    not_ok "first push"

# --- a cancel while skipping an object the server already has ---
head -c 200000 /dev/urandom >c/known.bin
"$LIB" add c . --auto >/dev/null && "$LIB" commit c known >/dev/null || not_ok "commit known.bin"
oid=$(sed -n 's/^oid sha256://p' <(git -C c show HEAD:known.bin))
# the object reaches the server without any ref (git-lfs pushes it by id), so the library's push skips it
(cd c && git_auth lfs push --object-id origin "$oid" >/dev/null 2>&1) || not_ok "git lfs push --object-id"
before=$(git ls-remote "$HUB_URL/alice/x" refs/heads/main | cut -f1)
out=$(LIB_REPO_CANCEL=1 "$LIB" push c 2>&1); rc=$?
check_eq "a push cancelled while skipping a known object: HF_ECANCELLED" "$rc" 11
check_contains "... saying so" "$out" "cancelled"
check_eq "... and no git object was pushed (the hub's main is unchanged)" \
    "$(git ls-remote "$HUB_URL/alice/x" refs/heads/main | cut -f1)" "$before"
check "without the cancel the push goes through" "$LIB" push c
check_eq "... now the hub's main is the local one" "$(git ls-remote "$HUB_URL/alice/x" refs/heads/main | cut -f1)" \
    "$(git -C c rev-parse HEAD)"

# --- pathspecs ---
out=$("$LIB" add c 'nomatch*' 2>&1); rc=$?
check_eq "hf_repo_add('nomatch*'): HF_ENOTFOUND" "$rc" 8
check_contains "... naming the pathspec" "$out" "nomatch*"
out=$("$LIB" add c /etc/passwd 2>&1); rc=$?
check_eq "hf_repo_add('/etc/passwd'): HF_EINVAL" "$rc" 3
check_contains "... naming it, outside the repository" "$out" "'/etc/passwd' is outside the repository"
out=$("$LIB" add c ../x 2>&1); rc=$?
check_eq "hf_repo_add('../x'): HF_EINVAL" "$rc" 3
check_eq "... nothing was staged by the refused calls" "$(git -C c status --porcelain)" ""
printf 'new\n' >c/new.txt
check "an absolute path inside the working tree is fine" "$LIB" add c "$WORK/c/new.txt"
check_eq "... and staged it" "$(git -C c status --porcelain)" "A  new.txt"
printf 'dot\n' >c/dot.txt
check "./dot.txt is dot.txt" "$LIB" add c ./dot.txt
check_contains "... staged" "$(git -C c status --porcelain)" "A  dot.txt"
check "a tracked, unchanged file matches (no error)" "$LIB" add c README.md
rm c/known.bin
check "a deleted tracked file matches" "$LIB" add c known.bin
check_contains "... and its deletion is staged" "$(git -C c status --porcelain)" "D  known.bin"
printf 'x\n' >c/ignored.log && printf '*.log\n' >c/.gitignore
out=$("$LIB" add c ignored.log 2>&1); rc=$?
check_eq "a pathspec matching only an ignored file: HF_ENOTFOUND" "$rc" 8

# --- no output on the caller's stderr ---
"$LIB" commit c more >/dev/null 2>&1
"$Q" slowfree c 6 >slow.out 2>slow.err
check_eq "hf_repo_free waiting 6 s for a queued command writes nothing to stderr" "$(cat slow.err)" ""
check_contains "... and still waits for it" "$(cat slow.out)" "free_waited"
# every byte a library function could print: stdio on stderr/stdout, perror, write(2) to fd 1 or 2
writes=$(cd "$HFGIT_ROOT" && grep -nE '\b(stderr|stdout|perror|printf|puts|putchar)\b|write\((1|2|STDERR_FILENO|STDOUT_FILENO)\b' \
    repo/*.c common/*.c | grep -vE '^common/trace\.c:|snprintf|buf_v?printf|hf_buf_puts|^[^:]*:[0-9]+:\s*(/\*|\*)')
check_eq "no library source writes to stderr or stdout (common/trace.c, opt-in, aside)" "$writes" ""

done_testing
