# lfs_curl.sh: curl helpers for the hub LFS tests (sourced after tests/lib.sh and hub_start).
# LFS_REPO names the model repo ("ns/name") the helpers talk to.
# batch OID SIZE [transfers-json]: the response body in $resp, the status in $BATCH_CODE.
batch() {
    local tr=${3:-'["basic","multipart"]'}
    local out
    out=$(curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Accept: application/vnd.git-lfs+json' \
        -H 'Content-Type: application/vnd.git-lfs+json' -w '\n%{http_code}' \
        --data "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$1\",\"size\":$2}],\"transfers\":$tr,\"ref\":{\"name\":\"refs/heads/main\"},\"hash_algo\":\"sha256\"}" \
        "$HUB_URL/$LFS_REPO.git/info/lfs/objects/batch")
    BATCH_CODE=${out##*$'\n'}
    resp=${out%$'\n'*}
}
# part_url RESP N: part N's URL, JSON-decoded (a store's presigned URL has its & as \u0026)
part_url() { sed -n "s/.*\"$(printf %05d "$2")\":\"\([^\"]*\)\".*/\1/p" <<<"$1" | sed 's/\\u0026/\&/g'; }
url_exp() { sed -n 's/.*[?&]exp=\([0-9]*\).*/\1/p' <<<"$1"; } # URL: its expiry (unix seconds)
# url_life URL: seconds from now until the URL expires
url_life() { echo $(($(url_exp "$1") - $(date +%s))); }
complete_url() { grep -o '"upload":{"href":"[^"]*"' <<<"$1" | sed 's/.*"href":"//; s/"$//'; }
# put_part URL FILE [curl args...]: PUT, prints the HTTP status; the headers land in $WORK/h, body in $WORK/b.
put_part() {
    local url=$1 file=$2; shift 2
    curl -sS -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' -T "$file" "$@" "$url"
}
etag_of() { sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$WORK/h" | tr -d '\r'; }
# completion URL OID ETAG...: POSTs {"oid","parts":[...]} with part numbers 1..N; $body and $COMPLETE_CODE.
completion() {
    local url=$1 oid=$2; shift 2
    local parts="" n=1 e
    for e in "$@"; do
        parts+="${parts:+,}{\"partNumber\":$n,\"etag\":\"${e//\"/\\\"}\"}"
        n=$((n + 1))
    done
    completion_raw "$url" "{\"oid\":\"$oid\",\"parts\":[$parts]}"
}
completion_raw() {
    local out
    out=$(curl -sS -X POST -H 'Content-Type: application/json' -w '\n%{http_code}' --data "$2" "$1")
    COMPLETE_CODE=${out##*$'\n'}
    body=${out%$'\n'*}
}
obj_path() { echo "$HUB_ROOT/repos/models/$LFS_REPO.git/lfs/objects/${1:0:2}/${1:2:2}/$1"; }
# obj_bytes OID: the file with the object's bytes (read back from the store on S3 storage)
obj_bytes() { hub_bytes "$(obj_path "$1")"; }
