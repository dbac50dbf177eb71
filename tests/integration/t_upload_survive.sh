#!/usr/bin/env bash
# t_upload_survive.sh: uploads that survive expired URLs and killed pushes (issue 11), with real git, git-lfs,
# the agent, the library and hfgit-hub.
#   1. Expiry: --url-lifetime 3 and a 1 MB/s cap per connection, so parts 9.. of a 48 MiB file in 4 MiB parts
#      (8 at once) start after their URLs expired. A hub that answers a new batch with the same open upload:
#      the push succeeds (library and agent). A hub that opens a new upload on every batch (as we assume
#      huggingface.co does): the library fails with its own message saying the part URLs expired and what
#      to do; the agent case needs the hub to advertise a completion lifetime git-lfs accepts (skipped
#      otherwise, saying why).
#   2. Resume: a push killed (SIGKILL) after half the parts are stored re-sends at most the missing parts plus
#      those in flight at the kill (hub stats), library and agent; needs a hub that keeps open uploads.
# Sizes are smaller than the issue's (48 MiB instead of 96 MiB, 64 MiB in 4 MiB parts instead of 1 GiB in
# 32 MiB parts): same part counts per wave, same logic, a fraction of the time on a shared machine.
source "$(dirname "$0")/../lib.sh"

MiB=1048576
LIB=$BUILD_DIR/tests/lib_repo
HFGIT=$BUILD_DIR/hfgit
export LIB_REPO_USER="Lib User" LIB_REPO_EMAIL="lib@hfgit.invalid" HFGIT_RETRY_BASE_MS=50

# probe_batch REPO OID SIZE: "<expires_in> <completion URL without query>" of a fresh upload batch answer
probe_batch() {
    curl -sS -X POST -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/vnd.git-lfs+json' \
        -H 'Accept: application/vnd.git-lfs+json' \
        --data "{\"operation\":\"upload\",\"transfers\":[\"basic\",\"multipart\"],\"objects\":[{\"oid\":\"$2\",\"size\":$3}]}" \
        "$HUB_URL/$1.git/info/lfs/objects/batch" |
        python3 -c 'import sys,json; a=json.load(sys.stdin)["objects"][0]["actions"]["upload"]; print(a.get("expires_in",0), a["href"].split("?")[0])'
}

# lib_clone_with_file DIR REPO MIB: a library clone of REPO with MIB MiB of random data committed as big.bin
lib_clone_with_file() {
    "$LIB" open "$1" "$2" >/dev/null && head -c $(($3 * MiB)) /dev/urandom >"$1/big.bin" &&
        "$LIB" add "$1" . --auto >/dev/null && "$LIB" commit "$1" big >/dev/null
}

# git_clone_with_file DIR REPO MIB: the same with plain git + git-lfs + the agent
git_clone_with_file() {
    git_auth clone -q "$HUB_URL/$2" "$1" 2>/dev/null && (
        cd "$1" && git lfs install --local >/dev/null && "$HFGIT" lfs-enable-largefiles . >/dev/null &&
            git lfs track '*.bin' >/dev/null && head -c $(($3 * MiB)) /dev/urandom >big.bin &&
            git add .gitattributes big.bin && git commit -q -m big
    )
}

# progress_ok FILE SIZE: lib_repo's "progress done/total" lines never go backwards and end at SIZE
progress_ok() {
    sed -n 's|^progress \([0-9]*\)/\([0-9]*\)$|\1 \2|p' "$1" |
        awk -v size="$2" 'BEGIN { last = -1; ok = 1 } { if ($1 < last) ok = 0; last = $1; total = $2 }
            END { exit !(ok && last == size && total == size) }'
}
hub_stored() { [ -n "$(find "$HUB_ROOT" -type f -name "$1" 2>/dev/null | head -n 1)" ]; }
# git with the hub token as its credential helper, usable under timeout/setsid (git_auth is a function)
git_authed() { GIT_AUTH=(git -c credential.helper= -c "credential.helper=!f() { echo username=hf; echo password=$HUB_TOKEN; }; f"); }

