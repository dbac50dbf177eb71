#!/usr/bin/env bash
# t_lib_push: libhfgit clone, add (auto-tracking), commit and push against hfgit-hub (issue 4 acceptance 1, 3, 5).
# A program built with pkg-config clones an empty repo, adds a 12 MiB random file and a text file, commits
# and pushes; real git + git-lfs then clone identical files, the big one as LFS, and `git lfs fsck` passes.
# Over the repo's multipart threshold the upload goes multipart (hub stats). A wrong token fails with a clear
# message that does not contain the token; a ref the hub rejects is an error with the hub's reason; the token
# never lands in .git/config.
source "$(dirname "$0")/../lib.sh"
# the system libgit2 1.5 leaks inside PCRE2; keep sanitizer runs about our code
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library push tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
command -v pkg-config >/dev/null || { skip "library push tests" "pkg-config is not installed (make deps)"; done_testing; exit 0; }
[ -f "$BUILD_DIR/libhfgit.so" ] || { not_ok "libhfgit is built" "missing $BUILD_DIR/libhfgit.so"; done_testing; exit 1; }
hub_start --empty-repos --chunk-size 5242880 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/lib >/dev/null || not_ok "create alice/lib"
hub_create_repo alice/mp '"lfsmultipartthresh":6000000' >/dev/null || not_ok "create alice/mp"
cd "$WORK" || exit 1

# --- a program built with pkg-config against a real `make install PREFIX=...` ---
P="$WORK/prefix"
if out=$(make -C "$HFGIT_ROOT" --no-print-directory install PREFIX="$P" BUILD="$BUILD" SAN="${SAN:-}" 2>&1); then
    ok "make install PREFIX=DIR"
else
    not_ok "make install PREFIX=DIR" "$out"; done_testing; exit 1
fi
for f in bin/hfgit bin/hfgit-hub bin/git-lfs-hfmultipart include/hfgit.h lib/libhfgit.a lib/libhfgit.so \
    lib/libhfgit.so.1 lib/pkgconfig/hfgit.pc share/hfgit/git-hooks/pre-receive; do
    [ -e "$P/$f" ] || not_ok "make install put $f in place"
done
# under make check SAN=..., the library carries the sanitizer runtime, so the program must link it too
if out=$(cc -std=c11 ${SAN:+-fsanitize=$SAN} -o lib_repo "$HFGIT_ROOT/tests/tools/lib_repo.c" \
    $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs hfgit) 2>&1); then
    ok "a program builds with pkg-config --cflags --libs hfgit"
else
    not_ok "a program builds with pkg-config --cflags --libs hfgit" "$out"; done_testing; exit 1
fi
export LD_LIBRARY_PATH="$P/lib"
LIB="$WORK/lib_repo"
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

# --- acceptance 1 ---
check "clone of an empty repo by repo id" "$LIB" open w alice/lib
head -c 12582912 /dev/urandom >w/big.bin
printf 'hello from the library\n' >w/README.md
check "add with auto-tracking" "$LIB" add w . --auto
check_eq ".gitattributes tracks the big file" "$(cat w/.gitattributes)" "big.bin filter=lfs diff=lfs merge=lfs -text"
check "commit" "$LIB" commit w "big file"
check "push" "$LIB" push w
s=$(hub_stats)
check_eq "one basic PUT (under the default threshold)" "$(json_num "$s" requests_object_put)" 1
check_eq "the verify action ran" "$(json_num "$s" requests_verify)" 1
check_eq "no credentials went to signed URLs" "$(json_num "$s" auth_on_signed_urls)" 0
check "real git clones it (git-lfs smudge)" git clone -q "$HUB_URL/alice/lib" g
check "big.bin is identical" cmp w/big.bin g/big.bin
check "README.md is identical" cmp w/README.md g/README.md
check_eq "big.bin is stored as LFS" "$(cd g && git lfs ls-files -n)" "big.bin"
check "git lfs fsck passes" sh -c "cd g && git lfs fsck"
check_eq "the library's branch tracks origin" "$(cd w && git rev-parse --abbrev-ref '@{u}')" "origin/main"
check_eq "the clone's HEAD equals the remote" "$(cd w && git rev-parse HEAD)" "$(cd g && git rev-parse HEAD)"
if grep -rqF "$HUB_TOKEN" w/.git/config w/.git/FETCH_HEAD w/.git/logs 2>/dev/null; then
    not_ok "the token is not written into .git" "found in $(grep -rlF "$HUB_TOKEN" w/.git)"
else ok "the token is not written into .git"; fi

