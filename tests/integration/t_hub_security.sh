#!/usr/bin/env bash
# t_hub_security: hfgit-hub refuses what an anonymous or careless client could abuse, and writes nothing for it:
# signed URLs bound to method, path, size and expiry (a download URL cannot PUT; a PUT larger than signed is
# refused before a byte is stored; a URL replayed for another object, repo or method, or expired, is refused);
# capped request bodies (fetch POSTs, JSON bodies); two completions or two PUTs of one part at once both
# succeed; private repos are unreadable without the token; disk full is a 507 that says so and leaves
# nothing; no signing key without random bytes; the token never reaches http-backend or a hook, nor `ps`.
source "$(dirname "$0")/../lib.sh"

MiB=1048576
PART=$MiB # the part size; on S3 storage S3's minimum, 5 MiB (the hub hands out no smaller parts there)
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && PART=$((5 * MiB))
hub_start --chunk-size $PART --multipart-threshold 3000000 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/s >/dev/null || not_ok "create user/s"
hub_create_repo user/s2 >/dev/null || not_ok "create user/s2"
source "$(dirname "$0")/lfs_curl.sh"
LFS_REPO=user/s
cd "$WORK" || exit 1
JSON='Content-Type: application/vnd.git-lfs+json'
# dl_batch OID SIZE [curl args]: an anonymous download batch; the href in $href
dl_batch() {
    href=$(curl -sS -X POST -H "$JSON" "${@:3}" \
        --data "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$1\",\"size\":$2}]}" \
        "$HUB_URL/$LFS_REPO.git/info/lfs/objects/batch" | grep -o '"download":{"href":"[^"]*"' |
        sed 's/.*"href":"//; s/"$//')
}
href_of() { grep -o "\"$1\":{\"href\":\"[^\"]*\"" | sed 's/.*"href":"//; s/"$//; s/\\u0026/\&/g'; }
received() { json_num "$(hub_stats)" bytes_received; }
tmp_files() { find "$HUB_ROOT/tmp" -mindepth 1 | wc -l; }

head -c 5000 /dev/urandom >o1 && O1=$(sha o1)
head -c 5000 /dev/urandom >o2 && O2=$(sha o2)
batch "$O1" 5000
put=$(href_of upload <<<"$resp")
check_eq "a basic upload URL stores o1" "$(put_part "$put" o1)" 200

