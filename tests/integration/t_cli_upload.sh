#!/usr/bin/env bash
# t_cli_upload: `hfgit upload REPO_ID [LOCAL_PATH] [PATH_IN_REPO]` against hfgit-hub (issue 6, acceptance 2).
# A folder upload with --include/--exclude/--delete makes exactly one commit with exactly the expected tree;
# a single file goes to PATH_IN_REPO as LFS; LOCAL_PATH is inferred from the repo name; nested .git folders
# stay out; a missing repo is created; an unchanged upload commits nothing; the printed URL names the commit;
# errors (bad repo id, missing LOCAL_PATH, no token) have the documented exit status and never show a token.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "hfgit upload tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/up >/dev/null || not_ok "create alice/up"
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

tree_of() { git -C "$1" ls-tree -r --name-only HEAD | tr '\n' ' '; }
count() { git -C "$1" rev-list --count HEAD; }
fresh() { rm -rf "$2" && git clone -q "$HUB_URL/$1" "$2"; }

check "upload --help" hfgit upload --help

# --- seed the remote through the CLI: data/{old.txt,b.txt,keep.md} ---
mkdir -p seed/data && echo old >seed/data/old.txt && echo b1 >seed/data/b.txt && echo keep >seed/data/keep.md
out=$(hfgit upload alice/up seed 2>/dev/null); rc=$?
check_eq "a folder upload succeeds" "$rc" 0
fresh alice/up g
check_eq "... it made one commit" "$(count g)" 1
check_eq "... the URL names that commit" "$out" "$HUB_URL/alice/up/commit/$(git -C g rev-parse HEAD)"
check_eq "... with the folder's content at the root" "$(tree_of g)" "data/b.txt data/keep.md data/old.txt "

# --- include / exclude / delete into PATH_IN_REPO, one commit ---
mkdir -p src/sub src/nested
echo b2 >src/b.txt; echo c >src/c.txt; echo log >src/x.log; echo s >src/sub/s.txt
head -c 2000000 /dev/urandom >src/sub/w.txt # binary: auto-tracked with LFS
git -C src/nested init -q && echo n >src/nested/n.txt && git -C src/nested add n.txt
out=$(hfgit upload alice/up src data --include '*.txt' --exclude 'c*' --delete '*.txt' 2>err); rc=$?
check_eq "an upload with --include/--exclude/--delete succeeds" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' err
fresh alice/up g
check_eq "... in exactly one more commit" "$(count g)" 2
check_eq "... with exactly the expected tree (old.txt deleted, keep.md kept, c.txt and x.log not uploaded)" \
    "$(tree_of g)" ".gitattributes data/b.txt data/keep.md data/nested/n.txt data/sub/s.txt data/sub/w.txt "
check_eq "... b.txt has the uploaded content" "$(cat g/data/b.txt)" "b2"
check_eq "... the binary file went to LFS" "$(cd g && git lfs ls-files -n)" "data/sub/w.txt"
check "... and is identical" cmp src/sub/w.txt g/data/sub/w.txt
check_eq "... the commit message is the default" "$(git -C g log -1 --format=%s)" "Upload folder using hfgit"
check_eq "... and the URL names it" "$out" "$HUB_URL/alice/up/commit/$(git -C g rev-parse HEAD)"

# --- a single file into PATH_IN_REPO, custom message, and --delete keeps the root .gitattributes ---
head -c 3000000 /dev/urandom >w.bin
check "a single file upload to PATH_IN_REPO" hfgit upload alice/up w.bin models/w.bin --commit-message "weights"
fresh alice/up g
check_eq "... one more commit with the message" "$(count g) $(git -C g log -1 --format=%s)" "3 weights"
check "... the file is there, identical" cmp w.bin g/models/w.bin
check_contains "... stored as LFS" "$(cd g && git lfs ls-files -n)" "models/w.bin"
check_eq "after the push the cache keeps no second copy in .git/lfs/objects" \
    "$(find "$HF_HOME/hfgit/upload" -path '*/.git/lfs/objects/*' -type f | wc -l)" 0
