#!/usr/bin/env bash
# t_hooks_prepush: git-hooks/pre-push with real git 2.39 and git-lfs 3.3.0 (issue 6, acceptance 3).
# Pushes go to local bare repos over file:// (git-lfs 3.3.0 then stores LFS objects in <bare>/lfs/objects through
# its lfs-standalone-file adapter), plus one push to hfgit-hub when it is built. Checked: an 11 MiB non-LFS file
# is stopped before anything is uploaded and named with the hfgit track fix; the fixes the hook prints work;
# LFS files pass and are uploaded through the chained git-lfs hook; the chained hook's failure fails the push;
# deletions, new branches and pushes to a url; HFGIT_SKIP_PREPUSH; the 5 GB multipart warning.
source "$(dirname "$0")/../lib.sh"

HOOK="$HFGIT_ROOT/git-hooks/pre-push"
MiB=1048576
ZERO=0000000000000000000000000000000000000000
install_hook() { cp "$HOOK" .git/hooks/pre-push && chmod 755 .git/hooks/pre-push; }
# new_repo NAME: an empty bare $WORK/NAME.git and a clone $WORK/NAME with the hook; cds into the clone.
new_repo() { # NAME [nohook]
    cd "$WORK" || exit 1
    git init -q --bare -b main "$1.git"
    git clone -q "file://$WORK/$1.git" "$1" 2>/dev/null
    cd "$1" || exit 1
    [ "${2:-}" = nohook ] || install_hook
}
# Every push runs under a time limit: a hook chaining to itself must fail the test, not hang the machine.
git() { if [ "${1:-}" = push ]; then timeout 120 git "$@"; else command git "$@"; fi; }
# snapshot BARE: every ref and every file under objects/ and lfs/ (nothing may change when a push is refused).
snapshot() {
    git -C "$1" for-each-ref --format='%(refname) %(objectname)'
    (cd "$1" && find objects lfs -type f 2>/dev/null | sort)
}
remote_sha() { git -C "$WORK/$1.git" rev-parse -q --verify "$2" || echo none; }
lfs_has() { [ -f "$1/lfs/objects/${2:0:2}/${2:2:2}/$2" ]; } # BARE OID
commit_file() { git add -- "$@" && git commit -qm "add $*"; }

# --- the hook itself ---
check "sh -n" sh -n "$HOOK"
if command -v shellcheck >/dev/null; then
    check "shellcheck -s sh" shellcheck -s sh "$HOOK"
else
    skip "shellcheck -s sh" "shellcheck is not installed"
fi
# POSIX sh: `sh -n` and shellcheck -s sh above, and every push below runs the hook under Debian's sh (dash).
# checkbashisms (devscripts, a large package) is not used.

# --- 1. an 11 MiB non-LFS file is stopped before any upload, and named ---
new_repo r1
printf 'hello\n' >README.md
commit_file README.md
check "first push to an empty remote (no remote refs yet) passes" git push -q origin main
mkdir -p weights
head -c $((11 * MiB)) /dev/urandom >"weights/big model.bin"
commit_file "weights/big model.bin"
before=$(snapshot "$WORK/r1.git")
out=$(git push origin main 2>&1); rc=$?
check_eq "11 MiB non-LFS file: push fails" "$rc" 1
check_contains "... refused by this hook" "$out" "hfgit pre-push: push refused: 1 file over 10 MiB is not in Git LFS"
check_contains "... names the path and size" "$out" "weights/big model.bin  (11534336 bytes, 11.0 MiB)"
check_contains "... gives the hfgit track command" "$out" 'hfgit track --filename "weights/big model.bin"'
check_contains "... and git lfs track as the alternative" "$out" 'git lfs track --filename "weights/big model.bin"'
check_contains "... and how to fix the last commit" "$out" \
    'git add --renormalize -- "weights/big model.bin" && git commit --amend --no-edit'
check_contains "... and older commits" "$out" 'git lfs migrate import --include="weights/big model.bin"'
check_eq "... nothing reached the remote (refs, objects, lfs)" "$(snapshot "$WORK/r1.git")" "$before"

