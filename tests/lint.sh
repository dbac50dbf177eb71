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
# shellcheck disable=SC2086
if ! clang-tidy --quiet $srcs -- $flags 2>/dev/null | grep -E 'warning:|error:' ; then :; else rc=1; fi
if [ $rc -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi
exit $rc
