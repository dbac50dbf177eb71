#!/usr/bin/env bash
# t_lib_fresh_machine: the library on a machine whose git configuration holds nothing but the identity (no
# init.defaultBranch, no git-lfs filters), through examples/round_trip.c, a program written from hfgit.h
# alone and linked against libhfgit.so (so the exported API is all it needs):
#   it clones an empty hfgit-hub repository, adds a 12 MiB and a 20 MiB binary and a text file (auto-tracking),
#   commits and pushes; real git + git-lfs (another machine) clone it back byte-identical, both binaries
#   stored as LFS, `git lfs fsck` clean; git pushes a new LFS file and the program pulls it.
source "$(dirname "$0")/../lib.sh"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HFGIT_ROOT/tests/integration/lib_lsan.supp"

command -v git-lfs >/dev/null || { skip "fresh machine round trip" "git-lfs is not installed (make deps)"; done_testing; exit 0; }
SO="$BUILD_DIR/libhfgit.so"
[ -f "$SO" ] || { not_ok "libhfgit.so is built" "missing $SO"; done_testing; exit 1; }
if "$BUILD_DIR/hfgit-hub" --help 2>&1 | grep -q -- --empty-repos; then hub_start --empty-repos; else hub_start; fi ||
    { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo alice/rt >/dev/null || not_ok "create alice/rt"
cd "$WORK" || exit 1
check_eq "the new repository has no commit" "$(git ls-remote "$HUB_URL/alice/rt" | wc -l)" 0

# The program, against the shared library and the public header only.
mkdir -p lib && ln -sf "$SO" lib/libhfgit.so && ln -sf "$SO" lib/libhfgit.so.1
# shellcheck disable=SC2086
if out=$(cc -std=c11 -Wall -Wextra -Werror ${SAN:+-fsanitize=$SAN} -o round_trip "$HFGIT_ROOT/examples/round_trip.c" \
    -I"$HFGIT_ROOT/include" -L"$WORK/lib" -lhfgit 2>&1); then
    ok "examples/round_trip.c builds from hfgit.h against libhfgit.so, warning-free"
else
    not_ok "examples/round_trip.c builds from hfgit.h against libhfgit.so" "$out"; done_testing; exit 1
fi

# The library's machine: a HOME whose git configuration is the identity and nothing else.
FRESH="$WORK/fresh-home"
mkdir -p "$FRESH"
HOME="$FRESH" git config --global user.name "Fresh User"
HOME="$FRESH" git config --global user.email "fresh@hfgit.invalid"
check_eq "the library's HOME holds only the identity" \
    "$(HOME="$FRESH" git config --global --list | cut -d= -f1 | sort | tr '\n' ' ')" "user.email user.name "
run_lib() { env HOME="$FRESH" HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LD_LIBRARY_PATH="$WORK/lib" ./round_trip "$@"; }

out=$(run_lib publish mine alice/rt 2>&1); rc=$?
check_eq "round_trip publish: clone the empty repo, add, commit, push" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/# /'
check_contains "... to main" "$out" " to main"
check_eq "the hub's only branch is main" "$(git ls-remote --heads "$HUB_URL/alice/rt" | awk '{print $2}')" refs/heads/main
check_eq "the library never wrote to the user's git configuration" \
    "$(HOME="$FRESH" git config --global --list | cut -d= -f1 | sort | tr '\n' ' ')" "user.email user.name "

# Another machine: real git + git-lfs (lib.sh's HOME has git-lfs's filters installed).
git clone -q "$HUB_URL/alice/rt" theirs 2>clone.err || not_ok "git clone" "$(cat clone.err)"
for f in weights-12m.bin weights-20m.bin README.md; do
    check "git + git-lfs clone: $f byte-identical" cmp "mine/$f" "theirs/$f"
done
check_eq "... 12 MiB and 20 MiB" "$(stat -c %s theirs/weights-12m.bin) $(stat -c %s theirs/weights-20m.bin)" \
    "$((12 << 20)) $((20 << 20))"
check_eq "both binaries are stored as LFS" "$(cd theirs && git lfs ls-files -n | sort | tr '\n' ' ')" \
    "weights-12m.bin weights-20m.bin "
check_contains "... the commit holds pointers" "$(git -C theirs show HEAD:weights-20m.bin | head -c 200)" \
    "version https://git-lfs.github.com/spec/v1"
check_eq "the text file is plain git" "$(git -C theirs show HEAD:README.md | head -n 1)" "# round trip"
check "git lfs fsck is clean" sh -c "cd theirs && git lfs fsck"
check_eq "git sees a clean tree" "$(git -C theirs status --porcelain)" ""

# git pushes a new LFS file; the program pulls it.
(cd theirs && git lfs track '*.safetensors' >/dev/null && head -c $((3 << 20)) /dev/urandom >model.safetensors &&
    git add .gitattributes model.safetensors && git commit -qm "model from git" &&
    git_auth push -q origin main >/dev/null 2>&1) || not_ok "git pushes a new LFS file"
out=$(run_lib pull mine alice/rt 2>&1); rc=$?
check_eq "round_trip pull" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/# /'
check "the pulled LFS file is the content, byte-identical" cmp theirs/model.safetensors mine/model.safetensors
check_eq "the clone is at git's commit" "$(git -C mine rev-parse HEAD)" "$(git -C theirs rev-parse HEAD)"
check_eq "git (with git-lfs) sees the library's clone clean" "$(git -C mine status --porcelain)" ""

done_testing
