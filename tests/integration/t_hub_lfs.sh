#!/usr/bin/env bash
# t_hub_lfs: real git 2.39 + git-lfs 3.3.0 (basic transfer) against hfgit-hub's LFS batch API (acceptance 2).
# Push LFS files, clone fresh and get them back byte-identical; a missing object is a 404 object error; an
# upload batch without the token is a 401 with LFS-Authenticate; an object over the repo's multipart threshold
# without the multipart agent is refused with a message naming `hfgit lfs-enable-largefiles`.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "git-lfs tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
hub_start || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/lfs >/dev/null || not_ok "create alice/lfs"
hub_create_repo datasets/alice/small-thresh '"lfsmultipartthresh":1048576' >/dev/null || not_ok "create dataset"
cd "$WORK" || exit 1

# --- push with git-lfs basic transfer ---
git clone -q "$HUB_URL/alice/lfs" w 2>/dev/null
cd w || exit 1
git lfs install --local >/dev/null
git lfs track '*.bin' >/dev/null
head -c 1000 /dev/urandom >small.bin
head -c 3000000 /dev/urandom >"model weights.bin"
mkdir -p sub && head -c 70000 /dev/urandom >sub/c.bin
: >empty.bin
git add .gitattributes ./*.bin sub && git commit -qm "lfs files"
if out=$(GIT_TERMINAL_PROMPT=0 git_auth push origin main 2>&1); then ok "git push with LFS files succeeds"
else not_ok "git push with LFS files succeeds" "$out"; fi
for f in small.bin "model weights.bin" sub/c.bin; do
    oid=$(sha "$f")
    stored="$HUB_ROOT/repos/models/alice/lfs.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid"
    check_eq "hub stores $f under lfs/objects/aa/bb/oid" "$(sha "$(hub_bytes "$stored")" 2>&1)" "$oid"
done
s=$(hub_stats)
check_eq "3 objects came by basic PUT" "$(json_num "$s" requests_object_put)" 3
check_eq "git-lfs ran the verify action for each" "$(json_num "$s" requests_verify)" 3
check_eq "git-lfs sent no credentials to signed URLs" "$(json_num "$s" auth_on_signed_urls)" 0
check_contains "the pushed file in git is a pointer" "$(git cat-file -p "HEAD:small.bin")" "oid sha256:$(sha small.bin)"

# A second push of the same objects uploads nothing (the batch says the hub has them).
echo more >README.md && git add README.md && git commit -qm readme
check "a second push passes" git_auth push -q origin main
check_eq "... and PUTs nothing" "$(json_num "$(hub_stats)" requests_object_put)" 3

# --- fresh clone: smudge downloads through the batch API ---
cd "$WORK" || exit 1
check "fresh clone with LFS smudge" git clone -q "$HUB_URL/alice/lfs" fresh
for f in small.bin "model weights.bin" sub/c.bin empty.bin; do
    check "$f is byte-identical after a fresh clone" cmp "w/$f" "fresh/$f"
done
{ [ "$(json_num "$(hub_stats)" requests_object_get)" -ge 3 ] && ok "objects came by signed GET" ||
        not_ok "objects came by signed GET" "$(hub_stats)"; }
check_eq "fresh clone: still no credentials on signed URLs" "$(json_num "$(hub_stats)" auth_on_signed_urls)" 0

# A range request on a downloaded object (parallel downloads use them).
oid=$(sha "w/model weights.bin")
dl=$(curl -sS -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$oid\",\"size\":3000000}]}" \
    "$HUB_URL/alice/lfs.git/info/lfs/objects/batch")
href=$(grep -o '"download":{"href":"[^"]*"' <<<"$dl" | sed 's/.*"href":"//; s/"$//')
code=$(curl -sS -o "$WORK/range" -w '%{http_code}' -r 1000-1999 "$href")
check_eq "Range GET: 206" "$code" 206
check "Range GET: the right bytes" cmp "$WORK/range" <(tail -c +1001 "w/model weights.bin" | head -c 1000)
code=$(curl -sS -o "$WORK/range" -w '%{http_code}' -H 'Range: bytes=-100' "$href")
check_eq "suffix Range GET: 206" "$code" 206
{ [ -z "${HFGIT_TEST_S3_ENDPOINT:-}" ] &&
    skip_on_s3 "suffix Range GET: the last 100 bytes" "s3rver 3.7.1 answers a suffix Range (bytes=-N) 206 with bytes other than the last N"; } ||
    check "suffix Range GET: the last 100 bytes" cmp "$WORK/range" <(tail -c 100 "w/model weights.bin")
code=$(curl -sS -o /dev/null -w '%{http_code}' -r 3000000- "$href")
check_eq "Range past the end: 416" "$code" 416
code=$(curl -sS -o "$WORK/whole" -w '%{http_code}' "$href")
check_eq "plain GET: 200" "$code" 200
check "plain GET: the whole object" cmp "$WORK/whole" "w/model weights.bin"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $HUB_TOKEN" "$href")
check_eq "GET of a signed URL with an Authorization header: 400" "$code" 400

# --- the batch API by hand ---
missing=$(printf 'missing %s' "$RANDOM" | sha256sum | cut -d' ' -f1)
resp=$(curl -sS -D "$WORK/h" -X POST -H 'Accept: application/vnd.git-lfs+json' \
    -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$missing\",\"size\":5}]}" \
    "$HUB_URL/alice/lfs.git/info/lfs/objects/batch")
check_contains "download of a missing object: 404 object error" "$resp" \
    "\"error\":{\"code\":404,\"message\":\"Object $missing does not exist\"}"
check_contains "batch answers with the git-lfs media type" "$(tr -d '\r' <"$WORK/h")" \
    "Content-Type: application/vnd.git-lfs+json"

code=$(curl -sS -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$missing\",\"size\":5}]}" \
    "$HUB_URL/alice/lfs.git/info/lfs/objects/batch")
check_eq "upload batch without a token: 401" "$code" 401
check_contains "... with LFS-Authenticate" "$(tr -d '\r' <"$WORK/h")" "LFS-Authenticate: Basic"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -u "hf:wrong-token" \
    -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$missing\",\"size\":5}]}" \
    "$HUB_URL/alice/lfs.git/info/lfs/objects/batch")
check_eq "upload batch with a wrong token: 401" "$code" 401
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
    --data '{"operation":"download","objects":[]}' "$HUB_URL/alice/nope.git/info/lfs/objects/batch")
check_eq "batch on a missing repo: 404" "$code" 404

# --- over the repo's multipart threshold without the agent ---
cd "$WORK" || exit 1
git clone -q "$HUB_URL/datasets/alice/small-thresh" d 2>/dev/null
cd d || exit 1
git lfs track '*.bin' >/dev/null
head -c 2000000 /dev/urandom >large.bin
git add .gitattributes large.bin && git commit -qm large
out=$(GIT_TERMINAL_PROMPT=0 git_auth push origin main 2>&1)
rc=$?
check_eq "pushing a file over the threshold without multipart fails" "$rc" 1
check_contains "... git-lfs shows the hub's message naming lfs-enable-largefiles" "$out" \
    "hfgit lfs-enable-largefiles"
done_testing
