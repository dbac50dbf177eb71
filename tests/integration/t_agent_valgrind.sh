#!/usr/bin/env bash
# t_agent_valgrind.sh: git-lfs-hfmultipart under valgrind --leak-check=full (issue 7), driven on stdin through
# every path that allocates: bad lines, a missing file, multipart and single-PUT uploads to hfgit-hub with a
# retried part, a part failing past the retry budget (the other parts stopped), a completion refused, EOF
# and terminate. Any leak or invalid access makes valgrind exit 99.
source "$(dirname "$0")/../lib.sh"

AGENT=$BUILD_DIR/git-lfs-hfmultipart
REQ=$BUILD_DIR/tests/agent_request
INIT='{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}'
export HFGIT_RETRY_BASE_MS=10 HFGIT_RETRY_MAX_ATTEMPTS=2

check "the agent is built" test -x "$AGENT"
if ! command -v valgrind >/dev/null 2>&1; then
    skip "agent under valgrind" "valgrind is not installed (apt-get install valgrind)"
    done_testing; exit 0
fi
if [ -n "${SAN:-}" ] || nm "$AGENT" 2>/dev/null | grep -q '__[at]san_init'; then
    skip "agent under valgrind" "this is a sanitizer build; valgrind runs on the plain build"
    done_testing; exit 0
fi

# vg_agent FILE: the agent under valgrind on FILE; stdout in $WORK/out, valgrind's report in $WORK/vg.log.
vg_agent() {
    timeout 300 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=99 \
        --log-file="$WORK/vg.log" "$AGENT" <"$1" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ "$rc" -eq 0 ] || sed 's/^/# /' "$WORK/vg.log" | head -n 40
}
completes() { grep -c '"event":"complete"' "$WORK/out"; }
errors() { grep -c '"event":"complete".*"error"' "$WORK/out"; }

PART=1048576 # on S3 storage parts are 5 MiB at least (the store's minimum): the same part counts
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && PART=5242880
BIG=$((4 * PART + 3)) GONE=$((3 * PART))
hub_start --empty-repos --chunk-size $PART || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/vg '"lfsmultipartthresh":1048576' >/dev/null
mk() { head -c "$2" /dev/urandom >"$WORK/$1"; sha "$WORK/$1"; }
big=$(mk big.bin $BIG) # 5 parts
small=$(mk small.bin 1000)
gone=$(mk gone.bin $GONE)
batch() { # OID:SIZE... -> request lines
    local objs="" o
    for o in "$@"; do objs="$objs${objs:+,}{\"oid\":\"${o%:*}\",\"size\":${o#*:}}"; done
    curl -sS -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
        -H 'Accept: application/vnd.git-lfs+json' -o "$WORK/batch.json" \
        --data "{\"operation\":\"upload\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[$objs]}" \
        "$HUB_URL/user/vg.git/info/lfs/objects/batch"
    "$REQ" "$WORK/batch.json" "$big=$WORK/big.bin" "$small=$WORK/small.bin" "$gone=$WORK/nonexistent"
}

# ---- success paths and bad lines, ended by EOF ----
hub_knobs '{"fail_part_number":2,"fail_part_times":1}' >/dev/null
{
    echo "$INIT"
    echo 'this is not json'
    printf '{"event":"init",\0"operation":"upload"}\n'
    echo '{"event":"upload","oid":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":5,"path":"/x","action":{"href":"h","header":{"1":"u","2":"v","chunk_size":"3","X-Bad Key":"1"}}}'
    batch "$big:$BIG" "$small:1000" "$gone:$GONE"
} >"$WORK/in"
vg_agent "$WORK/in"
check_eq "valgrind: no leak or invalid access (bad lines, uploads, retried part, missing file, EOF)" "$rc" 0
check_eq "... 6 complete lines, 4 of them errors" "$(completes)/$(errors)" "6/4"
check "... the multipart object arrived" cmp "$(hub_bytes "$HUB_ROOT/repos/models/user/vg.git/lfs/objects/${big:0:2}/${big:2:2}/$big")" \
    "$WORK/big.bin"

# ---- failure paths: a part failing past the budget, a completion refused; terminate ----
head -c $BIG /dev/urandom >"$WORK/big.bin"; big=$(sha "$WORK/big.bin")
head -c 2097152 /dev/urandom >"$WORK/small.bin"; small=$(sha "$WORK/small.bin")
hub_knobs '{"fail_part_number":3,"fail_part_times":1000}' >/dev/null
{ echo "$INIT"; batch "$big:$BIG"; } >"$WORK/in"
hub_knobs '{"fail_part_times":0}' >/dev/null
batch "$small:2097152" | sed 's/\(__complete[^"]*\)/\1x/' >>"$WORK/in" # broken signature: 403
hub_knobs '{"fail_part_number":3,"fail_part_times":1000}' >/dev/null
echo '{"event":"terminate"}' >>"$WORK/in"
vg_agent "$WORK/in"
check_eq "valgrind: no leak or invalid access (failed part, stopped parts, refused completion)" "$rc" 0
check_eq "... 2 complete lines, both errors" "$(completes)/$(errors)" "2/2"
check_contains "... the part failure is reported" "$(cat "$WORK/out")" "part 3 of 5"

done_testing
