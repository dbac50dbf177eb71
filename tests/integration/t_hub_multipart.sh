#!/usr/bin/env bash
# t_hub_multipart: Hub-style multipart uploads against hfgit-hub with plain curl (acceptance 3).
# Batch -> zero-padded part URLs + completion href; part PUTs answer ETag = quoted MD5; the completion checks
# part numbers, ETags, sizes and SHA-256 before the object appears; presigned-URL rules (expiry, signature,
# no Authorization header, Content-Length required, exact part size).
source "$(dirname "$0")/../lib.sh"

# Every check below is of the hub's own part URLs (its ETag, size, Authorization and Content-Length rules);
# on S3 storage parts go to the store. Against a store that checks ETags and sizes in CompleteMultipartUpload
# (an already running one, HFGIT_TEST_S3_ENDPOINT: tests/s3_radosgw.sh's radosgw) the same rules are checked
# as the store applies them to the hub's presigned URLs and completion (s3_multipart_rules below); s3rver
# 3.7.1 checks neither (and dies on a completion naming a part never uploaded): skipped there.
# PUTs parts 1-3 of RESP from $WORK/part.0..2 into the array etags; one check (label) that each answered 200
# with ETag = quoted MD5 of its bytes.
put_three_parts() {
    local resp=$1 label=$2 i code e want all_ok=1
    etags=()
    for i in 1 2 3; do
        code=$(put_part "$(part_url "$resp" $i)" "$WORK/part.$((i - 1))")
        e=$(etag_of)
        want="\"$(md5sum "$WORK/part.$((i - 1))" | cut -d' ' -f1)\""
        if [ "$code" != 200 ] || [ "$e" != "$want" ]; then all_ok=0; echo "# part $i: $code etag=$e want=$want"; fi
        etags+=("$e")
    done
    [ $all_ok = 1 ] && ok "$label" || not_ok "$label" "see above"
}

s3_multipart_rules() {
    local PART=5242880 SIZE=13107200 # S3's minimum part size; 2.5 parts
    hub_start --chunk-size $PART --multipart-threshold 2000000 || { not_ok "hub starts"; return; }
    hub_create_repo alice/big >/dev/null
    source "$(dirname "$0")/lfs_curl.sh"
    LFS_REPO=alice/big
    head -c $SIZE /dev/urandom >"$WORK/obj"
    OID=$(sha "$WORK/obj")
    split -b $PART -d -a 1 "$WORK/obj" "$WORK/part."
    batch "$OID" $SIZE
    check_eq "batch answers 200" "$BATCH_CODE" 200
    check_contains "3 parts of 5 MiB" "$resp" "\"chunk_size\":\"$PART\""
    check_not_contains "... exactly 3" "$resp" '"00004"'
    check_contains "part URLs are the store's" "$(part_url "$resp" 1)" "$S3_URL/$S3_BUCKET/$S3_PREFIX/staging/"
    local url=$(complete_url "$resp")
    put_three_parts "$resp" "3 part PUTs to the store answer 200 with ETag = quoted MD5"

    completion "$url" "$OID" "${etags[0]}" '"0123456789abcdef0123456789abcdef"' "${etags[2]}"
    check_eq "wrong ETag: the store refuses the completion: 400" "$COMPLETE_CODE" 400
    check_contains "... InvalidPart, in the hub's JSON error" "$body" '"message":"CompleteMultipartUpload: the object store answered 400 InvalidPart'
    check_fails "... no object" test -e "$(obj_path "$OID")"
    completion "$url" "$OID" "${etags[0]}" '"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>x&y"' "${etags[2]}"
    check_contains "an ETag with XML in it is sent as text: the store finds it wrong (InvalidPart, not MalformedXML)" \
        "$body" 'answered 400 InvalidPart'
    completion "$url" "$OID" "${etags[0]}" "${etags[1]}"
    check_eq "part left out of the completion: 400" "$COMPLETE_CODE" 400
    check_contains "... saying how many parts the upload has" "$body" '2 parts listed, the upload has 3'

    # presigned-URL rules, as the store applies them to the hub's URLs (part 1 is stored already)
    local u2=$(part_url "$resp" 2)
    check_eq "a part of the wrong size (Content-Length is signed): 403" "$(put_part "$u2" "$WORK/part.2")" 403
    check_eq "chunked part (no Content-Length): refused" "$(put_part "$u2" "$WORK/part.1" -H 'Transfer-Encoding: chunked' |
        sed 's/^4[01][13]$/refused/')" refused
    check_eq "tampered signature: 403" "$(put_part "${u2%Signature=*}Signature=$(printf '0%.0s' {1..64})" "$WORK/part.1")" 403
    check_eq "URL of part 2 used for part 3: 403" "$(put_part "$(sed 's/partNumber=2/partNumber=3/' <<<"$u2")" "$WORK/part.1")" 403
    check_eq "... the part is still the good one" "$(put_part "$u2" "$WORK/part.1")" 200

    # S3 takes ETags with or without their quotes: a client that strips them completes as well
    completion "$url" "$OID" "${etags[@]//\"/}"
    check_eq "completion with unquoted ETags: 200" "$COMPLETE_CODE" 200
    check "the object is the uploaded bytes (read back from the store)" cmp "$(obj_bytes "$OID")" "$WORK/obj"
    completion "$url" "$OID" "${etags[@]}"
    check_eq "a retried completion is idempotent (200)" "$COMPLETE_CODE" 200

    # a part never uploaded
    head -c $SIZE /dev/urandom >"$WORK/obj2"
    split -b $PART -d -a 1 "$WORK/obj2" "$WORK/p2."
    batch "$(sha "$WORK/obj2")" $SIZE
    e1=$(put_part "$(part_url "$resp" 1)" "$WORK/p2.0" >/dev/null; etag_of)
    e2=$(put_part "$(part_url "$resp" 2)" "$WORK/p2.1" >/dev/null; etag_of)
    completion "$(complete_url "$resp")" "$(sha "$WORK/obj2")" "$e1" "$e2" '"00000000000000000000000000000000"'
    check_eq "part never uploaded: 400" "$COMPLETE_CODE" 400
    check_contains "... the store says InvalidPart" "$body" 'InvalidPart'
    check_fails "... no object" test -e "$(obj_path "$(sha "$WORK/obj2")")"

    hub_knobs '{"url_lifetime_secs":1}' >/dev/null
    batch "$(sha "$WORK/obj2")" $SIZE
    sleep 2.2
    check_eq "expired part URL: 403" "$(put_part "$(part_url "$resp" 1)" "$WORK/p2.0")" 403
    check_contains "... the store says so" "$(cat "$WORK/b")" "AccessDenied"
}
if [ "${HFGIT_TEST_STORAGE:-}" = s3 ]; then
    if [ -n "${HFGIT_TEST_S3_ENDPOINT:-}" ]; then s3_multipart_rules
    else skip "hub multipart part rules" "HFGIT_TEST_STORAGE=s3: parts go to s3rver, which checks neither ETags nor sizes (tests/s3_radosgw.sh runs them on radosgw)"; fi
    done_testing; exit
