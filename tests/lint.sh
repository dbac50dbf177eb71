#!/usr/bin/env bash
# make lint: cppcheck and clang-tidy over every C source; zero findings expected (suppressions are inline,
# each with its reason). Exits non-zero on any finding.
set -u
cd "$(dirname "$0")/.."
srcs=$(git ls-files 'common/*.c' 'hub/*.c' 'agent/*.c' 'cli/*.c' 'repo/*.c' 2>/dev/null)
[ -n "$srcs" ] || { echo "lint: no sources"; exit 1; }
flags="-std=c11 -D_GNU_SOURCE -DHFGIT_VERSION=\"lint\" -Iinclude $(pkg-config --cflags libgit2 libcurl openssl libmicrohttpd 2>/dev/null)"
rc=0
echo "== cppcheck"
# shellcheck disable=SC2086
if ! cppcheck --quiet --std=c11 --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
        --suppress=missingIncludeSystem -D_GNU_SOURCE -DHFGIT_VERSION=\"lint\" -Iinclude $srcs; then
    rc=1
fi
echo "== clang-tidy"
# One clang-tidy per source, as many at once as there are cores (LINT_JOBS): one process over all of them took
# 4 minutes of CI. Each file's findings are kept apart and printed in the sources' order.
out=$(mktemp -d "${TMPDIR:-/tmp}/hfgit-lint.XXXXXX")
tidy_one() { clang-tidy --quiet "$1" -- $LINT_FLAGS >"$LINT_OUT/$(printf '%s' "$1" | tr / _).out" 2>/dev/null; }
export -f tidy_one
# shellcheck disable=SC2086
printf '%s\n' $srcs | LINT_FLAGS=$flags LINT_OUT=$out xargs -P "${LINT_JOBS:-$(nproc)}" -I{} bash -c 'tidy_one "$1"' _ {}
for f in $srcs; do cat "$out/$(printf '%s' "$f" | tr / _).out"; done | grep -E 'warning:|error:' && rc=1
rm -rf "$out"
if [ $rc -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi
exit $rc
