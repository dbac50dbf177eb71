#!/usr/bin/env bash
# t_lib_retry: libhfgit retries a server error (HTTP 5xx) on the ref advertisement of a clone, a push and a
# pull, twice at most; a third failure in a row is reported with the server's status. A proxy in front of
# hfgit-hub (lib_fault_proxy.py) injects the failures.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v python3 >/dev/null || { skip "retry tests" "python3 is not installed"; done_testing; exit 0; }
R="$BUILD_DIR/tests/lib_repo"
[ -x "$R" ] || { not_ok "test tools are built" "missing $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/retry >/dev/null || not_ok "create alice/retry"
cd "$WORK" || exit 1
hostport=${HUB_URL#http://}
hostport=${hostport%%/*}
echo 0 >fail
python3 "$HFGIT_ROOT/tests/integration/lib_fault_proxy.py" "${hostport%:*}" "${hostport#*:}" "$WORK/fail" >proxy.out 2>proxy.err &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q listening proxy.out 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/listening on //p' proxy.out)
[ -n "$port" ] || { not_ok "the fault proxy starts" "$(cat proxy.err)"; done_testing; exit 1; }
PROXY="http://127.0.0.1:$port"
# The proxy is the server this user talks to: HF_TOKEN goes only to HF_ENDPOINT's host.
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$PROXY" LIB_REPO_USER="Retry User" LIB_REPO_EMAIL="retry@hfgit.invalid"

echo 1 >fail
check "a clone whose first ref advertisement gets a 500 is retried" "$R" open w "$PROXY/alice/retry"
check_eq "... the failure was injected" "$(cat fail)" 0
printf 'one\n' >w/one.txt
"$R" add w . && "$R" commit w one >/dev/null
echo 2 >fail
check "a push retried twice after two 500s succeeds" "$R" push w
check_eq "... both failures were injected" "$(cat fail)" 0
check_eq "... and the hub has the commit" "$(git ls-remote "$HUB_URL/alice/retry" refs/heads/main | cut -f1)" \
    "$(cd w && git rev-parse HEAD)"
check "someone else pushes" sh -c "git clone -q '$HUB_URL/alice/retry' g && cd g && echo two >two.txt && git add two.txt && git commit -qm two"
(cd g && git_auth push -q origin main) || not_ok "git push from the other clone"
echo 1 >fail
check "a pull whose fetch gets a 500 is retried" "$R" pull w
check_eq "... and brings their file" "$(cat w/two.txt 2>/dev/null)" two
printf 'three\n' >w/three.txt
"$R" add w . && "$R" commit w three >/dev/null
echo 3 >fail
out=$("$R" push w 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "three 500s in a row: the push fails" || not_ok "three 500s in a row: the push fails" "$out"
check_contains "... naming the server's status" "$out" "500"
check_eq "... after three attempts (no more)" "$(cat fail)" 0
echo 0 >fail
check "the next push goes through" "$R" push w

done_testing
