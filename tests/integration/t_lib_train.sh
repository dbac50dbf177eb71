#!/usr/bin/env bash
# t_lib_train: libhfgit in a training loop (issue 16). While a queued push uploads through a 1 MB/s cap,
# is_repo_clean, add, commit, queueing another push and add_tag with a remote each return in well under a second
# (the bound here is generous for a loaded machine: 1000 ms; bench/train_loop.sh prints the real figures, a few
# ms), the tag is on the remote after hf_repo_wait_for_commands, the completion callback fires once per command
# after its status is final, and queued pushes name their commit and its URL. A push cancelled before it started
# leaves the remote unchanged; a command's own completion callback fires once with its own payload (also when
# cancelled before it started), instead of the repository's. A bounded queue refuses (HF_EBUSY) or waits. A git push the hub stops answering
# fails after HFGIT_HTTP_STALL_SECS instead of hanging. hf_repo_checkout downloading an LFS object through the cap
# does not hold the handle: is_clean and head_hash on another thread return at once. Memory stays flat over many pushes (libgit2 1.5 leaked
# about 1.2 MB per push through git_remote_lookup), and valgrind finds no leak in a 20-push run.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=0:exitcode=66:suppressions=$HFGIT_ROOT/tests/integration/lib_tsan.supp"

command -v git-lfs >/dev/null || { skip "training loop tests" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
T="$BUILD_DIR/tests/lib_train" R="$BUILD_DIR/tests/lib_repo"
[ -x "$T" ] && [ -x "$R" ] || { not_ok "test tools are built" "missing $T or $R (make tests)"; done_testing; exit 1; }
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
cd "$WORK" || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Train User" LIB_REPO_EMAIL="train@hfgit.invalid"
remote_ref() { git ls-remote "$HUB_URL/$1" "$2" | cut -f1; }
field() { sed -n "s/^$1 //p" <<<"$2"; }
ms_under() { # NAME OUTPUT KEY BOUND
    local v; v=$(sed -n "s/^$3_ms \([0-9.]*\) rc.*/\1/p" <<<"$2")
    [ -n "$v" ] && awk -v v="$v" -v b="$4" 'BEGIN{exit !(v < b)}' && ok "$1 ($v ms)" || not_ok "$1" "got '$v' ms"
}

# --- calls return promptly while a queued push uploads ---
hub_create_repo alice/train >/dev/null || not_ok "create alice/train"
check "clone alice/train" "$R" open t alice/train
hub_knobs '{"bandwidth_cap":1000000}' >/dev/null || not_ok "set the bandwidth cap"
out=$("$T" latency t 2>&1); rc=$?
hub_knobs '{"bandwidth_cap":0}' >/dev/null
check_eq "latency scenario: every expectation held" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "the first push was still uploading when the calls were timed" "$(field uploading "$out")" 1
for k in is_clean add commit queue_push add_tag; do
    ms_under "$k returns at once while a push uploads at 1 MB/s" "$out" "$k" 1000
done
check_eq "... and the upload was still running after them" "$(field still_uploading "$out")" 1
pw=$(sed -n 's/^pull_waited_ms \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$pw" ] && [ "$pw" -ge 1000 ] && ok "... while a pull on another thread waited for the push ($pw ms) without holding the handle" \
    || not_ok "... while a pull on another thread waited for the push without holding the handle" "pull waited '$pw' ms"
check_contains "the tag pushed during the upload is a queued command" "$out" "tag_command push refs/tags/step-100"
check_eq "the tag is on the remote after hf_repo_wait_for_commands" "$(remote_ref alice/train refs/tags/step-100)" \
    "$(cd t && git rev-parse 'step-100^{commit}')"
check_eq "the remote branch has the second push's commit" "$(remote_ref alice/train refs/heads/main)" \
    "$(field head2 "$out")"
check_contains "one completion callback per command, never before the status is final" "$out" "commands 3 callbacks 3 before_final 0"
check_contains "the commit URL of a queued push" "$out" "commit_url $HUB_URL/alice/train/commit/$(field head2 "$out")"
check_contains "finished records can be released" "$out" "cleared 3 left 0"

# --- cancel before start ---
hub_create_repo alice/cancel >/dev/null || not_ok "create alice/cancel"
check "clone alice/cancel" "$R" open c alice/cancel
hub_knobs '{"bandwidth_cap":1000000}' >/dev/null
out=$("$T" cancel c 2>&1); rc=$?
hub_knobs '{"bandwidth_cap":0}' >/dev/null
check_eq "cancel scenario: every expectation held" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "cancel before start: 0, and the status is HF_ECANCELLED at once" "$out" "cancel_rc 0 status_at_once 11"
check_eq "the remote has the first push's commit, not the cancelled one's" "$(remote_ref alice/cancel refs/heads/main)" \
    "$(field sent "$out")"
check_eq "no pin of the cancelled push is left behind" "$(cd c && git for-each-ref refs/hfgit)" ""
check_contains "a queued push's own callback (hf_push_options.on_done) fires once, with its payload and command" \
    "$out" "own_callback slow_push calls 1 status 0 same_command 1"
check_contains "... also for a push cancelled before it started (status final: 11)" "$out" \
    "own_callback cancelled_push calls 1 status 11 same_command 1"
check_contains "hf_repo_enqueue_with_callback: its callback fires once" "$out" \
    "own_callback function calls 1 status 0 same_command 1"
check_contains "... also when cancelled before it started" "$out" \
    "own_callback cancelled_function calls 1 status 11 same_command 1"
check_contains "the repository's callback fires only for the command without its own" "$out" "callbacks 1"

# --- bounded queue ---
hub_create_repo alice/bounded >/dev/null || not_ok "create alice/bounded"
check "clone alice/bounded" "$R" open b alice/bounded
hub_knobs '{"bandwidth_cap":1000000}' >/dev/null
out=$("$T" bounded b 2>&1); rc=$?
hub_knobs '{"bandwidth_cap":0}' >/dev/null
check_eq "bounded queue: HF_EBUSY without blocking, a wait with it" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "the refusal says what to do" "$out" "push less often or wait"

# --- hf_repo_checkout downloads LFS objects without holding the handle ---
hub_create_repo alice/co >/dev/null || not_ok "create alice/co"
check "clone alice/co" "$R" open k alice/co
out=$("$T" checkout-setup k 2>&1); rc=$?
check_eq "a branch with an 8 MiB LFS file is pushed" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
big=$(field big_commit "$out")
rm -rf k/.git/lfs/objects # the checkout has to download it again
hub_knobs '{"bandwidth_cap":1000000}' >/dev/null || not_ok "set the bandwidth cap"
out=$("$T" checkout k 2>&1); rc=$?
hub_knobs '{"bandwidth_cap":0}' >/dev/null
check_eq "checkout scenario: every expectation held" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_eq "the checkout was downloading when the calls were timed" "$(field downloading "$out")" 1
for k in is_clean head_hash; do
    ms_under "$k returns at once while hf_repo_checkout downloads at 1 MB/s on another thread" "$out" "$k" 1000
done
check_eq "... and the download was still running after them" "$(field still_downloading "$out")" 1
co_ms=$(sed -n 's/^checkout_rc 0 ms \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$co_ms" ] && [ "$co_ms" -ge 2000 ] && ok "the checkout itself took its time through the cap ($co_ms ms)" \
    || not_ok "the checkout itself took its time through the cap" "$out"
check_eq "HEAD is the big branch's commit afterwards" "$(field head_after "$out")" "$big"
check_eq "big.bin is the 8 MiB file, not its pointer" "$(stat -c %s k/big.bin 2>/dev/null)" 8388608

# --- a stalled git push fails ---
hub_create_repo alice/stall >/dev/null || not_ok "create alice/stall"
check "clone alice/stall" "$R" open s alice/stall
before=$(remote_ref alice/stall refs/heads/main)
hub_knobs '{"git_push_stall_secs":120}' >/dev/null || not_ok "set git_push_stall_secs"
out=$(HFGIT_HTTP_STALL_SECS=3 "$T" stall s 2>&1)
hub_knobs '{"git_push_stall_secs":0}' >/dev/null
check_contains "a push the server stops answering fails" "$out" "wait 1 status"
check_contains "... saying the connection stalled and for how long" "$out" "nothing received for 3 s (HFGIT_HTTP_STALL_SECS)"
secs=$(sed -n 's/.* seconds \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$secs" ] && [ "$secs" -lt 60 ] && ok "... within a minute ($secs s), not after the hub's 120 s" \
    || not_ok "... within a minute" "$out"
check_eq "... and the remote branch did not move" "$(remote_ref alice/stall refs/heads/main)" "$before"

# --- flat memory over many pushes ---
hub_create_repo alice/flat >/dev/null || not_ok "create alice/flat"
check "clone alice/flat" "$R" open f alice/flat
out=$("$T" loop f 60 1 --quiet 2>&1); rc=$?
check_eq "60 steps of write/add/commit/queued push/prune" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
r10=$(field rss_kib_step10 "$out"); rend=$(field rss_kib_end "$out")
if [ -n "${SAN:-}" ]; then
    skip "RSS flat over 50 pushes" "sanitizer builds keep freed memory in quarantine"
elif [ -n "$r10" ] && [ -n "$rend" ] && [ $((rend - r10)) -le 3072 ]; then
    ok "RSS flat over 50 pushes: $r10 KiB at step 10, $rend KiB at the end (the leak made it ~60 MB more)"
else
    not_ok "RSS flat over 50 pushes" "$r10 KiB at step 10, $rend KiB at the end"
fi

# --- url.<base>.insteadOf still applies (libhfgit rewrites remote URLs itself now, remote.c) ---
(cd f && git config url."$HUB_URL/".insteadOf hubx: && git config remote.origin.url hubx:alice/flat)
printf 'rewritten\n' >f/insteadof.txt
"$R" add f . && "$R" commit f "through insteadOf" >/dev/null
check "a push to remote URL hubx:alice/flat with url.$HUB_URL/.insteadOf hubx:" "$R" push f
check_eq "... reached the hub" "$(remote_ref alice/flat refs/heads/main)" "$(cd f && git rev-parse HEAD)"
(cd f && git config remote.origin.url "$HUB_URL/alice/flat" && git config --unset url."$HUB_URL/".insteadOf)

# --- valgrind: no leak in a 20-push run ---
if ! command -v valgrind >/dev/null 2>&1; then
    skip "valgrind on 20 pushes" "valgrind is not installed (make deps)"
elif [ -n "${SAN:-}" ]; then
    skip "valgrind on 20 pushes" "this is a sanitizer build; valgrind runs on the plain build"
else
    hub_create_repo alice/vg >/dev/null || not_ok "create alice/vg"
    check "clone alice/vg" "$R" open v alice/vg
    timeout 600 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$WORK/vg.log" \
        "$T" loop v 20 1 --quiet >"$WORK/vg.out" 2>&1
    rc=$?
    check_eq "valgrind: 20 queued pushes, no definite or indirect leak" "$rc" 0
    [ "$rc" -eq 0 ] || { head -60 "$WORK/vg.log"; tail -5 "$WORK/vg.out"; } | sed 's/^/#   /'
fi
done_testing
