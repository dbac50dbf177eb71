#!/usr/bin/env bash
# t_hub_admin: GET /__stats (every counter and knob, flat JSON), POST /__knobs (token, validation, read back),
# POST /__stats/reset, and knobs given as flags at start-up.
source "$(dirname "$0")/../lib.sh"

hub_start --empty-repos --fail-part 2:3 --drop-part 4:1 --fail-complete 5 --bandwidth-cap 7000000 --url-lifetime 120 \
    --multipart-threshold 6000000 --chunk-size 5242880 || { not_ok "hub starts"; done_testing; exit 1; }
cd "$WORK" || exit 1

stats=$(hub_stats)
check_contains "GET /__stats is a JSON object" "${stats:0:1}${stats: -1}" "{}"
for f in requests_git requests_batch requests_part requests_object_put requests_object_get requests_complete \
    requests_verify requests_api requests_other parts_ok parts_refused completions_ok completions_refused \
    auth_on_signed_urls parts_in_flight peak_parts_in_flight bytes_received pushes_rejected \
    bandwidth_cap fail_part_number fail_part_times fail_complete_times drop_part_number drop_part_times \
    url_lifetime_secs multipart_threshold chunk_size; do
    if grep -qE "\"$f\":-?[0-9]+[,}]" <<<"$stats"; then ok "stats has $f"; else not_ok "stats has $f" "$stats"; fi
done
if command -v python3 >/dev/null; then
    check "... and parses as JSON (python3)" python3 -c 'import json,sys; d=json.load(sys.stdin); assert all(type(v) is int for v in d.values())' <<<"$stats"
else
    skip "stats parse as JSON" "python3 is not installed (the field checks above still ran)"
fi
check_eq "start-up flags: fail_part_number" "$(json_num "$stats" fail_part_number)" 2
check_eq "... fail_part_times" "$(json_num "$stats" fail_part_times)" 3
check_eq "... drop_part_number" "$(json_num "$stats" drop_part_number)" 4
check_eq "... drop_part_times" "$(json_num "$stats" drop_part_times)" 1
check_eq "... fail_complete_times" "$(json_num "$stats" fail_complete_times)" 5
check_eq "... bandwidth_cap" "$(json_num "$stats" bandwidth_cap)" 7000000
check_eq "... url_lifetime_secs" "$(json_num "$stats" url_lifetime_secs)" 120
check_eq "... multipart_threshold" "$(json_num "$stats" multipart_threshold)" 6000000
check_eq "... chunk_size" "$(json_num "$stats" chunk_size)" 5242880

# Set knobs and read them back.
out=$(hub_knobs '{"bandwidth_cap":0,"fail_part_number":3,"fail_part_times":1,"url_lifetime_secs":60}')
check_contains "POST /__knobs answers the knobs in force" "$out" '"fail_part_number":3'
check_contains "... bandwidth_cap set to 0" "$out" '"bandwidth_cap":0'
check_contains "... untouched knobs keep their value" "$out" '"drop_part_number":4'
stats=$(hub_stats)
check_eq "/__stats shows fail_part_number" "$(json_num "$stats" fail_part_number)" 3
check_eq "... fail_part_times" "$(json_num "$stats" fail_part_times)" 1
check_eq "... url_lifetime_secs" "$(json_num "$stats" url_lifetime_secs)" 60
check_eq "... fail_complete_times unchanged" "$(json_num "$stats" fail_complete_times)" 5
out=$(curl -sS "$HUB_URL/__knobs")
check_contains "GET /__knobs shows them too" "$out" '"url_lifetime_secs":60'
check_contains "an empty knob object changes nothing" "$(hub_knobs '{}')" '"fail_part_number":3,"fail_part_times":1'

# The token, and bad knobs: refused, nothing changes.
hdrs=$(curl -s -i -X POST --data '{"fail_part_number":9}' "$HUB_URL/__knobs")
check_contains "knobs without token: 401" "$hdrs" "HTTP/1.1 401"
check_contains "... with WWW-Authenticate" "$hdrs" "WWW-Authenticate:"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer nope' \
    --data '{"fail_part_number":9}' "$HUB_URL/__knobs")
check_eq "knobs with a wrong token: 401" "$code" 401
for body in '{"fail_part_numbr":9}' '{"fail_part_number":-1}' '{"fail_part_number":"9"}' \
    '{"fail_part_number":9,"bandwidth_cap":1.5}' '{"url_lifetime_secs":99999999999}' 'nope' '[1]'; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $HUB_TOKEN" \
        --data "$body" "$HUB_URL/__knobs")
    check_eq "bad knobs $body: 400" "$code" 400
done
check_contains "... the message names an unknown knob" "$(curl -s -X POST -H "Authorization: Bearer $HUB_TOKEN" \
    --data '{"fail_part_numbr":9}' "$HUB_URL/__knobs")" "unknown knob 'fail_part_numbr'"
check_eq "... and nothing changed" "$(json_num "$(hub_stats)" fail_part_number)" 3

# Counters move, and reset zeroes them.
hub_create_repo me/a >/dev/null
curl -s -o /dev/null "$HUB_URL/me/a/info/refs?service=git-upload-pack"
stats=$(hub_stats)
check_eq "requests_api counted the create" "$(json_num "$stats" requests_api)" 1
check_eq "requests_git counted one info/refs" "$(json_num "$stats" requests_git)" 1
curl -s -o /dev/null "$HUB_URL/no/such/thing"
check_eq "requests_other counted an unknown endpoint" "$(json_num "$(hub_stats)" requests_other)" 1
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HUB_URL/__stats/reset")
check_eq "reset without token: 401" "$code" 401
check_eq "... counters kept" "$(json_num "$(hub_stats)" requests_git)" 1
out=$(curl -s -X POST -H "Authorization: Bearer $HUB_TOKEN" "$HUB_URL/__stats/reset")
check_eq "reset zeroes requests_git" "$(json_num "$out" requests_git)" 0
check_eq "... and requests_api" "$(json_num "$out" requests_api)" 0
check_eq "... but not the knobs" "$(json_num "$out" fail_part_number)" 3
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$HUB_URL/__stats")
check_eq "DELETE /__stats: 405" "$code" 405
out=$("$BUILD_DIR/hfgit-hub" --root "$WORK/x" --fail-complete abc 2>&1); rc=$?
check_eq "a bad knob value exits 2" "$rc" 2
check_contains "... naming the option" "$out" "for --fail-complete"
done_testing