# ==== signed URLs ====
if [ -z "$S3_EXTERNAL" ] && ! skip_on_s3 "signed URLs bound to method, path, size and expiry" "these are the hub's own URL signatures; on S3 the URLs are the store's (SigV4 presigned; s3rver 3.7.1 does not check them)"; then
    dl_batch "$O1" 5000
    check_contains "an anonymous download batch gets a URL" "$href" "/__object/user/s/$O1?"
    before=$(received)
    check_eq "anonymous PUT to a download URL: 403" "$(put_part "$href" o2)" 403
    check_contains "... the signature does not match the method" "$(cat "$WORK/b")" "SignatureDoesNotMatch"
    check_eq "... the object is unchanged" "$(sha "$(obj_path "$O1")")" "$O1"
    check_eq "... and not a byte was stored" "$(received)" "$before"
    check_eq "GET with a PUT URL: 403" "$(curl -sS -o /dev/null -w '%{http_code}' "$put")" 403
    check_eq "a download URL replayed for another object: 403" \
        "$(curl -sS -o /dev/null -w '%{http_code}' "${href/$O1/$O2}")" 403
    check_eq "... for another repo: 403" "$(curl -sS -o /dev/null -w '%{http_code}' "${href/user\/s\//user/s2/}")" 403
    check_eq "... as it is: 200" "$(curl -sS -o got -w '%{http_code}' "$href")" 200
    check "... the right bytes" cmp got o1

    batch "$O2" 5000
    put2=$(href_of upload <<<"$resp")
    head -c 6000 /dev/urandom >big6000
    cat o2 o2 >o2x2
    before=$(received)
    check_eq "a PUT larger than signed: 413" "$(put_part "$put2" big6000)" 413
    check_contains "... saying so" "$(cat "$WORK/b")" "over the 5000 bytes this URL was signed for"
    check_eq "... refused before a byte was stored" "$(received)" "$before"
    check_eq "... no temp file" "$(tmp_files)" 0
    check_eq "the PUT URL replayed for another object: 403" "$(put_part "${put2/$O2/$O1}" o2)" 403
    check_eq "the PUT URL with another size: 403" "$(put_part "${put2/size=5000/size=10000}" o2x2)" 403
    check_eq "the PUT URL with the right body: 200" "$(put_part "$put2" o2)" 200
elif [ -n "$S3_EXTERNAL" ]; then
    # an external store that checks its SigV4 presigned URLs (tests/s3_radosgw.sh: radosgw): the same rules,
    # as the store applies them to the URLs the hub hands out (method, key, signed Content-Length, expiry)
    check_eq "S3: o1's verify makes it visible" "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "$JSON" \
        --data "{\"oid\":\"$O1\",\"size\":5000}" "$(href_of verify <<<"$resp")")" 200
    dl_batch "$O1" 5000
    href=$(sed 's/\\u0026/\&/g' <<<"$href")
    check_contains "S3: an anonymous download batch gets a store URL" "$href" "$S3_URL/$S3_BUCKET/$S3_PREFIX/"
    check_eq "S3: anonymous PUT to a download URL: 403" "$(put_part "$href" o2)" 403
    check_contains "... the signature does not match the method" "$(cat "$WORK/b")" "SignatureDoesNotMatch"
    check "... the object is unchanged" cmp "$(obj_bytes "$O1")" o1
    check_eq "S3: GET with a PUT URL: 403" "$(curl -sS -o /dev/null -w '%{http_code}' "$put")" 403
    check_eq "S3: a download URL replayed for another key: 403" \
        "$(curl -sS -o /dev/null -w '%{http_code}' "${href/\/staging\//\/staging\/x}")" 403
    check_eq "... as it is: 200" "$(curl -sS -o got -w '%{http_code}' "$href")" 200
    check "... the right bytes" cmp got o1
    batch "$O2" 5000
    put2=$(href_of upload <<<"$resp")
    head -c 6000 /dev/urandom >big6000
    key2=${put2#"$S3_URL/$S3_BUCKET/"} && key2=${key2%%\?*}
    check_eq "S3: a PUT larger than signed (Content-Length is signed): 403" "$(put_part "$put2" big6000)" 403
    check_eq "... nothing stored under its key" "$(s3_curl -sS -o /dev/null -w '%{http_code}' "$S3_URL/$S3_BUCKET/$key2")" 404
    check_eq "S3: the PUT URL with the right body: 200" "$(put_part "$put2" o2)" 200
    hub_knobs '{"url_lifetime_secs":1}' >/dev/null
    dl_batch "$O1" 5000
    hub_knobs '{"url_lifetime_secs":3600}' >/dev/null
    sleep 2.2
    check_eq "S3: an expired download URL: 403" "$(curl -sS -o /dev/null -w '%{http_code}' "$(sed 's/\\u0026/\&/g' <<<"$href")")" 403
fi

# multipart: a part larger than its size, a part URL for another upload
head -c $((4 * PART)) /dev/urandom >m && M=$(sha m)
split -b $PART -d -a 1 m m.
batch "$M" $((4 * PART))
p1=$(part_url "$resp" 1)
if ! skip_on_s3 "signed part URLs: size, method, expiry" "the hub's own part URL rules; on S3 parts go to the store"; then
    head -c $((PART + 1)) /dev/urandom >m.big
    before=$(received)
    check_eq "a part larger than signed: 413" "$(put_part "$p1" m.big)" 413
    check_eq "... refused before a byte was stored" "$(received)" "$before"
    check_eq "a part URL used with GET: refused (405)" "$(curl -sS -o /dev/null -w "%{http_code}" "$p1")" 405

    hub_knobs '{"url_lifetime_secs":1}' >/dev/null
    dl_batch "$O1" 5000
    hub_knobs '{"url_lifetime_secs":3600}' >/dev/null
    sleep 2.2
    check_eq "an expired download URL: 403" "$(curl -sS -o "$WORK/b" -w '%{http_code}' "$href")" 403
    check_contains "... as expired" "$(cat "$WORK/b")" "Request has expired"
fi

# ==== capped bodies ====
head -c $((11 * MiB)) /dev/urandom >eleven
code=$(curl -sS -o "$WORK/b" -w '%{http_code}' -H 'Content-Type: application/x-git-upload-pack-request' \
    --data-binary @eleven "$HUB_URL/user/s.git/git-upload-pack")
check_eq "an anonymous 11 MiB git-upload-pack POST: 413" "$code" 413
code=$(curl -sS -o "$WORK/b" -w '%{http_code}' -H 'Content-Type: application/x-git-upload-pack-request' \
    -H 'Transfer-Encoding: chunked' --data-binary @eleven "$HUB_URL/user/s.git/git-upload-pack")
check_eq "... sent chunked (no Content-Length): 413" "$code" 413
check_eq "... nothing left in tmp" "$(tmp_files)" 0
head -c $((2 * MiB)) /dev/zero | tr '\0' ' ' >twomeg
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "$JSON" --data-binary @twomeg \
    "$HUB_URL/user/s.git/info/lfs/objects/batch")
check_eq "a 2 MiB batch body: 413" "$code" 413
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @twomeg \
    "$HUB_URL/api/repos/create")
check_eq "a 2 MiB create-repo body: 413" "$code" 413

# ==== concurrency: a retried completion racing the first; two PUTs of one part ====
pids=""
for i in 1 2 3 4 5 6 7 8; do
    (curl -sS -o /dev/null -D "h.$i" -w '%{http_code}' -T m.0 "$p1" >"code.$i") & pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
check_eq "8 concurrent PUTs of one part: all 200" "$(cat code.* | tr -d '\n')" "200200200200200200200200"
check_eq "... all with the part's ETag" "$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' h.* | tr -d '\r' | sort -u)" "\"$(md5sum m.0 | cut -d' ' -f1)\""
etags=("\"$(md5sum m.0 | cut -d' ' -f1)\"")
for i in 2 3 4; do put_part "$(part_url "$resp" $i)" "m.$((i - 1))" >/dev/null; etags+=("$(etag_of)"); done
parts=""
for i in 1 2 3 4; do parts+="${parts:+,}{\"partNumber\":$i,\"etag\":\"${etags[$((i - 1))]//\"/\\\"}\"}"; done
curl_complete() { curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "{\"oid\":\"$M\",\"parts\":[$parts]}" "$(complete_url "$resp")"; }
pids=""
for i in 1 2 3 4 5 6; do (curl_complete >"done.$i") & pids="$pids $!"; done
# shellcheck disable=SC2086
wait $pids
check_eq "6 concurrent completions of one upload: all 200" "$(cat done.* | tr -d '\n')" "200200200200200200"
check "... the object is the file" cmp "$(obj_bytes "$M")" m
check_eq "... counted once each" "$(json_num "$(hub_stats)" completions_ok)" 6

# ==== private repositories: git reads, LFS download batches and the API need the token ====
check_contains "create-repo with private: true" "$(hub_create_repo user/priv '"private":true')" '"private":true'
check "the owner clones the new private repo" git_auth clone -q "$HUB_URL/user/priv" pw
cp o1 pw/o1.txt && git -C pw add o1.txt && git -C pw commit -qm one
check "... and pushes to it" git_auth -C pw push -q origin main
code_of() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
check_eq "anonymous info/refs of a private repo: 401 (git asks for credentials)" \
    "$(code_of "$HUB_URL/user/priv.git/info/refs?service=git-upload-pack")" 401
check_eq "... with a wrong token: 404" \
    "$(code_of -H 'Authorization: Bearer hf_wrong' "$HUB_URL/user/priv.git/info/refs?service=git-upload-pack")" 404
check_eq "... with the token: 200" \
    "$(code_of -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/user/priv.git/info/refs?service=git-upload-pack")" 200
