#!/usr/bin/env bash
# t_lib_api: the rest of libhfgit's Repository API against hfgit-hub (issue 5): current branch, HEAD hash,
# remote and commit URLs (models and datasets), deleted files, hf_repo_path, checkout with and without
# create_branch_ok, tags local and remote (lightweight and annotated), lfs_track/untrack, lfs_enable_largefiles,
# lfs_prune (only objects already on the remote), push_to_hub (clean_ok).
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v git-lfs >/dev/null || { skip "library API tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
R="$BUILD_DIR/tests/lib_repo"
[ -x "$R" ] || { not_ok "test tools are built" "missing $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/api >/dev/null || not_ok "create alice/api"
hub_create_repo datasets/alice/ds >/dev/null || not_ok "create datasets/alice/ds"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Api User" LIB_REPO_EMAIL="api@hfgit.invalid"
field() { sed -n "s/^$1 //p" <<<"$2"; }
remote_ref() { git ls-remote "$HUB_URL/$1" "$2" | cut -f1; }

check "clone alice/api" "$R" open a alice/api
printf 'one\n' >a/one.txt
printf 'two\n' >a/two.txt
"$R" add a . && "$R" commit a first >/dev/null && check "first push" "$R" push a

# --- branch, hash, URLs ---
out=$("$R" info a 2>&1)
check_eq "current branch" "$(field branch "$out")" main
check_eq "head hash" "$(field head "$out")" "$(cd a && git rev-parse HEAD)"
check_eq "remote URL" "$(field url "$out")" "$HUB_URL/alice/api"
check_eq "head commit URL: <endpoint>/<ns>/<name>/commit/<sha>" "$(field commit_url "$out")" \
    "$HUB_URL/alice/api/commit/$(cd a && git rev-parse HEAD)"
check "dataset clone" "$R" open d datasets/alice/ds
printf 'rows\n' >d/data.csv
"$R" add d . && "$R" commit d data >/dev/null && "$R" push d
out=$("$R" info d 2>&1)
check_eq "dataset head commit URL: <endpoint>/datasets/<ns>/<name>/commit/<sha>" "$(field commit_url "$out")" \
    "$HUB_URL/datasets/alice/ds/commit/$(cd d && git rev-parse HEAD)"

# --- path helper ---
check_eq "hf_repo_path joins the working tree and a relative path" "$("$R" path a sub/x.txt)" "$(cd a && pwd)/sub/x.txt"
check_fails "hf_repo_path refuses .." "$R" path a ../x.txt
check_fails "hf_repo_path refuses an absolute path" "$R" path a /etc/passwd

# --- deleted files and cleanliness ---
check_eq "a clean tree is clean" "$("$R" status a)" clean
rm a/one.txt
(cd a && git rm -q --cached two.txt)
check_eq "deleted files: in the index and in the working tree" "$("$R" deleted a | sort | tr '\n' ,)" "one.txt,two.txt,"
check_eq "... and the tree is dirty" "$("$R" status a)" dirty
(cd a && git reset -q && git checkout -q -- .)
check_eq "restored: no deleted files" "$("$R" deleted a)" ""

# --- checkout ---
"$R" checkout a nosuch >/dev/null 2>&1
check_eq "checkout of an unknown revision without create_branch_ok: HF_ENOTFOUND" "$?" 8
check "checkout with create_branch_ok makes the branch" "$R" checkout a nosuch --create
check_eq "... and HEAD is on it" "$(field branch "$("$R" info a)")" nosuch
check "checkout back to main" "$R" checkout a main
first=$(cd a && git rev-parse HEAD)
check "checkout of a commit" "$R" checkout a "$first"
check_eq "... detaches HEAD (current branch \"HEAD\")" "$(field branch "$("$R" info a)")" HEAD
"$R" checkout a main

# --- tags ---
check "a lightweight local tag" "$R" tag a v1
check_eq "tag_exists locally" "$("$R" tag-exists a v1)" yes
check_eq "... not on the remote" "$("$R" tag-exists a v1 --remote)" no
"$R" tag a v1 >/dev/null 2>&1
check_eq "adding it again: HF_EEXISTS" "$?" 9
check "an annotated tag pushed to the remote" "$R" tag a v2 --message "release two" --remote
check_eq "... the remote has it" "$(remote_ref alice/api refs/tags/v2)" "$(cd a && git rev-parse v2)"
check_eq "... it is an annotated tag object" "$(cd a && git cat-file -t v2)" tag
check_eq "... with the message" "$(cd a && git tag -l --format='%(contents:subject)' v2)" "release two"
check_eq "tag_exists on the remote" "$("$R" tag-exists a v2 --remote)" yes
check "delete the tag locally and remotely" "$R" untag a v2 --remote
check_eq "... gone from the remote" "$(remote_ref alice/api refs/tags/v2)" ""
check_eq "... and locally" "$("$R" tag-exists a v2)" no
check "deleting a tag that does not exist is fine" "$R" untag a nope --remote
check "delete the local tag" "$R" untag a v1
check_eq "... gone" "$(cd a && git tag -l v1)" ""

# --- track / untrack / largefiles ---
check_eq "lfs_track of two patterns adds two lines" "$("$R" track a '*.pt' 'data/*.bin')" 2
check_eq "... the lines git lfs track writes" "$(cat a/.gitattributes)" \
    $'*.pt filter=lfs diff=lfs merge=lfs -text\ndata/*.bin filter=lfs diff=lfs merge=lfs -text'
check_eq "... git-lfs agrees" "$(cd a && git check-attr filter x.pt | sed 's/.*: //')" lfs
check_eq "tracking them again adds nothing" "$("$R" track a '*.pt')" 0
check_eq "lfs_untrack removes one" "$("$R" untrack a '*.pt')" 1
check_eq "... leaving the other" "$(cat a/.gitattributes)" "data/*.bin filter=lfs diff=lfs merge=lfs -text"
check "lfs_enable_largefiles" "$R" largefiles a
check_eq "... sets the multipart agent for git-lfs" "$(cd a && git config lfs.customtransfer.multipart.path)" git-lfs-hfmultipart
check_eq "... for uploads" "$(cd a && git config lfs.customtransfer.multipart.direction)" upload

# --- prune: only objects the remote has, that nothing local still needs ---
objpath() { local o; o=$(sha "$1"); echo "a/.git/lfs/objects/${o:0:2}/${o:2:2}/$o"; }
head -c 2097152 /dev/urandom >a/big.bin
old=$(objpath a/big.bin)
"$R" add a . --auto && "$R" commit a "big v1" >/dev/null && "$R" push a
head -c 2097152 /dev/urandom >a/big.bin
new=$(objpath a/big.bin)
"$R" add a . --auto && "$R" commit a "big v2" >/dev/null
check_eq "prune with v2 committed, not pushed: v1 (pushed, not in HEAD) goes" \
    "$("$R" prune a)" "removed 1 bytes 2097152"
check "... v1 (pushed, not in HEAD) went" test ! -e "$old"
check "... v2 (not pushed) stays" test -e "$new"
check_eq "... and no trash folder is left (.git/lfs/tmp/prune-*, .git/lfstmp)" "$(ls -d a/.git/lfs/tmp/prune-* a/.git/lfstmp 2>/dev/null)" ""
mkdir -p a/.git/lfs/tmp/prune-killed a/.git/lfs/tmp/prune-young # a killed prune's trash, and another prune's
head -c 1000 /dev/zero >a/.git/lfs/tmp/prune-killed/x && touch -d '-11 minutes' a/.git/lfs/tmp/prune-killed
"$R" prune a >/dev/null
check "the trash of a prune killed before it emptied it is removed by the next one" test ! -e a/.git/lfs/tmp/prune-killed
check "... but not a trash folder younger than 10 minutes (another prune may be filling it)" test -d a/.git/lfs/tmp/prune-young
rmdir a/.git/lfs/tmp/prune-young
head -c 1048576 /dev/urandom >a/staged.bin
staged=$(objpath a/staged.bin)
"$R" add a . --auto
check_eq "prune keeps staged and unpushed objects" "$("$R" prune a)" "removed 0 bytes 0"
check "... the staged object stays" test -e "$staged"
check "push_to_hub with changes commits and pushes" "$R" push-to-hub a "via push_to_hub"
check_eq "... the remote has it" "$(remote_ref alice/api refs/heads/main)" "$(cd a && git rev-parse HEAD)"
check_eq "... with the message" "$(cd a && git log -1 --format=%s)" "via push_to_hub"
printf 'queued\n' >a/queued.txt
out=$("$R" push-to-hub a "queued push_to_hub" --nonblocking 2>&1); rc=$?
check_eq "push_to_hub non-blocking" "$rc" 0
check_contains "... returns a queued push" "$out" "queued push status -1"
check_contains "... which succeeds" "$out" "after wait status 0 failed 0"
check_eq "... the remote has it" "$(remote_ref alice/api refs/heads/main)" "$(cd a && git rev-parse HEAD)"
check_eq "prune after the push keeps what HEAD's tree needs" "$("$R" prune a)" "removed 0 bytes 0"
check "... big.bin is still complete in the working tree" test -s a/big.bin
before=$(remote_ref alice/api refs/heads/main)
check "push_to_hub on a clean repository with clean_ok does nothing" "$R" push-to-hub a "nothing"
check_eq "... the remote did not move" "$(remote_ref alice/api refs/heads/main)" "$before"
"$R" push-to-hub a "nothing" --no-clean-ok >/dev/null 2>&1
check_eq "... without clean_ok: HF_ENOCHANGES" "$?" 10
check "real git clones everything, LFS intact" sh -c "git clone -q '$HUB_URL/alice/api' g && cmp a/big.bin g/big.bin && cmp a/staged.bin g/staged.bin"

done_testing