# Following the first fix (last commit) exactly as printed: hfgit track --filename, re-add as a pointer, amend.
# Then LFS uploads it (no pre-push.lfs: the hook runs `git lfs pre-push` itself because the repo uses LFS).
track=$(sed -n 's/^hfgit pre-push:   \(hfgit track --filename "[^"]*"\) .*/\1/p' <<<"$out")
readd=$(sed -n 's/^hfgit pre-push:   \(git add .gitattributes .*\)$/\1/p' <<<"$out")
check "the printed hfgit track command runs" sh -c "$track"
check "... and the printed re-add and amend" sh -c "$readd"
out=$(git push origin main 2>&1); rc=$?
check_eq "after track + renormalize + amend: push passes" "$rc" 0
check_eq "... the remote branch moved" "$(remote_sha r1 main)" "$(git rev-parse HEAD)"
ptr_size=$(git -C "$WORK/r1.git" cat-file -s "main:weights/big model.bin")
check "... the remote holds a pointer ($ptr_size bytes)" test "$ptr_size" -lt 1024
check "... and the LFS object was uploaded (git lfs pre-push chained)" lfs_has "$WORK/r1.git" "$(sha "weights/big model.bin")"
check_not_contains "... no refusal printed" "$out" "push refused"

# --- 2. two files, added in an earlier commit: both named; the migrate fix works ---
head -c $((11 * MiB)) /dev/urandom >a.dat
mkdir -p "deep/er dir"
head -c $((12 * MiB + 7)) /dev/urandom >"deep/er dir/b.dat"
commit_file a.dat "deep/er dir/b.dat"
oid_a=$(sha a.dat) oid_b=$(sha "deep/er dir/b.dat")
printf 'later\n' >later.txt
commit_file later.txt
before=$(snapshot "$WORK/r1.git")
out=$(git push origin main 2>&1); rc=$?
check_eq "two big files in an earlier commit: push fails" "$rc" 1
check_contains "... says 2 files" "$out" "push refused: 2 files over 10 MiB are not in Git LFS"
check_contains "... names the first" "$out" "a.dat  (11534336 bytes, 11.0 MiB)"
check_contains "... names the second" "$out" "deep/er dir/b.dat  (12582919 bytes, 12.0 MiB)"
check_contains "... a track command for each (1)" "$out" 'hfgit track --filename "a.dat"'
check_contains "... a track command for each (2)" "$out" 'hfgit track --filename "deep/er dir/b.dat"'
check_eq "... nothing reached the remote" "$(snapshot "$WORK/r1.git")" "$before"
migrate=$(sed -n 's/^hfgit pre-push:   \(git lfs migrate import .*\)$/\1/p' <<<"$out")
check_eq "... the migrate command lists both" "$migrate" \
    'git lfs migrate import --include="a.dat,deep/er dir/b.dat" && git lfs checkout'
if eval "$migrate" </dev/null >/dev/null 2>&1; then
    out=$(git push origin main 2>&1); rc=$?
    check_eq "after the printed migrate command: push passes" "$rc" 0
    check "... the first LFS object uploaded" lfs_has "$WORK/r1.git" "$oid_a"
    check "... the second LFS object uploaded" lfs_has "$WORK/r1.git" "$oid_b"
    check_eq "... the work tree has the files' content back" "$(sha a.dat) $(sha "deep/er dir/b.dat")" "$oid_a $oid_b"
    check_eq "... and is clean" "$(git status --porcelain)" ""
    check_eq "... the remote branch moved" "$(remote_sha r1 main)" "$(git rev-parse HEAD)"
else
    not_ok "the printed migrate command runs" "$migrate"
fi

