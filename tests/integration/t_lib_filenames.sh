#!/usr/bin/env bash
# t_lib_filenames: file names with glob characters, spaces and '#'. hf_repo_lfs_track_filenames writes the
# same .gitattributes lines as `git lfs track --filename` (git-lfs 3.3.0), byte for byte, and
# hf_repo_lfs_untrack_filenames removes them again; git check-attr
# says filter=lfs for exactly those files (not for model0.bin, which `model[0].bin` unescaped would match);
# hf_repo_add's auto-tracking does the same, so an 11 MiB `model[0].bin` goes to LFS, the push is accepted,
# and git + git-lfs clone it back byte-identical with `w*x.bin` tracked and `wax.bin` not.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "file name tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
LIB="$BUILD_DIR/tests/lib_repo"
[ -x "$LIB" ] || { not_ok "lib_repo is built" "missing $LIB"; done_testing; exit 1; }
cd "$WORK" || exit 1
export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid"

attr_of() { (cd "$1" && git check-attr filter -- "$2" | sed 's/.*: filter: //'); }

# --- the same lines as git lfs track --filename, for every name git-lfs escapes correctly ---
names=('model[0].bin' 'w*x.bin' 'a?b.bin' 'my model #1.bin' '#hash.bin' 'd i r/x[1] y.bin' 'br]ack.bin')
for n in "${names[@]}"; do
    rm -rf g l
    git init -q g && git init -q l
    (cd g && git lfs track --filename "$n" >/dev/null 2>&1)
    "$LIB" track-files l "$n" >/dev/null 2>l.err || not_ok "track-files '$n'" "$(cat l.err)"
    if cmp -s g/.gitattributes l/.gitattributes; then
        ok "'$n': the line git lfs track --filename writes ($(cut -d' ' -f1 l/.gitattributes))"
    else
        not_ok "'$n': the line git lfs track --filename writes" "git-lfs: $(cat g/.gitattributes)"$'\n'"hfgit:   $(cat l/.gitattributes)"
    fi
    check_eq "... git check-attr: '$n' is LFS" "$(attr_of l "$n")" lfs
    check_eq "... hf_repo_lfs_untrack_filenames removes that line" "$("$LIB" untrack-files l "$n")" 1
    check_eq "... and '$n' is no longer LFS" "$(attr_of l "$n")" unspecified
done
check_eq "tracking model[0].bin does not track model0.bin" \
    "$(cd l && rm -f .gitattributes && "$LIB" track-files . 'model[0].bin' >/dev/null && attr_of . model0.bin)" unspecified
check_eq "tracking w*x.bin does not track wax.bin" \
    "$(cd l && "$LIB" track-files . 'w*x.bin' >/dev/null && attr_of . wax.bin)" unspecified
check_eq "tracking the same name again adds no line" "$(cd l && "$LIB" track-files . 'w*x.bin')" 0
# untracking by name is the mirror of tracking by name: the pattern form does not find the escaped line
check_eq "untrack of the pattern 'model[0].bin' removes no escaped line" "$(cd l && "$LIB" untrack . 'model[0].bin')" 0
check_eq "untrack-files 'model[0].bin' removes it" "$(cd l && "$LIB" untrack-files . 'model[0].bin')" 1
check_eq "... and leaves w*x.bin's line" "$(cd l && cat .gitattributes)" 'w\*x.bin filter=lfs diff=lfs merge=lfs -text'

# --- names where git-lfs's own line would miss the file: the line still matches it ---
for n in $'tab\tname.bin' 'back\slash.bin' '!bang.bin' '"quote.bin'; do
    rm -rf l && git init -q l
    "$LIB" track-files l "$n" >/dev/null 2>l.err || not_ok "track-files '$n'" "$(cat l.err)"
    check_eq "git check-attr: '$n' is LFS" "$(attr_of l "$n")" lfs
done
out=$("$LIB" track-files l $'new\nline.bin' 2>&1); rc=$?
check_eq "a name with a line break: HF_EINVAL" "$rc" 3
check_contains "... saying why" "$out" "one line"

# --- hf_repo_add auto-tracking, pushed and cloned back by git + git-lfs ---
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/names >/dev/null || not_ok "create alice/names"
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL"
git init -q -b main seed && (cd seed && echo hi >README.md && git add -A && git commit -qm init &&
    git remote add origin "$HUB_URL/alice/names" && git_auth push -q origin main >/dev/null 2>&1) ||
    not_ok "seed the repo"
check "the library clones it" "$LIB" open c alice/names
head -c $((11 << 20)) /dev/urandom >'c/model[0].bin'
head -c 3000 /dev/urandom >'c/w*x.bin'
printf 'plain text\n' >c/wax.bin
printf 'plain text\n' >c/model0.bin
head -c 2000 /dev/urandom >'c/my model #1.bin'
check "hf_repo_add --auto" "$LIB" add c . --auto
check_eq "model[0].bin is LFS" "$(attr_of c 'model[0].bin')" lfs
check_eq "w*x.bin is LFS" "$(attr_of c 'w*x.bin')" lfs
check_eq "my model #1.bin is LFS" "$(attr_of c 'my model #1.bin')" lfs
check_eq "model0.bin (text) is not" "$(attr_of c model0.bin)" unspecified
check_eq "wax.bin (text) is not" "$(attr_of c wax.bin)" unspecified
check "commit" "$LIB" commit c "odd names"
out=$("$LIB" push c 2>&1); rc=$?
check_eq "the push is accepted (the 11 MiB file went to LFS, not git)" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/# /'
git clone -q "$HUB_URL/alice/names" back 2>/dev/null
for f in 'model[0].bin' 'w*x.bin' wax.bin model0.bin 'my model #1.bin'; do
    check "git + git-lfs clone: '$f' byte-identical" cmp "c/$f" "back/$f"
done
lfs_files=$(cd back && git lfs ls-files -n | sort | tr '\n' '|')
check_eq "git lfs ls-files: exactly the three binaries" "$lfs_files" 'model[0].bin|my model #1.bin|w*x.bin|'
check_eq "git lfs fsck is clean" "$(cd back && git lfs fsck >/dev/null 2>&1 && echo ok)" ok

# deleting the file removes its (escaped) line
rm 'c/w*x.bin'
check "hf_repo_add --auto after deleting w*x.bin" "$LIB" add c . --auto
check_not_contains "... its line is gone from .gitattributes" "$(cat c/.gitattributes)" 'w\*x.bin'
check_contains "... the others stay" "$(cat c/.gitattributes)" 'model\[0\].bin'

done_testing
