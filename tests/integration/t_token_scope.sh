#!/usr/bin/env bash
# t_token_scope: the user's Hugging Face token (HF_TOKEN, saved login) goes only to HF_ENDPOINT's host. A clone
# from another server (here a recording proxy on another port in front of the same hub: a "third party") never
# shows it the token, not even on the library's protocol-v2 probe for an empty repository's HEAD branch; a
# token the caller passed for that repository would go there only after the server asks (401). The normal case
# (the endpoint's own host) still works.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
command -v python3 >/dev/null || { skip "token scope" "python3 is not installed (the recording proxy)"; done_testing; exit 0; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
for r in alice/e1 alice/e2; do hub_create_repo "$r" >/dev/null || not_ok "create $r"; done
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
git config --global --unset init.defaultBranch 2>/dev/null

# A forwarding proxy that writes every Authorization header it receives to auth.log.
python3 -c '
import http.client, http.server, sys, urllib.parse
up = urllib.parse.urlsplit(sys.argv[1]); log = open(sys.argv[2], "a")
class P(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def fwd(self):
        a = self.headers.get("Authorization")
        log.write("%s %s %s\n" % (self.command, self.path, a or "-")); log.flush()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(up.hostname, up.port)
        h = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "transfer-encoding", "connection")}
        c.request(self.command, self.path, body=body, headers=h)
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    do_GET = do_POST = fwd
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), P)
print(s.server_address[1], flush=True)
s.serve_forever()
' "$HUB_URL" "$WORK/auth.log" >"$WORK/proxy.port" 2>"$WORK/proxy.err" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
THIRD="http://127.0.0.1:$(cat "$WORK/proxy.port")"
: >"$WORK/auth.log"

check "hf_repo_open clones an empty repository from a third-party URL" "$LIB" open c1 "$THIRD/alice/e1"
check_eq "... onto the branch its HEAD names (the v2 probe answered without a token)" \
    "$(git -C c1 symbolic-ref HEAD 2>&1)" refs/heads/main
check_contains "... the third party saw the v2 ls-refs probe" "$(cat "$WORK/auth.log")" "POST /alice/e1/git-upload-pack"
check_eq "... and no Authorization header at all" "$(awk '$3 != "-"' "$WORK/auth.log" | wc -l)" 0
check_not_contains "... nor the token anywhere" "$(cat "$WORK/auth.log")" "$HUB_TOKEN"

# the normal case: the endpoint's own host
check "hf_repo_open on HF_ENDPOINT's host still clones" "$LIB" open c2 alice/e2
check_eq "... onto main" "$(git -C c2 symbolic-ref HEAD 2>&1)" refs/heads/main

kill "$proxy_pid" 2>/dev/null
wait "$proxy_pid" 2>/dev/null
done_testing