# a second push of unchanged LFS content uploads nothing
printf 'more\n' >>w/README.md
"$LIB" add w . --auto && "$LIB" commit w "readme" >/dev/null
check "a second push" "$LIB" push w
check_eq "... PUTs no LFS object again" "$(json_num "$(hub_stats)" requests_object_put)" 1
check_eq "... and the hub has the new commit" "$(git ls-remote "$HUB_URL/alice/lib" refs/heads/main | cut -f1)" \
    "$(cd w && git rev-parse HEAD)"

# a commit with nothing new returns HF_ENOCHANGES (exit 10)
"$LIB" commit w "nothing" >/dev/null 2>&1
check_eq "commit with nothing to commit: HF_ENOCHANGES" "$?" 10

# --- acceptance 3: multipart over the repo's threshold ---
check "clone alice/mp" "$LIB" open mp alice/mp
head -c 12582912 /dev/urandom >mp/weights.bin
"$LIB" add mp . --auto && "$LIB" commit mp "weights" >/dev/null
check "push over the multipart threshold" "$LIB" push mp
s=$(hub_stats)
check_eq "3 parts of 5 MiB went up" "$(json_num "$s" parts_ok)" 3
check_eq "one completion" "$(json_num "$s" completions_ok)" 1
check_eq "still no credentials on signed URLs" "$(json_num "$s" auth_on_signed_urls)" 0
check "git clone gets the multipart object back" git clone -q "$HUB_URL/alice/mp" gmp
check "weights.bin is identical" cmp mp/weights.bin gmp/weights.bin
# faults: part 2 answered 500 twice and the completion once: retried inside the transfer engine
hub_knobs '{"fail_part_number":2,"fail_part_times":2,"fail_complete_times":1}' >/dev/null
head -c 11000000 /dev/urandom >mp/faulty.bin
"$LIB" add mp . --auto && "$LIB" commit mp "faulty" >/dev/null
check "a multipart push survives failing parts and a failing completion" "$LIB" push mp
s=$(hub_stats)
check_eq "... the hub refused two part attempts" "$(json_num "$s" parts_refused)" 2
check_eq "... and one completion" "$(json_num "$s" completions_refused)" 1
check "git clone gets faulty.bin back intact" sh -c "git clone -q '$HUB_URL/alice/mp' gmp2 && cmp mp/faulty.bin gmp2/faulty.bin"
hub_knobs '{"fail_part_number":0,"fail_part_times":0,"fail_complete_times":0}' >/dev/null

printf 'x\n' >>mp/weights.bin
"$LIB" add mp . && "$LIB" commit mp "weights 2" >/dev/null
out=$("$LIB" push mp --no-multipart 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "without multipart, a large object is refused" || not_ok "without multipart, a large object is refused" "$out"
check_contains "... with the hub's object error" "$out" "lfs-enable-largefiles"

# --- a push cancelled from the progress callback sends no git object ---
head -c 3000000 /dev/urandom >w/c.bin
"$LIB" add w . --auto && "$LIB" commit w "to cancel" >/dev/null
before=$(git ls-remote "$HUB_URL/alice/lib" refs/heads/main | cut -f1)
out=$(LIB_REPO_CANCEL=1 "$LIB" push w 2>&1); rc=$?
check_eq "a push cancelled by the progress callback fails with HF_ECANCELLED" "$rc" 11
check_eq "... and the remote branch did not move" "$(git ls-remote "$HUB_URL/alice/lib" refs/heads/main | cut -f1)" "$before"
check "a push after the cancel completes" "$LIB" push w

# --- acceptance 5: a wrong token ---
printf 'again\n' >>w/README.md
"$LIB" add w . && "$LIB" commit w "again" >/dev/null
bad="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
out=$(HF_TOKEN="$bad" "$LIB" push w 2>&1); rc=$?
check_eq "a push with a wrong token fails with HF_EAUTH" "$rc" 7
check_contains "... saying the token was refused" "$out" "refused the token"
check_not_contains "... without the token in the message" "$out" "$bad"
out=$(HF_TOKEN= HOME="$WORK/nohome" "$LIB" push w 2>&1); rc=$?
check_eq "a push with no token at all fails" "$rc" 7
check_contains "... saying how to set one" "$out" "HF_TOKEN"

# --- a ref the hub rejects: an 11 MiB file committed without LFS ---
head -c 11534336 /dev/urandom >w/raw.bin
"$LIB" add w raw.bin && "$LIB" commit w "raw" >/dev/null
out=$("$LIB" push w 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "a push the hub's rules reject fails" || not_ok "a push the hub's rules reject fails" "$out"
check_contains "... with the hub's reason (the path)" "$out" "raw.bin"
echo "# $out"

done_testing
