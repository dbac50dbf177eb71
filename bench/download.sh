#!/usr/bin/env bash
# bench/download.sh: one large LFS object downloaded as parallel byte ranges (issue 12; design.md §6: with the
# hub capping each connection at 20 MB/s, >= 6x plain git-lfs (basic) in the same run; agent peak RSS
# <= 16 MiB; uncapped on loopback at least as fast as plain git-lfs).
#
# One random object of SIZE_MIB (default 512) pushed once with plain git + git-lfs (basic), then, each pair
# back to back on the same hub:
#   (a) capped at CAP bytes/s per connection: `git lfs fetch` through git-lfs-hfmultipart (a clone set up by
#       `hfgit lfs-enable-largefiles`: standalone agent, DL_PARALLEL ranges) vs plain `git lfs fetch` (basic);
#   (b) capped: `hfgit clone` (library, ranged) vs plain git-lfs's `git lfs fetch` + `git lfs checkout` in a
#       clone made with GIT_LFS_SKIP_SMUDGE=1 (the git clone itself is not counted for the baseline);
#   (c) uncapped: (a) again.
# The agent's peak RSS is its own VmHWM (HFGIT_TRACE=1 prints it at exit; the largest of its processes).
# Every download is compared with the source file. Times are wall seconds of one run each (the capped plain
# runs take SIZE/CAP seconds: about 27 s each at the defaults, so the whole bench takes 2-3 minutes).
#
#   BUILD=build bash bench/download.sh   (SIZE_MIB=512 CAP=20000000 DL_PARALLEL=32 RANGE_MIB=16 to change)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh" # scratch dir, hub_start/hub_create_repo/hub_knobs/hub_stats, cleanup at exit

SIZE_MIB=${SIZE_MIB:-512}
CAP=${CAP:-20000000}
DL_PARALLEL=${DL_PARALLEL:-32}
RANGE_MIB=${RANGE_MIB:-16}
MiB=1048576
SIZE=$((SIZE_MIB * MiB))
HFGIT=$BUILD_DIR/hfgit
for p in "$HFGIT" "$BUILD_DIR/hfgit-hub" "$BUILD_DIR/git-lfs-hfmultipart"; do
    [ -x "$p" ] || { echo "bench/download.sh: $p is missing; run make first" >&2; exit 1; }
done
command -v git-lfs >/dev/null || { echo "bench/download.sh: git-lfs is not installed (make deps)" >&2; exit 1; }
free_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((SIZE_MIB * 8 * 1024)) ]; then
    echo "bench/download.sh: needs $((SIZE_MIB * 8)) MiB free under $WORK (set TMPDIR)" >&2; exit 1
