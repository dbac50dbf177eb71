#!/usr/bin/env bash
# t_agent_protocol.sh: git-lfs-hfmultipart driven directly on stdin, no git-lfs in the loop (issue 3, acceptance 5).
# The protocol lines are what git-lfs 3.3.0 writes (reference/git-lfs-3.3.0.md §4); real uploads go to hfgit-hub,
# with upload requests built from a real batch response by tests/tools/agent_request.c.
source "$(dirname "$0")/../lib.sh"

AGENT=$BUILD_DIR/git-lfs-hfmultipart
REQ=$BUILD_DIR/tests/agent_request
INIT='{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}'
TERM='{"event":"terminate"}'
OID_A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
OID_B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
export HFGIT_RETRY_BASE_MS=10 HFGIT_RETRY_MAX_ATTEMPTS=2

# run_agent FILE: feeds FILE to the agent; stdout in $WORK/out, stderr in $WORK/err, exit status in $rc.
run_agent() { timeout 60 "$AGENT" <"$1" >"$WORK/out" 2>"$WORK/err"; rc=$?; }
lines() { printf '%s\n' "$@" >"$WORK/in"; }
# sums of one oid's progress events: "<events> <sum of bytesSinceLast> <last bytesSoFar> <monotonic 0/1>"
progress_of() {
    grep '"event":"progress"' "$WORK/out" | grep "\"oid\":\"$1\"" |
        sed 's/.*"bytesSoFar":\([0-9]*\),"bytesSinceLast":\([0-9]*\).*/\1 \2/' |
        awk 'BEGIN{n=0;s=0;last=0;mono=1} {n++; s+=$2; if ($1<last) mono=0; last=$1} END{print n, s, last, mono}'
}

# ---- process life cycle (no server needed) ----
lines "$INIT" "$TERM"
run_agent "$WORK/in"
check_eq "init then terminate: exactly one {} reply" "$(cat "$WORK/out")" "{}"
check_eq "init then terminate: exit 0" "$rc" 0

lines "$INIT"
run_agent "$WORK/in"
check_eq "init then EOF (no terminate): {} and exit 0" "$(cat "$WORK/out")/$rc" "{}/0"

: >"$WORK/in"
run_agent "$WORK/in"
check_eq "EOF before init: no output, exit 0" "$(cat "$WORK/out")/$rc" "/0"

printf '%s\n' '{"type":"terminate"}' '{"event":"init","operation":"upload"}' >"$WORK/in"
run_agent "$WORK/in"
check_eq "old-style {\"type\":\"terminate\"} ends the process at once" "$(cat "$WORK/out")/$rc" "/0"

# ---- download refused at init, the process keeps serving ----
lines '{"event":"init","operation":"download","remote":"origin","concurrent":true,"concurrenttransfers":8}' \
    "{\"event\":\"download\",\"oid\":\"$OID_A\",\"size\":3,\"action\":{\"href\":\"http://127.0.0.1:9/x\",\"expires_at\":\"0001-01-01T00:00:00Z\"}}" \
    "$TERM"
run_agent "$WORK/in"
first=$(sed -n 1p "$WORK/out")
check_contains "download init: error code 32" "$first" '{"error":{"code":32,"message":'
check_contains "download init: message says how to fix" "$first" "direction=upload"
check_contains "download request afterwards: complete with an error for that oid" "$(sed -n 2p "$WORK/out")" \
    "{\"event\":\"complete\",\"oid\":\"$OID_A\",\"error\":{"
check_eq "download: two replies, exit 0" "$(wc -l <"$WORK/out")/$rc" "2/0"

