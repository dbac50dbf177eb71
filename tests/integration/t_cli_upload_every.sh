#!/usr/bin/env bash
# t_cli_upload_every: `hfgit upload REPO FOLDER --every MINUTES` against hfgit-hub (issue 14, acceptance 2).
# A writer appends to a log while the scheduler commits every 3 s; SIGINT makes a last commit and exits 0;
# every line is on the remote; no commit is empty. SIGTERM does the same; bad --every values are usage errors.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v git-lfs >/dev/null || { skip "upload --every tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN" HF_HOME="$WORK/hf"
cd "$WORK" || exit 1

mkdir -p logs
echo "start" >logs/train.log
hfgit upload alice/every logs --every 0 >/dev/null 2>&1
check_eq "--every 0 is a usage error" "$?" 2
hfgit upload alice/every logs --every ten >/dev/null 2>&1
check_eq "--every ten is a usage error" "$?" 2
hfgit upload alice/every logs/train.log --every 1 >/dev/null 2>&1
check_eq "--every with a single file is a usage error" "$?" 2

# no empty commits: every commit of the branch changes at least one path
empty_commits() {
    local n=0 c
    for c in $(git -C "$1" rev-list HEAD); do
        [ -n "$(git -C "$1" diff-tree --root --no-commit-id -r --name-only "$c")" ] || n=$((n + 1))
    done
    echo "$n"
}

# --- SIGINT ---
hfgit upload alice/every logs runs --every 0.05 >"$WORK/up.out" 2>"$WORK/up.err" &
up=$!
( i=0; while :; do i=$((i + 1)); echo "step $i loss 0.$RANDOM" >>logs/train.log; sleep 0.02; done ) &
writer=$!
sleep 8
kill "$writer"; wait "$writer" 2>/dev/null
kill -0 "$up" 2>/dev/null
check_eq "the scheduler keeps running until signalled" "$?" 0
kill -INT "$up"
wait "$up"
rc=$?
check_eq "SIGINT: the last commit is made and the command exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' "$WORK/up.err"
check_contains "... it says it makes the last commit" "$(cat "$WORK/up.err")" "making the last commit"
git clone -q "$HUB_URL/alice/every" g
check "every line written is on the remote" cmp logs/train.log g/runs/train.log
n=$(git -C g rev-list --count HEAD)
check "... in several commits (scheduled ones, then the last) [$n]" test "$n" -ge 2
check_eq "... none of them empty" "$(empty_commits g)" 0
check_eq "... and the printed URL names the last commit" "$(cat "$WORK/up.out")" \
    "$HUB_URL/alice/every/commit/$(git -C g rev-parse HEAD)"

# --- SIGTERM, with nothing new since the last tick: exits 0 without an empty commit ---
hfgit upload alice/every logs runs --every 0.05 >/dev/null 2>"$WORK/up.err" &
up=$!
echo "after restart" >>logs/train.log
sleep 5
kill -TERM "$up"
wait "$up"
check_eq "SIGTERM also ends with exit 0" "$?" 0
git -C g pull -q
check "... with the new line on the remote" cmp logs/train.log g/runs/train.log
check_eq "... and still no empty commit" "$(empty_commits g)" 0

done_testing