check_eq "an anonymous upload-pack POST to a private repo: 401" "$(code_of -H 'Content-Type: application/x-git-upload-pack-request' \
    --data-binary @o1 "$HUB_URL/user/priv.git/git-upload-pack")" 401
check_eq "dumb HTTP read of a private repo's HEAD: 401" "$(code_of "$HUB_URL/user/priv.git/HEAD")" 401
check_fails "anonymous git clone of a private repo fails" env GIT_TERMINAL_PROMPT=0 git clone -q "$HUB_URL/user/priv" pclone
check "git clone with the token works" git_auth clone -q "$HUB_URL/user/priv" pclone2
check_eq "... and has the file" "$(sha pclone2/o1.txt)" "$O1"
LFS_REPO=user/priv
batch "$O2" 5000
check_eq "an upload batch with the token works on a private repo" "$BATCH_CODE" 200
check_eq "... and its URL stores the object" "$(put_part "$(href_of upload <<<"$resp")" o2)" 200
check_eq "... which the verify action confirms" "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "$JSON" \
    -H "Authorization: Bearer $HUB_TOKEN" --data "{\"oid\":\"$O2\",\"size\":5000}" "$(href_of verify <<<"$resp")")" 200
dl_batch "$O2" 5000
check_eq "an anonymous download batch of a private repo gets no URL" "$href" ""
check_eq "... it is answered 401" "$(code_of -X POST -H "$JSON" --data "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$O2\",\"size\":5000}]}" \
    "$HUB_URL/user/priv.git/info/lfs/objects/batch")" 401
