#!/usr/bin/env bash
# t_cli_repo: the hfgit command line over the library, against hfgit-hub (issue 6, acceptance 2).
# --help on every subcommand and exit codes; clone/add/commit/push/pull round trip compared with real git +
# git-lfs; status output; track/untrack edit .gitattributes; install-hooks installs the pre-push hook, moves
# git-lfs's to pre-push.lfs and chains to it, idempotently; errors: unknown command (2, points to --help),
# bad repo id, wrong or missing token (3, token never printed), nothing to commit (5).
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "hfgit CLI tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/cli >/dev/null || not_ok "create alice/cli"
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

# --- help, version, usage errors ---
for c in clone pull add commit push status track untrack upload install-hooks lfs-enable-largefiles; do
    out=$(hfgit "$c" --help 2>&1); rc=$?
    [ "$rc" = 0 ] && [[ "$out" == usage:* ]] && ok "hfgit $c --help" || not_ok "hfgit $c --help" "rc=$rc $out"
done
out=$(hfgit --help); check_contains "hfgit --help documents the exit statuses" "$out" "3  authentication"
check_contains "hfgit help config documents HF_ENDPOINT" "$(hfgit help config)" "HF_ENDPOINT"
check_contains "hfgit --version" "$(hfgit --version)" "hfgit 0."
out=$(hfgit frobnicate 2>&1); rc=$?
check_eq "an unknown command exits 2" "$rc" 2
check_contains "... and points to --help" "$out" "hfgit --help"
hfgit push --frobnicate >/dev/null 2>&1
check_eq "an unknown option exits 2" "$?" 2
hfgit clone 'not a repo id!' x >/dev/null 2>&1
check_eq "a bad repo id is a usage error (2), as the help says" "$?" 2
hfgit status -C "$WORK" >/dev/null 2>&1
check_eq "status outside a repository: not found (4)" "$?" 4

# --- clone / add / commit / push, compared with a real git clone ---
check "hfgit clone" hfgit clone alice/cli
head -c 12582912 /dev/urandom >cli/big.bin
printf 'hello\n' >cli/README.md
mkdir -p cli/sub && printf 'deep\n' >cli/sub/deep.txt
out=$(cd cli/sub && hfgit add . 2>&1); rc=$?
check_eq "hfgit add . in a subdirectory stages only it" "$rc:$(cd cli && hfgit status | grep -c '^A ')" "0:1"
check "hfgit add -C cli ." hfgit add -C cli .
check_eq "... auto-tracked the big file" "$(cat cli/.gitattributes)" "big.bin filter=lfs diff=lfs merge=lfs -text"
out=$(cd cli && hfgit status)
check_contains "status shows the branch" "$out" "## "
check_contains "status marks the staged LFS file" "$out" "A  big.bin  [lfs]"
check_contains "status shows staged text files" "$out" "A  README.md"
id=$(cd cli && hfgit commit -m "first" 2>/dev/null)
check_eq "hfgit commit prints the commit id" "$id" "$(git -C cli rev-parse HEAD)"
(cd cli && hfgit commit -m "again") >/dev/null 2>&1
check_eq "nothing to commit exits 5" "$?" 5
if command -v script >/dev/null; then
    out=$(script -qec "hfgit push -C cli" /dev/null 2>&1); rc=$?
    check_eq "hfgit push (on a terminal, through script(1))" "$rc" 0
    check_contains "... draws upload progress with the size" "$out" "Uploading LFS objects 100% 12.0 MiB / 12.0 MiB"
    check_contains "... and the rate" "$out" "/s"
else
    check "hfgit push" hfgit push -C cli
    skip "progress on a terminal" "script(1) is not installed (bsdutils)"
fi
head -c 2000000 /dev/urandom >cli/piped.bin && hfgit -q add -C cli . && hfgit -q commit -C cli -m piped
out=$(hfgit push -C cli 2>&1)
check_eq "a push on a pipe draws no progress line" "$(grep -c -e Uploading -e $'\r' <<<"$out")" 0
check_eq "status after the push: in step with origin (no ahead/behind), clean" "$(hfgit status -C cli)" \
    "## main...origin/main"$'\n'"clean"
check "real git clones it" git clone -q "$HUB_URL/alice/cli" g
check "big.bin is identical" cmp cli/big.bin g/big.bin
check "sub/deep.txt is identical" cmp cli/sub/deep.txt g/sub/deep.txt
check "piped.bin is identical" cmp cli/piped.bin g/piped.bin
check_eq "the big and binary files are LFS for git-lfs" "$(cd g && git lfs ls-files -n | tr '\n' ' ')" "big.bin piped.bin "

# --- pull: a change pushed by real git comes back with its LFS file ---
head -c 3000000 /dev/urandom >g/big.bin
head -c 1500000 /dev/urandom >g/pulled.pt # tracked in the same commit that adds it
(cd g && git lfs track pulled.pt >/dev/null && git add -A && git commit -qm "from git" &&
    git_auth push -q origin main) >/dev/null 2>&1 || not_ok "real git pushes a change"
check "hfgit pull" hfgit pull -C cli
check "... brought the new big.bin, smudged" cmp g/big.bin cli/big.bin
check "... and pulled.pt, tracked in the same commit, smudged" cmp g/pulled.pt cli/pulled.pt
check_eq "... HEAD equals the remote" "$(git -C cli rev-parse HEAD)" "$(git -C g rev-parse HEAD)"
printf 'x\n' >>cli/README.md
out=$(hfgit status -C cli)
check_contains "status shows a modified file" "$out" " M README.md"
hfgit status -q -C cli
check_eq "status -q exits 1 on changes" "$?" 1

