#!/usr/bin/env bash
# t_lib_cpp: the C++17 wrapper include/hfgit.hpp (issue 16). `make install` into a scratch prefix, build
# examples/train_loop.cpp with g++ against it through pkg-config, and run it against the hub: three checkpoints
# pushed from commit scopes with queued pushes (each callback once), a scope left by an exception pushes
# nothing, errors arrive as hfgit::error with the code.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp:print_suppressions=0"

command -v g++ >/dev/null || { skip "C++ wrapper" "g++ is not installed (make deps: build-essential)"; done_testing; exit 0; }
command -v git-lfs >/dev/null || { skip "C++ wrapper" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
if [ -n "${SAN:-}" ]; then skip "C++ wrapper" "make install builds the plain library; runs on the plain build"; done_testing; exit 0; fi
hub_start --empty-repos || { not_ok "hub starts"; done_testing; exit 1; }
cd "$WORK" || exit 1
prefix="$WORK/prefix"
check "make install into a scratch prefix" make -s -C "$HFGIT_ROOT" install PREFIX="$prefix" BUILD="${BUILD:-build}"
check "hfgit.hpp is installed next to hfgit.h" test -f "$prefix/include/hfgit.hpp"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs hfgit)
check "g++ -std=c++17 builds the example against the installed library (pkg-config)" \
    g++ -std=c++17 -Wall -Wextra -Werror "$HFGIT_ROOT/examples/train_loop.cpp" $flags -o train_loop
hub_create_repo alice/cpp >/dev/null || not_ok "create alice/cpp"
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL"
out=$(LD_LIBRARY_PATH="$prefix/lib" ./train_loop ck alice/cpp 3 2>&1); rc=$?
check_eq "the example runs" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
check_contains "three queued pushes, each callback once, none failed" "$out" "pushes 3 failed 0 callbacks 3"
check_contains "push_async with its own callback: it fires once, the repository's does not" "$out" \
    "own callbacks 1 repository callbacks 3"
check_contains "a scope left by an exception pushes nothing" "$out" "step failed (the loss is NaN): nothing pushed"
step3=$(sed -n 's/^step 3 queued \([0-9a-f]\{40\}\)$/\1/p' <<<"$out")
check_eq "the remote has the third checkpoint's commit" \
    "$(git ls-remote "$HUB_URL/alice/cpp" refs/heads/main | cut -f1)" "${step3:-no commit id printed}"
check_eq "... which is HEAD (the broken step committed nothing)" "$(cd ck 2>/dev/null && git rev-parse HEAD)" \
    "${step3:-no commit id printed}"
check_contains "errors are hfgit::error carrying the code" "$out" "error code -3 (HF_EINVAL)"

# the same loop under valgrind: commit scopes (upstream lookup, pull) and queued pushes leak nothing
if command -v valgrind >/dev/null 2>&1; then
    hub_create_repo alice/cppvg >/dev/null || not_ok "create alice/cppvg"
    LD_LIBRARY_PATH="$prefix/lib" timeout 600 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$WORK/vg.log" \
        ./train_loop vg alice/cppvg 5 >"$WORK/vg.out" 2>&1
    rc=$?
    check_eq "valgrind: 5 commit scopes with queued pushes, no definite or indirect leak" "$rc" 0
    [ "$rc" -eq 0 ] || { head -60 "$WORK/vg.log"; tail -5 "$WORK/vg.out"; } | sed 's/^/#   /'
else
    skip "the C++ loop under valgrind" "valgrind is not installed (make deps)"
fi
done_testing