fi
CHUNK=1048576            # the hub hands out 1 MiB parts (small, so the test is quick)
THRESH=2000000
hub_start --chunk-size $CHUNK --multipart-threshold $THRESH || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/big >/dev/null
REPO_DIR="$HUB_ROOT/repos/models/alice/big.git"
source "$(dirname "$0")/lfs_curl.sh"
LFS_REPO=alice/big


# An object of 2.5 parts: 1 MiB, 1 MiB, the rest.
SIZE=2621440
head -c $SIZE /dev/urandom >"$WORK/obj"
OID=$(sha "$WORK/obj")
split -b $CHUNK -d -a 1 "$WORK/obj" "$WORK/part."

batch "$OID" $SIZE
check_eq "batch answers 200" "$BATCH_CODE" 200
check_contains "transfer is multipart" "$resp" '"transfer":"multipart"'
check_contains "chunk_size is a string" "$resp" "\"chunk_size\":\"$CHUNK\""
check_contains "part keys are zero-padded" "$resp" '"00003":"http'
check_not_contains "exactly ceil(size/chunk) parts" "$resp" '"00004"'
check_contains "expires_in is an integer: the completion's lifetime (--upload-max-age, default 24 h)" "$resp" '"expires_in":86400'
life=$(url_life "$(part_url "$resp" 1)")
[ "$life" -ge 3590 ] && [ "$life" -le 3600 ] && ok "part URLs live --url-lifetime (default 3600 s): $life s" ||
    not_ok "part URLs live --url-lifetime (default 3600 s)" "$life s"
check_contains "objects are authenticated (no credentials on signed URLs)" "$resp" '"authenticated":true'
check_contains "verify action" "$resp" '"verify":{"href":"http'
CURL_COMPLETE=$(complete_url "$resp")
check_contains "completion href" "$CURL_COMPLETE" "/__complete/alice/big/"

put_three_parts "$resp" "3 part PUTs answer 200 with ETag = quoted MD5"