# --- 2b. a name with glob characters and a comma: the migrate fix converts that file and no other ---
# `--include=a[1],b.bin` would be two patterns to git-lfs 3.3.0, `a[1]` (matching a1) and `b.bin`, and miss the
# file; a backslash-escaped pattern would match it, but migrate writes it to .gitattributes with the backslashes
# turned into slashes, leaving a line that misses the file.
new_repo rglob
printf 'hello\n' >README.md
commit_file README.md
git push -q origin main
head -c $((11 * MiB)) /dev/urandom >'a[1],b.bin'
head -c 2000 /dev/urandom >a1
head -c 2000 /dev/urandom >b.bin
commit_file 'a[1],b.bin' a1 b.bin
oid=$(sha 'a[1],b.bin')
printf 'later\n' >later.txt
commit_file later.txt
out=$(git push origin main 2>&1); rc=$?
check_eq "'a[1],b.bin' in an earlier commit: push fails" "$rc" 1
migrate=$(sed -n 's/^hfgit pre-push:   \(git lfs migrate import .*\)$/\1/p' <<<"$out")
check_eq "... the migrate command names it with its glob characters as classes" "$migrate" \
    'git lfs migrate import --include="a[[]1]?b.bin" && git lfs checkout'
if eval "$migrate" </dev/null >/dev/null 2>&1; then
    check_eq "... migrate converted that file and nothing else" "$(git lfs ls-files -n)" 'a[1],b.bin'
    check_eq "... the .gitattributes line it wrote matches the file" \
        "$(git check-attr filter -- 'a[1],b.bin' a1 b.bin | sed 's/.*: filter: //' | tr '\n' ' ')" "lfs unspecified unspecified "
    check_eq "... the work tree has the content back" "$(sha 'a[1],b.bin')" "$oid"
    check_eq "... and is clean" "$(git status --porcelain)" ""
    out=$(git push origin main 2>&1); rc=$?
    check_eq "after the printed migrate command: push passes" "$rc" 0
    check "... the LFS object uploaded" lfs_has "$WORK/rglob.git" "$oid"
else
    not_ok "the printed migrate command runs" "$migrate"
fi
cd "$WORK/r1" || exit 1

# --- 3. sizes at the limit; the hook is quiet when there is nothing to say ---
head -c $((9 * MiB)) /dev/urandom >nine.dat
commit_file nine.dat
out=$(git push origin main 2>&1); rc=$?
check_eq "a 9 MiB non-LFS file passes" "$rc" 0
check_not_contains "... silently" "$out" "hfgit pre-push"
check_eq "... the remote branch moved" "$(remote_sha r1 main)" "$(git rev-parse HEAD)"
head -c 10485760 /dev/urandom >exact.dat
commit_file exact.dat
check "exactly 10 MiB passes (the rule is 'over 10 MiB')" git push -q origin main
head -c 10485761 /dev/urandom >over.dat
commit_file over.dat
out=$(git push origin main 2>&1)
check_contains "10 MiB + 1 byte is refused" "$out" "over.dat  (10485761 bytes"
git reset -q --hard HEAD~1

# --- 4. deletions, new branches, pushes to a url ---
git checkout -q -b feature
printf 'f\n' >f.txt
commit_file f.txt
check "a new branch passes" git push -q origin feature
check "deleting a remote branch passes" git push -q origin :feature
check_eq "... the branch is gone" "$(remote_sha r1 refs/heads/feature)" none
git checkout -q main

