#!/usr/bin/env bash
# Runs the demo (what `make demo` runs after deps + build) and checks that it succeeds, checks SHA-256s,
# stops its hub and removes its temp dir.
source "$(dirname "$0")/../lib.sh"
before=$(ls -d "${TMPDIR:-/tmp}"/hfgit-demo.* 2>/dev/null | wc -l)
out=$(cd "$HFGIT_ROOT" && BUILD="$BUILD" bash tests/demo.sh 2>&1); rc=$?
check_eq "demo exits 0" "$rc" "0"
check_contains "demo reports success" "$out" "demo: OK"
check_contains "a multi-part push went through plain git + the agent" "$out" "parts stored: 13/13"
check_contains "the C API pushed too" "$out" "pushed weights-c.bin"
check_eq "four SHA-256 checks passed" "$(grep -c ' ok$' <<<"$out")" "4"
check_contains "no token on signed URLs" "$out" "Authorization headers on signed URLs: 0"
check_not_contains "the token is never printed" "$out" "hf_demo_"
after=$(ls -d "${TMPDIR:-/tmp}"/hfgit-demo.* 2>/dev/null | wc -l)
check_eq "the demo removed its temp dir" "$after" "$before"
hub=$(grep -o 'hub at http://[0-9.:]*' <<<"$out" | cut -d' ' -f3)
check_fails "the demo's hub is stopped" curl -sS -m 2 "$hub/__stats"
done_testing
