#!/usr/bin/env bash
# t_cli_private: `hfgit upload --private` asks for a private repository when it creates one (issue 17).
# hfgit-hub does not honour "private" yet (it ignores the field), so this checks the JSON the CLI sends to
# POST /api/repos/create against a tiny recording stub on 127.0.0.1 (python3): the stub answers 404 to git,
# so the upload creates the repository, and records each create request's body. Once the hub keeps private
# repositories, this check belongs against hfgit-hub itself (a private repo answers 404 without the token).
source "$(dirname "$0")/../lib.sh"

[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
command -v python3 >/dev/null || { skip "upload --private" "python3 is not installed"; done_testing; exit 0; }
cd "$WORK" || exit 1

cat >stub.py <<'PY'
import http.server, sys
log = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):  # git's info/refs: no such repository
        self.answer(404, b'{"error":"Repository not found"}')
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/api/repos/create":
            with open(log, "ab") as f:
                f.write(body + b"\n")
            self.answer(200, b'{"url":"created"}')
        else:
            self.answer(404, b"{}")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("listening on %d" % s.server_address[1], flush=True)
s.serve_forever()
PY
: >creates.log
python3 stub.py "$WORK/creates.log" >stub.out 2>&1 &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening stub.out && break; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(sed -n 's/listening on //p' stub.out)" HF_TOKEN=hf_stub_token HF_HOME="$WORK/hf"

echo x >f.txt
hfgit upload alice/secret f.txt --private >/dev/null 2>&1 # fails after the create: the stub serves no git
check_contains "upload --private asks for a private repository" "$(cat creates.log)" '"private":true'
check_contains "... named as given" "$(cat creates.log)" '"name":"secret"'
: >creates.log
hfgit upload alice/open f.txt >/dev/null 2>&1
check_contains "upload without --private asks for a public one" "$(cat creates.log)" '"private":false'

done_testing