# An 11 MiB file let through with the escape hatch: the remote then has the blob.
head -c $((11 * MiB)) /dev/urandom >skipped.dat
commit_file skipped.dat
out=$(HFGIT_SKIP_PREPUSH=1 git push origin main 2>&1); rc=$?
check_eq "HFGIT_SKIP_PREPUSH=1 lets an 11 MiB file through" "$rc" 0
check_contains "... and says it skipped the checks" "$out" "HFGIT_SKIP_PREPUSH=1: skipping"
check_eq "... the remote branch moved" "$(remote_sha r1 main)" "$(git rev-parse HEAD)"
# Only what the push sends is checked: a new branch on top (remote-tracking refs) and a push to a plain url
# (no tracking refs: the remote sha from stdin) both leave the blob the remote has alone.
git checkout -q -b topic
printf 't\n' >t.txt
commit_file t.txt
check "a new branch above a big blob the remote already has passes" git push -q origin topic
git checkout -q main
printf 'u\n' >u.txt
commit_file u.txt
check "a push to a url (no remote name) above that blob passes" git push -q "file://$WORK/r1.git" main
check_eq "... the remote branch moved" "$(remote_sha r1 main)" "$(git rev-parse HEAD)"
# A repo with a remote but no remote-tracking refs at all, pushing a new branch.
cd "$WORK" && git init -q -b main fresh && cd fresh && install_hook
git remote add origin "file://$WORK/r1.git"
printf 'fresh\n' >fresh.txt
commit_file fresh.txt
check "a new branch from a repo with no remote-tracking refs passes" git push -q origin main:fresh
check_eq "... the branch exists" "$(remote_sha r1 refs/heads/fresh)" "$(git rev-parse HEAD)"
head -c $((11 * MiB)) /dev/urandom >fbig.dat
commit_file fbig.dat
check_fails "... and an 11 MiB file on it is refused" git push -q origin main:fresh

# --- 5. chaining to git-lfs: without pre-push.lfs, `git lfs pre-push` runs only in repos that use LFS ---
mkdir -p "$WORK/fakelfs"
printf '#!/bin/sh\necho "$*" >>"%s/lfs.log"\nexec "%s" "$@"\n' "$WORK" "$(type -P git-lfs)" >"$WORK/fakelfs/git-lfs"
chmod 755 "$WORK/fakelfs/git-lfs"
cd "$WORK/r1" || exit 1
printf 'v\n' >v.txt
commit_file v.txt
PATH="$WORK/fakelfs:$PATH" git push -q origin main 2>/dev/null
check_eq "LFS repo, no pre-push.lfs: the hook runs git lfs pre-push with its arguments" \
    "$(grep pre-push "$WORK/lfs.log" 2>/dev/null)" "pre-push origin file://$WORK/r1.git"
: >"$WORK/lfs.log"
new_repo plain
printf 'p\n' >p.txt
commit_file p.txt
check "a repo without LFS: push passes" env PATH="$WORK/fakelfs:$PATH" git push -q origin main
check_eq "... without running git lfs pre-push" "$(grep -c pre-push "$WORK/lfs.log")" 0

# --- 6. chaining to git-lfs's own hook, moved to pre-push.lfs ---
new_repo r2 nohook
git lfs install --local >/dev/null 2>&1
git lfs track '*.bin' >/dev/null
check_contains "git lfs install wrote its pre-push hook" "$(cat .git/hooks/pre-push 2>/dev/null)" "git lfs pre-push"
mv .git/hooks/pre-push .git/hooks/pre-push.lfs
install_hook
head -c $((11 * MiB)) /dev/urandom >model.bin
commit_file .gitattributes model.bin
out=$(git push origin main 2>&1); rc=$?
check_eq "11 MiB LFS file with git-lfs's hook in pre-push.lfs: push passes" "$rc" 0
check "... the LFS object was uploaded by the chained hook" lfs_has "$WORK/r2.git" "$(sha model.bin)"
check_eq "... the remote branch moved" "$(remote_sha r2 main)" "$(git rev-parse HEAD)"
check_not_contains "... no warning from this hook" "$out" "hfgit pre-push"

# The chained hook gets the same arguments and stdin, and runs only after the checks passed.
mv .git/hooks/pre-push.lfs .git/hooks/pre-push.lfs.real
cat >.git/hooks/pre-push.lfs <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$WORK/chain.args"
tee "$WORK/chain.stdin" | "\$(dirname "\$0")/pre-push.lfs.real" "\$@"
EOF
chmod 755 .git/hooks/pre-push.lfs
head -c $((11 * MiB)) /dev/urandom >model2.bin
commit_file model2.bin
old=$(remote_sha r2 main)
check "a second LFS push through a logging pre-push.lfs passes" git push -q origin main
check_eq "... pre-push.lfs got the remote name and url" "$(cat "$WORK/chain.args" 2>/dev/null)" \
    "origin"$'\n'"file://$WORK/r2.git"
