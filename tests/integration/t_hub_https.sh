#!/usr/bin/env bash
# t_hub_https: hfgit-hub over HTTPS (--tls-cert/--tls-key) with a CA made here by openssl, which every client
# trusts the usual way (GIT_SSL_CAINFO for git, SSL_CERT_FILE for git-lfs and libhfgit, CURL_CA_BUNDLE for curl):
# push through git + git-lfs + the multipart agent, clone back, and the hfgit CLI and the library push and
# clone, all over TLS; a client that does not trust the CA is refused.
source "$(dirname "$0")/../lib.sh"

command -v openssl >/dev/null || { skip "HTTPS" "openssl is not installed"; done_testing; exit 0; }
command -v git-lfs >/dev/null || { skip "HTTPS" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
HFGIT=$BUILD_DIR/hfgit LIB=$BUILD_DIR/tests/lib_repo
MiB=1048576
cd "$WORK" || exit 1

# A CA and a server certificate for 127.0.0.1, as a private deployment would have them.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=hfgit test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null
# DNS:127.0.0.1 too: libgit2 1.5 on mbedTLS 2 (Debian's) matches names only, not IP entries.
printf 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile srv.ext 2>/dev/null
check "openssl made a CA and a server certificate" openssl verify -CAfile ca.crt srv.crt

out=$("$BUILD_DIR/hfgit-hub" --root "$WORK/x" --tls-cert srv.crt 2>&1)
check_eq "--tls-cert without --tls-key: exit 2" "$?" 2
check_contains "... saying they go together" "$out" "go together"
out=$("$BUILD_DIR/hfgit-hub" --root "$WORK/x" --tls-cert srv.ext --tls-key srv.key 2>&1)
check_contains "a certificate file that is not PEM is refused by name" "$out" "srv.ext: not a PEM file"

export CURL_CA_BUNDLE=$WORK/ca.crt GIT_SSL_CAINFO=$WORK/ca.crt SSL_CERT_FILE=$WORK/ca.crt
PART=$MiB # on S3 storage parts are 5 MiB at least (the store's minimum)
[ "${HFGIT_TEST_STORAGE:-}" = s3 ] && PART=$((5 * MiB))
hub_start --tls-cert srv.crt --tls-key srv.key --chunk-size $PART --multipart-threshold 3000000 ||
    { not_ok "hub starts with TLS"; done_testing; exit 1; }
check_contains "the hub announces an https URL" "$HUB_URL" "https://127.0.0.1:"
hub_create_repo user/tls >/dev/null || not_ok "create user/tls over HTTPS"
check_fails "a client without the CA is refused" env -u CURL_CA_BUNDLE curl -sS --capath /nonexistent \
    --cacert /etc/ssl/certs/ca-certificates.crt "$HUB_URL/api/whoami-v2"
check_fails "plain HTTP to the HTTPS port gets no answer" curl -sS -m 5 "${HUB_URL/https:/http:}/__stats"

# git + git-lfs + the agent (multipart for the big file, basic for the small one)
check "git clone over HTTPS" git_auth clone -q "$HUB_URL/user/tls" g
(cd g && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null)
head -c $((4 * PART + 1)) /dev/urandom >g/big.bin
head -c 5000 /dev/urandom >g/small.bin
git -C g add big.bin small.bin && git -C g commit -qm weights
check "git push over HTTPS (multipart through the agent, and a basic object)" git_auth -C g push -q origin main
stored() { hub_bytes "$HUB_ROOT/repos/models/user/tls.git/lfs/objects/${1:0:2}/${1:2:2}/$1"; }
check "the hub has the multipart object" cmp "$(stored "$(sha g/big.bin)")" g/big.bin
check "... and the basic one" cmp "$(stored "$(sha g/small.bin)")" g/small.bin
check_eq "... in 5 parts" "$(json_num "$(hub_stats)" parts_ok)" 5
check "git clone over HTTPS gets the LFS files back" git_auth clone -q "$HUB_URL/user/tls" g2
check "... byte-identical" cmp g/big.bin g2/big.bin

# the hfgit CLI and the library
export HF_ENDPOINT=$HUB_URL
if [ -x "$HFGIT" ]; then
    check "hfgit clone over HTTPS" env HF_TOKEN="$HUB_TOKEN" "$HFGIT" clone user/tls cli
    check "... with the LFS file" cmp g/big.bin cli/big.bin
    head -c $((4 * MiB + 3)) /dev/urandom >up.bin
    check "hfgit upload over HTTPS (multipart)" env HF_TOKEN="$HUB_TOKEN" "$HFGIT" upload user/tls up.bin up.bin
    check "... stored" cmp "$(stored "$(sha up.bin)")" up.bin
fi
if [ -x "$LIB" ]; then
    export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"
    check "the library clones over HTTPS" env HF_TOKEN="$HUB_TOKEN" "$LIB" open lib user/tls
    check "... with the LFS files" cmp g/big.bin lib/big.bin
    head -c $((4 * MiB + 4)) /dev/urandom >lib/lib.bin
    "$LIB" add lib lib.bin --auto >/dev/null && "$LIB" commit lib lib.bin >/dev/null
    check "the library pushes over HTTPS (multipart)" env HF_TOKEN="$HUB_TOKEN" "$LIB" push lib
    check "... stored" cmp "$(stored "$(sha lib/lib.bin)")" lib/lib.bin
    out=$(env -u SSL_CERT_FILE -u CURL_CA_BUNDLE -u GIT_SSL_CAINFO HF_TOKEN="$HUB_TOKEN" "$LIB" open lib2 user/tls 2>&1)
    check_eq "the library without the CA fails" "$(($? != 0))" 1
    check_contains "... naming the certificate" "$out" "certificate"
fi
done_testing
