#!/usr/bin/env bash
# tests/lib.sh: sourced by integration tests. TAP output, a scratch dir, and a hub on a free loopback port.
#
#   source "$(dirname "$0")/../lib.sh"
#   hub_start [hub flags...]        # sets HUB_URL, HUB_TOKEN, HUB_ROOT, HUB_PID; stopped at exit
#   hub_create_repo ns/name [json]  # POST /api/repos/create
#   ok "name" / not_ok "name" "why" / check "name" cmd... / skip "name" "why loudly"
#   done_testing                    # last line of every test script
#   s3_start                        # s3rver on a free loopback port, bucket "lfs", behind the fault proxy;
#                                   # sets S3_URL, S3_FLAGS
# HFGIT_TEST_STORAGE=s3: hub_start runs every hub on S3 storage (an s3rver per test, started by s3_start when
# the first hub starts, or an already running store: HFGIT_TEST_S3_ENDPOINT, below); a check that cannot hold
# there says so with skip_on_s3.
set -u
HFGIT_ROOT=${HFGIT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) BUILD_DIR=$BUILD ;; *) BUILD_DIR=$HFGIT_ROOT/$BUILD ;; esac
export PATH="$BUILD_DIR:$PATH"
TEST_N=0
TEST_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hfgit-it.XXXXXX")
export HOME="$WORK/home" # isolated git config; no user settings leak in
mkdir -p "$HOME"
# What a fresh machine with git and git-lfs has: an identity and git-lfs's filters, nothing else. In
# particular no init.defaultBranch (Debian's git then names a new branch master): a test that needs main
# says so (git init -b main), as a user would.
git config --global user.name "hfgit tests"
git config --global user.email "tests@hfgit.invalid"
git config --global advice.detachedHead false
git lfs install --skip-repo >/dev/null 2>&1 || true

ok() { TEST_N=$((TEST_N + 1)); echo "ok $TEST_N - $1"; }
not_ok() {
    TEST_N=$((TEST_N + 1)); TEST_FAILED=$((TEST_FAILED + 1))
    echo "not ok $TEST_N - $1"
    [ $# -ge 2 ] && printf '%s\n' "$2" | sed 's/^/#   /'
    return 0
}
# check NAME CMD...: passes when CMD exits 0; on failure shows its output.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "command: $*"$'\n'"$out"; fi
}
# check_fails NAME CMD...: passes when CMD exits non-zero.
check_fails() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then not_ok "$name" "expected failure, got success: $*"$'\n'"$out"; else ok "$name"; fi
}
# check_contains NAME HAYSTACK NEEDLE
check_contains() {
    if [[ "$2" == *"$3"* ]]; then ok "$1"; else not_ok "$1" "expected to find: $3"$'\n'"in: $2"; fi
}
check_not_contains() {
    if [[ "$2" == *"$3"* ]]; then not_ok "$1" "must not contain: $3"$'\n'"in: $2"; else ok "$1"; fi
}
check_eq() { # NAME GOT WANT
    if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "got: $2"$'\n'"want: $3"; fi
}
skip() { TEST_N=$((TEST_N + 1)); echo "ok $TEST_N - $1 # SKIP $2"; echo "SKIPPED: $1: $2" >&2; }
done_testing() {
    echo "1..$TEST_N"
    [ "$TEST_FAILED" -eq 0 ]
}