check_eq "... and the ref lines on stdin" "$(cat "$WORK/chain.stdin" 2>/dev/null)" \
    "refs/heads/main $(git rev-parse HEAD) refs/heads/main $old"
check "... and uploaded the object" lfs_has "$WORK/r2.git" "$(sha model2.bin)"
rm -f "$WORK/chain.args"
head -c $((11 * MiB)) /dev/urandom >plain.dat
commit_file plain.dat
before=$(snapshot "$WORK/r2.git")
check_fails "a non-LFS 11 MiB file is refused in a chained repo" git push -q origin main
check "... before the chained hook ran (nothing uploaded)" test ! -e "$WORK/chain.args"
check_eq "... and nothing reached the remote" "$(snapshot "$WORK/r2.git")" "$before"
git reset -q --hard HEAD~1

# A pre-push.lfs that is a copy of this hook (a botched install) must not recurse: the copy goes to git-lfs.
cp "$HOOK" .git/hooks/pre-push.lfs
head -c $((11 * MiB)) /dev/urandom >model3.bin
commit_file model3.bin
check "pre-push.lfs being a copy of the hook: the push still passes" git push -q origin main
check "... and uploads the object" lfs_has "$WORK/r2.git" "$(sha model3.bin)"

# A failing chained hook fails the push, and its exit status is the hook's.
printf '#!/bin/sh\ncat >/dev/null\necho "pre-push.lfs says no" >&2\nexit 3\n' >.git/hooks/pre-push.lfs
head -c 4096 /dev/urandom >small.bin
commit_file small.bin
old=$(remote_sha r2 main)
out=$(git push origin main 2>&1); rc=$?
check_eq "a failing pre-push.lfs fails the push" "$rc" 1
check_contains "... its message reaches the user" "$out" "pre-push.lfs says no"
check_eq "... the remote branch did not move" "$(remote_sha r2 main)" "$old"
printf 'refs/heads/main %s refs/heads/main %s\n' "$(git rev-parse HEAD)" "$old" >"$WORK/stdin"
.git/hooks/pre-push origin "file://$WORK/r2.git" <"$WORK/stdin" 2>/dev/null; rc=$?
check_eq "... the hook exits with pre-push.lfs's status" "$rc" 3
HFGIT_SKIP_PREPUSH=1 .git/hooks/pre-push origin "file://$WORK/r2.git" <"$WORK/stdin" 2>/dev/null; rc=$?
check_eq "... HFGIT_SKIP_PREPUSH=1 still chains" "$rc" 3
mv .git/hooks/pre-push.lfs.real .git/hooks/pre-push.lfs
printf '%s refs/heads/main %s\n' "(delete) $ZERO" "$old" >"$WORK/stdin"
.git/hooks/pre-push origin "file://$WORK/r2.git" <"$WORK/stdin"; rc=$?
check_eq "a deletion line alone passes through the chain" "$rc" 0

# git-lfs missing while .gitattributes says filter=lfs: refuse like git-lfs's own hook (exit 2).
rm -f .git/hooks/pre-push.lfs
mkdir -p "$WORK/nolfs"
for t in git sh cat awk mktemp rm grep dirname xargs tr; do ln -sf "$(type -P "$t")" "$WORK/nolfs/$t"; done
printf 'refs/heads/main %s refs/heads/main %s\n' "$(git rev-parse HEAD)" "$old" >"$WORK/stdin"
out=$(PATH="$WORK/nolfs" .git/hooks/pre-push origin "file://$WORK/r2.git" <"$WORK/stdin" 2>&1); rc=$?
check_eq "LFS repo without git-lfs on PATH: the hook exits 2" "$rc" 2
check_contains "... and says why" "$out" "git-lfs is not on PATH"

