#!/usr/bin/env bash
# t_security.sh: tokens stay secret and LFS oids never become paths (issue 7, security checks).
#
# Tokens: a push, a clone and a push with a wrong token through each client - git + git-lfs + the agent, the
# hfgit CLI, the library driver (tests/tools/lib_repo) - with HFGIT_TRACE=1 and GIT_TRACE=1, every stdout and
# stderr captured. Neither the token nor the wrong one (raw, or base64 inside a Basic header) appears in any
# output, trace or error text, nor in any file under the repositories' .git; the remote URL of repos cloned
# by the library and the CLI carries no token; the hub saw no Authorization header on a signed URL.
# Oids that are not 64 lowercase hex ("../../../etc/passwd", uppercase, 63 or 65 digits, a path padded to
# 64): a batch request to the hub gets an object error and creates no file; an upload line to the agent gets
# complete-with-error and the agent touches no file (strace) and sends no request; pointer files carrying
# such oids, committed and cloned by the library and the CLI, stay text and nothing is written elsewhere.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "security checks" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB=$BUILD_DIR/tests/lib_repo
HFGIT=$BUILD_DIR/hfgit
AGENT=$BUILD_DIR/git-lfs-hfmultipart
for p in "$LIB" "$HFGIT" "$AGENT"; do
    [ -x "$p" ] || { not_ok "$(basename "$p") is built" "missing $p (make tests)"; done_testing; exit 1; }
done
MiB=1048576
PART=$MiB # on S3 storage parts are 5 MiB at least (the store's minimum): the same part counts
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && PART=$((5 * MiB))
hub_start --empty-repos --chunk-size $PART || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/sec '"lfsmultipartthresh":3000000' >/dev/null || not_ok "create user/sec"
export HFGIT_RETRY_BASE_MS=5 HF_ENDPOINT="$HUB_URL" HF_HOME="$WORK/hf"
export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
cd "$WORK" || exit 1

BAD="hf_wrong_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# What a leak could look like: each token raw, and as the base64 of "user:token" in a Basic header.
SECRETS=("$HUB_TOKEN" "$BAD")
for t in "$HUB_TOKEN" "$BAD"; do SECRETS+=("$(printf 'hf:%s' "$t" | base64 -w0)" "$(printf '%s' "$t" | base64 -w0)"); done
# Credential helpers read the token from a file: a token on a command line would show in GIT_TRACE's
# run_command lines through no fault of the code under test.
printf '%s' "$HUB_TOKEN" >good.tok && printf '%s' "$BAD" >bad.tok
for k in good bad; do
    printf '#!/bin/sh\n[ "$1" = get ] || exit 0\necho username=hf\necho "password=$(cat %s)"\n' "$WORK/$k.tok" >"cred-$k"
    chmod +x "cred-$k"
done
gcred() { local k=$1; shift; git -c credential.helper= -c "credential.helper=$WORK/cred-$k" "$@"; }

# logrun NAME CMD...: runs CMD with every trace on, stdout and stderr in logs/NAME.{out,err}; exit status in $rc.
mkdir -p logs
logrun() {
    local n=$1; shift
    HFGIT_TRACE=1 GIT_TRACE=1 "$@" >"logs/$n.out" 2>"logs/$n.err"
    rc=$?
}
# leaks PATH...: the secrets found in the files at or under PATHs (what cannot be read is ignored)
leaks() {
    local s
    for s in "${SECRETS[@]}"; do grep -rlF -e "$s" "$@" 2>/dev/null | sed "s|\$| holds ${s:0:12}...|"; done
}
no_leak() { # NAME PATH...
    local found
    found=$(leaks "${@:2}")
    [ -z "$found" ] && ok "$1" || not_ok "$1" "$found"
}
commit_file() { # CLIENT DIR NAME BYTES: a new random file committed by that client
    head -c "$4" /dev/urandom >"$2/$3"
    case $1 in
    git) git -C "$2" add "$3" && git -C "$2" commit -qm "$3" ;;
    cli) HF_TOKEN=$HUB_TOKEN "$HFGIT" -q add -C "$2" "$3" && HF_TOKEN=$HUB_TOKEN "$HFGIT" -q commit -C "$2" -m "$3" >/dev/null ;;
    lib) "$LIB" add "$2" "$3" --auto && "$LIB" commit "$2" "$3" >/dev/null ;;
    esac
}
stored() { hub_bytes "$HUB_ROOT/repos/models/user/sec.git/lfs/objects/${1:0:2}/${1:2:2}/$1"; }

