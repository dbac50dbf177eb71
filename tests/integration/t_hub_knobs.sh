#!/usr/bin/env bash
# t_hub_knobs: every fault knob of hfgit-hub observed from the outside with curl: per-connection bandwidth cap
# (a capped PUT or GET takes about size/cap), fail part N K times (K 500s, then 200), fail the completion K
# times, drop the connection mid-part (curl sees it closed; nothing half-written stays), URL lifetime (applies
# to URLs issued from then on). Also the start-up flags that set the same knobs.
source "$(dirname "$0")/../lib.sh"
if skip_on_s3 "t_hub_knobs" "it drives the hub's own part, object and completion URLs with curl and reads its upload folders; on S3 the part, range and cap knobs act at the fault proxy in front of the store (t_faults_matrix, t_agent_faults, t_download_ranges check them there)"; then
    done_testing; exit 0
fi

CHUNK=2097152
hub_start --chunk-size $CHUNK --multipart-threshold 1000000 --fail-complete 1 ||
    { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/knobs >/dev/null
source "$(dirname "$0")/lfs_curl.sh"
LFS_REPO=alice/knobs

SIZE=5000000 # parts: 2 MiB, 2 MiB, the rest
head -c $SIZE /dev/urandom >"$WORK/obj"
OID=$(sha "$WORK/obj")
split -b $CHUNK -d -a 1 "$WORK/obj" "$WORK/part."
batch "$OID" $SIZE
COMPLETE=$(complete_url "$resp")
U1=$(part_url "$resp" 1) U2=$(part_url "$resp" 2) U3=$(part_url "$resp" 3)
UPLOAD_DIR="$HUB_ROOT/uploads/$(sed -n 's|.*/__part/\([0-9a-f]*\)/.*|\1|p' <<<"$U1")"
in_range() { awk -v t="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t <= hi) }'; }

# --- fail part N K times ---
hub_knobs '{"fail_part_number":2,"fail_part_times":2}' >/dev/null
codes=""
for i in 1 2 3; do
    codes+="$(put_part "$U2" "$WORK/part.1") "
    [ $i = 1 ] && first_body=$(cat "$WORK/b")
done
check_eq "fail part 2 twice: 500, 500, then 200" "$codes" "500 500 200 "
check_contains "the injected 500 is a JSON error" "$first_body" '"message":"InternalError'
E2=$(etag_of)
check_eq "other parts are not affected" "$(put_part "$U3" "$WORK/part.2")" 200
E3=$(etag_of)
check_eq "the knob counted down to 0" "$(json_num "$(hub_stats)" fail_part_times)" 0

# --- drop the connection mid-part ---
hub_knobs '{"drop_part_number":1,"drop_part_times":1}' >/dev/null
bytes0=$(json_num "$(hub_stats)" bytes_received)
code=$(put_part "$U1" "$WORK/part.0" 2>"$WORK/curl.err")
rc=$?
[ "$rc" -ne 0 ] && [ "${code:0:1}" != 2 ] && ok "drop part 1: curl sees the connection closed (exit $rc)" ||
    not_ok "drop part 1: connection closed" "curl exit $rc, http $code: $(cat "$WORK/curl.err")"
sleep 0.2
check_eq "drop: no partial part stays" "$(ls -A "$UPLOAD_DIR" | sort | tr '\n' ' ')" "2 2.etag 3 3.etag meta "
read_before_drop=$(($(json_num "$(hub_stats)" bytes_received) - bytes0))
[ "$read_before_drop" -ge $((CHUNK / 2)) ] && ok "drop: at least half the part was read first ($read_before_drop bytes)" ||
    not_ok "drop: half read" "read $read_before_drop bytes"
check_eq "drop: the next try goes through" "$(put_part "$U1" "$WORK/part.0")" 200
E1=$(etag_of)

# --- fail the completion K times (1 from --fail-complete at start-up, then 2 from the knob) ---
completion "$COMPLETE" "$OID" "$E1" "$E2" "$E3"
check_eq "--fail-complete 1: the first completion gets 500" "$COMPLETE_CODE" 500
check_fails "... and no object" test -e "$(obj_path "$OID")"
hub_knobs '{"fail_complete_times":2}' >/dev/null
codes=""
for i in 1 2 3; do completion "$COMPLETE" "$OID" "$E1" "$E2" "$E3"; codes+="$COMPLETE_CODE "; done
check_eq "fail completion twice: 500, 500, then 200" "$codes" "500 500 200 "
check_eq "the object is there after the retries" "$(sha "$(obj_path "$OID")" 2>&1)" "$OID"

# --- bandwidth cap: one 2 MiB part at 2 MB/s takes about 1 s ---
head -c $SIZE /dev/urandom >"$WORK/obj2"
OID2=$(sha "$WORK/obj2")
split -b $CHUNK -d -a 1 "$WORK/obj2" "$WORK/q."
batch "$OID2" $SIZE
hub_knobs '{"bandwidth_cap":2000000}' >/dev/null
# Lower bounds show the cap at work; upper bounds depend on how busy the machine is, so a timing that misses
# its range is measured once more before it counts as a failure.
timed() { # timed LO HI NAME CMD...: passes when CMD's output (seconds) is in [LO, HI] in one of two tries
    local lo=$1 hi=$2 name=$3 t try; shift 3
    for try in 1 2; do
        t=$("$@")
        in_range "$t" "$lo" "$hi" && { ok "$name took ${t}s"; return; }
    done
    not_ok "$name took ${t}s, expected between $lo and $hi"
}
put_time() { curl -sS -o /dev/null -w '%{time_total}' -T "$1" "$2"; }
U_Q1=$(part_url "$resp" 1) U_Q2=$(part_url "$resp" 2)
timed 0.85 2.5 "capped part PUT of 2 MiB at 2 MB/s (expected ~1.05 s)" put_time "$WORK/q.0" "$U_Q1"
two_parts() { # the cap is per connection: two parts at once take about as long as one
    local start=$EPOCHREALTIME bg
    curl -sS -o /dev/null -T "$WORK/q.1" "$U_Q2" &
    bg=$!
    curl -sS -o /dev/null -T "$WORK/q.0" "$U_Q1"
    wait $bg
    awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}
timed 0.85 1.9 "two capped parts in parallel (per-connection cap: ~1.05 s, not ~2.1 s)" two_parts
dl=$(curl -sS -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
    --data "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$OID\",\"size\":$SIZE}]}" \
    "$HUB_URL/$LFS_REPO.git/info/lfs/objects/batch")
href=$(grep -o '"download":{"href":"[^"]*"' <<<"$dl" | sed 's/.*"href":"//; s/"$//')
hub_knobs '{"bandwidth_cap":4000000}' >/dev/null
get_time() { curl -sS -o "$WORK/got" -w '%{time_total}' "$href"; }
timed 1.0 3.0 "capped GET of 5 MB at 4 MB/s (expected ~1.25 s)" get_time
check "capped GET: the right bytes" cmp "$WORK/got" "$WORK/obj"
hub_knobs '{"bandwidth_cap":0}' >/dev/null
timed 0 0.8 "cap 0 lifts the cap: 2 MiB PUT (capped it would take ~1.05 s)" put_time "$WORK/q.0" "$U_Q1"

# --- URL lifetime: applies to URLs issued from then on ---
batch "$OID2" $SIZE
OLD=$(part_url "$resp" 3)
hub_knobs '{"url_lifetime_secs":1}' >/dev/null
batch "$OID2" $SIZE
life=$(url_life "$(part_url "$resp" 3)")
[ "$life" -le 1 ] && ok "part URLs follow the knob ($life s)" || not_ok "part URLs follow the knob" "$life s"
NEW=$(part_url "$resp" 3)
sleep 2.1
check_eq "a URL issued under lifetime 1 s is refused 2 s later (403)" "$(put_part "$NEW" "$WORK/q.2")" 403
check_contains "... as expired" "$(cat "$WORK/b")" "Request has expired"
check_eq "a URL issued before the change still works" "$(put_part "$OLD" "$WORK/q.2")" 200
hub_knobs '{"url_lifetime_secs":3600}' >/dev/null

s=$(hub_stats)
check_eq "stats: 2 failed + 1 dropped + 1 expired parts counted as refused" "$(json_num "$s" parts_refused)" 4
check_eq "stats: no part left in flight" "$(json_num "$s" parts_in_flight)" 0
[ "$(json_num "$s" peak_parts_in_flight)" -ge 2 ] && ok "stats: peak_parts_in_flight saw the parallel parts" ||
    not_ok "stats: peak_parts_in_flight" "$s"
done_testing