# --- 7. the 5 GB warning (hand-made pointers; GIT_LFS_SKIP_PUSH=1 as there are no objects) ---
pointer() { # SIZE [CRLF]: a pointer with a random oid
    local oid e=${2:-}
    oid=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
    printf "version https://git-lfs.github.com/spec/v1$e\noid sha256:%s$e\nsize %s$e\n" "$oid" "$1"
}
new_repo r3
printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' >.gitattributes
pointer 6000000000 >huge.bin
pointer 7000000000 '\r' >"crlf huge.bin"
pointer 4000000000 >four.bin
printf 'size 6000000000 but not a pointer\n' >fake.bin
commit_file .gitattributes huge.bin "crlf huge.bin" four.bin fake.bin
check_eq "the pointer went in as is" "$(git cat-file -p HEAD:huge.bin | head -n 1)" \
    "version https://git-lfs.github.com/spec/v1"
out=$(GIT_LFS_SKIP_PUSH=1 git push origin main 2>&1); rc=$?
check_eq "an LFS file over 5 GB without the multipart agent: push still passes" "$rc" 0
check_contains "... with a warning naming it" "$out" \
    "hfgit pre-push: warning: huge.bin is an LFS file of 6000000000 bytes (6.0 GB), over 5 GB"
check_contains "... a CRLF pointer is read too" "$out" "crlf huge.bin is an LFS file of 7000000000 bytes"
check_contains "... and the fix" "$out" "hfgit lfs-enable-largefiles ."
check_not_contains "... a 4 GB file is not named" "$out" "four.bin"
check_not_contains "... nor a text that is not a pointer" "$out" "fake.bin"
check_eq "... the remote branch moved" "$(remote_sha r3 main)" "$(git rev-parse HEAD)"
cd "$WORK" && git init -q --bare -b main r3b.git && cd r3 || exit 1
git config lfs.customtransfer.multipart.path /bin/true
out=$(GIT_LFS_SKIP_PUSH=1 git push "file://$WORK/r3b.git" main 2>&1); rc=$?
check_eq "with lfs.customtransfer.multipart.path set: push passes" "$rc" 0
check_not_contains "... without the warning" "$out" "over 5 GB"

# --- 8. against hfgit-hub: refused before the hub sees anything ---
if [ ! -x "$BUILD_DIR/hfgit-hub" ]; then
    skip "hub: 11 MiB non-LFS file stopped client-side" "$BUILD_DIR/hfgit-hub is not built"
elif ! hub_start; then
    not_ok "hub starts"
else
    hub_create_repo me/hooks >/dev/null || not_ok "create me/hooks"
    cd "$WORK" && git clone -q "$HUB_URL/me/hooks" h 2>/dev/null && cd h || exit 1
    install_hook
    git lfs track '*.bin' >/dev/null
    head -c $((11 * MiB)) /dev/urandom >w.bin
    head -c $((11 * MiB)) /dev/urandom >w.dat
    commit_file .gitattributes w.bin w.dat
    hubrepo="$HUB_ROOT/repos/models/me/hooks.git"
    before=$(snapshot "$hubrepo")
    out=$(git_auth push origin main 2>&1); rc=$?
    check_eq "hub: 11 MiB non-LFS file: push fails" "$rc" 1
    check_contains "... refused by the client hook" "$out" "hfgit pre-push: push refused: 1 file"
    check_contains "... naming it" "$out" 'hfgit track --filename "w.dat"'
    check_not_contains "... the LFS file is not named" "$out" "w.bin  ("
    stats=$(hub_stats)
    check_eq "... the hub received no push and no LFS batch" \
        "$(json_num "$stats" pushes_rejected) $(json_num "$stats" requests_batch)" "0 0"
    check_eq "... and stored nothing" "$(snapshot "$hubrepo")" "$before"
    git rm -q --cached w.dat && rm w.dat && git commit -q --amend --no-edit
    check "hub: the LFS file alone pushes (through git lfs pre-push)" git_auth push -q origin main
    check_eq "... the hub branch moved" "$(git ls-remote "$HUB_URL/me/hooks" refs/heads/main | cut -f1)" \
        "$(git rev-parse HEAD)"
fi

done_testing
