#!/usr/bin/env bash
# t_agent_faults.sh: git push through git-lfs-hfmultipart while hfgit-hub injects faults (issue 3, acceptance 3).
#   - part 2 fails twice and the completion fails once: retried inside the agent, the push succeeds;
#   - a connection dropped halfway through a part: retried, the push succeeds;
#   - part 2 failing past the retry budget: the push fails and git's output carries the agent's message
#     (object, part, HTTP status, server message);
#   - expired part URLs (403): the agent asks for fresh URLs itself and the push succeeds.
source "$(dirname "$0")/../lib.sh"

MiB=1048576
# Fast retries: the policy is the same, only the waits are short.
export HFGIT_RETRY_BASE_MS=20 HFGIT_RETRY_MAX_DELAY_MS=200

hub_start --empty-repos --chunk-size $((8 * MiB)) || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/faults "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
git_auth clone -q "$HUB_URL/user/faults" "$WORK/repo" 2>/dev/null
cd "$WORK/repo" || exit 1
git lfs install --local >/dev/null
check "hfgit lfs-enable-largefiles ." "$BUILD_DIR/hfgit" lfs-enable-largefiles .
git lfs track '*.bin' >/dev/null
git add .gitattributes && git commit -q -m attributes

stored() { hub_bytes "$HUB_ROOT/repos/models/user/faults.git/lfs/objects/${1:0:2}/${1:2:2}/$1"; }
# new_file NAME MiB: a fresh random file committed
new_file() { head -c $(($2 * MiB + 5)) /dev/urandom >"$1"; git add "$1"; git commit -q -m "$1"; }
push() { out=$(git_auth push origin main 2>&1); rc=$?; }

# ---- transient faults are survived ----
hub_knobs '{"fail_part_number":2,"fail_part_times":2,"fail_complete_times":1}' >/dev/null
new_file a.bin 30
push
check_eq "part 2 failing twice + completion failing once: push succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check "object arrived intact" cmp "$(stored "$(sha a.bin)")" a.bin
stats=$(hub_stats)
check_eq "hub refused part 2 twice" "$(json_num "$stats" parts_refused)" 2
check_eq "hub refused one completion, then took one" \
    "$(json_num "$stats" completions_refused)/$(json_num "$stats" completions_ok)" "1/1"

hub_knobs '{"drop_part_number":3,"drop_part_times":1}' >/dev/null
new_file b.bin 30
push
check_eq "connection dropped halfway through part 3: push succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check "object arrived intact after the drop" cmp "$(stored "$(sha b.bin)")" b.bin

# ---- a part failing past the retry budget ----
hub_knobs '{"fail_part_number":2,"fail_part_times":1000}' >/dev/null
new_file c.bin 20
c=$(sha c.bin)
HFGIT_RETRY_MAX_ATTEMPTS=3 push
check_eq "part 2 failing every time: push fails" "$((rc != 0))" 1
echo "$out" | grep -i error | sed "s/^/# git push said: /"
check_contains "git push output names the object" "$out" "$c"
check_contains "git push output has the agent's message with part and status" "$out" "part 2 of 3"
check_contains "... the HTTP status" "$out" "HTTP 500"
check_contains "... and how many attempts were made" "$out" "after 3 attempts"
check "nothing half-written: the object is not on the hub" test ! -e "$(stored "$c")"
hub_knobs '{"fail_part_times":0}' >/dev/null
push
check_eq "the same push succeeds once the fault is gone" "$rc" 0
check "and the object is intact" cmp "$(stored "$c")" c.bin

# ---- expired URLs ----
# URLs issued with a lifetime of 1 s; one part at a time under a 4 MB/s cap, so part 2 starts well after its
# URL died. The hub refuses it (403) and the agent asks the batch API again (issue 11: endpoint and
# `git credential fill` as git-lfs finds them); the hub answers with the same open upload and fresh URLs.
hub_knobs '{"url_lifetime_secs":1,"bandwidth_cap":4000000}' >/dev/null
new_file d.bin 12
s0=$(hub_stats)
HFGIT_MULTIPART_PARALLEL=1 push
s1=$(hub_stats)
check_eq "expired part URLs: the push succeeds with fresh URLs from the agent's own batch request" "$rc" 0
check_eq "expired part URLs: a part was refused as expired, and the agent asked the batch API again" \
    "$(($(json_num "$s1" parts_refused) > $(json_num "$s0" parts_refused)))/$(($(json_num "$s1" requests_batch) - $(json_num "$s0" requests_batch) >= 2))" "1/1"
check "expired part URLs: the object is intact" cmp "$(stored "$(sha d.bin)")" d.bin
hub_knobs '{"url_lifetime_secs":3600,"bandwidth_cap":0}' >/dev/null
push
check_eq "with fresh URLs the push succeeds" "$rc" 0

done_testing
