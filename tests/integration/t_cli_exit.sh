#!/usr/bin/env bash
# t_cli_exit: the exit statuses `hfgit --help` promises, as a user meets them (issue 17, defects 3, 4, 5).
# A server that cannot be reached is 6 for clone, pull, push and upload; a malformed repo id is 2 for every
# command; `hfgit add` takes paths as git does (relative to the current folder, absolute inside the work tree)
# and exits 4, staging nothing, when one matches no file; a missing user.email (or user.name) gives a message
# for a command-line user, and upload falls back for each missing part alone.
source "$(dirname "$0")/../lib.sh"

command -v git-lfs >/dev/null || { skip "hfgit exit status tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/x >/dev/null || not_ok "create alice/x"
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1
# A loopback port nothing listens on: the hub's, once the hub is stopped is racy; port 1 is never served.
DOWN=http://127.0.0.1:1

# --- 6: the server cannot be reached ---
out=$(HF_ENDPOINT=$DOWN hfgit clone alice/x down 2>&1); rc=$?
check_eq "clone from an unreachable server exits 6" "$rc" 6
check_contains "... saying the server could not be reached" "$out" "could not be reached"
check "hfgit clone (for pull/push)" hfgit -q clone alice/x c
echo a >c/a.txt && hfgit -q add -C c a.txt && hfgit -q commit -C c -m a >/dev/null
git -C c remote set-url origin "$DOWN/alice/x"
hfgit pull -C c >/dev/null 2>&1
check_eq "pull from an unreachable server exits 6" "$?" 6
hfgit push -C c >/dev/null 2>&1
check_eq "push to an unreachable server exits 6" "$?" 6
git -C c remote set-url origin "$HUB_URL/alice/x"
echo up >up.txt
HF_ENDPOINT=$DOWN hfgit upload alice/x up.txt >/dev/null 2>&1
check_eq "upload to an unreachable server exits 6" "$?" 6

# --- 2: a malformed repo id, for every command alike ---
for id in 'not a repo id!' 'a/b/c' 'datasets/a/b/c' '-a/b'; do
    hfgit clone "$id" bad >/dev/null 2>&1; rc=$?
    check_eq "clone '$id' is a usage error (2)" "$rc" 2
    hfgit upload "$id" up.txt >/dev/null 2>&1; rc=$?
    check_eq "upload '$id' is a usage error (2)" "$rc" 2
done
check "... and nothing was created" test ! -e bad
hfgit clone alice/x --repo-type frob bad >/dev/null 2>&1
check_eq "clone --repo-type frob is a usage error (2)" "$?" 2

# --- add: paths as git takes them; matching nothing is 4 and stages nothing ---
git init -q r && mkdir -p r/sub && echo t >r/top.txt && echo s >r/sub/s.txt && echo u >r/abs.txt
staged() { git -C "$WORK/r" diff --cached --name-only | tr '\n' ' '; }
check "add ../top.txt from a subfolder" sh -c "cd r/sub && hfgit add ../top.txt"
check_eq "... staged top.txt" "$(staged)" "top.txt "
check "add of an absolute path inside the work tree" sh -c "cd r/sub && hfgit add '$WORK/r/abs.txt'"
check_eq "... staged abs.txt" "$(staged)" "abs.txt top.txt "
out=$(cd r/sub && hfgit add nope.txt 2>&1); rc=$?
check_eq "add of a name that does not exist exits 4" "$rc" 4
check_contains "... naming it" "$out" "'nope.txt' did not match any file"
out=$(cd r/sub && hfgit add s.txt ../missing.txt 2>&1); rc=$?
check_eq "add of an existing and a missing path exits 4" "$rc" 4
check_contains "... naming the missing one" "$out" "'../missing.txt' did not match any file"
check_eq "... and stages nothing, as git does" "$(staged)" "abs.txt top.txt "
out=$(cd r/sub && hfgit add ../../outside.txt 2>&1); rc=$?
check_eq "add of a path above the work tree is a usage error (2)" "$rc" 2
check_contains "... saying it is outside the repository" "$out" "outside the repository"
hfgit add -C r /etc/hostname >/dev/null 2>&1
check_eq "add of an absolute path outside the work tree is a usage error (2)" "$?" 2
echo '*.log' >r/.gitignore && echo l >r/sub/x.log
out=$(cd r/sub && hfgit add x.log 2>&1); rc=$?
check_eq "add of a file .gitignore leaves out stages nothing and exits 4" "$rc" 4
check_contains "... saying it is ignored" "$out" "'x.log' is ignored by .gitignore"
rm r/.gitignore r/sub/x.log
check "add . in the subfolder" sh -c "cd r/sub && hfgit add ."
check_eq "... staged sub/s.txt" "$(staged)" "abs.txt sub/s.txt top.txt "
git -C r commit -qm one && rm r/top.txt
check "add of a deleted file (in the index only) stages the deletion" sh -c "cd r && hfgit add top.txt"
check_eq "... staged" "$(git -C r diff --cached --name-status | tr '\t\n' '  ')" "D top.txt "
check "add of an unchanged file succeeds, as with git" hfgit add -C r sub/s.txt

# --- 5: the commit author ---
mkdir -p "$WORK/h-name" "$WORK/h-email"
HOME="$WORK/h-name" git config --global user.name "Only Name"
HOME="$WORK/h-email" git config --global user.email "only@mail.invalid"
echo n >r/n.txt && hfgit -q add -C r n.txt
out=$(HOME="$WORK/h-name" hfgit commit -C r -m n 2>&1); rc=$?
check_eq "commit with user.name but no user.email fails (1)" "$rc" 1
check_contains "... saying what is missing" "$out" "no user.email"
check_contains "... and how to set it" "$out" 'git config --global user.email'
check_not_contains "... without naming a C API field" "$out" "hf_repo_options"
out=$(HOME="$WORK/h-email" hfgit commit -C r -m n 2>&1); rc=$?
check_eq "commit with user.email but no user.name fails (1)" "$rc" 1
check_contains "... saying what is missing" "$out" "no user.name"
echo one >one.txt
out=$(HOME="$WORK/h-name" hfgit upload alice/x one.txt 2>&1); rc=$?
check_eq "upload with user.name but no user.email succeeds" "$rc" 0
[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
git clone -q "$HUB_URL/alice/x" g 2>/dev/null
check_eq "... the author keeps the configured name, the e-mail falls back" \
    "$(git -C g log -1 --format='%an <%ae>')" "Only Name <hfgit-upload@users.noreply.huggingface.co>"
echo two >two.txt
out=$(HOME="$WORK/h-email" HF_HOME="$WORK/hf-email" hfgit upload alice/x two.txt 2>&1); rc=$?
check_eq "upload with user.email but no user.name succeeds" "$rc" 0
git -C g pull -q 2>/dev/null
check_eq "... the author keeps the configured e-mail, the name falls back" \
    "$(git -C g log -1 --format='%an <%ae>')" "hfgit upload <only@mail.invalid>"
echo three >three.txt
hfgit upload alice/x three.txt >/dev/null 2>&1 # the same cache clone as the first fallback upload, full identity now
git -C g pull -q 2>/dev/null
check_eq "a later upload through the same cache clone uses the identity configured now" \
    "$(git -C g log -1 --format='%an <%ae>')" "hfgit tests <tests@hfgit.invalid>"

done_testing
