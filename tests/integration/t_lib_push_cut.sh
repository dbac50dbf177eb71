#!/usr/bin/env bash
# t_lib_push_cut: a server that goes away while libhfgit is still sending a push's pack makes the push fail
# with an error; it does not kill the program with SIGPIPE (libgit2's own socket stream writes without
# MSG_NOSIGNAL; hfgit registers one that does). Seen as "exit 141" of a commit scheduler whose hub was
# stopped mid-push. A proxy in front of
# hfgit-hub (lib_cut_proxy.py) hangs up 256 KiB into the pack.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v python3 >/dev/null || { skip "push cut tests" "python3 is not installed (make deps)"; done_testing; exit 0; }
R="$BUILD_DIR/tests/lib_repo"
[ -x "$R" ] || { not_ok "test tools are built" "missing $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/cut >/dev/null || not_ok "create alice/cut"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Cut User" LIB_REPO_EMAIL="cut@hfgit.invalid"
hostport=${HUB_URL#http://}
python3 "$HFGIT_ROOT/tests/integration/lib_cut_proxy.py" "${hostport%:*}" "${hostport#*:}" >proxy.out 2>proxy.err &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q listening proxy.out 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/listening on //p' proxy.out)
[ -n "$port" ] || { not_ok "the cut proxy starts" "$(cat proxy.err)"; done_testing; exit 1; }

git init -q seed && (cd seed && echo "# cut" >README.md && git add README.md && git commit -qm init &&
    git_auth push -q "$HUB_URL/alice/cut" HEAD:refs/heads/main) || not_ok "seed alice/cut"
check "clone through the proxy" "$R" open c "http://127.0.0.1:$port/alice/cut"
# 8 MiB of text that does not compress: a pack far larger than the socket buffers, not an LFS file
head -c 6291456 /dev/urandom | base64 -w 76 >c/data.txt
"$R" add c . >/dev/null && "$R" commit c "big text" >/dev/null || not_ok "commit a large text file"
out=$("$R" push c 2>&1); rc=$?
echo "$out" | sed "s/^/# push said: /"
check_eq "the cut push fails with an error code (not SIGPIPE, 141)" "$([ $rc -ne 0 ] && [ $rc -ne 141 ] && echo error || echo "exit $rc")" "error"
check_contains "... and says what happened" "$out" "push"
check_eq "the remote did not move" "$(git ls-remote "$HUB_URL/alice/cut" refs/heads/main | cut -f1)" "$(cd seed && git rev-parse HEAD)"
done_testing
