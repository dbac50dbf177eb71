#!/usr/bin/env bash
# t_lib_scheduler: the commit scheduler (hf_scheduler_*) against hfgit-hub (issue 13 acceptance 3).
# Two writer threads append 20,000 JSON lines to two files under hf_scheduler_lock for 20 s while a scheduler
# with every_minutes = 0.02 commits and pushes the folder (outside the clone) into logs/; the hub is stopped
# for 3 s in the middle. After stop, a fresh git clone holds every line exactly once, no line cut, every
# commit changes something, and at least one tick failed while the hub was down (so the test saw the outage).
# Then trigger/stop results: a commit, nothing new (HF_ENOCHANGES), an appended file, ignore patterns; an
# 11 MiB binary file goes to LFS (git lfs fsck clean); a file growing to 120 MiB over three commits keeps the
# peak RSS under 64 MiB.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=0:exitcode=66:suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v git-lfs >/dev/null || { skip "scheduler tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
S="$BUILD_DIR/tests/lib_scheduler" R="$BUILD_DIR/tests/lib_repo"
[ -x "$S" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $S or $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/sched >/dev/null || not_ok "create alice/sched"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Sched User" LIB_REPO_EMAIL="sched@hfgit.invalid"

# a first commit on main made by plain git, so the test does not depend on the empty-clone branch name
git init -q seed && (cd seed && echo "# sched" >README.md && git add README.md && git commit -qm init &&
    git_auth push -q "$HUB_URL/alice/sched" HEAD:refs/heads/main) || not_ok "seed alice/sched"
check "clone alice/sched" "$R" open c alice/sched

# --- two writers, 20 s, the hub down for 3 s in the middle ---
mkdir -p data
head -c 11534336 /dev/urandom >data/blob.bin
port=${HUB_URL##*:}
"$S" writers c "$WORK/data" 20 20000 0.02 >sched.out 2>sched.err &
spid=$!
sleep 8
hub_stop
sleep 3
hub_start --empty-repos --listen "127.0.0.1:$port" || not_ok "the hub restarts on port $port"
wait "$spid"; rc=$?
out=$(cat sched.out sched.err)
check_eq "the writers ran and hf_scheduler_stop returned 0" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "20,000 lines were written" "$out" "lines 20000"
n=$(sed -n 's/^errors_seen //p' <<<"$out")
[ "${n:-0}" -ge 1 ] && ok "a tick failed while the hub was down ($n time(s)) and later ticks went on" \
    || not_ok "a tick failed while the hub was down" "$out"
check_not_contains "no ThreadSanitizer report" "$out" "ThreadSanitizer"

check "git clones the result" git clone -q "$HUB_URL/alice/sched" g
cat g/logs/w0.jsonl g/logs/w1.jsonl 2>/dev/null >all.jsonl
check_eq "the clone holds 20,000 lines" "$(wc -l <all.jsonl)" 20000
check_eq "... each exactly once" "$(sed 's/"pad".*//' all.jsonl | sort | uniq -d | wc -l)" 0
check_eq "... none cut or garbled" \
    "$(grep -cvE '^\{"writer": [01], "seq": [0-9]+, "pad": "[0-9]{40}"\}$' all.jsonl)" 0
check_eq "... and they are the folder's files byte for byte" \
    "$(cat data/w0.jsonl data/w1.jsonl | sha256sum)" "$(sha256sum <all.jsonl)"
commits=$(cd g && git rev-list HEAD | wc -l)
[ "$commits" -ge 4 ] && ok "the scheduler made several commits ($((commits - 1)))" \
    || not_ok "the scheduler made several commits" "$(cd g && git log --oneline)"
empty=0
for c in $(cd g && git rev-list HEAD); do
    [ -n "$(cd g && git diff-tree --root --no-commit-id -r --name-only "$c")" ] || empty=$((empty + 1))
done
check_eq "every commit changes something" "$empty" 0
check_eq "the commits carry the default message" "$(cd g && git log --format=%s -1)" "Scheduled commit"
check_eq "the binary file went to LFS" "$(cd g && git lfs ls-files -n)" "logs/blob.bin"
check "blob.bin is identical" cmp data/blob.bin g/logs/blob.bin
check "git lfs fsck passes" sh -c "cd g && git lfs fsck"

# --- trigger, nothing new, append, ignore patterns, stop ---
mkdir -p fb
printf 'first line\n' >fb/a.txt
printf 'scratch\n' >fb/old.tmp
out=$("$S" trigger c "$WORK/fb" 2>&1); rc=$?
check_eq "trigger run" "$rc" 0
check_eq "trigger: commit, nothing new (HF_ENOCHANGES), commit after an append; stop with nothing pending" \
    "$(grep -E '^(trigger|stop) ' <<<"$out" | tr '\n' ,)" "trigger 0,trigger -10,trigger 0,stop 0,"
check "git fetches it" sh -c "cd g && git pull -q"
check_eq "feedback/a.txt has both lines" "$(cat g/feedback/a.txt)" $'first line\nsecond line'
check_eq "ignored files are not committed" "$(cd g && git ls-files feedback)" "feedback/a.txt"
check_eq "the commit message is the option's" "$(cd g && git log --format=%s -1)" "user feedback"

# --- a file growing to GBs: streamed, never read whole (3 rounds of 40 MiB here; peak RSS bounded) ---
if [ -n "${SAN:-}" ]; then
    skip "a growing LFS file with flat memory" "peak RSS is not meaningful under sanitizers (SAN=$SAN)"
elif [ ! -x /usr/bin/time ]; then
    skip "a growing LFS file with flat memory" "/usr/bin/time is not installed (make deps)"
else
    mkdir -p grow
    out=$(/usr/bin/time -f 'peak_kib %M' "$S" grow c "$WORK/grow" 40 3 2>&1); rc=$?
    check_eq "three rounds of growth, each committed and pushed" "$rc" 0
    check_eq "... every trigger committed" "$(grep -c '^trigger 0$' <<<"$out")" 3
    kib=$(sed -n 's/^peak_kib //p' <<<"$out")
    [ -n "$kib" ] && [ "$kib" -lt 65536 ] && ok "peak RSS ${kib} KiB < 64 MiB for a 120 MiB file" \
        || not_ok "peak RSS under 64 MiB for a 120 MiB file" "$out"
    check "git pulls the grown file" sh -c "cd g && git pull -q"
    check "... as LFS, identical to the folder's" sh -c "cmp grow/big.bin g/big/big.bin && cd g && git lfs ls-files -n | grep -qx big/big.bin"
fi

# --- bad input ---
out=$("$S" trigger c "$WORK/missing" 2>&1)
check_contains "a missing folder is refused, naming it" "$out" "$WORK/missing is not a folder"

done_testing
