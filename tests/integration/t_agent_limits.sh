#!/usr/bin/env bash
# t_agent_limits.sh: the agent's bound on request lines (issue 11): a line over the limit gets an error reply
# for the object it names (what the limit is, how to raise it), the process keeps serving, and a 10,000-part
# line under the limit is parsed (its peak RSS is a figure in bench/agent_lines.sh, not asserted here).
source "$(dirname "$0")/../lib.sh"

AGENT=$BUILD_DIR/git-lfs-hfmultipart
INIT='{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}'
TERM='{"event":"terminate"}'
OID=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc

# upload_line OID SIZE NPARTS URLLEN: an upload request with NPARTS part URLs of URLLEN bytes each
upload_line() {
    python3 - "$@" <<'PY'
import sys, json
oid, size, n, ulen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chunk = -(-size // n)
hdr = {"chunk_size": str(chunk)}
for i in range(1, n + 1):
    base = "http://127.0.0.1:9/__part/x/%d?sig=" % i
    hdr["%05d" % i] = base + "a" * max(0, ulen - len(base))
print(json.dumps({"event": "upload", "oid": oid, "size": size, "path": "/nonexistent/x",
                  "action": {"href": "http://127.0.0.1:9/__complete/x", "header": hdr}}, separators=(",", ":")))
PY
}

{
    echo "$INIT"
    upload_line "$OID" 20000000 2000 1000 # ~2 MB
    echo "$TERM"
} >"$WORK/in"
HFGIT_AGENT_MAX_LINE=1M timeout 60 "$AGENT" <"$WORK/in" >"$WORK/out" 2>"$WORK/err"; rc=$?
check_eq "over-limit line: the agent exits 0 after terminate" "$rc" 0
reply=$(grep '"event":"complete"' "$WORK/out")
check_contains "over-limit line: complete with an error for the object named in the line" "$reply" \
    "{\"event\":\"complete\",\"oid\":\"$OID\",\"error\":{\"code\":22"
check_contains "over-limit line: the message gives the limit" "$reply" "over this agent's limit of 1048576 bytes"
check_contains "over-limit line: ... and how to raise it" "$reply" "HFGIT_AGENT_MAX_LINE"
check_eq "over-limit line: the init reply, one complete, nothing else" \
    "$(sed -n 1p "$WORK/out")/$(wc -l <"$WORK/out")" "{}/2"

# the next request after an over-limit line is read from its own start (the rest of the long line was drained)
{
    echo "$INIT"
    upload_line "$OID" 20000000 2000 1000
    echo '{"event":"frobnicate","oid":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"}'
    echo "$TERM"
} >"$WORK/in"
HFGIT_AGENT_MAX_LINE=1M timeout 60 "$AGENT" <"$WORK/in" >"$WORK/out" 2>"$WORK/err"
check_contains "after an over-limit line: the next line is answered on its own" "$(tail -n 1 "$WORK/out")" \
    '"oid":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","error":{"code":22,"message":"unknown request event'

# 10,000 part URLs of 1 KB: under the default limit, parsed; the request fails only on its missing file
{
    echo "$INIT"
    upload_line "$OID" $((10000 * 5 * 1048576)) 10000 1000
    echo "$TERM"
} >"$WORK/in"
check_eq "the 10,000-part line is about 10 MB" "$(($(wc -c <"$WORK/in") / 1000000))" 10
timeout 60 "$AGENT" <"$WORK/in" >"$WORK/out" 2>"$WORK/err"; rc=$?
check_eq "10,000 parts: exit 0" "$rc" 0
check_contains "10,000 parts: parsed; the error is about the file, not the line" \
    "$(grep '"event":"complete"' "$WORK/out")" "cannot open /nonexistent/x"

done_testing
