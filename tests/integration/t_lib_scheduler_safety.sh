#!/usr/bin/env bash
# t_lib_scheduler_safety: the scheduler never reports success for data it did not commit, and never commits
# a mix of old and new content.
# - a tick whose commit fails (the clone's .git/index.lock held by someone else) is retried: after the lock
#   is gone the next trigger commits, and the data reaches the remote by stop;
# - a file rewritten with larger, different content is committed as it is (not old bytes + the new tail);
# - after a restart (the scheduler's memory of what it copied is gone), a same-size edit is committed.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "scheduler safety tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
S="$BUILD_DIR/tests/lib_scheduler" R="$BUILD_DIR/tests/lib_repo"
[ -x "$S" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $S or $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/safe >/dev/null || not_ok "create alice/safe"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Sched User" LIB_REPO_EMAIL="sched@hfgit.invalid"

git init -q seed && (cd seed && echo "# safe" >README.md && git add README.md && git commit -qm init &&
    git_auth push -q "$HUB_URL/alice/safe" HEAD:refs/heads/main) || not_ok "seed alice/safe"
check "clone alice/safe" "$R" open c alice/safe
check "git clones alice/safe" git clone -q "$HUB_URL/alice/safe" g

# --- a failed commit is retried, not forgotten ---
mkdir -p d1
printf 'kept line\n' >d1/a.txt
out=$("$S" steps c "$WORK/d1" locked "sh:touch '$WORK/c/.git/index.lock'" trigger \
    "sh:rm -f '$WORK/c/.git/index.lock'" trigger stop 2>&1); rc=$?
check_eq "steps ran" "$rc" 0
res=$(grep -E '^(trigger|stop) ' <<<"$out" | cut -d' ' -f1,2 | tr '\n' ,)
case "$res" in
    "trigger -"*",trigger 0,stop 0,") ok "the tick with index.lock held fails; the next one commits it ($res)" ;;
    *) not_ok "the tick with index.lock held fails; the next one commits it" "$out" ;;
esac
check "git pulls" sh -c "cd g && git pull -q"
check_eq "the file reached the remote" "$(cat g/locked/a.txt 2>&1)" "kept line"

# --- a file rewritten larger is committed exactly ---
mkdir -p d2
printf 'old\n' >d2/r.txt
out=$("$S" steps c "$WORK/d2" rewrite trigger "sh:printf 'brand new text\\n' >'$WORK/d2/r.txt'" trigger stop 2>&1); rc=$?
check_eq "steps ran" "$rc" 0
check_eq "two commits" "$(grep -E '^(trigger|stop) ' <<<"$out" | tr '\n' ,)" "trigger 0,trigger 0,stop 0,"
check "git pulls" sh -c "cd g && git pull -q"
check_eq "the rewritten file is committed as it is" "$(cat g/rewrite/r.txt 2>&1)" "brand new text"
check "... and the clone's copy is the folder's" cmp d2/r.txt c/rewrite/r.txt

# --- a same-size edit after a restart is committed ---
mkdir -p d3
printf 'version 1\n' >d3/v.txt
out=$("$S" steps c "$WORK/d3" restart trigger stop 2>&1)
check_eq "first run commits" "$(grep -E '^(trigger|stop) ' <<<"$out" | tr '\n' ,)" "trigger 0,stop 0,"
printf 'version 2\n' >d3/v.txt
out=$("$S" steps c "$WORK/d3" restart trigger stop 2>&1)
check_eq "after a restart, the same-size edit is committed" \
    "$(grep -E '^(trigger|stop) ' <<<"$out" | tr '\n' ,)" "trigger 0,stop 0,"
check "git pulls" sh -c "cd g && git pull -q"
check_eq "the remote has the edit" "$(cat g/restart/v.txt 2>&1)" "version 2"
out=$("$S" steps c "$WORK/d3" restart trigger stop 2>&1)
check_eq "a restart with nothing changed adopts the clone's copy: nothing to commit" \
    "$(grep -E '^(trigger|stop) ' <<<"$out" | cut -d' ' -f1,2 | tr '\n' ,)" "trigger -10,stop 0,"

done_testing
