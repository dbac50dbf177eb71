#!/usr/bin/env bash
# t_lib_abi: libhfgit.so exports exactly the functions hfgit.h declares (nothing of common/ or repo/'s
# internals), the public header has names of its own (a program defining the internal guard HF_ERROR_H first
# still gets the error codes), the library's internal error header uses the public definition of the codes,
# every macro is one statement (`if (x) HF_COMMIT_FAIL(-1); else ...` compiles, warning-free, in C and C++),
# and the version macros agree with hf_version().
source "$(dirname "$0")/../lib.sh"

SO="$BUILD_DIR/libhfgit.so"
HDR="$HFGIT_ROOT/include/hfgit.h"
[ -f "$SO" ] || { not_ok "libhfgit.so is built" "missing $SO"; done_testing; exit 1; }
command -v nm >/dev/null || { skip "abi" "nm (binutils) is not installed"; done_testing; exit 0; }
cd "$WORK" || exit 1

# --- exported symbols == HF_EXTERN declarations ---
# Every public function is declared `HF_EXTERN(type) name(`; the header's other text (comments, macros) may
# mention function names too, so only those lines count.
grep -oE '^HF_EXTERN\([^)]*\)[[:space:]]*\(?hf_[A-Za-z0-9_]+' "$HDR" | sed -E 's/.*[ (]//' | sort -u >declared
# (names starting with "__" belong to the compiler and sanitizer runtimes, not to us)
nm -D --defined-only "$SO" | awk '$2 ~ /^[TWiVDBR]$/ && $3 !~ /^__/ {print $3}' | sort -u >exported
check "the header declares the API with HF_EXTERN" test -s declared
extra=$(comm -13 declared exported | tr '\n' ' ')
missing=$(comm -23 declared exported | tr '\n' ' ')
check_eq "libhfgit.so exports nothing hfgit.h does not declare" "$extra" ""
check_eq "libhfgit.so exports everything hfgit.h declares" "$missing" ""
# Every hf_ function prototype in the header is an HF_EXTERN one (a declaration written without the macro
# would be hidden and fail to link for users of the shared library).
plain=$(grep -nE '^(const |unsigned |struct )?[A-Za-z_][A-Za-z0-9_]*[ *]+hf_[A-Za-z0-9_]+\(' "$HDR")
check_eq "no public function is declared without HF_EXTERN" "$plain" ""

# --- header names: the internal guard does not hide anything ---
cat >guard.c <<'EOF'
#define HF_ERROR_H 1 /* the internal header's guard: a program may use that name for its own reasons */
#include "hfgit.h"
int main(void) { return HF_EINVAL == -3 && hf_error_code_name(HF_ENOTFOUND) != 0 ? 0 : 1; }
EOF
check "a program defining HF_ERROR_H before hfgit.h still sees the error codes" \
    cc -std=c11 -Wall -Werror -I"$HFGIT_ROOT/include" -c guard.c -o guard.o
check_eq "the public header's guards are its own (no HF_ERROR_H)" "$(grep -c 'HF_ERROR_H' "$HDR")" 0
# The internal error header takes the codes from hfgit.h, so the two cannot drift apart; both orders compile.
check_eq "common/error.h does not define the codes a second time" \
    "$(grep -cE 'HF_[A-Z]+ = -?[0-9]+' "$HFGIT_ROOT/common/error.h")" 0
for order in 'error.h hfgit.h' 'hfgit.h error.h'; do
    { for h in $order; do
          case $h in error.h) echo '#include "common/error.h"' ;; *) echo '#include "hfgit.h"' ;; esac
      done
      echo '_Static_assert(HF_EEXPIRED == -12 && HF_ECANCELLED == -11, "codes");'
      echo 'int f(void); int f(void) { return hf_error_set(HF_EIO, "x %d", 1); }'
    } >order.c
    check "including $order in that order compiles" \
        cc -std=c11 -Wall -Werror -I"$HFGIT_ROOT/include" -I"$HFGIT_ROOT" -c order.c -o order.o
done

# --- macros are single statements ---
cat >stmt.c <<'EOF'
#include "hfgit.h"
#include <stdio.h>
/* Runs the body logic the macros expand to without a repository: HF_REPO_COMMIT itself needs one, so this
 * copies its loop shape around HF_COMMIT_FAIL, which is what users write inside the body. */
static int body(int fail_with, int twice)
{
    hf_commit_block hf_commit_blk_ = {0, 0, 0, 0};
    int after = 0;
    for (; hf_commit_blk_.state == 0; hf_commit_blk_.state = 1) {
        if (fail_with)
            HF_COMMIT_FAIL(fail_with);
        else
            after = 1;
        if (twice == 1) HF_COMMIT_FAIL(0); /* 0 still means failed: -1 */
        after = 2;
    }
    return hf_commit_blk_.body_status * 10 + after;
}
int main(void)
{
    int n = 0;
    int k = 0;
    hf_commit_block hf_commit_blk_ = {0, 0, 0, 0};
    for (; hf_commit_blk_.state == 0; hf_commit_blk_.state = 1)
        HF_COMMIT_FAIL(++n); /* evaluated once */
    k = body(-7, 0);
    printf("%d %d %d %d %d\n", n, hf_commit_blk_.body_status, k, body(0, 0), body(0, 1));
    printf("%d.%d.%d %s %d\n", HFGIT_VERSION_MAJOR, HFGIT_VERSION_MINOR, HFGIT_VERSION_PATCH, hf_version(),
           HFGIT_VERSION_NUMBER >= HFGIT_VERSION_ENCODE(0, 1, 0));
    return 0;
}
EOF
check "HF_COMMIT_FAIL is one statement (if/else, no warnings) in C" \
    cc -std=c11 -Wall -Wextra -Werror ${SAN:+-fsanitize=$SAN} -I"$HFGIT_ROOT/include" stmt.c -o stmt "$SO"
if command -v c++ >/dev/null; then
    check "... and in C++" c++ -x c++ -std=c++17 -Wall -Wextra -Werror -I"$HFGIT_ROOT/include" -c stmt.c -o stmt_cc.o
else
    skip "... and in C++" "no C++ compiler"
fi
ln -sf "$SO" libhfgit.so.1 # the soname the program asks for
out=$(LD_LIBRARY_PATH="$WORK" ./stmt 2>&1)
line1=$(sed -n 1p <<<"$out")
check_eq "HF_COMMIT_FAIL: status evaluated once, leaves the body, else branch taken, 0 means -1" "$line1" "1 1 -70 2 -9"
read -r macros runtime cmp <<<"$(sed -n 2p <<<"$out")"
check_eq "HFGIT_VERSION_MAJOR.MINOR.PATCH == hf_version()" "${macros:-none}" "${runtime:-}"
check_eq "... and HFGIT_VERSION_NUMBER compares" "${cmp:-}" 1

done_testing
