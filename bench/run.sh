#!/usr/bin/env bash
# bench/run.sh: runs every bench/*.sh except itself, one after the other (`make bench`). Each prints its own
# figures next to a baseline measured in the same run. BENCH=glob limits the set (e.g. BENCH='hub_*').
# Exits non-zero when a benchmark fails to run (a figure below its target is reported, not a failure).
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
pattern=${BENCH:-*}
failed=()
for b in bench/*.sh; do
    n=$(basename "$b" .sh)
    [ "$n" = run ] && continue
    # shellcheck disable=SC2053
    [[ $n == $pattern ]] || continue
    echo "==== $n ($(date -u +%H:%M:%SZ))"
    start=$SECONDS
    if bash "$b"; then echo "==== $n done in $((SECONDS - start))s"; else
        echo "==== $n FAILED (exit $?) after $((SECONDS - start))s"
        failed+=("$n")
    fi
    echo
done
if [ ${#failed[@]} -gt 0 ]; then echo "benchmarks that failed to run: ${failed[*]}"; exit 1; fi