# ==== tokens ====
# --- git + git-lfs + the agent ---
logrun git_clone gcred good clone "$HUB_URL/user/sec" g
check_eq "git: clone succeeds" "$rc" 0
(cd g && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null && git lfs track '*.bin' >/dev/null &&
    git add .gitattributes && git commit -qm attributes)
commit_file git g big.bin $((4 * PART + 1))
commit_file git g small.bin 5000
logrun git_push gcred good -C g push origin main
check_eq "git: push (multipart through the agent, and a basic object) succeeds" "$rc" 0
check "git: the hub has the multipart object" cmp "$(stored "$(sha g/big.bin)")" g/big.bin
check_contains "git: the traces were on (the agent's HFGIT_TRACE lines came through GIT_TRACE)" \
    "$(cat logs/git_push.err)" "multipart, 5 parts"
logrun git_clone2 gcred good clone "$HUB_URL/user/sec" g2
check "git: a second clone gets the LFS files (git-lfs download)" cmp g/big.bin g2/big.bin
commit_file git g more.bin $((4 * PART + 2))
logrun git_badpush gcred bad -C g push origin main
check_eq "git: a push with a wrong token fails" "$((rc != 0))" 1
check_contains "git: ... saying authentication failed" "$(cat logs/git_badpush.err)" "Authentication failed"
no_leak "git: no token in any output or trace" logs/git_*
logrun git_push2 gcred good -C g push origin main # leaves the remote with everything for the next clients
check_eq "git: the push with the right token then succeeds" "$rc" 0

# --- the hfgit CLI (HF_TOKEN in the environment; -v adds the library's trace) ---
logrun cli_clone env HF_TOKEN="$HUB_TOKEN" "$HFGIT" -v clone user/sec cli
check_eq "cli: clone succeeds" "$rc" 0
check "cli: the clone has the LFS file" cmp g/more.bin cli/more.bin
commit_file cli cli cli.bin $((4 * PART + 3))
logrun cli_push env HF_TOKEN="$HUB_TOKEN" "$HFGIT" -v push -C cli
check_eq "cli: push succeeds" "$rc" 0
check "cli: the hub has the object" cmp "$(stored "$(sha cli/cli.bin)")" cli/cli.bin
check_contains "cli: the traces were on" "$(cat logs/cli_push.err)" "hfgit["
commit_file cli cli cli2.bin 7000
logrun cli_badpush env HF_TOKEN="$BAD" "$HFGIT" -v push -C cli
check_eq "cli: a push with a wrong token fails with exit 3" "$rc" 3
no_leak "cli: no token in any output or trace" logs/cli_*
check_eq "cli: the remote URL carries no token" "$(git -C cli remote -v | awk '{print $2}' | sort -u)" "$HUB_URL/user/sec"
git -C cli reset -q --hard HEAD~1

# --- the library driver ---
logrun lib_clone env HF_TOKEN="$HUB_TOKEN" "$LIB" open lib user/sec
check_eq "lib: clone succeeds" "$rc" 0
check "lib: the clone has the LFS files" cmp cli/cli.bin lib/cli.bin
commit_file lib lib lib.bin $((4 * PART + 4))
logrun lib_push env HF_TOKEN="$HUB_TOKEN" "$LIB" push lib
check_eq "lib: push succeeds" "$rc" 0
check "lib: the hub has the object" cmp "$(stored "$(sha lib/lib.bin)")" lib/lib.bin
check_contains "lib: the traces were on" "$(cat logs/lib_push.err)" "hfgit["
commit_file lib lib lib2.bin 9000
logrun lib_badpush env HF_TOKEN="$BAD" "$LIB" push lib
check_eq "lib: a push with a wrong token fails with HF_EAUTH" "$rc" 7
check_contains "lib: ... saying the token was refused" "$(cat logs/lib_badpush.err)" "refused the token"
no_leak "lib: no token in any output or trace" logs/lib_*
check_eq "lib: the remote URL carries no token" "$(git -C lib remote -v | awk '{print $2}' | sort -u)" "$HUB_URL/user/sec"

# --- nowhere under .git, and never on a signed URL ---
for d in g g2 cli lib; do
    no_leak "$d: no token in any file under .git" "$d/.git"
done
no_leak "the hub's own log holds no token" "$WORK/hub.out" "$WORK/hub.err"
check_eq "the hub saw no Authorization header on a signed URL" "$(json_num "$(hub_stats)" auth_on_signed_urls)" 0

# ==== oids that are not 64 lowercase hex never become paths ====
HEX=$(sha g/big.bin)
BAD_OIDS=("../../../etc/passwd" "${HEX^^}" "${HEX:0:63}" "${HEX}0"
    "$(printf '../%.0s' $(seq 1 19))pwned00" "aa/bb/$(printf '../%.0s' $(seq 1 16))pwned12345" "") # 7; two are 64 long