# ---- malformed lines: one error reply each, no crash, still serving ----
big_garbage=$(head -c 3000000 /dev/zero | tr '\0' 'x')
lines "$INIT" 'this is not json' "{\"event\":\"upload\",\"oid\":\"$OID_A\",\"size\":5,broken" '[1,2,3]' \
    "{\"event\":\"frobnicate\",\"oid\":\"$OID_B\"}" \
    "{\"event\":\"upload\",\"oid\":\"$OID_B\",\"size\":5,\"path\":\"/x\",\"action\":{\"href\":\"http://127.0.0.1:9/c\",\"header\":{\"00001\":\"http://127.0.0.1:9/p\",\"chunk_size\":\"2\"},\"expires_at\":\"0001-01-01T00:00:00Z\"}}" \
    "{\"event\":\"upload\",\"oid\":\"$OID_B\",\"size\":5,\"path\":\"/x\",\"action\":null}" \
    "{\"event\":\"upload\",\"oid\":\"$OID_B\",\"size\":5,\"path\":\"/x\",\"action\":{\"href\":\"http://127.0.0.1:9/c\",\"header\":{\"chunk_size\":\"0\",\"00001\":\"http://127.0.0.1:9/p\"}}}" \
    "$big_garbage" "$INIT" "$TERM"
run_agent "$WORK/in"
check_eq "malformed lines: exit 0 (no crash)" "$rc" 0
check_eq "malformed lines: 13 replies (8 errors, 3 started events, 2 init)" "$(wc -l <"$WORK/out")" 13
check_eq "malformed lines: 8 complete-with-error replies" \
    "$(grep -c '"event":"complete",.*"error":{"code":' "$WORK/out")" 8
check_contains "unparsable line: error reply with an empty oid" "$(sed -n 2p "$WORK/out")" \
    '{"event":"complete","oid":"","error":{"code":22,"message":"unreadable request line'
check_contains "broken line that names an oid: the reply names it" "$(sed -n 3p "$WORK/out")" \
    "{\"event\":\"complete\",\"oid\":\"$OID_A\",\"error\""
check_contains "unknown event: error naming it" "$(sed -n 5p "$WORK/out")" 'unknown request event \"frobnicate\"'
check_contains "part count checked against ceil(size/chunk_size)" "$(sed -n 7p "$WORK/out")" \
    'the server sent 1 part URLs, but 5 bytes in parts of 2 bytes need 3'
check_contains "action null (standalone mode): clear error" "$(sed -n 9p "$WORK/out")" 'no upload action'
check_contains "chunk_size 0: error" "$(sed -n 11p "$WORK/out")" 'chunk_size is 0'
check_eq "3 MB line of garbage answered, then init still works" "$(tail -n 1 "$WORK/out")" "{}"

# ---- upload of a missing file: error reply ----
lines "$INIT" \
    "{\"event\":\"upload\",\"oid\":\"$OID_A\",\"size\":5,\"path\":\"$WORK/no-such-file\",\"action\":{\"href\":\"http://127.0.0.1:9/c\",\"header\":{\"00001\":\"http://127.0.0.1:9/p\",\"chunk_size\":\"5\"},\"expires_at\":\"0001-01-01T00:00:00Z\"}}" \
    "$TERM"
run_agent "$WORK/in"
check_eq "missing file: started event first" "$(sed -n 2p "$WORK/out")" \
    "{\"event\":\"progress\",\"oid\":\"$OID_A\",\"bytesSoFar\":1,\"bytesSinceLast\":0}"
check_contains "missing file: complete with an error naming the file" "$(sed -n 3p "$WORK/out")" \
    "\"error\":{\"code\":2,\"message\":\"uploading $OID_A: cannot open $WORK/no-such-file: No such file"
check_eq "missing file: exit 0" "$rc" 0

# ---- --help, --version, a TTY on stdin ----
check_contains "--help explains who starts it" "$("$AGENT" --help)" "git-lfs starts it"
check_contains "--version" "$("$AGENT" --version)" "git-lfs-hfmultipart 0."
if command -v script >/dev/null 2>&1; then
    tty_out=$(script -qec "$AGENT" /dev/null </dev/null 2>&1)
    check_contains "run by hand on a TTY: explains lfs-enable-largefiles" "$tty_out" "hfgit lfs-enable-largefiles"