# ---- 1. expiry ----
hub_start --chunk-size $((4 * MiB)) --url-lifetime 3 --bandwidth-cap 1000000 || { not_ok "hub starts"; done_testing; exit 1; }
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL"
hub_create_repo user/exp "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
hub_create_repo user/exp-git "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
git_authed
probe_oid=$(printf 'probe' | sha256sum | cut -d' ' -f1)
read -r life1 href1 < <(probe_batch user/exp "$probe_oid" $((20 * MiB)))
read -r _ href2 < <(probe_batch user/exp "$probe_oid" $((20 * MiB)))
same_upload=0
[ -n "$href1" ] && [ "$href1" = "$href2" ] && same_upload=1

cd "$WORK" || exit 1
lib_clone_with_file lexp user/exp 48 || not_ok "library clone with a 48 MiB file"
oid=$(sha lexp/big.bin)
out=$(LIB_REPO_PROGRESS=1 timeout 300 "$LIB" push lexp 2>"$WORK/progress.txt"); rc=$?
out+=$(cat "$WORK/progress.txt")
if [ $same_upload = 1 ]; then
    check_eq "expiry, library: the push succeeds through fresh URLs of the same upload" "$rc" 0
    check "expiry, library: the hub stored the object" hub_stored "$oid"
    check "expiry, library: progress never went backwards and ended at the size" \
        progress_ok "$WORK/progress.txt" $((48 * MiB))
else
    check_eq "expiry, library, new upload per batch: the push fails (exit $rc)" "$((rc != 0))" 1
    check_contains "expiry, library: the message says the part URLs expired" "$out" "the part URLs expired"
    check_contains "expiry, library: ... and what to do" "$out" "more parts at once"
fi

if [ "${life1:-0}" -gt 5 ]; then
    git_clone_with_file gexp user/exp-git 48 || not_ok "git clone with a 48 MiB file"
    out=$(cd gexp && timeout 300 "${GIT_AUTH[@]}" push origin main 2>&1); rc=$?
    if [ $same_upload = 1 ]; then
        check_eq "expiry, agent: git push succeeds through fresh URLs of the same upload" "$rc" 0
        check "expiry, agent: the hub stored the object" hub_stored "$(sha gexp/big.bin)"
    else
        check_eq "expiry, agent, new upload per batch: git push fails" "$((rc != 0))" 1
        check_contains "expiry, agent: the agent's own message, not a bare EOF" "$out" "the part URLs expired"
    fi
else
    skip "expiry through git-lfs and the agent" \
        "the hub advertises expires_in=$life1 on multipart actions: git-lfs 3.3.0 re-batches anything expiring within 5 s and never hands the object to the agent (hub side of issue 11 not there yet)"
fi

# A hub that opens a new upload on every batch request (as we assume huggingface.co does): finished parts
# cannot be kept across a refresh. The push succeeds (after a restart every part left starts at once, each
# while its fresh URL is valid) or fails with our own message, never a bare EOF.
if hub_knobs '{"new_upload_per_batch":1}' >/dev/null; then
    hub_create_repo user/exp-new "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
    lib_clone_with_file lnew user/exp-new 48 || not_ok "library clone with a 48 MiB file"
    out=$(timeout 300 "$LIB" push lnew 2>&1); rc=$?
    if [ $rc = 0 ]; then
        check "new upload per batch, library: succeeded; the object is stored" hub_stored "$(sha lnew/big.bin)"
    else
        check_contains "new upload per batch, library: fails saying the part URLs expired" "$out" \
            "the part URLs expired"
    fi
    hub_create_repo user/exp-new-git "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
    git_clone_with_file gnew user/exp-new-git 48 || not_ok "git clone with a 48 MiB file"
    out=$(cd gnew && timeout 300 "${GIT_AUTH[@]}" push origin main 2>&1); rc=$?
    if [ $rc = 0 ]; then
        check "new upload per batch, agent: succeeded; the object is stored" hub_stored "$(sha gnew/big.bin)"
    else
        check_contains "new upload per batch, agent: the agent's own message that the part URLs expired" \
            "$out" "the part URLs expired"
        check_contains "new upload per batch, agent: ... and what to do" "$out" "more parts at once"
    fi
    hub_knobs '{"new_upload_per_batch":0}' >/dev/null