# --- track / untrack ---
check "hfgit track" hfgit track -C cli '*.safetensors' 'data/*.bin'
check_contains ".gitattributes has the new pattern" "$(cat cli/.gitattributes)" "*.safetensors filter=lfs diff=lfs merge=lfs -text"
check_contains "track lists the patterns" "$(hfgit track -C cli)" "data/*.bin"
hfgit track -C cli '*.safetensors' >/dev/null
check_eq "tracking again adds no line" "$(grep -c safetensors cli/.gitattributes)" 1
check "hfgit untrack" hfgit untrack -C cli '*.safetensors'
check_eq "... removed the line" "$(grep -c safetensors cli/.gitattributes)" 0
check_contains "... kept the others" "$(cat cli/.gitattributes)" "data/*.bin filter=lfs"
hfgit untrack -C cli >/dev/null 2>&1
check_eq "untrack without a pattern is a usage error" "$?" 2
check "hfgit track --filename 'model[0].bin'" hfgit track -C cli --filename 'model[0].bin'
check_contains "... writes the escaped line" "$(cat cli/.gitattributes)" 'model\[0\].bin filter=lfs'
out=$(hfgit untrack -C cli 'model[0].bin' 2>&1)
check_contains "untrack of the pattern 'model[0].bin' leaves that line" "$out" "0 line(s) removed"
out=$(hfgit untrack -C cli --filename 'model[0].bin' 2>&1)
check_contains "hfgit untrack --filename 'model[0].bin' removes it" "$out" "1 line(s) removed"
check_not_contains "... gone from .gitattributes" "$(cat cli/.gitattributes)" 'model\[0\]'
check_contains "... the others kept" "$(cat cli/.gitattributes)" "data/*.bin filter=lfs"

# --- install-hooks: installs, moves git-lfs's hook aside, chains to it, idempotent ---
(cd g && git lfs install --local >/dev/null 2>&1)
check "git-lfs installed its pre-push" grep -q "git lfs pre-push" g/.git/hooks/pre-push
check "hfgit install-hooks" hfgit install-hooks -C g
check "... installed hfgit's pre-push" grep -q "hfgit-hook: pre-push" g/.git/hooks/pre-push
check "... executable" test -x g/.git/hooks/pre-push
check "... moved git-lfs's to pre-push.lfs" grep -q "git lfs pre-push" g/.git/hooks/pre-push.lfs
lfs_hook=$(cat g/.git/hooks/pre-push.lfs)
check "install-hooks again" hfgit install-hooks -C g
check_eq "... keeps pre-push.lfs as it was" "$(cat g/.git/hooks/pre-push.lfs)" "$lfs_hook"
check "... and hfgit's hook in place" grep -q "hfgit-hook: pre-push" g/.git/hooks/pre-push
head -c 2000000 /dev/urandom >g/chained.bin
(cd g && git lfs track chained.bin >/dev/null && git add -A && git commit -qm chained) >/dev/null 2>&1
check "a git push through the installed hook" sh -c "cd g && $(declare -f git_auth); HUB_TOKEN=$HUB_TOKEN git_auth push -q origin main"
check "... the chained git-lfs hook uploaded the LFS object" sh -c "git clone -q '$HUB_URL/alice/cli' g2 && cmp g/chained.bin g2/chained.bin"
printf '#!/bin/sh\nexit 0\n' >g/.git/hooks/pre-push && chmod +x g/.git/hooks/pre-push
out=$(hfgit install-hooks -C g 2>&1); rc=$?
[ "$rc" != 0 ] && ok "a foreign pre-push with pre-push.lfs present: refused" || not_ok "a foreign pre-push with pre-push.lfs present: refused" "$out"
check_contains "... naming pre-push.lfs" "$out" "pre-push.lfs"

git -C cli config core.hooksPath .githooks
check "install-hooks honours core.hooksPath" sh -c "hfgit install-hooks -C cli >/dev/null && grep -q 'hfgit-hook: pre-push' cli/.githooks/pre-push"
git -C cli config --unset core.hooksPath

# --- tokens (on a fresh clone that is in step with the remote) ---
hfgit -q clone alice/cli c2 && printf 'y\n' >>c2/README.md && hfgit add -C c2 . && hfgit commit -C c2 -m "y" >/dev/null
bad="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
out=$(HF_TOKEN="$bad" hfgit push -C c2 2>&1); rc=$?
check_eq "push with a wrong token exits 3" "$rc" 3
check_not_contains "... without printing the token" "$out" "$bad"
out=$(env -u HF_TOKEN HF_HOME="$WORK/empty" hfgit push -C c2 2>&1); rc=$?
check_eq "push without a token exits 3" "$rc" 3
check_contains "... saying how to set one" "$out" "HF_TOKEN"
check_not_contains "the hub token is never printed" "$out" "$HUB_TOKEN"
if grep -rqF "$HUB_TOKEN" cli/.git/config c2/.git/config cli/.git/FETCH_HEAD 2>/dev/null; then
    not_ok "the token is not written into .git"
else ok "the token is not written into .git"; fi
mkdir -p "$WORK/tokhome" && printf '%s\n' "$HUB_TOKEN" >"$WORK/tokhome/token"
out=$(env -u HF_TOKEN HF_HOME="$WORK/tokhome" hfgit -q push -C c2 2>&1); rc=$?
check_eq "hfgit -q push with the token from \$HF_HOME/token works and prints nothing" "$rc:$out" "0:"
check_eq "... the remote has the commit" "$(git ls-remote "$HUB_URL/alice/cli" refs/heads/main | cut -f1)" \
    "$(git -C c2 rev-parse HEAD)"

done_testing
