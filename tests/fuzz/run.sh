#!/usr/bin/env bash
# make fuzz: builds every tests/fuzz/fuzz_*.c with clang's libFuzzer + ASan/UBSan and runs each for
# FUZZ_SECONDS (default 60) on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>/), so the seeds stay
# small. A crash leaves its input in build/fuzz/ and fails the run.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
command -v clang >/dev/null || { echo "fuzz: clang is required (apt-get install clang)"; exit 1; }
pc=$(pkg-config --cflags --libs libcurl openssl zlib)
rc=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c); short=${name#fuzz_}
    extra=""; [ -f "tests/fuzz/$name.flags" ] && extra=$(cat "tests/fuzz/$name.flags")
    echo "== $name"
    # shellcheck disable=SC2086
    if ! clang -g -O1 -std=c11 -D_GNU_SOURCE -DHFGIT_VERSION='"fuzz"' -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -Icommon -Iinclude $extra "$src" common/*.c -o "$out/$name" $pc -lpthread; then
        echo "fuzz: $name does not build"; rc=1; continue
    fi
    scratch=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$short" ] && cp -r "tests/fuzz/corpus/$short/." "$scratch/"
    maxlen=4096; [ -f "tests/fuzz/$name.maxlen" ] && maxlen=$(cat "tests/fuzz/$name.maxlen")
    if ! (cd "$out" && "./$name" -max_total_time="$secs" -max_len="$maxlen" -print_final_stats=1 "$scratch" \
            2>&1 | tail -n 12); then
        rc=1
    fi
    [ "${PIPESTATUS[0]:-0}" = 0 ] || rc=1
    if ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* >/dev/null 2>&1; then echo "fuzz: $name found a crash"; rc=1; fi
    rm -rf "$scratch"
done
[ $rc -eq 0 ] && echo "fuzz: all targets ran ${secs}s without a crash"
exit $rc