else
    skip "run by hand on a TTY" "script(1) is not installed"
fi
check_fails "unknown argument refused" "$AGENT" --frobnicate

# ---- real uploads against hfgit-hub: multipart + single PUT in one process ----
hub_start --chunk-size 16777216 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/proto '"lfsmultipartthresh":1048576' >/dev/null
head -c 41943043 /dev/urandom >"$WORK/big.bin" # 3 parts of 16 MiB, the last 8 MiB + 3 bytes
head -c 200000 /dev/urandom >"$WORK/small.bin"
big=$(sha "$WORK/big.bin")
small=$(sha "$WORK/small.bin")
curl -sS -H "Authorization: Bearer $HUB_TOKEN" -H 'Accept: application/vnd.git-lfs+json' \
    -H 'Content-Type: application/vnd.git-lfs+json' -o "$WORK/batch.json" \
    --data "{\"operation\":\"upload\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[{\"oid\":\"$big\",\"size\":41943043},{\"oid\":\"$small\",\"size\":200000}],\"ref\":{\"name\":\"refs/heads/main\"},\"hash_algo\":\"sha256\"}" \
    "$HUB_URL/user/proto.git/info/lfs/objects/batch"
check_contains "hub batch answers multipart" "$(cat "$WORK/batch.json")" '"transfer":"multipart"'
"$REQ" "$WORK/batch.json" "$big=$WORK/big.bin" "$small=$WORK/small.bin" >"$WORK/reqs"
check_contains "request line carries \\u0026-escaped URLs as git-lfs writes them" "$(cat "$WORK/reqs")" '\u0026'
# A per-connection cap makes the upload take a few hundred ms, so progress comes in several events.
hub_knobs '{"bandwidth_cap":20000000}' >/dev/null
{ echo "$INIT"; cat "$WORK/reqs"; echo "$TERM"; } >"$WORK/in"
run_agent "$WORK/in"
check_eq "uploads: exit 0" "$rc" 0
check_eq "big object: the started event comes first" \
    "$(grep "\"oid\":\"$big\"" "$WORK/out" | head -n 1)" \
    "{\"event\":\"progress\",\"oid\":\"$big\",\"bytesSoFar\":1,\"bytesSinceLast\":0}"
read -r n sum last mono <<<"$(progress_of "$big")"
check_eq "big object: bytesSinceLast sums to the size" "$sum" 41943043
check_eq "big object: last bytesSoFar is the size" "$last" 41943043
check_eq "big object: bytesSoFar never goes back" "$mono" 1
if [ "$n" -ge 4 ]; then ok "big object: several progress events ($n)"; else not_ok "big object: several progress events" "got $n"; fi
check_eq "big object: complete without error" "$(grep "\"oid\":\"$big\"" "$WORK/out" | tail -n 1)" \
    "{\"event\":\"complete\",\"oid\":\"$big\"}"
read -r n sum last mono <<<"$(progress_of "$small")"
check_eq "small object (single PUT): progress exact" "$sum/$last" "200000/200000"
check_eq "small object: complete without error" "$(grep "\"oid\":\"$small\"" "$WORK/out" | tail -n 1)" \
    "{\"event\":\"complete\",\"oid\":\"$small\"}"
check_eq "only protocol lines on stdout" "$(grep -cv '^{' "$WORK/out")" 0
stored="$HUB_ROOT/repos/models/user/proto.git/lfs/objects/${big:0:2}/${big:2:2}/$big"
check "hub holds the big object byte for byte" cmp "$stored" "$WORK/big.bin"
stats=$(hub_stats)
check_eq "hub: one completion" "$(json_num "$stats" completions_ok)" 1
check_eq "hub: 3 parts taken" "$(json_num "$stats" parts_ok)" 3
check_eq "hub: no Authorization header on signed URLs" "$(json_num "$stats" auth_on_signed_urls)" 0

done_testing