# Refusals leave no object.
completion "$CURL_COMPLETE" "$OID" "${etags[0]}" '"0123456789abcdef0123456789abcdef"' "${etags[2]}"
check_eq "wrong ETag: 400" "$COMPLETE_CODE" 400
check_contains "wrong ETag: JSON error names part 2" "$body" '"message":"ETag for part 2 does not match'
check_fails "wrong ETag: no object" test -e "$(obj_path "$OID")"

completion "$CURL_COMPLETE" "$OID" "${etags[0]}" "${etags[1]}"
check_eq "part left out of the completion: 400" "$COMPLETE_CODE" 400
check_contains "part left out: names part 3" "$body" 'part 3 missing'
completion_raw "$CURL_COMPLETE" \
    "{\"oid\":\"$OID\",\"parts\":[{\"partNumber\":1,\"etag\":\"${etags[0]//\"/\\\"}\"},{\"partNumber\":3,\"etag\":\"${etags[2]//\"/\\\"}\"}]}"
check_contains "gap in part numbers: names part 2" "$body" 'part 2 missing'
completion "$CURL_COMPLETE" "$(printf 'b%.0s' {1..64})" "${etags[@]}"
check_eq "completion for another oid: 422" "$COMPLETE_CODE" 422
check_fails "refused completions: no object" test -e "$(obj_path "$OID")"

completion "$CURL_COMPLETE" "$OID" "${etags[@]}"
check_eq "completion: 200" "$COMPLETE_CODE" 200
check_eq "the object appears with the right SHA-256" "$(sha "$(obj_path "$OID")" 2>&1)" "$OID"
check_fails "the upload dir is gone" test -e "$(sed -n 's|.*/__complete/alice/big/\([0-9a-f]*\)?.*|\1|p' <<<"$CURL_COMPLETE" | sed "s|^|$HUB_ROOT/uploads/|")"
completion "$CURL_COMPLETE" "$OID" "${etags[@]}"
check_eq "a retried completion is idempotent (200)" "$COMPLETE_CODE" 200
batch "$(printf 'c%.0s' {1..64})" 10
VERIFY_FROM=$resp
batch "$OID" $SIZE
check_not_contains "stored object: batch gives no actions" "$resp" '"actions"'
check_eq "verify: 200 for the stored object" \
    "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
        --data "{\"oid\":\"$OID\",\"size\":$SIZE}" "$(grep -o '"verify":{"href":"[^"]*"' <<<"$VERIFY_FROM" | sed 's/.*"href":"//; s/"$//')")" 200

# A part never uploaded.
head -c $SIZE /dev/urandom >"$WORK/obj2"
OID2=$(sha "$WORK/obj2")
split -b $CHUNK -d -a 1 "$WORK/obj2" "$WORK/p2."
batch "$OID2" $SIZE
e1=$(put_part "$(part_url "$resp" 1)" "$WORK/p2.0" >/dev/null; etag_of)
e2=$(put_part "$(part_url "$resp" 2)" "$WORK/p2.1" >/dev/null; etag_of)
completion "$(complete_url "$resp")" "$OID2" "$e1" "$e2" '"00000000000000000000000000000000"'
check_eq "part never uploaded: 400" "$COMPLETE_CODE" 400
check_contains "part never uploaded: names part 3" "$body" 'part 3 missing'
check_fails "part never uploaded: no object" test -e "$(obj_path "$OID2")"

# Wrong bytes: parts of another file with the same size, announced under OID2.
head -c $SIZE /dev/urandom >"$WORK/evil"
split -b $CHUNK -d -a 1 "$WORK/evil" "$WORK/evil."
batch "$OID2" $SIZE
ev=()
for i in 1 2 3; do put_part "$(part_url "$resp" $i)" "$WORK/evil.$((i - 1))" >/dev/null; ev+=("$(etag_of)"); done
completion "$(complete_url "$resp")" "$OID2" "${ev[@]}"
check_eq "wrong SHA-256: refused" "$COMPLETE_CODE" 422
check_contains "wrong SHA-256: JSON error" "$body" "\"message\":\"SHA-256 mismatch: got $(sha "$WORK/evil") expected $OID2\""
check_fails "wrong SHA-256: no object" test -e "$(obj_path "$OID2")"
check_eq "wrong SHA-256: no temp file left" "$(ls -A "$HUB_ROOT/tmp" | wc -l)" 0

# Presigned-URL rules on a fresh upload.
batch "$OID2" $SIZE
u1=$(part_url "$resp" 1)
before=$(json_num "$(hub_stats)" auth_on_signed_urls)
code=$(put_part "$u1" "$WORK/p2.0" -H "Authorization: Bearer $HUB_TOKEN")
check_eq "part PUT with an Authorization header: 400" "$code" 400
check_eq "... and counted in auth_on_signed_urls" "$(json_num "$(hub_stats)" auth_on_signed_urls)" $((before + 1))
code=$(put_part "$u1" "$WORK/p2.0" -H 'Transfer-Encoding: chunked')
check_eq "chunked part (no Content-Length): 411" "$code" 411
code=$(put_part "$u1" "$WORK/p2.2")
check_eq "wrong part size: 400" "$code" 400
check_contains "wrong part size: says the expected size" "$(cat "$WORK/b")" "exactly $CHUNK bytes"
code=$(put_part "${u1%sig=*}sig=$(printf '0%.0s' {1..64})" "$WORK/p2.0")
check_eq "tampered signature: 403" "$code" 403
code=$(put_part "$(sed 's|/1?|/2?|' <<<"$u1")" "$WORK/p2.1")
check_eq "URL of part 1 used for part 2: 403" "$code" 403
code=$(put_part "$u1" "$WORK/p2.0")
check_eq "the good part still goes in" "$code" 200
# (the same upload as the wrong-SHA-256 case above: a batch for an object whose upload is open answers it)
check_eq "refused parts left no stray files" \
    "$(ls -A "$HUB_ROOT/uploads/$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$u1")" | grep -vxE '[0-9]+|[0-9]+\.etag|meta')" ""

