#!/usr/bin/env bash
# t_cli_ulf_dups: `hfgit upload-large-folder` on a folder holding identical large files. Three copies of one
# 20 MB file (3 multipart parts each) and a unique 12 MB one, 3 workers, a slow hub: the workers pre-upload the
# copies at the same moment; before hf_repo_preupload_lfs_file serialised calls for one oid, the hub handed
# them one open multipart upload and the first completion closed it under the others (exit 4, "NoSuchUpload"),
# or the object was completed several times. Now: exit 0, one completion per object, each file recorded as
# pre-uploaded in the journal, and a fresh clone matches the folder.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "upload-large-folder tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
# multipart above 5 MiB in 8 MiB parts: 3 parts per copy, 2 for the unique file
hub_start --empty-repos --multipart-threshold 5242880 --chunk-size 8388608 || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

mkdir -p data/a data/b
head -c 20000000 /dev/urandom >data/a/big1.bin
cp data/a/big1.bin data/a/big2.bin
cp data/a/big1.bin data/b/big3.bin
head -c 12000000 /dev/urandom >data/b/unique.bin
echo small >data/small.txt

# slow enough that the three copies' uploads overlap; one file per commit, so the store link of a copy
# committed first is removed while another copy is still to be sent
hub_knobs '{"bandwidth_cap":8000000}' >/dev/null
HFGIT_ULF_COMMIT_FILES=1 hfgit upload-large-folder alice/dups data --repo-type model --no-report --num-workers 3 \
    >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
check_eq "upload-large-folder with three identical large files finishes" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/run.err"
check_not_contains "... without a lost multipart upload" "$(cat "$WORK/run.err")" "NoSuchUpload"
stats=$(hub_stats)
check_eq "the hub completed each object once (1 for the three copies, 1 for the unique file)" \
    "$(json_num "$stats" completions_ok)" 2
check_eq "... and refused none" "$(json_num "$stats" completions_refused)" 0
check_eq "... and stored each part once (3 + 2)" "$(json_num "$stats" parts_ok)" 5
journal=$(grep -rl '^hfgit-upload-large-folder-state' data/.cache/huggingface 2>/dev/null | head -n 1)
check_eq "the journal records every LFS file as pre-uploaded" \
    "$(grep '^U' "$journal" | cut -f3 | sort | tr '\n' ' ')" "a/big1.bin a/big2.bin b/big3.bin b/unique.bin "
git clone -q "$HUB_URL/alice/dups" g
check "a fresh clone matches the folder byte for byte" \
    diff -r --exclude=.git --exclude=.gitattributes --exclude=.cache data g
check_eq "... with the 4 big files in LFS" "$(cd g && git lfs ls-files -n | wc -l)" 4

done_testing