dl_batch "$O2" 5000 -H 'Authorization: Bearer hf_wrong'
check_eq "... with a wrong token, no URL either" "$href" ""
dl_batch "$O2" 5000 -H "Authorization: Bearer $HUB_TOKEN"
if [ "${HFGIT_TEST_STORAGE:-}" = s3 ]; then want="$S3_URL/$S3_BUCKET/$S3_PREFIX/"; else want="/__object/user/priv/$O2?"; fi
check_contains "... with the token, a URL" "$href" "$want"
check_eq "GET /api/models/user/priv without a token: 404" "$(code_of "$HUB_URL/api/models/user/priv")" 404
check_eq "... with a wrong token: 404" "$(code_of -H 'Authorization: Bearer hf_wrong' "$HUB_URL/api/models/user/priv")" 404
check_contains "... with the token: the repo, private" \
    "$(curl -sS -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/api/models/user/priv")" '"private":true'
check_contains "a public repo's API answer is anonymous-readable" "$(curl -sS "$HUB_URL/api/models/user/s")" '"private":false'
check_eq "a public repo stays anonymous-readable by git" "$(code_of "$HUB_URL/user/s.git/info/refs?service=git-upload-pack")" 200
if [ -x "$BUILD_DIR/hfgit" ]; then
    check "hfgit clone of a private repo with HF_TOKEN works" \
        env HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" "$BUILD_DIR/hfgit" clone user/priv pcli
    check_fails "hfgit clone of a private repo without a token fails" \
        env -u HF_TOKEN HF_ENDPOINT="$HUB_URL" HF_HOME="$WORK/nohf" GIT_TERMINAL_PROMPT=0 "$BUILD_DIR/hfgit" clone user/priv pcli2
    check "hfgit upload --private creates a repo" \
        env HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" "$BUILD_DIR/hfgit" upload --private user/up-priv o1 o1.bin
    check_eq "... that is private (404 to anonymous API readers)" "$(code_of "$HUB_URL/api/models/user/up-priv")" 404
    check_contains "... and there for the owner" \
        "$(curl -sS -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/api/models/user/up-priv")" '"private":true'
fi
LFS_REPO=user/s

# ==== the token: not in `ps`, not in http-backend's or a hook's environment ====
check_not_contains "--token is blanked in /proc/<pid>/cmdline" "$(tr '\0' ' ' <"/proc/$HUB_PID/cmdline")" "$HUB_TOKEN"
mkdir -p hooks
printf '#!/bin/sh\nenv >"%s/hook.env"\nexit 0\n' "$WORK" >hooks/pre-receive
chmod +x hooks/pre-receive
printf '%s\n' "$HUB_TOKEN" >token.txt
hub_stop
mkdir -p "$WORK/hub2"
HFGIT_HUB_TOKEN=$HUB_TOKEN "$BUILD_DIR/hfgit-hub" --root "$WORK/hub2" --listen 127.0.0.1:0 --hooks-dir hooks --empty-repos \
    >hub2.out 2>hub2.err &
HUB_PID=$!
for _ in $(seq 1 100); do
    HUB_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' hub2.out | head -n 1)
    [ -n "$HUB_URL" ] && break
    sleep 0.05
