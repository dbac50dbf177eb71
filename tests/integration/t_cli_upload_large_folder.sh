#!/usr/bin/env bash
# t_cli_upload_large_folder: `hfgit upload-large-folder` against hfgit-hub (issue 14, acceptance 1).
# 2,000 small files and 6 files of 40 MiB; the first run is killed (SIGKILL) once its first chunk is on the
# hub; the journal records the LFS objects the workers pre-uploaded; the re-run hashes only what the journal
# does not hold, pre-uploads only the other objects, uploads no LFS object twice (hub completions),
# and a fresh clone matches the folder byte for byte; the status block appears with the right final counts;
# a refused token (401) stops at once; the Hub-limit warning; usage errors.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "upload-large-folder tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
# multipart for every big file, so that hub completions count stored objects exactly
hub_start --empty-repos --multipart-threshold 5242880 --chunk-size 8388608 || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

check_fails "--repo-type is required" hfgit upload-large-folder alice/ulf "$WORK"
hfgit upload-large-folder alice/ulf "$WORK" >/dev/null 2>&1
check_eq "... as a usage error (2)" "$?" 2

# --- the folder: 2,000 small text files in 4 folders, 6 x 40 MiB ---
mkdir -p data/big
for d in a b c d; do
    mkdir -p "data/small/$d"
    for i in $(seq 1 500); do echo "small file $d/$i" >"data/small/$d/f$i.txt"; done
done
for i in 1 2 3 4 5 6; do head -c $((40 << 20)) /dev/urandom >"data/big/w$i.bin"; done
total=2006

# --- run 1: slow hub, killed after the first chunk is committed and pushed ---
hub_knobs '{"bandwidth_cap":4000000}' >/dev/null
export HFGIT_ULF_COMMIT_FILES=500 HFGIT_ULF_COMMIT_BYTES=$((100 << 20))
HFGIT_ULF_STATUS_SECS=1 hfgit upload-large-folder alice/ulf data --repo-type model --num-workers 2 \
    >"$WORK/run1.out" 2>"$WORK/run1.err" &
