#!/usr/bin/env bash
# t_hub_rules: the Hub's push rules (git-hooks/pre-receive) on hfgit-hub, with real git 2.39 and git-lfs 3.3.0.
# Issue 2 acceptance 4: a non-LFS blob over 10 MiB, or a pointer to an LFS object the hub does not have,
# rejects the push with the path in the message; ordinary pushes and real LFS pushes pass.
source "$(dirname "$0")/../lib.sh"

hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo me/rules >/dev/null || not_ok "create me/rules"
URL="$HUB_URL/me/rules"
cd "$WORK" || exit 1
git clone -q "$URL" w 2>/dev/null
cd w || exit 1

# A normal small push passes.
printf 'hello\n' >README.md
git add README.md && git commit -qm readme
check "a small push passes" git_auth push -q origin main

# An 11 MiB blob committed straight into git is refused, naming its path and size.
mkdir -p weights
head -c $((11 * 1024 * 1024)) /dev/urandom >"weights/big model.bin"
git add "weights/big model.bin" && git commit -qm big
out=$(git_auth push origin main 2>&1); rc=$?
check_eq "11 MiB non-LFS blob: push fails" "$rc" 1
check_contains "... the message names the path" "$out" "weights/big model.bin"
check_contains "... and the size" "$out" "11534336 bytes"
check_contains "... and the fix" "$out" "git lfs track"
check_contains "... git reports the hook declined" "$out" "pre-receive hook declined"
remote_head=$(git ls-remote "$URL" refs/heads/main | cut -f1)
check_eq "... the branch did not move" "$remote_head" "$(git rev-parse HEAD~1)"
stats=$(hub_stats)
check_eq "... counted in pushes_rejected" "$(json_num "$stats" pushes_rejected)" 1

# Exactly 10 MiB is still allowed (the rule is "over 10 MiB").
git reset -q --hard HEAD~1
head -c 10485760 /dev/urandom >exact.bin
git add exact.bin && git commit -qm exact
check "a blob of exactly 10 MiB passes" git_auth push -q origin main

# A pointer committed by hand, for an object never uploaded, is refused naming the path and oid.
oid=$(printf 'never uploaded %s' "$RANDOM$RANDOM" | sha256sum | cut -d' ' -f1)
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 123456\n' "$oid" >ghost.bin
# git-lfs also takes a pointer with CRLF line ends and an extension line: so must the hook.
oid2=$(printf 'crlf %s' "$RANDOM$RANDOM" | sha256sum | cut -d' ' -f1)
mkdir -p dir
printf 'version https://git-lfs.github.com/spec/v1\r\next-0-foo sha256:%s\r\noid sha256:%s\r\nsize 99\r\n' \
    "$oid" "$oid2" >"dir/ghost crlf.bin"
git add ghost.bin dir && git commit -qm ghost
out=$(git_auth push origin main 2>&1); rc=$?
check_eq "pointer to a missing LFS object: push fails" "$rc" 1
check_contains "... the message names the path" "$out" "ghost.bin"
check_contains "... and the oid" "$out" "$oid"
check_contains "... and the fix" "$out" "git lfs push --all origin"
check_contains "... a CRLF pointer with an extension line is checked too" "$out" "dir/ghost crlf.bin (oid $oid2"
git rm -q --cached -r dir && rm -rf dir && git commit -q --amend -m ghost

# The same pointer passes once the hub holds an object of that size (placed as the LFS side stores it).
obj="$HUB_ROOT/repos/models/me/rules.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid"
mkdir -p "$(dirname "$obj")"
head -c 123455 /dev/zero >"$obj"
check_fails "... a stored object of the wrong size does not count" git_auth push -q origin main
head -c 123456 /dev/zero >"$obj"
check "... and passes once the object is there with its size" git_auth push -q origin main

# A text file that merely looks like a pointer (not the exact format) is plain content, not checked.
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 1\nthis is not a key value line!\n' \
    "$(printf x | sha256sum | cut -d' ' -f1)" >notes.txt
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 5\n' \
    "$(printf y | sha256sum | cut -d' ' -f1)" | tr '\n' '\r' >crlf.txt
git add notes.txt crlf.txt && git commit -qm notes
check "a pointer-like text that is not a pointer passes" git_auth push -q origin main

# Deleting a branch and pushing a new branch with no new objects both pass.
git_auth push -q origin main:refs/heads/side 2>/dev/null
check "a new branch with no new objects passes" git ls-remote --exit-code "$URL" refs/heads/side
check "deleting a branch passes" git_auth push -q origin :refs/heads/side

# A real git-lfs push of a file over 10 MiB passes (needs the hub's LFS side).
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $HUB_TOKEN" \
    -H 'Accept: application/vnd.git-lfs+json' -H 'Content-Type: application/vnd.git-lfs+json' \
    --data '{"operation":"download","objects":[]}' "$URL.git/info/lfs/objects/batch")
if [ "$code" = 404 ]; then
    skip "git-lfs push of a 12 MiB file passes" "the hub's LFS batch endpoint answers 404 (LFS side not built)"
else
    git lfs install --local >/dev/null
    git lfs track '*.lfs' >/dev/null
    head -c $((12 * 1024 * 1024)) /dev/urandom >model.lfs
    git add .gitattributes model.lfs && git commit -qm lfs
    out=$(git_auth push origin main 2>&1); rc=$?
    if [ "$rc" -eq 0 ]; then ok "git-lfs push of a 12 MiB file passes"; else not_ok "git-lfs push of a 12 MiB file passes" "$out"; fi
    cd "$WORK" && git clone -q "$URL" fresh 2>/dev/null
    check "... and a fresh clone gets it byte-identical" cmp "$WORK/w/model.lfs" "$WORK/fresh/model.lfs"
fi
done_testing
