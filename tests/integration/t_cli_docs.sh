#!/usr/bin/env bash
# t_cli_docs: man pages and bash completion (issue 14, item 4). `make install` puts hfgit(1),
# git-lfs-hfmultipart(1) and hfgit-hub(1) and the completion script in place; `man -l` renders each without a
# warning; every command of `hfgit --help` is in the man page and the completion, and every option of every
# command's --help is completed.
source "$(dirname "$0")/../lib.sh"
[ -x "$BUILD_DIR/hfgit" ] || { not_ok "hfgit is built" "missing $BUILD_DIR/hfgit"; done_testing; exit 1; }
if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
    skip "man pages" "man or groff is not installed"; done_testing; exit 0
fi

P="$WORK/prefix"
if out=$(make -C "$HFGIT_ROOT" --no-print-directory install PREFIX="$P" BUILD="$BUILD" SAN="${SAN:-}" 2>&1); then
    ok "make install PREFIX=DIR"
else
    not_ok "make install PREFIX=DIR" "$out"; done_testing; exit 1
fi
for page in hfgit git-lfs-hfmultipart hfgit-hub; do
    f="$P/share/man/man1/$page.1"
    check "$page(1) is installed" test -s "$f"
    warn=$(MANWIDTH=80 man -l "$f" 2>&1 >/dev/null; groff -ww -man -z "$f" 2>&1)
    check_eq "... man -l renders it without a warning" "$warn" ""
    check_contains "... with its name" "$(MANWIDTH=80 man -l "$f" 2>/dev/null | sed -n '/^NAME/,/^SYNOPSIS/p')" "$page"
    check_not_contains "... and the version filled in" "$(cat "$f")" "@VERSION@"
done
comp="$P/share/bash-completion/completions/hfgit"
check "the bash completion is installed" test -s "$comp"
check "... and is valid bash" bash -n "$comp"

page=$(MANWIDTH=200 man -l "$P/share/man/man1/hfgit.1" 2>/dev/null)
commands=$(hfgit --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
missing_man="" missing_comp=""
for c in $commands; do
    grep -qE "^ +$c( |$)" <<<"$page" || missing_man="$missing_man $c"
    # shellcheck disable=SC1090
    got=$(source "$comp"; COMP_WORDS=(hfgit "$c"); COMP_CWORD=1; _hfgit; echo " ${COMPREPLY[*]} ")
    [[ "$got" == *" $c "* ]] || missing_comp="$missing_comp $c"
done
check "hfgit --help lists commands" test -n "$commands"
check_eq "every command is described in hfgit(1)" "$missing_man" ""
check_eq "every command is completed" "$missing_comp" ""

missing=""
for c in $commands; do
    # shellcheck disable=SC1090
    got=$(source "$comp"; COMP_WORDS=(hfgit "$c" -); COMP_CWORD=2; _hfgit; echo " ${COMPREPLY[*]} ")
    for o in $(hfgit "$c" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+|^ +-[A-Za-z] ' | grep -oE -- '--?[a-zA-Z-]+'); do
        [[ "$got" == *" $o "* ]] || missing="$missing $c:$o"
    done
done
check_eq "every option of every command's --help is completed" "$missing" ""
done_testing
