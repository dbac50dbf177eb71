#!/usr/bin/env bash
# t_agent_push.sh: plain `git push` through git-lfs 3.3.0 and git-lfs-hfmultipart to hfgit-hub (issue 3,
# acceptance 1, 2 and 4), after `hfgit lfs-enable-largefiles`.
#   1. 40 MiB in 8 MiB parts: the hub's object is byte-identical (stored file and a fresh clone), one completion.
#   4. The hub caps each connection during that push: its stats show >= 4 parts in flight at once.
#   2. One push with a multipart file and small LFS files in the same batch (single PUTs through the agent).
source "$(dirname "$0")/../lib.sh"

HFGIT=$BUILD_DIR/hfgit
MiB=1048576

# ---- hfgit lfs-enable-largefiles ----
git init -q "$WORK/plain"
out=$("$HFGIT" lfs-enable-largefiles "$WORK/plain" 2>&1)
check_contains "lfs-enable-largefiles says what it set" "$out" "lfs.customtransfer.multipart.direction = both"
check_contains "... and how to undo it" "$out" "git config --unset lfs.standalonetransferagent"
check_eq "path is the agent next to hfgit" "$(git -C "$WORK/plain" config lfs.customtransfer.multipart.path)" \
    "$BUILD_DIR/git-lfs-hfmultipart"
check_eq "direction=both" "$(git -C "$WORK/plain" config lfs.customtransfer.multipart.direction)" both
check_eq "standalone agent (downloads through it too)" "$(git -C "$WORK/plain" config lfs.standalonetransferagent)" multipart
git -C "$WORK/plain" config lfs.customtransfer.multipart.args lfs-multipart-upload # as `hf` would have set it
"$HFGIT" lfs-enable-largefiles "$WORK/plain" >/dev/null 2>&1
check_eq "idempotent: running again leaves one value per key, args reset" \
    "$(git -C "$WORK/plain" config --get-all lfs.customtransfer.multipart.args | wc -l)/$(git -C "$WORK/plain" config lfs.customtransfer.multipart.args)" "1/"
check_eq "idempotent: same path after a second run" \
    "$(git -C "$WORK/plain" config --get-all lfs.customtransfer.multipart.path)" "$BUILD_DIR/git-lfs-hfmultipart"
mkdir -p "$WORK/notrepo"
out=$("$HFGIT" lfs-enable-largefiles "$WORK/notrepo" 2>&1); rc=$?
check_eq "not a git work tree: exit 4 (not found)" "$rc" 4
check_contains "not a git work tree: clear message" "$out" "is not in a git work tree"
# PATH defaults to the current folder: outside a repository that is the same clear refusal, and nothing
# around it (the folder the suite runs from) is configured.
out=$(cd "$WORK/notrepo" && "$HFGIT" lfs-enable-largefiles 2>&1); rc=$?
check_eq "no PATH outside a work tree: exit 4" "$rc" 4
check_contains "... names the current folder" "$out" ". is not in a git work tree"
# without PATH it works on the current folder (never run it bare here: the cwd may be a real checkout)
git init -q "$WORK/here"
check "no PATH: the current folder" sh -c "cd '$WORK/here' && '$HFGIT' lfs-enable-largefiles >/dev/null 2>&1"
check_eq "... configured there" "$(git -C "$WORK/here" config lfs.standalonetransferagent)" multipart
check_contains "hfgit --help lists the command" "$("$HFGIT" --help)" "lfs-enable-largefiles"
check_contains "hfgit --version" "$("$HFGIT" --version)" "hfgit 0."

# ---- a clone configured for large files ----
# The hub starts with a 20 MB/s cap on each connection, so the first push takes about a second with its parts
# visibly in flight together (acceptance 4); the cap is lifted afterwards.
hub_start --empty-repos --chunk-size $((8 * MiB)) --bandwidth-cap 20000000 || { not_ok "hub starts"; done_testing; exit 1; }
hub_create_repo user/big "\"lfsmultipartthresh\":$((10 * MiB))" >/dev/null