else
    not_ok "the hub takes the new_upload_per_batch knob"
fi
hub_stop

# ---- 2. resume after SIGKILL ----
# kill_when_half PID [PARTS]: waits until the hub's parts_ok reaches PARTS (default 8 of 16), then SIGKILLs
# the process group of PID (git push and its children: git-lfs, the agent); prints parts_ok after the kill
kill_when_half() {
    local i s n want=${2:-8}
    for i in $(seq 1 600); do
        s=$(hub_stats) && n=$(json_num "$s" parts_ok) && [ "${n:-0}" -ge "$want" ] && break
        sleep 0.1
    done
    kill -KILL -- "-$1" 2>/dev/null
    wait "$1" 2>/dev/null
    json_num "$(hub_stats)" parts_ok
}

hub_start --chunk-size $((4 * MiB)) --bandwidth-cap 4000000 || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN"
hub_create_repo user/res "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
hub_create_repo user/res-git "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
git_authed
read -r _ href1 < <(probe_batch user/res "$probe_oid" $((20 * MiB)))
read -r _ href2 < <(probe_batch user/res "$probe_oid" $((20 * MiB)))
if [ -z "$href1" ] || [ "$href1" != "$href2" ]; then
    skip "resume of a killed push" \
        "this hub opens a new upload on every batch request, so no finished part can be kept (hub side of issue 11 not there yet)"
    hub_stop
    done_testing
    exit 0
fi

# the library, 64 MiB in 16 parts of 4 MiB, 4 at once, killed after 8 are stored
lib_clone_with_file lres user/res 64 || not_ok "library clone with a 64 MiB file"
HFGIT_MULTIPART_PARALLEL=4 setsid "$LIB" push lres >/dev/null 2>&1 &
before=$(kill_when_half $!)
check_eq "resume, library: killed after at least half of the parts" "$((before >= 8 && before < 16))" 1
check "resume, library: the part journal is in .git/lfs/tmp" \
    sh -c "ls lres/.git/lfs/tmp/hfgit-parts-* >/dev/null 2>&1"
HFGIT_MULTIPART_PARALLEL=4 LIB_REPO_PROGRESS=1 timeout 300 "$LIB" push lres 2>"$WORK/progress.txt"; rc=$?
check_eq "resume, library: the second push succeeds" "$rc" 0
check "resume, library: progress (parts already sent counted at the start) ends exactly at the size" \
    progress_ok "$WORK/progress.txt" $((64 * MiB))
after=$(json_num "$(hub_stats)" parts_ok)
check_eq "resume, library: the hub got at most the missing parts plus 4 in flight ($before, then $((after - before)))" \
    "$((after - before <= 16 - before + 4))" 1
check "resume, library: the hub stored the object" hub_stored "$(sha lres/big.bin)"
check "resume, library: the journal is gone after success" sh -c "! ls lres/.git/lfs/tmp/hfgit-parts-* 2>/dev/null"