fi
export HFGIT_DOWNLOAD_PARALLEL=$DL_PARALLEL HFGIT_DOWNLOAD_RANGE_SIZE=$((RANGE_MIB * MiB)) GIT_TERMINAL_PROMPT=0
die() { echo "bench/download.sh: $*" >&2; [ -s "$WORK/cmd.out" ] && tail -n 20 "$WORK/cmd.out" >&2; exit 1; }
# timed CMD...: wall seconds of CMD into T (output to $WORK/cmd.out), after a sync
timed() {
    sync
    local t0=$EPOCHREALTIME
    "$@" >"$WORK/cmd.out" 2>&1 || return 1
    T=$(awk -v a="$t0" -v z="$EPOCHREALTIME" 'BEGIN { printf "%.2f", z - a }')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
verdict() { awk -v g="$1" -v b="$3" -v op="$2" 'BEGIN { ok = op == ">=" ? g >= b : g <= b; print ok ? "PASS" : "MISS" }'; }
objdir() { echo "$1/.git/lfs/objects/${OID:0:2}/${OID:2:2}"; }
forget() { rm -rf "$1/.git/lfs/objects" "$1/.git/lfs/incomplete"; } # the next fetch downloads again
same() { cmp -s "$WORK/src/w.bin" "$1" || die "$1 differs from the source"; }

echo "bench/download.sh: one ${SIZE_MIB} MiB object, cap $((CAP / 1000000)) MB/s per connection, agent and" \
    "library at ${DL_PARALLEL} ranges of ${RANGE_MIB} MiB"
hub_start --empty-repos >/dev/null || exit 1
hub_create_repo user/dl "\"lfsmultipartthresh\":$((SIZE + 1))" >/dev/null || die "create repo"
cd "$WORK" || exit 1
git clone -q "$HUB_URL/user/dl" src 2>/dev/null
(cd src && git lfs track '*.bin' >/dev/null && openssl enc -aes-128-ctr -pass pass:hfgit-dl -nosalt -pbkdf2 \
    </dev/zero 2>/dev/null | head -c $SIZE >w.bin && git add -A && git commit -qm weights &&
    git_auth push -q origin main >/dev/null 2>&1) || die "push of the object"
OID=$(sha src/w.bin)
GIT_LFS_SKIP_SMUDGE=1 git clone -q "$HUB_URL/user/dl" plain 2>/dev/null || die "clone plain"
GIT_LFS_SKIP_SMUDGE=1 git clone -q "$HUB_URL/user/dl" fast 2>/dev/null || die "clone fast"
"$HFGIT" lfs-enable-largefiles fast >/dev/null || die "lfs-enable-largefiles"

agent_fetch() { (cd fast && HFGIT_TRACE=1 GIT_TRACE=1 git lfs fetch); }
plain_fetch() { (cd plain && git lfs fetch); }
peak_rss() { sed -n 's/.*peak RSS (VmHWM) \([0-9]*\) KiB.*/\1/p' "$WORK/cmd.out" | sort -n | tail -n 1; }

# (a) capped git lfs fetch
hub_knobs "{\"bandwidth_cap\":$CAP}" >/dev/null
forget fast
timed agent_fetch || die "agent git lfs fetch (capped)"
t_agent=$T rss=$(peak_rss)
same "$(objdir fast)/$OID"
gets=$(json_num "$(hub_stats)" requests_object_get)
forget plain
timed plain_fetch || die "plain git lfs fetch (capped)"
t_plain=$T
same "$(objdir plain)/$OID"
r_fetch=$(ratio "$t_plain" "$t_agent")

# (b) capped clone: hfgit clone vs plain git-lfs fetch + checkout
rm -rf hc
timed "$HFGIT" clone "$HUB_URL/user/dl" hc || die "hfgit clone (capped)"
t_hclone=$T
same hc/w.bin
forget plain
git -C plain checkout -q -- . 2>/dev/null
timed sh -c "cd plain && git lfs fetch && git lfs checkout" || die "plain git lfs fetch + checkout (capped)"
t_pclone=$T
same plain/w.bin
r_clone=$(ratio "$t_pclone" "$t_hclone")

# (c) uncapped git lfs fetch
hub_knobs '{"bandwidth_cap":0}' >/dev/null
forget fast
timed agent_fetch || die "agent git lfs fetch (uncapped)"
t_agent_u=$T
rss_u=$(peak_rss)
forget plain
timed plain_fetch || die "plain git lfs fetch (uncapped)"
t_plain_u=$T
r_unc=$(ratio "$t_plain_u" "$t_agent_u")
[ "${rss_u:-0}" -gt "${rss:-0}" ] && rss=$rss_u

printf '\n%-58s %8s %8s %7s %s\n' "capped at $((CAP / 1000000)) MB/s per connection" "ours s" "base s" "ratio" "bar"
printf '%-58s %8s %8s %6sx %s\n' "git lfs fetch: agent ($gets GETs) vs plain git-lfs" "$t_agent" "$t_plain" "$r_fetch" \
    ">= 6: $(verdict "$r_fetch" '>=' 6)"
printf '%-58s %8s %8s %6sx %s\n' "hfgit clone vs git lfs fetch + checkout" "$t_hclone" "$t_pclone" "$r_clone" \
    ">= 6: $(verdict "$r_clone" '>=' 6)"
printf '%-58s %8s %8s %6sx %s\n' "uncapped: git lfs fetch, agent vs plain git-lfs" "$t_agent_u" "$t_plain_u" "$r_unc" \
    ">= 1: $(verdict "$r_unc" '>=' 1)"
printf '%-58s %8s KiB %s\n' "agent peak RSS (VmHWM, largest agent process)" "${rss:-?}" \
    "<= 16384: $(verdict "${rss:-999999}" '<=' 16384)"