# every path under the hub and the test dir, but the logs and these lists themselves
snapshot() { find "$HUB_ROOT" "$WORK" \( -path "$WORK/logs" -o -name '*.lst' \) -prune -o -print 2>/dev/null | sort; }
passwd_sum=$(sha /etc/passwd)

# --- the hub's batch API ---
snapshot >before.lst
for op in upload download; do
    objs=""
    for o in "${BAD_OIDS[@]}"; do objs+="${objs:+,}{\"oid\":\"$o\",\"size\":12}"; done
    resp=$(curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
        -H 'Accept: application/vnd.git-lfs+json' -w '\n%{http_code}' \
        --data "{\"operation\":\"$op\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[$objs],\"hash_algo\":\"sha256\"}" \
        "$HUB_URL/user/sec.git/info/lfs/objects/batch")
    code=${resp##*$'\n'} body=${resp%$'\n'*}
    check_eq "hub batch ($op) with ${#BAD_OIDS[@]} bad oids: answered 200" "$code" 200
    check_eq "hub batch ($op): each bad oid gets an object error 422" "$(grep -o '"error":{"code":422' <<<"$body" | wc -l)" "${#BAD_OIDS[@]}"
    check_not_contains "hub batch ($op): no action for any of them" "$body" '"actions"'
done
for o in "..%2F..%2F..%2Fetc%2Fpasswd" "${HEX^^}" "${HEX:0:63}"; do
    c1=$(curl -sS -o /dev/null -w '%{http_code}' "$HUB_URL/__object/user/sec/$o")
    c2=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data x "$HUB_URL/__object/user/sec/$o")
    [[ $c1 == 4* && $c2 == 4* ]] && ok "hub object URL with oid ${o:0:20}...: GET $c1, PUT $c2" ||
        not_ok "hub object URL with oid ${o:0:20}... refused" "GET $c1, PUT $c2"
done
# properly signed verify and completion URLs (for fresh objects), posted with bad oids in the body
up_batch() { # OID SIZE: the upload batch response
    curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
        --data "{\"operation\":\"upload\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[{\"oid\":\"$1\",\"size\":$2}]}" \
        "$HUB_URL/user/sec.git/info/lfs/objects/batch"
}
href_of() { grep -o "\"$1\":{\"href\":\"[^\"]*\"" | sed 's/.*"href":"//; s/"$//; s/\\u0026/\&/g'; }
fresh1=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1) fresh2=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
verify=$(up_batch "$fresh1" 12 | href_of verify)
complete=$(up_batch "$fresh2" $((4 * MiB)) | href_of upload)
check_contains "a signed verify URL to try" "$verify" "/__verify/"
check_contains "a signed completion URL to try" "$complete" "/__complete/"
codes=""
for o in "${BAD_OIDS[@]}"; do
    codes+=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
        -H "Authorization: Bearer $HUB_TOKEN" --data "{\"oid\":\"$o\",\"size\":12}" "$verify")
    codes+=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "{\"oid\":\"$o\",\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"x\\\"\"}]}" "$complete")" "
done
[[ $codes =~ ^(4[0-9][0-9]4[0-9][0-9] ){7}$ ]] && ok "verify and completion with each bad oid: refused with 4xx ($codes)" ||
    not_ok "verify and completion with each bad oid: refused with 4xx" "$codes"
snapshot >after.lst
# (open multipart uploads are not objects: the hub's uploads/ folder, or the store's on S3 storage)
check_eq "the hub created no file for them" \
    "$(comm -13 before.lst after.lst | grep -v -e "^$HUB_ROOT/uploads/" -e "^$WORK/s3data/[^/]*/._S3rver_uploads/")" ""
check_eq "... nor an object" "$(find "$HUB_ROOT/repos" -path '*/lfs/objects/*' -type f -newer before.lst)" ""
check_eq "/etc/passwd is untouched" "$(sha /etc/passwd)" "$passwd_sum"

# --- the agent: upload lines with bad oids, a real file at path and a real batch action ---
resp=$(curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"upload\",\"transfers\":[\"multipart\"],\"objects\":[{\"oid\":\"$(sha g/more.bin)\",\"size\":1}]}" \
    "$HUB_URL/user/sec.git/info/lfs/objects/batch")
