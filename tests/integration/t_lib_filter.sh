#!/usr/bin/env bash
# t_lib_filter: libhfgit's native lfs filter and add/commit against real git + git-lfs, no network.
# The same files staged by `git add` (git-lfs clean) and by hf_repo_add give the same blob ids and the same
# .git/lfs/objects; auto-tracking writes what `git lfs track` writes, honours .gitignore and drops the lines
# of deleted files; afterwards git sees a clean index (no re-clean needed) and `git lfs fsck` passes.
source "$(dirname "$0")/../lib.sh"
# the system libgit2 1.5 leaks inside PCRE2; keep sanitizer runs about our code
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "library filter tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
cd "$WORK" || exit 1

# --- same files through git-lfs and through the library ---
mkdir src && cd src || exit 1
printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' >.gitattributes
head -c 3145745 /dev/urandom >big.bin
printf 'hello\n' >small.bin
: >empty.bin
mkdir -p "sub dir" && head -c 70000 /dev/urandom >"sub dir/w #1.bin"
printf 'plain text\n' >notes.txt
# a file that already is a pointer is stored verbatim by both
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 12345\n' \
    1111111111111111111111111111111111111111111111111111111111111111 >ptr.bin
cd "$WORK" || exit 1
cp -a src via-git && cp -a src via-lib
(cd via-git && git init -q && git lfs install --local >/dev/null && git add -A) ||
    not_ok "git add with git-lfs" "failed"
(cd via-lib && git init -q) || not_ok "git init" "failed"
check "hf_repo_add stages the same files" "$LIB" add via-lib .
check_eq "blob ids equal those of git + git-lfs" "$(cd via-lib && git ls-files -s)" "$(cd via-git && git ls-files -s)"
check_eq "the LFS store holds the same objects" "$(cd via-lib/.git/lfs/objects && find . -type f | sort)" \
    "$(cd via-git/.git/lfs/objects && find . -type f | sort)"
oid=$(sha src/big.bin)
check "the big object is byte-identical" cmp src/big.bin "via-lib/.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid"
check_eq "no temp files are left in .git/lfs/tmp" "$(ls -A via-lib/.git/lfs/tmp)" ""
# (the objects themselves, not their folders: a random file's oid may start with 11 or e3 too)
empty_oid=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
ptr_oid=1111111111111111111111111111111111111111111111111111111111111111
check_eq "no object for the pointer file or the empty file" \
    "$(ls "via-lib/.git/lfs/objects/11/11/$ptr_oid" "via-lib/.git/lfs/objects/e3/b0/$empty_oid" 2>&1 |
        grep -c 'No such')" 2
# git (with git-lfs installed) agrees that the working tree matches the index: nothing to re-clean
(cd via-lib && git lfs install --local >/dev/null)
check_eq "git sees the working tree equal to the index" "$(cd via-lib && git diff --name-only)" ""
LIB_REPO_USER="Lib User" LIB_REPO_EMAIL=lib@hfgit.invalid check "hf_repo_commit" "$LIB" commit via-lib "first"
check_eq "git log shows the commit" "$(cd via-lib && git log --format='%an <%ae> %s')" \
    "Lib User <lib@hfgit.invalid> first"
out=$("$LIB" commit via-lib "again" 2>&1); rc=$?
check_eq "a second commit with nothing staged returns HF_ENOCHANGES" "$rc" 10
check_contains "... saying so" "$out" "nothing to commit"
# the repository is consistent for git-lfs (the pointer-only file has no object: exclude it)
(cd via-lib && git rm -q --cached ptr.bin && git commit -qm "drop ptr")
check "git lfs fsck passes on the library's commit" sh -c "cd via-lib && git lfs fsck"
check_eq "git status is clean after the library's add + commit" \
    "$(cd via-lib && git status --porcelain --untracked-files=no)" ""

# --- auto-tracking (huggingface_hub §3.9) ---
mkdir auto && cd auto && git init -q && cd .. || exit 1
head -c 11000000 /dev/zero | tr '\0' 'a' >auto/large.txt     # >= 10 MiB text: tracked by size
head -c 5000000 /dev/zero | tr '\0' 'b' >auto/medium.txt     # 5 MB text: not tracked
printf 'a\0b' >"auto/bin file #2.dat"                         # binary: tracked
mkdir -p auto/ign auto/keep && printf '*.log\n' >auto/ign/.gitignore
printf 'x\0y' >auto/ign/skip.log                              # ignored (nested .gitignore): not tracked, not staged
printf 'x\0y' >auto/keep/model.onnx                           # binary in a subdir
check "hf_repo_add with auto-tracking" "$LIB" add auto . --auto
attrs=$(cat auto/.gitattributes 2>&1)
mkdir ref && (cd ref && git init -q && git lfs install --local >/dev/null &&
    git lfs track large.txt "bin file #2.dat" keep/model.onnx >/dev/null)
check_eq ".gitattributes lines as git lfs track writes them" "$(sort <<<"$attrs")" "$(sort ref/.gitattributes)"
staged=$(cd auto && git ls-files | sort)
check_eq "staged: everything but the ignored file" "$staged" \
    "$(printf '%s\n' .gitattributes 'bin file #2.dat' ign/.gitignore keep/model.onnx large.txt medium.txt | sort)"
check_contains "large.txt is stored as a pointer" "$(cd auto && git cat-file -p :large.txt)" "size 11000000"
check_eq "medium.txt is stored as itself" "$(cd auto && git cat-file -s :medium.txt)" 5000000
check "commit" "$LIB" commit auto "auto"
# deleting a tracked file drops its line
rm "auto/bin file #2.dat"
check "hf_repo_add after a delete" "$LIB" add auto . --auto
check_not_contains "the deleted file's line is gone" "$(cat auto/.gitattributes)" "bin[[:space:]]file"
check_contains "the other lines stay" "$(cat auto/.gitattributes)" "keep/model.onnx filter=lfs"
check_eq "the deletion is staged" "$(cd auto && git status --porcelain -- 'bin file #2.dat')" 'D  "bin file #2.dat"'
# a pathspec limits what is staged
printf 'new\n' >auto/keep/a.txt && printf 'new\n' >auto/other.txt
check "hf_repo_add with a directory pathspec" "$LIB" add auto keep
check_eq "only the pathspec's file was staged" "$(cd auto && git status --porcelain -- keep/a.txt other.txt)" \
    "$(printf 'A  keep/a.txt\n?? other.txt')"

done_testing