done
hub_create_repo user/env >/dev/null || not_ok "create user/env on a hub with HFGIT_HUB_TOKEN"
git init -q -b main envw && echo x >envw/x && git -C envw add x && git -C envw commit -qm x
check "a push with the token from HFGIT_HUB_TOKEN works" git_auth -C envw push -q "$HUB_URL/user/env" main
check "the hook ran" test -s hook.env
check_eq "the token is not in the hook's environment (nor http-backend's, its parent)" \
    "$(grep -c -F "$HUB_TOKEN" hook.env)" 0
hub_stop
HUB_PID=""
"$BUILD_DIR/hfgit-hub" --root "$WORK/hub2" --listen 127.0.0.1:0 --token-file token.txt >hub3.out 2>hub3.err &
HUB_PID=$!
for _ in $(seq 1 100); do
    HUB_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' hub3.out | head -n 1)
    [ -n "$HUB_URL" ] && break
    sleep 0.05
done
check_contains "--token-file: the token works" \
    "$(curl -sS -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/api/whoami-v2")" '"name":"user"'
check_not_contains "--token-file: the token is not on the command line" "$(tr '\0' ' ' <"/proc/$HUB_PID/cmdline")" "$HUB_TOKEN"
hub_stop
: >empty.txt
"$BUILD_DIR/hfgit-hub" --root "$WORK/hub2" --token-file empty.txt >/dev/null 2>empty.err
check_eq "an empty token file: exit 2" "$?" 2
check_contains "... saying so" "$(cat empty.err)" "empty.txt is empty"

# ==== no random bytes, no key, no hub ====
if command -v cc >/dev/null && printf 'int RAND_bytes(unsigned char *b, int n) { (void)b; (void)n; return 0; }\n' >norand.c &&
    cc -shared -fPIC -o norand.so norand.c 2>/dev/null; then
    mkdir -p "$WORK/hub4"
    LD_PRELOAD=$WORK/norand.so ASAN_OPTIONS=verify_asan_link_order=0 timeout 20 "$BUILD_DIR/hfgit-hub" \
        --root "$WORK/hub4" --listen 127.0.0.1:0 --token x >hub4.out 2>hub4.err
    check_eq "RAND_bytes failing: the hub refuses to start (exit 1)" "$?" 1
    check_contains "... saying why" "$(cat hub4.err)" "no random bytes"
    check_fails "... and writes no key" test -e "$WORK/hub4/hub.key"
else
    skip "no random bytes: the hub refuses to start" "no C compiler to build the RAND_bytes stub"
fi

# ==== disk full: 507, the space given back, the client told ====
MNT="$WORK/hub"
rm -rf "$MNT" && mkdir -p "$MNT"
if skip_on_s3 "disk full answers 507" "objects go to the store, not the hub's disk"; then
    :
elif mount -t tmpfs -o size=12m tmpfs "$MNT" 2>mount.err; then
    trap 'umount -l "$MNT" 2>/dev/null; cleanup' EXIT
    hub_start --chunk-size $MiB --multipart-threshold 100000000 || { not_ok "hub starts on a 12 MiB tmpfs"; done_testing; exit 1; }
    hub_create_repo user/full >/dev/null
    LFS_REPO=user/full
    head -c $((16 * MiB)) /dev/urandom >f16 && F=$(sha f16)
    batch "$F" $((16 * MiB))
    check_eq "a 16 MiB PUT to a hub with 12 MiB of disk: 507" "$(put_part "$(href_of upload <<<"$resp")" f16)" 507
    check_contains "... saying the server is out of storage space" "$(cat "$WORK/b")" "out of storage space"
    check_eq "... the partial file is gone" "$(tmp_files)" 0
    check_eq "... counted in stats.disk_full" "$(json_num "$(hub_stats)" disk_full)" 1
    if [ -x "$BUILD_DIR/hfgit" ]; then
        git init -q -b main fullw && head -c $((16 * MiB)) /dev/urandom >fullw/w.bin
        out=$(HF_TOKEN=$HUB_TOKEN HF_ENDPOINT=$HUB_URL HFGIT_RETRY_BASE_MS=5 timeout 120 "$BUILD_DIR/hfgit" upload user/full fullw/w.bin w.bin 2>&1)
        check_contains "hfgit upload: the message says the server is out of storage space" "$out" "out of storage space"
    fi
    hub_stop
    umount "$MNT" || umount -l "$MNT"
    trap cleanup EXIT
else
    skip "disk full answers 507" "cannot mount a tmpfs ($(head -n 1 mount.err))"
fi
done_testing
