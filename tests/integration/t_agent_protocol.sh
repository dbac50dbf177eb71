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

# run_agent FILE: feeds FILE to the agent in a scratch folder outside any repository (the suite's own checkout
# must not be taken for the user's); stdout in $WORK/out, stderr in $WORK/err, exit status in $rc.
run_agent() { (cd "$WORK" && exec timeout 60 "$AGENT") <"$1" >"$WORK/out" 2>"$WORK/err"; rc=$?; }
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

# ---- download: init accepted; a download that cannot connect gets an error, the process keeps serving ----
lines '{"event":"init","operation":"download","remote":"origin","concurrent":true,"concurrenttransfers":8}' \
    "{\"event\":\"download\",\"oid\":\"$OID_A\",\"size\":3,\"action\":{\"href\":\"http://127.0.0.1:9/x\",\"expires_at\":\"0001-01-01T00:00:00Z\"}}" \
    "$TERM"
HFGIT_RETRY_MAX_ATTEMPTS=1 run_agent "$WORK/in"
check_eq "download init: accepted" "$(sed -n 1p "$WORK/out")" "{}"
check_contains "download request: started at once" "$(sed -n 2p "$WORK/out")" \
    "{\"event\":\"progress\",\"oid\":\"$OID_A\",\"bytesSoFar\":1,\"bytesSinceLast\":0}"
check_contains "download request: complete with an error for that oid" "$(sed -n 3p "$WORK/out")" \
    "{\"event\":\"complete\",\"oid\":\"$OID_A\",\"error\":{"
check_eq "download: three replies, exit 0" "$(wc -l <"$WORK/out")/$rc" "3/0"

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
check_contains "action null (standalone mode) outside a repository: clear error" "$(sed -n 9p "$WORK/out")" \
    'no LFS endpoint'
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

# ---- a server URL that is not http(s): curl would PUT to file:// and overwrite a local file ----
echo hello >"$WORK/src.bin"
src=$(sha "$WORK/src.bin")
lines "$INIT" \
    "{\"event\":\"upload\",\"oid\":\"$src\",\"size\":6,\"path\":\"$WORK/src.bin\",\"action\":{\"href\":\"file://$WORK/overwritten\"}}" \
    "{\"event\":\"upload\",\"oid\":\"$src\",\"size\":6,\"path\":\"$WORK/src.bin\",\"action\":{\"href\":\"http://127.0.0.1:9/c\",\"header\":{\"1\":\"FILE://$WORK/overwritten\",\"chunk_size\":\"6\"}}}" \
    "$TERM"
run_agent "$WORK/in"
check_eq "file:// href and part URL: two errors" "$(grep -c '"error":{"code":22,.*not an http:// or https:// URL' "$WORK/out")" 2
check "file:// URLs: no local file written" test ! -e "$WORK/overwritten"

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
hub_start --empty-repos --chunk-size 16777216 || { not_ok "hub starts"; done_testing; exit 1; }
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
HFGIT_TRACE=1 run_agent "$WORK/in" # the trace (stderr) must not leak into the protocol
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
check_eq "only protocol lines on stdout, with HFGIT_TRACE=1" "$(grep -cv '^{' "$WORK/out")" 0
check_contains "... while the trace went to stderr" "$(cat "$WORK/err")" "transfer: "
stored="$HUB_ROOT/repos/models/user/proto.git/lfs/objects/${big:0:2}/${big:2:2}/$big"
check "hub holds the big object byte for byte" cmp "$(hub_bytes "$stored")" "$WORK/big.bin"
stats=$(hub_stats)
check_eq "hub: one completion" "$(json_num "$stats" completions_ok)" 1
check_eq "hub: 3 parts taken" "$(json_num "$stats" parts_ok)" 3
check_eq "hub: no Authorization header on signed URLs" "$(json_num "$stats" auth_on_signed_urls)" 0

# batch_reqs FILE...: request lines (in $WORK/reqs) for fresh random files of the given sizes in MiB+3 bytes,
# named $WORK/f1.bin ...; their oids in ${OIDS[@]}.
batch_reqs() {
    local objs="" args=() i=0 mib f
    OIDS=()
    for mib in "$@"; do
        i=$((i + 1)); f="$WORK/f$i.bin"
        head -c $((mib * 1048576 + 3)) /dev/urandom >"$f"
        OIDS+=("$(sha "$f")"); args+=("${OIDS[-1]}=$f")
        objs="$objs${objs:+,}{\"oid\":\"${OIDS[-1]}\",\"size\":$(stat -c %s "$f")}"
    done
    curl -sS -H "Authorization: Bearer $HUB_TOKEN" -H 'Accept: application/vnd.git-lfs+json' \
        -H 'Content-Type: application/vnd.git-lfs+json' -o "$WORK/batch.json" \
        --data "{\"operation\":\"upload\",\"transfers\":[\"multipart\"],\"objects\":[$objs],\"hash_algo\":\"sha256\"}" \
        "$HUB_URL/user/proto.git/info/lfs/objects/batch"
    "$REQ" "$WORK/batch.json" "${args[@]}" >"$WORK/reqs"
}
stat_delta() { # NAME: how much the hub stat NAME grew since the last call of stat_mark
    echo $(($(json_num "$(hub_stats)" "$1") - $(json_num "$MARK" "$1")))
}
stat_mark() { MARK=$(hub_stats); }

