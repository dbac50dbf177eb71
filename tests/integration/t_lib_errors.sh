#!/usr/bin/env bash
# t_lib_errors: how libhfgit reports a repository that does not exist (HTTP 404 -> HF_ENOTFOUND naming it,
# `hfgit clone` exits 4) and a server that answers 401 on clone and on fetch (HF_EAUTH, `hfgit` exits 3,
# the token never printed); and hf_repo_add skipping nested git repositories (their files are not staged,
# no gitlink, no error), as git + huggingface_hub's upload do.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/e >/dev/null || not_ok "create alice/e"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

# --- 404: the repository does not exist ---
out=$("$LIB" open missing alice/does-not-exist 2>&1); rc=$?
check_eq "cloning a missing repo: HF_ENOTFOUND" "$rc" 8
check_contains "... naming the repo" "$out" "alice/does-not-exist not found"
check_eq "... leaving no directory behind" "$(ls -d missing 2>&1 | grep -c 'No such')" 1
out=$(hfgit clone datasets/alice/nothing-here 2>&1); rc=$?
check_eq "hfgit clone of a missing repo exits 4" "$rc" 4
check_contains "... naming it" "$out" "datasets/alice/nothing-here"

# --- 401: a server that wants credentials it does not get ---
if command -v python3 >/dev/null; then
    cat >deny.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def deny(self):
        # with a Content-Type, as real servers send: libgit2 1.5 misreads a 401 without one when it replays
        # the request with credentials ("http parser error: invalid constant string")
        body = b"Invalid credentials\n"
        if "/forbidden/" in self.path:  # 403, no challenge: libgit2 reports the status code
            head = "HTTP/1.1 403 Forbidden\r\n"
        else:
            head = 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="hub"\r\n'
        head += "Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        self.close_connection = True
        self.wfile.write(head.encode() + body)
    do_GET = do_POST = deny
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("listening on %d" % s.server_address[1], flush=True)
s.serve_forever()
PY
    python3 deny.py >deny.out 2>&1 &
    DENY_PID=$!
    trap 'kill $DENY_PID 2>/dev/null; cleanup' EXIT
    for _ in $(seq 1 50); do grep -q listening deny.out && break; sleep 0.1; done
    DENY_URL="http://127.0.0.1:$(sed -n 's/listening on //p' deny.out)"
    out=$("$LIB" open d1 "$DENY_URL/alice/e" 2>&1); rc=$?
    check_eq "a clone answered 401 (token refused): HF_EAUTH" "$rc" 7
    check_not_contains "... without printing the token" "$out" "$HUB_TOKEN"
    out=$(HF_TOKEN= "$LIB" open d2 "$DENY_URL/alice/e" 2>&1); rc=$?
    check_eq "a clone answered 401 without a token: HF_EAUTH" "$rc" 7
    out=$(hfgit clone "$DENY_URL/alice/e" d3 2>&1); rc=$?
    check_eq "hfgit clone answered 401 exits 3" "$rc" 3
    out=$("$LIB" open d4 "$DENY_URL/forbidden/e" 2>&1); rc=$?
    check_eq "a clone answered 403: HF_EAUTH" "$rc" 7
    check_contains "... naming the server's status" "$out" "403"
    check "clone the real repo" "$LIB" open e alice/e
    printf 'x\n' >e/a.txt && "$LIB" add e . && "$LIB" commit e one >/dev/null && "$LIB" push e >/dev/null 2>&1
    git -C e remote set-url origin "$DENY_URL/alice/e"
    out=$("$LIB" pull e 2>&1); rc=$?
    check_eq "a fetch from another host answered 401: HF_EAUTH" "$rc" 7
    check_contains "... HF_TOKEN is not offered there (it goes only to HF_ENDPOINT's host)" "$out" \
        "no token is set for it"
    out=$(HF_ENDPOINT="$DENY_URL" "$LIB" pull e 2>&1); rc=$?
    check_eq "a fetch from HF_ENDPOINT's host answered 401: HF_EAUTH" "$rc" 7
    check_contains "... saying the token was refused" "$out" "refused the token"
    check_not_contains "... without printing the token" "$out" "$HUB_TOKEN"
    git -C e remote set-url origin "$HUB_URL/alice/e"
else
    skip "401 on clone and fetch" "python3 is not installed"
fi

# --- nested git repositories are not staged ---
[ -d e ] || "$LIB" open e alice/e >/dev/null 2>&1
mkdir -p e/nested e/plain && git init -q e/nested && printf 'inner\n' >e/nested/inner.txt &&
    (cd e/nested && git add inner.txt && git commit -qm inner)
printf 'gitfile\n' >e/plain/file.txt && mkdir -p e/plain/wt && printf 'gitdir: /nowhere\n' >e/plain/wt/.git &&
    printf 'w\n' >e/plain/wt/w.txt
printf 'outer\n' >e/outer.txt
check "hf_repo_add . with nested repositories" "$LIB" add e . --auto
staged=$(git -C e ls-files --stage | awk '{print $1, $4}' | tr '\n' ',')
check_contains "the outer file is staged" "$staged" "100644 outer.txt"
check_contains "files next to a nested one are staged" "$staged" "100644 plain/file.txt"
check_not_contains "nothing of the nested repository is staged" "$staged" "nested"
check_not_contains "nothing under a .git file (worktree/submodule) is staged" "$staged" "plain/wt"
check_not_contains "no gitlink was added" "$staged" "160000"
out=$(hfgit add -C e nested/inner.txt 2>&1); rc=$?
check_eq "hfgit add of a path inside the nested repository exits 4 (it stages nothing)" "$rc" 4
check_contains "... naming the path" "$out" "'nested/inner.txt' did not match any file"
check_eq "... stages nothing" "$(git -C e ls-files nested | wc -l | tr -d ' ')" 0
check_eq "the nested repository is untouched" "$(git -C e/nested status --porcelain)" ""

done_testing