HUB_PID=""
S3_PID=""
S3_PROXY_PID=""
HUB_ON_S3=""
cleanup() {
    if [ -n "$HUB_PID" ]; then kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; fi
    if [ -n "$S3_PROXY_PID" ]; then kill "$S3_PROXY_PID" 2>/dev/null; wait "$S3_PROXY_PID" 2>/dev/null; fi
    if [ -n "$S3_PID" ] && [ -z "$S3_EXTERNAL" ]; then kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null; fi
    if [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "# kept $WORK" >&2; fi
}
trap cleanup EXIT

S3RVER=$HFGIT_ROOT/tests/.node/node_modules/.bin/s3rver
# s3_start: an S3 implementation (s3rver, pinned, installed by `make deps`) on a free loopback port, data in
# $WORK/s3data, bucket "lfs" made; started once per test, stopped at exit. In front of it the fault proxy
# (tests/integration/lib_s3_proxy.py): the hub is given the proxy as its endpoint, so the presigned URLs the
# clients use go through it, and hub_knobs' part, range and bandwidth knobs act there as on the hub's own URLs.
# Sets S3_PORT and S3_URL (the proxy's: what the hub and clients see), S3_STORE_URL (the store itself), S3_FLAGS
# (hub flags: s3://lfs/hub) and exports the credentials s3rver accepts. Returns 1 (saying why) without s3rver.
s3_start() {
    [ -n "$S3_PID" ] && return 0
    if [ -n "${HFGIT_TEST_S3_ENDPOINT:-}" ]; then s3_external; return; fi
    [ -x "$S3RVER" ] || { echo "s3rver is not installed (make deps: tests/npm_deps.sh)" >&2; return 1; }
    local store_port
    store_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    S3_STORE_URL=http://127.0.0.1:$store_port
    mkdir -p "$WORK/s3data"
    "$S3RVER" -d "$WORK/s3data" -a 127.0.0.1 -p "$store_port" --configure-bucket lfs --silent >"$WORK/s3rver.log" 2>&1 &
    S3_PID=$!
    local i
    for i in $(seq 1 150); do curl -s -o /dev/null "$S3_STORE_URL/" && break; sleep 0.1; done
    s3_proxy_start 127.0.0.1 "$store_port" || return 1
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
    S3_FLAGS=(--lfs-storage s3://lfs/hub --s3-endpoint "$S3_URL" --s3-region us-east-1)
}
# s3_proxy_start HOST PORT: the fault proxy in front of the store at HOST:PORT; sets S3_PORT, S3_URL.
s3_proxy_start() {
    python3 "$HFGIT_ROOT/tests/integration/lib_s3_proxy.py" "$1" "$2" >"$WORK/s3proxy.out" 2>"$WORK/s3proxy.log" &
    S3_PROXY_PID=$!
    local i
    for i in $(seq 1 100); do
        S3_PORT=$(sed -n 's/^listening on //p' "$WORK/s3proxy.out")
        [ -n "$S3_PORT" ] && break
        sleep 0.05
    done
    [ -n "$S3_PORT" ] || { echo "the S3 fault proxy did not start: $(cat "$WORK/s3proxy.log")" >&2; return 1; }
    S3_URL=http://127.0.0.1:$S3_PORT
}

# ---- an S3 store that is already running (HFGIT_TEST_S3_ENDPOINT), instead of an s3rver per test ----
# HFGIT_TEST_S3_ENDPOINT=URL with HFGIT_TEST_S3_BUCKET (an existing bucket), HFGIT_TEST_S3_REGION (default
# us-east-1) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: s3_start uses that store (tests/s3_radosgw.sh starts
# Ceph's radosgw so). Each test keeps its objects under its own prefix, <its $WORK's name>/hub, so tests do not
# see each other's objects. Sets S3_EXTERNAL=1 and S3_PID=external (nothing to stop). S3_BUCKET and S3_PREFIX
# name what the hub was given in both cases; s3_curl reads from the store (signed when it is external). An
# http://HOST:PORT endpoint gets the fault proxy in front of it too (the Host header passes untouched, so the
# store's SigV4 checks hold); another (https) is used directly, and the knobs do not reach it.
S3_EXTERNAL=""
S3_BUCKET=lfs
S3_PREFIX=hub
s3_external() {
    [ -n "${HFGIT_TEST_S3_BUCKET:-}" ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] ||
        { echo "HFGIT_TEST_S3_ENDPOINT needs HFGIT_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" >&2; return 1; }
    S3_EXTERNAL=1 S3_PID=external
    S3_STORE_URL=${HFGIT_TEST_S3_ENDPOINT%/}
    S3_URL=$S3_STORE_URL
    S3_PORT=${S3_URL##*:}
    if [[ $S3_STORE_URL =~ ^http://([^/:]+):([0-9]+)$ ]]; then
        s3_proxy_start "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || return 1
    fi
    S3_BUCKET=$HFGIT_TEST_S3_BUCKET
    S3_PREFIX=${WORK##*/}/hub
    S3_FLAGS=(--lfs-storage "s3://$S3_BUCKET/$S3_PREFIX" --s3-endpoint "$S3_URL" --s3-region "${HFGIT_TEST_S3_REGION:-us-east-1}")
}
# s3_curl [curl args] URL: curl to the store; SigV4-signed on an external store (s3rver answers anonymous
# requests). curl 7.88 signs the body's hash without sending it, so the payload is declared UNSIGNED-PAYLOAD.
s3_curl() {
    if [ -n "$S3_EXTERNAL" ]; then
        curl --aws-sigv4 "aws:amz:${HFGIT_TEST_S3_REGION:-us-east-1}:s3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
            --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"
    else
        curl "$@"
    fi
}
# skip_on_s3 NAME: true (and a loud skip of NAME) when the suite runs on S3 storage, where parts and objects go
# straight to the store: hub knobs that act on the hub's own part/object URLs, and its files, do not apply.
skip_on_s3() {
    [ "${HFGIT_TEST_STORAGE:-}" = s3 ] || return 1
    skip "$1" "HFGIT_TEST_STORAGE=s3: ${2:-parts and objects go straight to the store, not through the hub}"
}
# s3_proxy METHOD PATH [BODY]: the fault proxy's control endpoints (/__proxy/knobs, /__proxy/stats)
s3_proxy() { curl -sS -f -X "$1" ${3:+--data "$3"} "$S3_URL$2"; }

# hub_bytes PATH: the file with the bytes of the hub's LFS object at PATH (<repo>.git/lfs/objects/aa/bb/OID).
# On S3 storage the hub keeps only a sparse stand-in there: the bytes are read back from the store (asked over
# HTTP by s3_curl) into a file under $WORK. PATH itself when there is no such object.
hub_bytes() {
    local p=$1 key
    if [ "${HFGIT_TEST_STORAGE:-}" = s3 ] && key=$(cat "${p%/lfs/objects/*}/lfs/s3/${p##*/}" 2>/dev/null) &&
        s3_curl -sS -f -o "$WORK/s3obj.${p##*/}" "$S3_STORE_URL/$S3_BUCKET/$key"; then
        echo "$WORK/s3obj.${p##*/}"
    else
        echo "$p"
    fi
}
# hub_cat PATH: the bytes of the hub's LFS object at PATH on stdout, streamed from the store on S3 storage (for
# objects too big to copy).
hub_cat() {
    local p=$1 key
    if [ "${HFGIT_TEST_STORAGE:-}" = s3 ] && key=$(cat "${p%/lfs/objects/*}/lfs/s3/${p##*/}" 2>/dev/null); then
        s3_curl -sS -f "$S3_STORE_URL/$S3_BUCKET/$key"
    else
        cat "$p"
    fi
}

# hub_start [extra flags]: starts hfgit-hub on 127.0.0.1 with a kernel-chosen port and waits for its URL.
# With HFGIT_TEST_STORAGE=s3 (and no --lfs-storage of the caller's) on S3 storage in a per-test s3rver.
hub_start() {
    HUB_ROOT="$WORK/hub"
    HUB_TOKEN=${HUB_TOKEN:-hf_test_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
    mkdir -p "$HUB_ROOT"
    : >"$WORK/hub.out"
    local storage=()
    HUB_ON_S3=""
    if [ "${HFGIT_TEST_STORAGE:-}" = s3 ] && [[ " $* " != *" --lfs-storage "* ]]; then
        s3_start || return 1
        storage=("${S3_FLAGS[@]}")
    fi
    # on S3 storage through the fault proxy: knobs and the store-side counters live there too
    [ -n "$S3_PROXY_PID" ] && [[ " $* ${storage[*]} " == *" --s3-endpoint $S3_URL "* ]] && HUB_ON_S3=1
    "$BUILD_DIR/hfgit-hub" --root "$HUB_ROOT" --listen 127.0.0.1:0 --token "$HUB_TOKEN" "$@" ${storage[@]+"${storage[@]}"} \
        >"$WORK/hub.out" 2>"$WORK/hub.err" &
    HUB_PID=$!
    local i
    for i in $(seq 1 100); do
        HUB_URL=$(sed -n 's/.*listening on \(https\?:[^ ]*\).*/\1/p' "$WORK/hub.out" | head -n 1)
        [ -n "$HUB_URL" ] && break
        if ! kill -0 "$HUB_PID" 2>/dev/null; then break; fi
        sleep 0.05
    done
    if [ -z "${HUB_URL:-}" ]; then
        echo "hub did not start:" >&2; cat "$WORK/hub.err" >&2
        return 1
    fi
    export HUB_URL HUB_TOKEN HUB_ROOT
    # the knobs the hub was started with (flags) act at the proxy too, and its counters start at 0 as the hub's
    if [ -n "$HUB_ON_S3" ]; then
        s3_proxy POST /__proxy/knobs "$(curl -sS -f "$HUB_URL/__knobs")" >/dev/null &&
            s3_proxy POST /__proxy/stats/reset >/dev/null || return 1
    fi
}
hub_stop() { if [ -n "$HUB_PID" ]; then kill "$HUB_PID"; wait "$HUB_PID" 2>/dev/null; HUB_PID=""; fi; }

# hub_create_repo ID [extra json members, e.g. '"lfsmultipartthresh":1048576']: ID is ns/name,
# datasets/ns/name or spaces/ns/name.
hub_create_repo() {
    local id=$1 extra=${2:-} type=model
    case "$id" in datasets/*) type=dataset; id=${id#datasets/} ;; spaces/*) type=space; id=${id#spaces/} ;; esac
    local body="{\"name\":\"${id#*/}\",\"organization\":\"${id%%/*}\",\"type\":\"$type\"${extra:+,$extra}}"
    curl -sS -f -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/json' \
        --data "$body" "$HUB_URL/api/repos/create"
}
# hub_stats: the hub's /__stats. On S3 storage the counters of part and object requests (which go to the store)
# are the fault proxy's, which counts them as the hub counts its own.
hub_stats() {
    if [ -z "$HUB_ON_S3" ]; then curl -sS -f "$HUB_URL/__stats"; return; fi
    local h p
    h=$(curl -sS -f "$HUB_URL/__stats") && p=$(s3_proxy GET /__proxy/stats) || return 1
    python3 -c 'import json, sys; h = json.loads(sys.argv[1]); h.update(json.loads(sys.argv[2]))
print(json.dumps(h, separators=(",", ":")))' "$h" "$p"
}
hub_stats_reset() {
    curl -sS -f -X POST -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/__stats/reset" >/dev/null || return 1
    if [ -n "$HUB_ON_S3" ]; then s3_proxy POST /__proxy/stats/reset >/dev/null; fi
}
# hub_knobs '{"fail_part_number":2,...}': on S3 storage the same knobs are set at the fault proxy.
hub_knobs() {
    curl -sS -f -X POST -H "Authorization: Bearer $HUB_TOKEN" --data "$1" "$HUB_URL/__knobs" || return 1
    if [ -n "$HUB_ON_S3" ]; then s3_proxy POST /__proxy/knobs "$1" >/dev/null; fi
}
# json_get FILE_OR_- KEY: a top-level integer from a flat JSON object (stats) without jq.
json_num() { sed -n "s/.*\"$2\":\([0-9-]*\).*/\1/p" <<<"$1"; }

# A git credential helper that answers with the hub token, so no token lands in a URL or .git/config.
git_auth() { # usage: git_auth push origin main (runs git ARGS with a one-shot credential helper)
    git -c credential.helper= -c "credential.helper=!f() { echo username=hf; echo password=$HUB_TOKEN; }; f" "$@"
}
# sha FILE: its SHA-256. openssl's uses the CPU's SHA extensions where there are some: 1.3 GB/s here against
# sha256sum's 160 MB/s, which took 38 s of t_agent_large's 5.5 GiB.
sha() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