out=$(hfgit upload alice/up w.bin models/w.bin 2>&1)
check_contains "uploading the same file again: left alone (not copied or hashed)" "$out" "(1 unchanged"
check_contains "... and nothing committed" "$out" "nothing was committed"
printf 'tail' >>w.bin
check "a changed large file uploads again over the reused cache" hfgit upload alice/up w.bin models/w.bin
fresh alice/up g
check "... the hub has the new content" cmp w.bin g/models/w.bin
check_eq "... in one more commit" "$(count g)" 4
mkdir -p only && echo o >only/o.txt
check "--delete '*' at the root" hfgit upload alice/up only . --delete '*'
fresh alice/up g
check_eq "... leaves the upload and the root .gitattributes" "$(tree_of g)" ".gitattributes o.txt "

# --- LOCAL_PATH inferred from the repo name; a missing repo is created; --repo-type and --revision ---
mkdir -p infer/newds && echo d >infer/newds/d.csv
out=$(cd infer && hfgit upload alice/newds --repo-type dataset --revision dev 2>&1); rc=$?
check_eq "upload with LOCAL_PATH inferred, to a new dataset, on branch dev" "$rc" 0
check_contains "... says it created the repository" "$out" "Created dataset alice/newds"
check_eq "... the dev branch has the file" "$(git ls-remote "$HUB_URL/datasets/alice/newds" refs/heads/dev | wc -l)" 1
git clone -q -b dev "$HUB_URL/datasets/alice/newds" gd
check_eq "... at the root" "$(tree_of gd)" "d.csv "
check_contains "... and the URL is a dataset commit URL" "$out" "$HUB_URL/datasets/alice/newds/commit/$(git -C gd rev-parse HEAD)"
echo infer-file >infer/solo
out=$(cd infer && hfgit upload alice/solo 2>&1)
git clone -q "$HUB_URL/alice/solo" gs 2>/dev/null
check_eq "a repo name that is a local file uploads that file by name" "$(tree_of gs)" "solo "

# --- an unchanged upload commits nothing and prints the current commit ---
before=$(git ls-remote "$HUB_URL/alice/up" refs/heads/main | cut -f1)
out=$(hfgit upload alice/up only 2>/dev/null); rc=$?
check_eq "an unchanged upload succeeds" "$rc" 0
check_eq "... makes no commit and prints the head commit's URL" "$out" "$HUB_URL/alice/up/commit/$before"
check "the cache clone is kept under HF_HOME" test -d "$HF_HOME/hfgit/upload"
# quiet on a pipe: an upload that does send an LFS object (so the progress code runs) draws nothing
head -c 2500000 /dev/urandom >piped.bin
out=$(hfgit upload alice/up piped.bin 2>&1); rc=$?
check_eq "an upload sending an LFS object with stderr on a pipe succeeds" "$rc" 0
check_eq "... and draws no progress (no escape codes, no carriage returns, no label)" \
    "$(grep -c -e $'\033' -e $'\r' -e 'Uploading LFS' <<<"$out")" 0
check_contains "... while the file did go up (its commit URL)" "$out" "$HUB_URL/alice/up/commit/"

# --- errors ---
hfgit upload 'bad id!' only >/dev/null 2>&1
check_eq "a bad repo id is a usage error (2)" "$?" 2
out=$(cd "$WORK" && hfgit upload alice/nothing-here 2>&1); rc=$?
check_eq "no LOCAL_PATH and no ./NAME is a usage error (2)" "$rc" 2
check_contains "... saying to give LOCAL_PATH" "$out" "LOCAL_PATH"
hfgit upload alice/up does-not-exist >/dev/null 2>&1
check_eq "a missing LOCAL_PATH is not found (4)" "$?" 4
hfgit upload alice/up only --bogus >/dev/null 2>&1
check_eq "an unknown option is a usage error (2)" "$?" 2
bad="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo more >>only/o.txt
out=$(HF_TOKEN="$bad" HF_HOME="$WORK/hf2" hfgit upload alice/up only 2>&1); rc=$?
check_eq "a wrong token is an authentication error (3)" "$rc" 3
check_not_contains "... and the token is not printed" "$out" "$bad"
out=$(env -u HF_TOKEN HF_HOME="$WORK/empty" hfgit upload alice/up only 2>&1); rc=$?
check_eq "no token at all is an authentication error (3)" "$rc" 3
check_contains "... saying how to set one" "$out" "HF_TOKEN"
check_not_contains "the hub token never appears in the output" "$out" "$HUB_TOKEN"
if grep -rqF "$HUB_TOKEN" "$HF_HOME/hfgit" 2>/dev/null; then
    not_ok "the token is not written into the cache clone"
else ok "the token is not written into the cache clone"; fi

done_testing