# Without lfs-enable-largefiles git-lfs does not offer "multipart": the hub refuses the big object and its
# message names our command (the fix the user needs).
git_auth clone -q "$HUB_URL/user/big" "$WORK/unconfigured" 2>/dev/null
(
    cd "$WORK/unconfigured" && git lfs install --local >/dev/null && git lfs track '*.bin' >/dev/null &&
        head -c $((11 * MiB)) /dev/urandom >big.bin && git add .gitattributes big.bin && git commit -q -m big
)
out=$(git_auth -C "$WORK/unconfigured" push origin main 2>&1); rc=$?
check_eq "without lfs-enable-largefiles: a push over the threshold fails" "$((rc != 0))" 1
check_contains "... and says to run lfs-enable-largefiles" "$out" "lfs-enable-largefiles"

git_auth clone -q "$HUB_URL/user/big" "$WORK/big" 2>/dev/null
cd "$WORK/big" || exit 1
git lfs install --local >/dev/null
"$HFGIT" lfs-enable-largefiles . >/dev/null
git lfs track '*.bin' >/dev/null

head -c $((40 * MiB)) /dev/urandom >model.bin
oid=$(sha model.bin)
git add .gitattributes model.bin && git commit -q -m "40 MiB model"
out=$(git_auth push origin main 2>&1); rc=$?
check_eq "push of a 40 MiB file in 8 MiB parts succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
stored="$HUB_ROOT/repos/models/user/big.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid"
check "hub object is byte-identical" cmp "$(hub_bytes "$stored")" model.bin
stats=$(hub_stats)
check_eq "exactly one completion" "$(json_num "$stats" completions_ok)" 1
check_eq "five parts, none refused" "$(json_num "$stats" parts_ok)/$(json_num "$stats" parts_refused)" "5/0"
check_eq "no Authorization header sent to signed URLs" "$(json_num "$stats" auth_on_signed_urls)" 0
peak=$(json_num "$stats" peak_parts_in_flight)
if [ "${peak:-0}" -ge 4 ]; then ok "parts in flight at once under a per-connection cap: $peak"; else
    not_ok "parts in flight at once under a per-connection cap" "peak_parts_in_flight=$peak, want >= 4"; fi
hub_knobs '{"bandwidth_cap":0}' >/dev/null

git_auth clone -q "$HUB_URL/user/big" "$WORK/fresh" 2>/dev/null
check "fresh clone gets the same bytes" cmp "$WORK/fresh/model.bin" model.bin

# ---- acceptance 2: one batch with a multipart object and small objects ----
head -c $((20 * MiB + 7)) /dev/urandom >weights.bin
head -c 1000 /dev/urandom >tiny.bin
head -c 300000 /dev/urandom >small.bin
head -c $((2 * MiB)) /dev/urandom >medium.bin
git add weights.bin tiny.bin small.bin medium.bin && git commit -q -m "mixed batch"
# GIT_TRACE shows the agent's stderr (its HFGIT_TRACE lines), so we can see which object went which way.
out=$(GIT_TRACE=1 HFGIT_TRACE=1 git_auth push origin main 2>&1); rc=$?
check_eq "push of a mixed batch (multipart + 3 small) succeeds" "$rc" 0
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
for f in weights.bin tiny.bin small.bin medium.bin; do
    o=$(sha "$f")
    check "hub has $f byte for byte" cmp "$(hub_bytes "$HUB_ROOT/repos/models/user/big.git/lfs/objects/${o:0:2}/${o:2:2}/$o")" "$f"
done
stats=$(hub_stats)
check_eq "one more completion" "$(json_num "$stats" completions_ok)" 2
check_contains "the agent did the small files (single PUT)" "$out" "$(sha tiny.bin): single PUT of 1000 bytes"
check_contains "the agent did the big file (multipart)" "$out" "$(sha weights.bin): multipart, 3 parts"
check_eq "the 3 small files went up as single PUTs in the same multipart batch" \
    "$(json_num "$stats" requests_object_put)" 3
git_auth -C "$WORK/fresh" pull -q 2>/dev/null
check "fresh clone pulls the mixed batch intact" cmp "$WORK/fresh/weights.bin" weights.bin

done_testing