head -c 4000 /dev/urandom >agent_src.bin
: >agent.in
echo '{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}' >>agent.in
for o in "${BAD_OIDS[@]}"; do
    printf '{"event":"upload","oid":"%s","size":4000,"path":"%s","action":{"href":"%s/__complete/user/sec/x","header":{"00001":"%s/__part/x/1","chunk_size":"4000"},"expires_at":"0001-01-01T00:00:00Z"}}\n' \
        "$o" "$WORK/agent_src.bin" "$HUB_URL" "$HUB_URL" >>agent.in
    printf '{"event":"upload","oid":"%s","size":4000,"path":"%s","action":{"href":"%s/__object/user/sec/x"}}\n' \
        "$o" "$WORK/agent_src.bin" "$HUB_URL" >>agent.in
done
echo '{"event":"terminate"}' >>agent.in
n_lines=$((${#BAD_OIDS[@]} * 2))
before=$(hub_stats)
snapshot >before.lst
timeout 60 "$AGENT" <agent.in >agent.out 2>agent.err
check_eq "agent: bad oids: exit 0" "$?" 0
# once more under strace, for the file system calls (LeakSanitizer cannot run under ptrace: off for this run)
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -e trace=%file -o agent.strace timeout 60 "$AGENT" <agent.in >agent.out2 2>agent.err
    check_eq "agent: bad oids: under strace the same replies" "$(cat agent.out2)" "$(cat agent.out)"
    check_eq "agent: bad oids: no file named in a request was touched (strace)" \
        "$(grep -c -e agent_src.bin -e passwd -e pwned agent.strace)" 0
else
    skip "agent: bad oids: no file touched" "strace is not available here (apt-get install strace)"
fi
check_eq "agent: bad oids: one complete-with-error per request" \
    "$(grep -c '"event":"complete",.*"error":{"code":' agent.out)" "$n_lines"
check_eq "agent: bad oids: no progress reported" "$(grep -c '"event":"progress"' agent.out)" 0
after=$(hub_stats)
check_eq "agent: bad oids: no request reached the hub" \
    "$(json_num "$after" requests_part)/$(json_num "$after" requests_object_put)" \
    "$(json_num "$before" requests_part)/$(json_num "$before" requests_object_put)"
snapshot >after.lst
check_eq "agent: bad oids: no file created" "$(comm -13 before.lst after.lst | grep -v -e agent.strace -e agent.out -e agent.err)" ""

# --- pointer files carrying bad oids, committed as they are, then cloned by the library and the CLI ---
gcred good -C g pull -q origin main >/dev/null 2>&1 || not_ok "git pull before the pointer commit"
i=0
for o in "${BAD_OIDS[@]:0:6}"; do
    i=$((i + 1))
    printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 12\n' "$o" >"g/ptr$i.bin"
    blob=$(git -C g hash-object -w --no-filters "ptr$i.bin")
    git -C g update-index --add --cacheinfo "100644,$blob,ptr$i.bin"
done
git -C g commit -qm "pointers with bad oids"
logrun ptr_push gcred good -C g push origin main
check_eq "pointer files with bad oids are pushed as plain blobs" "$rc" 0
snapshot >before.lst
logrun ptr_lib env HF_TOKEN="$HUB_TOKEN" "$LIB" open plib user/sec
check_eq "lib: a clone with bad-oid pointer files succeeds" "$rc" 0
logrun ptr_cli env HF_TOKEN="$HUB_TOKEN" "$HFGIT" clone user/sec pcli
check_eq "cli: a clone with bad-oid pointer files succeeds" "$rc" 0
snapshot >after.lst
for d in plib pcli; do
    same=0
    for j in $(seq 1 $i); do cmp -s "g/ptr$j.bin" "$d/ptr$j.bin" && same=$((same + 1)); done
    check_eq "$d: the $i pointer files stay text, byte for byte" "$same" "$i"
    check_eq "$d: .git/lfs/objects holds only objects named by their SHA-256" \
        "$(find "$d/.git/lfs/objects" -type f 2>/dev/null | while read -r f; do [ "$(sha "$f")" = "${f##*/}" ] || echo "$f"; done)" ""
done
check_eq "the clones wrote nothing outside their directories" \
    "$(comm -13 before.lst after.lst | grep -v -e "^$WORK/plib" -e "^$WORK/pcli" -e "^$HUB_ROOT/")" ""
check_eq "no file named pwned or passwd anywhere under the test dir" \
    "$(find "$WORK" -path "$WORK/logs" -prune -o \( -name '*pwned*' -o -name passwd \) -print)" ""
check_eq "/etc/passwd is still untouched" "$(sha /etc/passwd)" "$passwd_sum"
no_leak "no token in the pointer clones' outputs" logs/ptr_*

done_testing