hub_knobs '{"url_lifetime_secs":1}' >/dev/null
batch "$OID2" $SIZE
life=$(url_life "$(part_url "$resp" 1)")
[ "$life" -le 1 ] && ok "a short lifetime shows in the part URLs' expiry ($life s)" ||
    not_ok "a short lifetime shows in the part URLs' expiry" "$life s"
check_contains "... not in expires_in, the completion's (git-lfs would re-batch before the agent saw it)" "$resp" '"expires_in":86400'
sleep 2.2
code=$(put_part "$(part_url "$resp" 1)" "$WORK/p2.0")
check_eq "expired part URL: 403" "$code" 403
check_contains "expired: S3-like message" "$(cat "$WORK/b")" "Request has expired"
completion "$(complete_url "$resp")" "$OID2" '"x"' '"y"' '"z"'
check_eq "the completion URL outlives the part URLs (refused for its ETags, not as expired)" "$COMPLETE_CODE" 400
hub_knobs '{"url_lifetime_secs":3600}' >/dev/null

# Batch-level rules.
batch "$OID2" $SIZE '["basic"]'
check_contains "over the threshold without multipart: 422 object error" "$resp" '"code":422'
check_contains "... naming lfs-enable-largefiles" "$resp" 'hfgit lfs-enable-largefiles'
batch "../../../../etc/passwd" 5
check_contains "invalid oid: 422 object error" "$resp" '"code":422'
batch "$(printf 'A%.0s' {1..64})" 5
check_contains "uppercase oid: 422 object error" "$resp" '"code":422'
batch "$OID2" 50000000001
check_contains "over 50 GB: 422" "$resp" '50 GB'
batch "$OID2" 1048576000000 '["basic","multipart"]'
check_contains "1 TB: refused too" "$resp" '"code":422'

# A mixed batch: one small, one large object -> one "multipart" answer; the small one has no chunk_size.
head -c 1000 /dev/urandom >"$WORK/small"
SOID=$(sha "$WORK/small")
mixed=$(curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$OID2\",\"size\":$SIZE},{\"oid\":\"$SOID\",\"size\":1000}],\"transfers\":[\"multipart\",\"basic\"]}" \
    "$HUB_URL/alice/big.git/info/lfs/objects/batch")
check_contains "mixed batch: transfer multipart" "$mixed" '"transfer":"multipart"'
small_href=$(grep -o "\"href\":\"[^\"]*/__object/alice/big/$SOID[^\"]*\"" <<<"$mixed" | sed 's/"href":"//; s/"$//')
check_eq "mixed batch: the small object gets a plain PUT" "$(put_part "$small_href" "$WORK/small")" 200
check_eq "... and is stored" "$(sha "$(obj_path "$SOID")" 2>&1)" "$SOID"

s=$(hub_stats)
check_eq "stats: completions_ok (one plus its idempotent retry)" "$(json_num "$s" completions_ok)" 2
check_eq "stats: parts_in_flight back to 0" "$(json_num "$s" parts_in_flight)" 0
[ "$(json_num "$s" parts_ok)" -ge 9 ] && ok "stats: parts_ok counted" || not_ok "stats: parts_ok" "$s"
[ "$(json_num "$s" completions_refused)" -ge 5 ] && ok "stats: completions_refused counted" || not_ok "refused" "$s"
done_testing