# the agent under git push, the same way, and then across a hub restart
git_clone_with_file gres user/res-git 64 || not_ok "git clone with a 64 MiB file"
base=$(json_num "$(hub_stats)" parts_ok)
(cd gres && HFGIT_MULTIPART_PARALLEL=4 exec setsid "${GIT_AUTH[@]}" push origin main >/dev/null 2>&1) &
before=$(($(kill_when_half $! $((base + 8))) - base))
check_eq "resume, agent: killed after at least half of the parts" "$((before >= 8 && before < 16))" 1
port=${HUB_URL##*:}
hub_stop
# the same port: the clone's remote URL (and the upload's URLs) name it
hub_start --chunk-size $((4 * MiB)) --bandwidth-cap 4000000 --listen "127.0.0.1:$port" ||
    { not_ok "hub restarts"; done_testing; exit 1; }
check "resume, agent: the part journal is in .git/lfs/tmp" sh -c "ls gres/.git/lfs/tmp/hfgit-parts-* >/dev/null 2>&1"
out=$(cd gres && HFGIT_MULTIPART_PARALLEL=4 timeout 300 "${GIT_AUTH[@]}" push origin main 2>&1); rc=$?
check_eq "resume, agent, across a hub restart: git push succeeds" "$rc" 0
sent=$(json_num "$(hub_stats)" parts_ok)
check_eq "resume, agent: the restarted hub got at most the missing parts plus 4 in flight ($before, then $sent)" \
    "$((sent <= 16 - before + 4))" 1
check "resume, agent: the hub stored the object" hub_stored "$(sha gres/big.bin)"

# the server lost a part the journal says is done: the completion is refused, the journal dropped, and every
# part sent again, once; the push succeeds
if ! skip_on_s3 "lost part: a part the store lost is sent again" "s3rver 3.7.1 exits on a completion naming a part it does not have (as in t_hub_multipart)"; then
    hub_create_repo user/lost "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
    lib_clone_with_file llost user/lost 64 || not_ok "library clone with a 64 MiB file"
    base=$(json_num "$(hub_stats)" parts_ok)
    HFGIT_MULTIPART_PARALLEL=4 setsid "$LIB" push llost >/dev/null 2>&1 &
    kill_when_half $! $((base + 8)) >/dev/null
    # the upload just killed is the one written to last (others from the cases above may still be open)
    lost=$(ls -td "$HUB_ROOT"/uploads/*/ | grep -v '/by-object/$' | head -n 1)1
    [ -f "$lost" ] || lost=
    check "lost part: part 1 of the open upload is on the hub" test -n "$lost"
    rm -f "$lost"
    refused=$(json_num "$(hub_stats)" completions_refused)
    out=$(HFGIT_MULTIPART_PARALLEL=4 timeout 300 "$LIB" push llost 2>&1); rc=$?
    check_eq "lost part: the push succeeds (the object restarted once)" "$rc" 0
    check_eq "lost part: the hub refused one completion first" \
        "$(($(json_num "$(hub_stats)" completions_refused) - refused))" 1
    check "lost part: the hub stored the object" hub_stored "$(sha llost/big.bin)"
fi
hub_stop

# ---- 3. a part whose single try outlasts the retry budget is retried after a dropped connection ----
# 4 MiB parts at 4 MB/s take ~1 s each; the hub drops part 2 halfway (~0.5 s in); the budget is 300 ms.
# Counted from the first try (the old rule) that drop was final; counted from the last progress, it is
# retried and the push succeeds.
hub_start --chunk-size $((4 * MiB)) --bandwidth-cap 4000000 || { not_ok "hub starts"; done_testing; exit 1; }
export HF_ENDPOINT="$HUB_URL" HF_TOKEN="$HUB_TOKEN"
hub_create_repo user/budget "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
lib_clone_with_file lbud user/budget 16 || not_ok "library clone with a 16 MiB file"
hub_knobs '{"drop_part_number":2,"drop_part_times":1}' >/dev/null
out=$(HFGIT_RETRY_MAX_TOTAL_MS=300 timeout 120 "$LIB" push lbud 2>&1); rc=$?
check_eq "budget: a part dropped after outlasting the 300 ms budget is retried; the push succeeds" "$rc" 0
check_eq "budget: the hub did drop it (5 part requests for 4 parts)" "$(json_num "$(hub_stats)" requests_part)" 5
check "budget: the hub stored the object" hub_stored "$(sha lbud/big.bin)"

# ---- 4. the bandwidth limit holds (figures within +-10% are in bench/ratelimit.sh; this only checks it acts) ----
hub_knobs '{"bandwidth_cap":0}' >/dev/null
hub_create_repo user/rate "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null
lib_clone_with_file lrate user/rate 16 || not_ok "library clone with a 16 MiB file"
start=$(date +%s%N)
out=$(HFGIT_MAX_RATE=8M timeout 120 "$LIB" push lrate 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "rate: the push succeeds under HFGIT_MAX_RATE=8M" "$rc" 0
check_eq "rate: 16 MiB at 8 MiB/s took at least 1.7 s ($ms ms)" "$((ms >= 1700))" 1
hub_stop
done_testing
