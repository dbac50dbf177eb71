#!/usr/bin/env bash
# t_lib_commit_ops: hf_repo_create_commit and hf_repo_preupload_lfs against hfgit-hub (issue 13 acceptance 1, 2).
# 1. One commit with 2 adds from disk, 1 from memory (20 MiB, LFS), a delete of a folder and a copy of an LFS
#    file: one new commit on the hub, real git + git-lfs read it (git lfs fsck clean), the copy has the same
#    oid and the hub saw no second upload of it; the library's clone is clean (work tree, index and
#    .gitattributes match the commit; a change the user staged stays staged, outside the commit). Failing
#    operations (a delete of nothing, a missing copy source, a path outside the repository) leave everything
#    as it was: no commit, no push, same work tree and index.
# 2. Five shards pre-uploaded one by one from memory (multipart: over the repo's threshold), then one commit:
#    nothing visible on the remote before the commit, each object received exactly once (hub stats).
# 3. Twenty 64 MiB shards generated in memory one at a time, pre-uploaded and freed: peak RSS stays flat.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "commit operation tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
O="$BUILD_DIR/tests/lib_commit_ops" R="$BUILD_DIR/tests/lib_repo"
[ -x "$O" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $O or $R (make tests)"; done_testing; exit 1; }
# --- the README's C examples of this API compile against the header as it is ---
{
    printf '#include <hfgit.h>\n#include <stdio.h>\n#include <stdlib.h>\nvoid *make_shard(int i, size_t *size);\n'
    printf 'void readme(hf_repo *repo, const void *buf, size_t len, const char *names[20], FILE *metrics, int step,\n'
    printf '            double loss);\nvoid readme(hf_repo *repo, const void *buf, size_t len, const char *names[20],\n'
    printf '            FILE *metrics, int step, double loss)\n{\n'
    awk '/^### Commit operations, pre-upload and the commit scheduler/ {on = 1; next} on && /^##/ {on = 0}
         on && /^```c$/ {print "{"; code = 1; next} on && code && /^```$/ {print "}"; code = 0; next} on && code' \
        "$HFGIT_ROOT/README.md"
    printf '}\n'
} >"$WORK/readme_ops.c"
# four opening braces: the function's and one per example
if [ "$(grep -c '^{$' "$WORK/readme_ops.c")" -ne 4 ]; then
    not_ok "the README has the three C examples (create_commit, preupload, scheduler)" "$(cat "$WORK/readme_ops.c")"
elif out=$(cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$HFGIT_ROOT/include" "$WORK/readme_ops.c" 2>&1); then
    ok "the README's three C examples compile, warning-free"
else
    not_ok "the README's three C examples compile, warning-free" "$out"
fi

hub_start --empty-repos --chunk-size 5242880 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/ops >/dev/null || not_ok "create alice/ops"
hub_create_repo alice/shards '"lfsmultipartthresh":6000000' >/dev/null || not_ok "create alice/shards"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Ops User" LIB_REPO_EMAIL="ops@hfgit.invalid"
remote_head() { git ls-remote "$HUB_URL/$1" refs/heads/main | cut -f1; }
# uploads: objects the hub received (basic PUTs + multipart completions; on S3 storage the basic PUTs to the
# store, as the fault proxy in front of it counts them).
uploads() {
    local s; s=$(hub_stats)
    echo $(($(json_num "$s" requests_object_put) + $(json_num "$s" completions_ok)))
}
# seed: a first commit on main by plain git (independent of the empty-clone branch name)
seed() {
    rm -rf seed && git init -q seed && (cd seed && echo "# $1" >README.md && git add README.md &&
        git commit -qm init && git_auth push -q "$HUB_URL/$1" HEAD:refs/heads/main)
}
seed alice/ops || not_ok "seed alice/ops"
seed alice/shards || not_ok "seed alice/shards"

# --- the repository before: an LFS model, a folder to delete ---
check "clone alice/ops" "$R" open w alice/ops
head -c 12582912 /dev/urandom >w/model.bin
mkdir -p w/old/sub && echo a >w/old/a.txt && echo b >w/old/sub/b.txt
"$R" add w . --auto >/dev/null && "$R" commit w "before" >/dev/null && "$R" push w >/dev/null || not_ok "prepare alice/ops"
model_oid=$(sha w/model.bin)

# --- acceptance 1 ---
printf 'notes from disk\n' >notes.txt
head -c 300000 /dev/urandom >small.bin
chmod +x small.bin
before_uploads=$(uploads)
before_head=$(remote_head alice/ops)
out=$("$O" commit w "ops commit" add:docs/notes.txt="$WORK/notes.txt" add:data/small.bin="$WORK/small.bin" \
    mem:mem/big.bin=20971520:7 del:old/ copy:model.bin=copies/model-copy.bin 2>&1); rc=$?
check_eq "create_commit with 2 adds from disk, 1 from memory, a folder delete and an LFS copy" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "the 20 MiB buffer went to LFS and data was dropped" "$out" "op 3 mem/big.bin lfs 1"
big_oid=$(sed -n 's/^op 3 mem\/big.bin lfs 1 oid \([0-9a-f]*\) data null$/\1/p' <<<"$out")
check_eq "the hub got exactly one new commit" "$(git ls-remote "$HUB_URL/alice/ops" refs/heads/main | cut -f1)" \
    "$(cd w && git rev-parse HEAD)"
check_eq "... whose parent is the old head" "$(cd w && git rev-parse HEAD^)" "$before_head"
check_eq "the hub received 2 LFS objects (small.bin, big.bin), not the copied one" "$(( $(uploads) - before_uploads ))" 2
check "real git clones it" git clone -q "$HUB_URL/alice/ops" g
check "notes.txt is the file from disk" cmp notes.txt g/docs/notes.txt
check "small.bin is the file from disk" cmp small.bin g/data/small.bin
check "small.bin kept its executable bit" test -x g/data/small.bin
check_eq "big.bin has the memory buffer's SHA-256" "$(sha g/mem/big.bin)" "$big_oid"
check "old/ is gone" test ! -e g/old
check "the copy is the model's content" cmp w/model.bin g/copies/model-copy.bin
lfs=$(cd g && git lfs ls-files -l | awk '{print $1, $3}' | sort -k2)
check_eq "git-lfs sees the LFS files with their oids (the copy's = the model's)" "$lfs" \
    "$model_oid copies/model-copy.bin
$(sha small.bin) data/small.bin
$big_oid mem/big.bin
$model_oid model.bin"
check "git lfs fsck passes" sh -c "cd g && git lfs fsck"
check_eq "the library's clone is clean (work tree, index, .gitattributes = the commit)" \
    "$(cd w && git status --porcelain)" ""
check_eq "... its .gitattributes is the commit's" "$(cat w/.gitattributes)" "$(cat g/.gitattributes)"
check "... and its work tree has the copy's content, not a pointer" cmp w/model.bin w/copies/model-copy.bin
check "... and no old/ folder" test ! -e w/old

# --- failing operations leave everything as it was ---
head_before=$(cd w && git rev-parse HEAD)
attrs_before=$(sha w/.gitattributes)
index_before=$(sha w/.git/index)
for bad in "del:nope.txt" "copy:missing.bin=x.bin" "text:../evil.txt=x" "del:docs" "text:.git/config=x"; do
    out=$("$O" commit w "must fail" text:fresh.txt=hello mem:fresh.bin=1048576:3 "$bad" 2>&1); rc=$?
    [ "$rc" -ne 0 ] && ok "a commit with $bad fails ($(sed -n 's/^rc //p' <<<"$out" | cut -c1-150))" \
        || not_ok "a commit with $bad fails" "$out"
    check_contains "... naming the operation" "$out" "operation 3 ("
done
check_eq "no commit was made" "$(cd w && git rev-parse HEAD)" "$head_before"
check_eq "nothing was pushed" "$(remote_head alice/ops)" "$head_before"
check "the work tree has none of the operations' files" test ! -e w/fresh.txt -a ! -e w/fresh.bin
check_eq ".gitattributes is unchanged" "$(sha w/.gitattributes)" "$attrs_before"
check_eq "the index is unchanged" "$(sha w/.git/index)" "$index_before"
check_eq "the clone is still clean" "$(cd w && git status --porcelain)" ""
out=$("$O" commit w "same" text:docs/notes.txt="notes from disk
" 2>&1); rc=$?
check_eq "operations that change nothing: HF_ENOCHANGES" "$rc" 10

# --- other staged changes stay staged and out of the commit ---
echo "staged by the user" >w/staged.txt && (cd w && git add staged.txt)
out=$("$O" commit w "keeps staged" text:keep.txt=keep 2>&1); rc=$?
check_eq "create_commit with a user's change staged" "$rc" 0
check_eq "... the commit holds only the operation" "$(cd w && git show --name-only --format= HEAD)" "keep.txt"
check_eq "... the user's file is still staged" "$(cd w && git diff --cached --name-only)" "staged.txt"
(cd w && git reset -q staged.txt && rm -f staged.txt)

# --- a .gitattributes edit the user has not staged stays out of the commit, and stays in the work tree ---
printf '# a note of the user, not staged\n' >>w/.gitattributes
out=$("$O" commit w "lfs with an unstaged attrs edit" mem:attrs/new.bin=1048576:5 2>&1); rc=$?
check_eq "create_commit with an unstaged .gitattributes edit" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
committed=$(cd w && git show HEAD:.gitattributes)
check_not_contains "... the commit's .gitattributes has not the user's edit" "$committed" "a note of the user"
check_contains "... but has the new file's LFS line" "$committed" "attrs/new.bin filter=lfs"
check_contains "the work tree's .gitattributes keeps the edit" "$(cat w/.gitattributes)" "a note of the user"
check_contains "... with the new line too" "$(cat w/.gitattributes)" "attrs/new.bin filter=lfs"
check_eq "... and git shows it modified, not staged" "$(cd w && git status --porcelain)" " M .gitattributes"
check_eq "... the only difference is the user's line" "$(cd w && git diff -U0 .gitattributes | grep '^[-+][^-+]')" \
    "+# a note of the user, not staged"
check "git pulls it" sh -c "cd g && git pull -q && git lfs fsck"
check_eq "the remote's .gitattributes is the commit's" "$(cat g/.gitattributes)" "$committed"
(cd w && git checkout -q .gitattributes)

# --- a COPY in a clone without the LFS objects (skip_lfs_files): pointer copied, nothing fetched or sent ---
check "clone alice/ops without LFS objects" "$R" open sk alice/ops --skip-lfs
before_uploads=$(uploads)
out=$(LIB_OPS_QUEUED=1 "$O" commit sk "copy without the object" copy:model.bin=copies/again.bin 2>&1); rc=$?
check_eq "a COPY of an LFS file whose object is not here, queued push" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "... the push was queued (-1 at return)" "$out" "queued status -1"
check_contains "... and succeeded" "$out" "push status 0"
check_eq "... uploaded nothing" "$(( $(uploads) - before_uploads ))" 0
check "... left the pointer in the work tree, as skip_lfs_files does" cmp sk/model.bin sk/copies/again.bin
check "... no object was downloaded" test ! -e "sk/.git/lfs/objects/${model_oid:0:2}/${model_oid:2:2}/$model_oid"
check "git pulls the copy with its content" sh -c "cd g && git pull -q && cmp copies/again.bin model.bin"

# --- opts.branch: the commit goes to that branch (created at HEAD), main stays ---
main_before=$(remote_head alice/ops)
out=$(LIB_OPS_BRANCH=feature "$O" commit sk "on a branch" text:feature.txt=hello 2>&1); rc=$?
check_eq "create_commit on opts.branch" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "... the hub's feature branch has it" "$(git ls-remote "$HUB_URL/alice/ops" refs/heads/feature | cut -f1)" \
    "$(cd sk && git rev-parse feature)"
check_eq "... main did not move" "$(remote_head alice/ops)" "$main_before"
check_eq "... the clone is on feature now" "$(cd sk && git rev-parse --abbrev-ref HEAD)" "feature"

# --- the first commit of an empty repository ---
hub_create_repo alice/empty >/dev/null || not_ok "create alice/empty"
check "clone the empty alice/empty" "$R" open e alice/empty
out=$("$O" commit e "first" text:README.md="# empty no more
" mem:w.bin=2097152:9 2>&1); rc=$?
check_eq "create_commit as the first commit of an empty repository" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check "git clones it" git clone -q "$HUB_URL/alice/empty" ge
check_eq "... with both files, w.bin as LFS" "$(cd ge && git ls-files | tr '\n' ' '; git lfs ls-files -n)" \
    ".gitattributes README.md w.bin w.bin"

# --- acceptance 2: preupload of 5 shards, then one commit ---
check "clone alice/shards" "$R" open s alice/shards
before_uploads=$(uploads)
before_bytes=$(json_num "$(hub_stats)" bytes_received)
shards_head=$(remote_head alice/shards)
"$O" shards s 5 7 "$WORK/go" >shards.out 2>&1 &
opid=$!
for _ in $(seq 1 1200); do grep -q '^preuploaded' shards.out && break; kill -0 $opid 2>/dev/null || break; sleep 0.1; done
check_contains "five shards pre-uploaded, data dropped each time" "$(cat shards.out)" "preuploaded"
check_eq "... all five as LFS, marked uploaded" "$(grep -c '^shard [0-4] [0-9a-f]\{64\} lfs 1 uploaded 1$' shards.out)" 5
check_eq "... the hub received each object once (multipart completions)" "$(( $(uploads) - before_uploads ))" 5
check_eq "nothing is visible on the remote before the commit" "$(remote_head alice/shards)" "$shards_head"
check_eq "... and the library's branch has not moved" "$(cd s && git rev-parse HEAD)" "$shards_head"
touch "$WORK/go"
wait $opid; rc=$?
check_eq "the commit of the pre-uploaded shards" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' shards.out
check_eq "... uploaded nothing again (still 5 objects)" "$(( $(uploads) - before_uploads ))" 5
check_eq "... and no byte twice" "$(( $(json_num "$(hub_stats)" bytes_received) - before_bytes ))" $((5 * 7340032))
check "git clones the shards" git clone -q "$HUB_URL/alice/shards" gs
ok_oids=0
for i in 0 1 2 3 4; do
    want=$(sed -n "s/^shard $i \([0-9a-f]*\) .*/\1/p" shards.out)
    [ "$(sha "gs/shards/shard-00$i.bin")" = "$want" ] && ok_oids=$((ok_oids + 1))
done
check_eq "the five shards have the pre-uploaded content" "$ok_oids" 5
check "git lfs fsck passes" sh -c "cd gs && git lfs fsck"
check_eq "the library's clone is clean" "$(cd s && git status --porcelain)" ""

# --- acceptance 2: memory stays flat over 20 shards of 64 MiB ---
if [ -n "${SAN:-}" ]; then
    skip "20 x 64 MiB shards with flat memory" "peak RSS is not meaningful under sanitizers (SAN=$SAN)"
else
    if ! "$R" open s2 alice/shards >/dev/null 2>&1; then not_ok "clone for the 20-shard run"; fi
    out=$("$O" shards s2 20 64 2>&1); rc=$?
    check_eq "20 shards of 64 MiB pre-uploaded and committed" "$rc" 0
    [ "$rc" -eq 0 ] || echo "$out" | tail -5 | sed 's/^/#   /'
    first=$(sed -n 's/^peak_first_kib //p' <<<"$out")
    last=$(sed -n 's/^peak_kib //p' <<<"$out")
    [ -n "$first" ] && [ -n "$last" ] && [ "$last" -le $((first + 32768)) ] \
        && ok "peak RSS stays flat: ${first} KiB after the first shard, ${last} KiB after all 20 and the commit" \
        || not_ok "peak RSS stays flat" "first ${first:-?} KiB, end ${last:-?} KiB"
fi

done_testing
