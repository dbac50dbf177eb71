#!/usr/bin/env bash
# t_lib_queue: libhfgit's command queue against hfgit-hub (issue 5 acceptance 1, 2, 5).
# Three rounds of add/commit/queued push while a second thread polls the commands and reads the repository:
# each push is -1 right after queueing, all are 0 after hf_repo_wait_for_commands, and the hub's history has
# the three commits in order. A queued push with a wrong token fails (status > 0) with an explaining error
# that does not contain the token, and the commands queued after it still run, each with its own outcome.
# hf_repo_free waits for queued work and says so on stderr. Under `make check SAN=thread` (or
# BUILD=build-tsan after `make BUILD=build-tsan SAN=thread tests`) the same runs under ThreadSanitizer.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"
# a TSan report makes the program exit non-zero, which the checks below catch
# (glibc's tzset lock is invisible to TSan: lib_tsan.supp says why)
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=0:exitcode=66:suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v git-lfs >/dev/null || { skip "queue tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
Q="$BUILD_DIR/tests/lib_queue" R="$BUILD_DIR/tests/lib_repo"
[ -x "$Q" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $Q or $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/queue >/dev/null || not_ok "create alice/queue"
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Queue User" LIB_REPO_EMAIL="queue@hfgit.invalid"
remote_head() { git ls-remote "$HUB_URL/alice/queue" refs/heads/main | cut -f1; }
tsan_clean() { # NAME OUTPUT
    check_not_contains "$1: no ThreadSanitizer report" "$2" "ThreadSanitizer"
}

check "clone alice/queue" "$R" open q alice/queue

# --- acceptance 1: three queued pushes of three commits ---
# object uploads capped at 1 MB/s: the 3 MiB push of round 2 takes a while, so round 3's add and commit happen
# while it uploads
hub_knobs '{"bandwidth_cap":1000000}' >/dev/null || not_ok "set the bandwidth cap"
out=$("$Q" pushes q 3 2>&1); rc=$?
hub_knobs '{"bandwidth_cap":0}' >/dev/null
check_eq "three rounds of commit + queued push, a poller thread reading meanwhile" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "each push is -1 (queued or running) right after queueing" "$(grep -c '^queued [123] status -1$' <<<"$out")" 3
n=$(sed -n 's/^in_progress_before_wait //p' <<<"$out")
[ "${n:-0}" -ge 2 ] && ok "committing did not wait for the queued pushes ($n still in progress after round 3)" \
    || not_ok "committing did not wait for the queued pushes" "$out"
mid=$(sed -n 's/^mid_progress_calls \([0-9]*\) matched \([0-9]*\)$/\1 \2/p' <<<"$out")
[ -n "$mid" ] && [ "${mid% *}" -gt 0 ] && [ "${mid% *}" = "${mid#* }" ] \
    && ok "while the push ran, hf_command_progress followed every partial report (${mid% *} of them)" \
    || not_ok "while the push ran, hf_command_progress followed every partial report" "$out"
check_eq "hf_repo_wait_for_commands returns 0 failed" "$(sed -n 's/^wait //p' <<<"$out")" 0
check_eq "all three are 0 after the wait" "$(grep -c '^push [123] status 0 title push ' <<<"$out")" 3
check_contains "the push with the 3 MiB file reported its bytes (done = total)" "$out" "push 2 status 0 title push progress 3145728/3145728"
check_eq "the pins of queued pushes are gone after them" "$(cd q && git for-each-ref refs/hfgit)" ""
tsan_clean "pushes" "$out"
want=$(sed -n 's/^commit [123] //p' <<<"$out")
check "git clones the result" git clone -q "$HUB_URL/alice/queue" g
check_eq "the hub's history has the three commits, in order" "$(cd g && git log --format=%H --reverse)" "$want"
check_eq "... with their messages" "$(cd g && git log --format=%s --reverse | tr '\n' ,)" "round 1,round 2,round 3,"
check "weights.bin came through LFS intact" sh -c "cmp q/weights.bin g/weights.bin && cd g && git lfs ls-files -n | grep -qx weights.bin"
check_eq "the clone's branch tracks origin after queued pushes" "$(cd q && git rev-parse --abbrev-ref '@{u}')" "origin/main"

# --- acceptance 2: a queued push with a wrong token, then more commands ---
before=$(remote_head)
bad="hf_wrong_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
out=$(HF_TOKEN="$bad" "$Q" badtoken q 2>&1); rc=$?
check_eq "a queued push with a wrong token: the scenario's own checks pass" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "all three were queued (-1) at once" "$out" "queued status -1 -1 -1"
check_contains "the push failed with status 7 (HF_EAUTH)" "$out" "push status 7 failed 1"
check_contains "... and its error explains" "$(grep '^push status' <<<"$out")" "refused the token"
check_not_contains "... without the token" "$out" "$bad"
check_contains "the next command failed on its own, with its own error" "$out" 'eio status 4 error "the disk said no"'
check_contains "the command after that still ran and succeeded" "$out" 'marker status 0 error ""'
check_contains "hf_repo_commands_failed lists the push first" "$out" "failed_count 2 first push"
check_eq "the queued function wrote its file (HEAD's id)" "$(cat q/marker.txt 2>/dev/null)" "$(cd q && git rev-parse HEAD)"
check_eq "the remote did not move" "$(remote_head)" "$before"
tsan_clean "badtoken" "$out"
rm -f q/marker.txt
check "with the right token, a blocking push sends the commit" "$R" push q
check_eq "... the remote has it" "$(remote_head)" "$(cd q && git rev-parse HEAD)"

# --- hf_repo_free waits for queued work and says so ---
out=$(HFGIT_TRACE=1 "$Q" slowfree q 6 2>&1); rc=$? # the notice is a trace line (a library keeps off stderr)
check_eq "free with a 6 s command queued" "$rc" 0
waited=$(sed -n 's/^free_waited \([0-9]*\).*/\1/p' <<<"$out")
[ "${waited:-0}" -ge 6 ] && ok "hf_repo_free waited for it (${waited}s)" || not_ok "hf_repo_free waited for it" "$out"
check_contains "... and said so in the trace (HFGIT_TRACE=1)" "$out" ": waiting for 1 queued command(s)"
check "the command ran to its end" test -f q/slept.txt
tsan_clean "slowfree" "$out"

# --- hf_commit_end(ctx, 0, &cmd): the queued push of a non-blocking commit context ---
out=$("$Q" ctxend q 2>&1); rc=$?
check_eq "hf_commit_end's command_out: the scenario's own checks pass" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "a non-blocking context returns its queued push (the same as opts->command)" "$out" \
    "queued_end rc 0 command set same_as_opts 1"
sent=$(sed -n 's/^queued_commit \([0-9a-f]*\) head .*/\1/p' <<<"$out")
made=$(sed -n 's/^queued_commit [0-9a-f]* head \([0-9a-f]*\)$/\1/p' <<<"$out")
[ -n "$sent" ] && [ "$sent" = "$made" ] && ok "... whose commit id is the commit the context made (${sent:0:12})" \
    || not_ok "... whose commit id is the commit the context made" "$out"
check_contains "... and it is pushed" "$out" "queued_status_after_wait 0 title push"
check_contains "hf_commit_options.on_done: the queued push's own callback fired once, with that command" "$out" \
    "ctx_callback calls 1 status 0 same_command 1"
check_contains "a blocking context gives no command" "$out" "blocking_end rc 0 command NULL"
check_contains "an hf_push_options of version 1 (before on_done) is still accepted" "$out" "v1_push_options rc 0"
check_contains "a failed body gives no command" "$out" "failed_end rc -11 command NULL"
check_eq "the remote has the last commit (the version 2 context's, queued)" "$(remote_head)" "$(cd q && git rev-parse HEAD)"
check_eq "... after the blocking context's, whose parent is the first queued one's" "$(cd q && git rev-parse HEAD~2)" "$sent"
check_contains "an hf_commit_options of version 2 (before on_done), allocated at its old size, queues its push" \
    "$(cd q && git log -1 --format=%s)" "ctxend v2"
tsan_clean "ctxend" "$out"

out=$("$Q" cbwait q 2>&1); rc=$?
check_eq "hf_command_wait returns only after the command's own callback returned" "$rc" 0
check_contains "... (status 0, the callback had returned)" "$out" "cbwait status 0 callback_returned 1"
tsan_clean "cbwait" "$out"

done_testing
