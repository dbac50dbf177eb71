#!/usr/bin/env bash
# t_hub_api: POST /api/repos/create on hfgit-hub: the Hub's JSON in and out, 409 on a repeat, name checks,
# the token, the per-repo multipart threshold file, and exactly one winner among concurrent creates.
source "$(dirname "$0")/../lib.sh"

hub_start || { not_ok "hub starts"; done_testing; exit 1; }
cd "$WORK" || exit 1
# create BODY [TOKEN]: prints "<status> <body>"
create() {
    curl -s -w '\n%{http_code}' -X POST ${2:+-H "Authorization: Bearer $2"} -H 'Content-Type: application/json' \
        --data "$1" "$HUB_URL/api/repos/create" | { read -r -d '' all; printf '%s %s\n' "${all##*$'\n'}" "${all%$'\n'*}"; }
}

out=$(create '{"name":"m1","organization":"me"}' "$HUB_TOKEN")
check_contains "create a model: 200" "$out" "200 {"
check_contains "... url" "$out" "\"url\":\"$HUB_URL/me/m1\""
check_contains "... name" "$out" "\"name\":\"me/m1\""
check_contains "... id (24 hex digits, as the Hub's)" "$(grep -oE '"id":"[0-9a-f]{24}"' <<<"$out")" '"id"'
gd="$HUB_ROOT/repos/models/me/m1.git"
check "... a bare repository exists" test "$(git --git-dir="$gd" rev-parse --is-bare-repository)" = true
check_eq "... HEAD is main" "$(git --git-dir="$gd" symbolic-ref HEAD)" "refs/heads/main"
check "... pre-receive is installed and executable" test -x "$gd/hooks/pre-receive"
check "... it is the project's hook" cmp "$gd/hooks/pre-receive" "$HFGIT_ROOT/git-hooks/pre-receive"
check_eq "... http.receivepack is on" "$(git --git-dir="$gd" config http.receivepack)" true
check_fails "... no threshold file without lfsmultipartthresh" test -e "$gd/hfgit-hub-threshold"
check_eq "... nothing left in tmp/" "$(ls -A "$HUB_ROOT/tmp")" ""

out=$(create '{"name":"m1","organization":"me"}' "$HUB_TOKEN")
check_contains "repeat: 409" "$out" "409 {"
check_contains "... with the Hub's message" "$out" "You already created this model repo"
out=$(create '{"name":"me/m1"}' "$HUB_TOKEN")
check_contains "repeat as \"ns/name\": 409" "$out" "409 {"

out=$(create '{"name":"me/d1","type":"dataset","lfsmultipartthresh":6291456}' "$HUB_TOKEN")
check_contains "create a dataset named \"ns/name\" with a threshold: 200" "$out" "200 {"
check_contains "... url has datasets/" "$out" "\"url\":\"$HUB_URL/datasets/me/d1\""
check_eq "... threshold file holds the decimal" "$(cat "$HUB_ROOT/repos/datasets/me/d1.git/hfgit-hub-threshold")" \
    6291456
out=$(create '{"name":"d1","organization":"me","type":"dataset"}' "$HUB_TOKEN")
check_contains "... repeat: 409 naming the type" "$out" "You already created this dataset repo"
out=$(create '{"name":"s1","organization":"me","type":"space","private":false}' "$HUB_TOKEN")
check_contains "create a space (unknown members ignored): url has spaces/" "$out" "\"url\":\"$HUB_URL/spaces/me/s1\""
out=$(create '{"name":"m1","organization":"me","type":"space"}' "$HUB_TOKEN")
check_contains "same name, other type: its own repo" "$out" "200 {"
check "... it clones" git clone -q "$HUB_URL/spaces/me/m1" s-m1

# Bad input: 400 and nothing created.
for body in '{"name":"../x","organization":"me"}' '{"name":"","organization":"me"}' \
    '{"name":"x","organization":".."}' '{"name":"a/b/c"}' '{"name":".hidden","organization":"me"}' \
    '{"name":"x.git","organization":"me"}' '{"name":"sp ace","organization":"me"}' \
    '{"name":"x","organization":"datasets"}' '{"name":"x"}' '{"name":"x","organization":"me","type":"foo"}' \
    '{"name":"x","organization":"me","lfsmultipartthresh":-1}' \
    '{"name":"x","organization":"me","lfsmultipartthresh":"lots"}' '{"name":7,"organization":"me"}' \
    '{"name":"me/x","organization":"you"}' 'not json' '[]' ''; do
    out=$(create "$body" "$HUB_TOKEN")
    check_contains "bad request $body: 400" "$out" "400 {"
done
check_eq "... nothing was created for them" "$(find "$HUB_ROOT/repos" -name '*.git' -prune | wc -l | tr -d ' ')" 4
check_contains "... the message says what is wrong" "$(create '{"name":"a..b","organization":"me"}' "$HUB_TOKEN")" \
    "invalid repo id 'me/a..b'"

# The token.
hdrs=$(curl -s -i -X POST --data '{"name":"t1","organization":"me"}' "$HUB_URL/api/repos/create")
check_contains "no token: 401" "$hdrs" "HTTP/1.1 401"
check_contains "... with WWW-Authenticate" "$hdrs" "WWW-Authenticate:"
out=$(create '{"name":"t1","organization":"me"}' wrong-token)
check_contains "wrong token: 401" "$out" "401 {"
check_fails "... nothing created" test -e "$HUB_ROOT/repos/models/me/t1.git"
code=$(curl -s -o /dev/null -w '%{http_code}' "$HUB_URL/api/repos/create")
check_eq "GET /api/repos/create: 405" "$code" 405

# Concurrent creates of one repo: exactly one 200, the others 409.
pids=""
for i in 1 2 3 4 5 6 7 8; do create '{"name":"race","organization":"me"}' "$HUB_TOKEN" >"race.$i" & pids="$pids $!"; done
# shellcheck disable=SC2086
wait $pids
check_eq "8 concurrent creates: one 200" "$(cat race.* | grep -c '^200 ')" 1
check_eq "... seven 409" "$(cat race.* | grep -c '^409 ')" 7
check_eq "... tmp/ is clean" "$(ls -A "$HUB_ROOT/tmp")" ""
check "... and the repo works" git clone -q "$HUB_URL/me/race" race

# GET /api/whoami-v2: the token's user, in the Hub's JSON shape; 401 without a valid token.
who() { curl -sS -w ' %{http_code}' ${1:+-H "Authorization: Bearer $1"} "$HUB_URL/api/whoami-v2"; }
out=$(who "$HUB_TOKEN")
check_contains "whoami-v2 with the token: 200" "$out" "} 200"
check_contains "... type user" "$out" '"type":"user"'
check_contains "... named by --user (default \"user\")" "$out" '"name":"user"'
check_contains "... with a write token" "$out" '"role":"write"'
check_contains "whoami-v2 with a wrong token: 401" "$(who wrong-token)" "} 401"
check_contains "whoami-v2 without a token: 401" "$(who)" "} 401"
check_contains "... saying why" "$(who)" "Invalid credentials"

stats=$(hub_stats)
n=$(json_num "$stats" requests_api)
if [ "${n:-0}" -ge 30 ]; then ok "api requests are counted ($n)"; else not_ok "api requests are counted" "$stats"; fi
hub_stop
hub_start --user alice || { not_ok "hub restarts with --user"; done_testing; exit 1; }
check_contains "whoami-v2 names the --user" "$(who "$HUB_TOKEN")" '"name":"alice"'
done_testing