# ---- progress stays exact when parts are retried: a 500, and a connection dropped halfway ----
hub_knobs '{"bandwidth_cap":0,"fail_part_number":2,"fail_part_times":1,"drop_part_number":3,"drop_part_times":1}' >/dev/null
batch_reqs 40
stat_mark
{ echo "$INIT"; cat "$WORK/reqs"; } >"$WORK/in" # and EOF without terminate, right after the request
run_agent "$WORK/in"
read -r n sum last mono <<<"$(progress_of "${OIDS[0]}")"
check_eq "retried parts: bytesSinceLast still sums to the size" "$sum" 41943043
check_eq "retried parts: last bytesSoFar is the size, never going back" "$last/$mono" "41943043/1"
check_eq "retried parts: complete without error, then EOF ends the agent (exit 0)" \
    "$(tail -n 1 "$WORK/out")/$rc" "{\"event\":\"complete\",\"oid\":\"${OIDS[0]}\"}/0"
check_eq "retried parts: the hub refused two tries (500, drop) and took one completion" \
    "$(stat_delta parts_refused)/$(stat_delta completions_ok)" "2/1"

# ---- the first failing part stops the others; the message names object, part, status, server text ----
hub_knobs '{"bandwidth_cap":8000000,"fail_part_number":1,"fail_part_times":1000,"drop_part_times":0}' >/dev/null
batch_reqs 80 # 6 parts: with the cap, the others would take 2 s each
stat_mark
{ echo "$INIT"; cat "$WORK/reqs"; echo "$TERM"; } >"$WORK/in"
start=$(date +%s%N)
HFGIT_MULTIPART_PARALLEL=2 run_agent "$WORK/in"
ms=$((($(date +%s%N) - start) / 1000000))
last_line=$(tail -n 1 "$WORK/out")
check_contains "failing part: complete with the HTTP status as code" "$last_line" \
    "{\"event\":\"complete\",\"oid\":\"${OIDS[0]}\",\"error\":{\"code\":500,"
check_contains "failing part: message names object and part" "$last_line" "uploading ${OIDS[0]}: part 1 of 6"
check_contains "failing part: ... and the server's message" "$last_line" "injected failure of part 1"
check_eq "failing part: one complete line, exit 0" "$(grep -c '"event":"complete"' "$WORK/out")/$rc" "1/0"
if [ "$ms" -lt 1500 ]; then ok "failing part: the part in flight is stopped at once (${ms} ms)"
else not_ok "failing part: the part in flight is stopped at once" "took $ms ms"; fi
check_eq "failing part: no other part completed, no completion sent" \
    "$(stat_delta parts_ok)/$(stat_delta requests_complete)" "0/0"

# ---- a completion refused with a 4xx is not retried (a 5xx is: t_agent_faults) ----
hub_knobs '{"bandwidth_cap":0,"fail_part_times":0}' >/dev/null
batch_reqs 20
sed -i 's/\(__complete[^"]*\)/\1x/' "$WORK/reqs" # a broken signature: 403
stat_mark
{ echo "$INIT"; cat "$WORK/reqs"; echo "$TERM"; } >"$WORK/in"
run_agent "$WORK/in"
last_line=$(tail -n 1 "$WORK/out")
check_contains "completion 403: complete with an error, code 403" "$last_line" '"error":{"code":403,'
check_contains "completion 403: tried once" "$last_line" "after 1 attempt"
check_eq "completion 403: the hub saw one completion request" "$(stat_delta requests_complete)" 1

# ---- git-lfs going away mid-upload (our stdout closed): the agent stops and exits promptly ----
hub_knobs '{"bandwidth_cap":2000000}' >/dev/null
batch_reqs 40 # 20 s at the cap
stat_mark
{ echo "$INIT"; cat "$WORK/reqs"; echo "$TERM"; } >"$WORK/in"
start=$(date +%s%N)
timeout 60 "$AGENT" <"$WORK/in" 2>"$WORK/err" | head -n 2 >/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -lt 3000 ]; then ok "stdout closed mid-upload: the agent exits at once (${ms} ms)"
else not_ok "stdout closed mid-upload: the agent exits at once" "took $ms ms"; fi
check_eq "stdout closed mid-upload: no completion sent" "$(stat_delta completions_ok)" 0
hub_knobs '{"bandwidth_cap":0}' >/dev/null

done_testing