pid=$!
for _ in $(seq 1 1200); do
    [ -n "$(git ls-remote "$HUB_URL/alice/ulf" refs/heads/main 2>/dev/null)" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rc=$?
check_eq "run 1 was killed by SIGKILL" "$rc" 137
[ "$rc" = 137 ] || sed 's/^/# /' "$WORK/run1.err"
commits1=$(git clone -q "$HUB_URL/alice/ulf" g1 2>/dev/null && git -C g1 rev-list --count HEAD)
check "... after its first chunk reached the hub (and before the last)" test "${commits1:-0}" -ge 1 -a "${commits1:-0}" -lt 7
check_contains "... it said it created the repository" "$(cat "$WORK/run1.err")" "Created model alice/ulf"
check_contains "... and printed a status block while running" "$(cat "$WORK/run1.err")" "Workers: hashing:"
state=data/.cache/huggingface/hfgit/models/alice/ulf/state
check "the journal is in LOCAL_PATH/.cache/huggingface" test -s "$state"
recorded=$(grep -c '^H' "$state")
committed=$(grep -c '^C' "$state")
check "... it records the first chunk as committed" test "$committed" -ge 2
uploaded=$(grep -c '^U' "$state")
check "... and the LFS objects pre-uploaded by the workers (at least the first chunk's 2)" test "$uploaded" -ge 2
check_eq "... each recorded once" "$(grep '^U' "$state" | sort -u | wc -l)" "$uploaded"

# --- run 2: finishes, hashes only what is not recorded ---
hub_knobs '{"bandwidth_cap":0}' >/dev/null
clone=data/.cache/huggingface/hfgit/models/alice/ulf/repo
# a marker in the work clone: a re-run that cloned afresh would have removed it
touch "$clone/.git/hfgit-test-marker"
hfgit -v upload-large-folder alice/ulf data --repo-type model >"$WORK/run2.out" 2>"$WORK/run2.err"
rc=$?
check_eq "the re-run finishes" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/run2.err"
check_not_contains "... reusing the work clone (it does not clone afresh)" "$(cat "$WORK/run2.err")" "cloning afresh"
check "... the clone is the same one (its marker survived)" test -e "$clone/.git/hfgit-test-marker"
check "... whose work tree was left alone (no checkout: the files committed by run 1 are not in it)" \
    test ! -e "$clone/big/w1.bin" -a ! -e "$clone/small/a/f1.txt"
check_eq "... and whose branch is the hub's" "$(git -C "$clone" rev-parse HEAD)" \
    "$(git ls-remote "$HUB_URL/alice/ulf" refs/heads/main | cut -f1)"
summary=$(grep '^hashed ' "$WORK/run2.err")
hashed=$(sed -n 's/^hashed \([0-9]*\) files in this run (\([0-9]*\) hashes reused.*/\1/p' <<<"$summary")
reused=$(sed -n 's/^hashed \([0-9]*\) files in this run (\([0-9]*\) hashes reused.*/\2/p' <<<"$summary")
check_eq "... reusing every hash the journal held" "$reused" "$recorded"
check_eq "... and hashing only the other files" "$hashed" "$((total - recorded))"
check_contains "... pre-uploading only the LFS objects the journal did not record" "$summary" \
    "pre-uploaded $((6 - uploaded)) LFS objects"
check_eq "... it prints the repository URL" "$(cat "$WORK/run2.out")" "$HUB_URL/alice/ulf"
block=$(grep '^Files:' "$WORK/run2.err" | tail -n 1)
check_contains "the final status block counts every file hashed" "$block" "hashed $total/$total"
check_contains "... the 6 LFS files pre-uploaded" "$block" "pre-uploaded: 6/6"
check_contains "... every file committed" "$block" "committed: $total/$total"
check_contains "... and nothing ignored" "$block" "ignored: 0"
stats=$(hub_stats)
check_eq "no LFS object was uploaded twice over both runs (hub completions)" "$(json_num "$stats" completions_ok)" 6
check_eq "... and none refused" "$(json_num "$stats" completions_refused)" 0
git clone -q "$HUB_URL/alice/ulf" g
check "a fresh clone matches the folder byte for byte" \
    diff -r --exclude=.git --exclude=.gitattributes --exclude=.cache data g
check_eq "... with the 6 big files in LFS" "$(cd g && git lfs ls-files -n | wc -l)" 6
check_eq "... and no file of the state in the repository" "$(git -C g ls-files | grep -c '^\.cache' )" 0
check_eq "the work clone's LFS store keeps no links to the folder's files" \
    "$(find data/.cache/huggingface/hfgit/models/alice/ulf/repo/.git/lfs/objects -type f 2>/dev/null | wc -l)" 0

# --- a third run: nothing to do ---
hfgit upload-large-folder alice/ulf data --repo-type model --no-report >"$WORK/o" 2>"$WORK/e"
check_eq "a run with nothing new succeeds" "$?" 0
check_contains "... hashing nothing" "$(cat "$WORK/e")" "hashed 0 files in this run"
check_not_contains "... --no-report prints no status block" "$(cat "$WORK/e")" "Workers:"
check_eq "... and commits nothing" "$(git ls-remote "$HUB_URL/alice/ulf" refs/heads/main | cut -f1)" "$(git -C g rev-parse HEAD)"

# --- a changed file is hashed and committed again ---
echo changed >>data/small/a/f1.txt
hfgit upload-large-folder alice/ulf data --repo-type model >/dev/null 2>"$WORK/e"
check_contains "a changed file is hashed again (only it)" "$(cat "$WORK/e")" "hashed 1 files in this run"
git -C g pull -q
check "... and its new content is on the hub" cmp data/small/a/f1.txt g/small/a/f1.txt

# --- a file added after a complete upload: the re-run reuses the clone and commits just it on the last commit ---
before=$(git ls-remote "$HUB_URL/alice/ulf" refs/heads/main | cut -f1)
echo "a new file" >data/small/b/new.txt
hfgit -v upload-large-folder alice/ulf data --repo-type model --no-report >/dev/null 2>"$WORK/e"
check_eq "a run with a new file succeeds" "$?" 0
check_not_contains "... reusing the work clone" "$(cat "$WORK/e")" "cloning afresh"
check "... (its marker survived)" test -e "$clone/.git/hfgit-test-marker"
check_contains "... hashing only the new file" "$(cat "$WORK/e")" "hashed 1 files in this run"
git -C g pull -q
check_eq "... one commit on top of the previous one" "$(git -C g rev-parse HEAD^)" "$before"
check_eq "... that adds just that file" "$(git -C g diff --name-status "$before" HEAD)" "A	small/b/new.txt"
rm -rf g2 && git clone -q "$HUB_URL/alice/ulf" g2
check "... and a fresh clone matches the folder byte for byte" \
    diff -r --exclude=.git --exclude=.gitattributes --exclude=.cache data g2

# --- a transient failure that outlasts the HTTP layer's retries is retried per chunk ---
echo retry >>data/big/w1.bin
before=$(json_num "$(hub_stats)" completions_refused)
hub_knobs '{"fail_complete_times":6}' >/dev/null # the HTTP layer tries a completion 6 times
hfgit upload-large-folder alice/ulf data --repo-type model --no-report >/dev/null 2>"$WORK/e"
rc=$?
check_eq "a pre-upload that failed with HTTP 500 is tried again" "$rc" 0
check_contains "... after saying so" "$(cat "$WORK/e")" "pre-uploading big/w1.bin failed"
check_contains "... with the delay" "$(cat "$WORK/e")" "try 2 of 5 in 2 s"
check_eq "... the hub refused 6 completions and then took the object" \
    "$(($(json_num "$(hub_stats)" completions_refused) - before)) $(json_num "$(hub_stats)" completions_ok)" "6 7"
hub_knobs '{"fail_complete_times":0}' >/dev/null

# --- 401 stops at once ---
echo again >>data/small/a/f2.txt
bad="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# runs the upload with the wrong token: it exits 3 (label), retries nothing and stops at once
run_refused() {
    local start rc took
    start=$(date +%s)
    HF_TOKEN="$bad" hfgit upload-large-folder alice/ulf data --repo-type model >"$WORK/o" 2>"$WORK/e"
    rc=$?
    took=$(($(date +%s) - start))
    check_eq "$1" "$rc" 3
    check_not_contains "... without retrying" "$(cat "$WORK/e")" "try 2 of"
    check "... at once (${took}s)" test "$took" -lt 20
}
run_refused "a refused token exits 3"
check_contains "... with a clear message" "$(cat "$WORK/e")" "refused the token"
check_not_contains "... that never shows the token" "$(cat "$WORK/e" "$WORK/o")" "$bad"
sed -i '$ d' data/small/a/f2.txt # undo the change above: only an LFS file differs now
echo again >>data/big/w2.bin # now only an LFS file changed: the refusal comes to a pre-upload worker
before=$(json_num "$(hub_stats)" completions_ok)
run_refused "a token refused to a pre-upload worker exits 3"
check_contains "... naming the file and the hub's answer" "$(cat "$WORK/e")" \
    "pre-uploading big/w2.bin: hf_repo_preupload_lfs_file: LFS batch upload refused the credentials"
check_contains "... and the fix" "$(cat "$WORK/e")" "hint: run \`hfgit login\`"
check_eq "... and nothing was uploaded" "$(json_num "$(hub_stats)" completions_ok)" "$before"

# --- relative symbolic links to files are uploaded as the files (the LFS store gets the file, not the link) ---
mkdir -p linked/sub elsewhere
head -c 11000000 /dev/urandom >elsewhere/big.bin && echo t >elsewhere/t.txt
ln -s ../../elsewhere/big.bin linked/sub/big.bin && ln -s ../elsewhere/t.txt linked/t.txt
hfgit upload-large-folder alice/linked linked --repo-type model --no-report >/dev/null 2>"$WORK/e"
check_eq "a folder with relative links to files uploads" "$?" 0
git clone -q "$HUB_URL/alice/linked" gl
check "... the large linked file arrives as its content (LFS)" cmp elsewhere/big.bin gl/sub/big.bin
check "... and so does the small one" cmp elsewhere/t.txt gl/t.txt

# --- the Hub's folder limit is warned about before uploading ---
mkdir -p many/flat
(cd many/flat && seq -f 'f%g' 1 10001 | xargs touch)
HF_ENDPOINT=http://127.0.0.1:1 hfgit upload-large-folder alice/many many --repo-type dataset >/dev/null 2>"$WORK/e"
check_contains "a folder over 10,000 entries is warned about" "$(cat "$WORK/e")" "has 10001 entries"

check_not_contains "the hub token never appears in any output" "$(cat "$WORK"/run*.err "$WORK"/run*.out)" "$HUB_TOKEN"
done_testing
