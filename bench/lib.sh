#!/usr/bin/env bash
# bench/lib.sh: libhfgit add, push and clone against hfgit-hub, each next to its baseline measured in the same
# run on the same data (issue 4 Benchmark; design.md §6: add >= 0.8 x sha256sum's speed with flat memory;
# push and clone no slower than git + git-lfs).
#
#   1. add of a 2 GiB random file (hf_repo_add with auto-tracking: hash + copy into .git/lfs/objects) vs
#      `sha256sum` of it: REPS rounds of one run each (the order alternating); the library's peak RSS and CPU.
#   2. push of one repo content (3 x 300 MiB random + a 1 MiB binary + 3 small text files) to fresh hub repos:
#      - under the repo's multipart threshold (hub default, 5 GB): the library (basic PUTs) vs git + git-lfs
#        (basic transfer);
#      - over it (repo threshold 100 MB, 64 MiB parts): the library (multipart) vs git + git-lfs with our
#        agent git-lfs-hfmultipart (`hfgit lfs-enable-largefiles`); the 1 MiB binary stays a basic PUT.
#      Which path ran is read from the hub's counters, not assumed.
#   3. clone of the library-pushed repo: the library (hf_repo_open with clone_from) vs `git clone` with the
#      git-lfs smudge filter; both clones are compared with the source files (first round).
# Programs are tests/tools/lib_repo (the public API only) and the git/git-lfs of the machine, all at their
# default concurrency (8 transfers). Times are medians over REPS rounds (PUSH_REPS for 2 and 3); a ratio is the
# median over rounds of the ratio of the round's two back-to-back runs. CPU (user + sys of the client
# processes, not the hub's) is printed next to each time: it hardly depends on the machine's load.
#
# Page cache: warm, not dropped. The machine is shared, and dropping caches (echo 3 > drop_caches) would
# slow everybody's work and tests; instead every input was read once before the timed runs (both sides read
# it from memory) and each timed run starts after `sync`, so no write-back of an earlier phase is charged to
# it. CACHE=cold (root only) instead drops the caches before each timed run of step 1.
#
#   BUILD=build bash bench/lib.sh    (SIZE_MIB=2048 PUSH_MIB=300 REPS=3 PUSH_REPS=5 CACHE=warm|cold to change;
#                                     MP_THRESH=100000000 CHUNK_MIB=64 set the multipart repos)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh" # scratch dir, hub_start/hub_create_repo/hub_stats/git_auth, cleanup at exit

SIZE_MIB=${SIZE_MIB:-2048}
PUSH_MIB=${PUSH_MIB:-300}
REPS=${REPS:-3}
PUSH_REPS=${PUSH_REPS:-5}
CACHE=${CACHE:-warm}
MiB=1048576
CHUNK=$((${CHUNK_MIB:-64} * MiB))
MP_THRESH=${MP_THRESH:-100000000}
LIB=$BUILD_DIR/tests/lib_repo
HFGIT=$BUILD_DIR/hfgit
for p in "$LIB" "$HFGIT" "$BUILD_DIR/hfgit-hub" "$BUILD_DIR/git-lfs-hfmultipart"; do
    [ -x "$p" ] || { echo "bench/lib.sh: $p is missing; run make tests first" >&2; exit 1; }
done
command -v git-lfs >/dev/null || { echo "bench/lib.sh: git-lfs is not installed (make deps)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/lib.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
if [ "$CACHE" = cold ] && ! [ -w /proc/sys/vm/drop_caches ]; then
    echo "bench/lib.sh: CACHE=cold needs root (writes /proc/sys/vm/drop_caches)" >&2; exit 1
fi
need_kb=$(((SIZE_MIB * 2 + PUSH_MIB * 3 * 10) * 1024 + 2 * 1024 * 1024))
free_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt "$need_kb" ]; then
    echo "bench/lib.sh: needs $((need_kb / 1024 / 1024)) GiB free under $WORK, has $((free_kb / 1024 / 1024)) (set TMPDIR)" >&2
    exit 1
fi

die() { echo "bench/lib.sh: $*" >&2; [ -s "$WORK/cmd.out" ] && sed 's/^/    /' "$WORK/cmd.out" >&2; exit 1; }
# timed CMD...: runs CMD (output to $WORK/cmd.out); sets T (wall seconds), CPU (user + sys seconds of CMD and
# the descendants it waited for: load on the machine hardly changes it) and RSS (KiB, the largest of those
# processes). Starts after `sync` (and a cache drop when COLD=1), so an earlier phase's dirty pages are not
# written back on this one's clock.
timed() {
    sync
    [ "${COLD:-0}" = 1 ] && echo 3 >/proc/sys/vm/drop_caches
    local t0=$EPOCHREALTIME rc
    /usr/bin/time -f '%M %U %S' -o "$WORK/rusage" "$@" >"$WORK/cmd.out" 2>&1
    rc=$?
    T=$(awk -v a="$t0" -v z="$EPOCHREALTIME" 'BEGIN { printf "%.3f", z - a }')
    read -r RSS CPU <<<"$(tail -n 1 "$WORK/rusage" | awk '{ printf "%s %.2f", $1, $2 + $3 }')"
    return $rc
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mbs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# pratio A B: the median over rounds of A_t[i] / B_t[i]. The two runs of a round are back to back, so they
# share the machine's load of that moment; their ratio is steadier than a ratio of medians.
pratio() {
    local -n pa=${1}_t pb=${2}_t
    local i v=()
    for i in "${!pa[@]}"; do v+=("$(ratio "${pa[i]}" "${pb[i]}")"); done
    median "${v[@]}"
}
# verdict GOT OP BAR: PASS when GOT OP BAR (OP is >= or <=)
verdict() { awk -v g="$1" -v b="$3" -v op="$2" 'BEGIN { ok = op == ">=" ? g >= b : g <= b; print ok ? "PASS" : "MISS" }'; }
# rand_file BYTES NAME FILE: reproducible random bytes (nothing downstream can shortcut them), fast.
rand_file() { openssl enc -aes-128-ctr -pass "pass:hfgit-$2" -nosalt -pbkdf2 </dev/zero 2>/dev/null | head -c "$1" >"$3"; }
stat_delta() { echo $(($(json_num "$a" "$1") - $(json_num "$b" "$1"))); } # counter $1: stats $a minus $b
# path_of BEFORE_STATS: the LFS requests the hub saw since BEFORE_STATS (basic PUTs, parts, completions, GETs).
path_of() {
    local b=$1 a
    a=$(hub_stats)
    local puts parts comps gets
    puts=$(stat_delta requests_object_put) parts=$(stat_delta parts_ok) comps=$(stat_delta completions_ok)
    gets=$(stat_delta requests_object_get)
    if [ "$comps" -gt 0 ]; then echo "multipart: $comps objects in $parts parts, $puts basic PUT"
    elif [ "$puts" -gt 0 ]; then echo "basic: $puts PUTs"
    else echo "$gets GETs"; fi
}

cd "$WORK" || exit 1
echo "bench/lib.sh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), scratch on $(df --output=fstype "$WORK" | tail -n 1), page cache $CACHE"

# ---------------------------------------------------------------------------------------------------------
# 1. add of a 2 GiB file vs sha256sum
SIZE=$((SIZE_MIB * MiB))
rand_file "$SIZE" add "$WORK/big.bin"
WANT=$(sha256sum "$WORK/big.bin" | cut -d' ' -f1) # also warms the page cache for both sides
# add_repo N: a fresh repository whose working tree holds the file (a hard link: same inode, same cached pages).
add_repo() { rm -rf "$WORK/add"; git init -q "$WORK/add" && ln "$WORK/big.bin" "$WORK/add/weights.bin"; }
add_repo && "$LIB" add "$WORK/add" . --auto >"$WORK/cmd.out" 2>&1 || die "warm-up add failed"
pointer=$(git -C "$WORK/add" cat-file -p :weights.bin)
[[ $pointer == *"oid sha256:$WANT"* ]] || die "the staged pointer does not name the file's SHA-256: $pointer"
[ -f "$WORK/add/.git/lfs/objects/${WANT:0:2}/${WANT:2:2}/$WANT" ] || die "the object is not in .git/lfs/objects"
[ "$(git -C "$WORK/add" check-attr filter weights.bin | sed 's/.*: //')" = lfs ] || die "weights.bin was not auto-tracked"
sha_t=() add_t=() add_c=() add_rss=()
run_sha() { timed sha256sum "$WORK/big.bin" || die "sha256sum failed"; sha_t+=("$T"); }
run_add() {
    add_repo || die "git init failed"
    timed "$LIB" add "$WORK/add" . --auto || die "add failed"
    add_t+=("$T") add_c+=("$CPU") add_rss+=("$RSS")
}
[ "$CACHE" = cold ] && COLD=1
# the order alternates between rounds, so neither side always runs right after the other's writes
for ((r = 1; r <= REPS; r++)); do if ((r % 2)); then run_sha; run_add; else run_add; run_sha; fi; done
COLD=0
rm -rf "$WORK/add"
SHA_T=$(median "${sha_t[@]}") ADD_T=$(median "${add_t[@]}")
ADD_RSS=$(printf '%s\n' "${add_rss[@]}" | sort -n | tail -n 1)
ADD_RATIO=$(pratio sha add) # speed ratio: library MB/s / sha256sum MB/s = sha256sum time / add time
echo
echo "1. add of a ${SIZE_MIB} MiB file, median of $REPS rounds (runs: sha256sum ${sha_t[*]} s | add ${add_t[*]} s)"
printf '   %-24s %6.2f s  %5s MB/s\n' sha256sum "$SHA_T" "$(mbs "$SIZE" "$SHA_T")"
printf '   %-24s %6.2f s  %5s MB/s   speed ratio %s (target >= 0.80); CPU %s s; peak RSS %.1f MiB (largest of %d)\n' \
    "hf_repo_add (auto-track)" "$ADD_T" "$(mbs "$SIZE" "$ADD_T")" "$ADD_RATIO" "$(median "${add_c[@]}")" \
    "$(awk -v k="$ADD_RSS" 'BEGIN { print k / 1024 }')" "$REPS"
echo "   (sha256sum is coreutils' own SHA-256 code; the library hashes with OpenSSL and also writes the copy into .git/lfs/objects)"
rm -f "$WORK/big.bin"

# ---------------------------------------------------------------------------------------------------------
# 2. push and 3. clone
hub_start --empty-repos --chunk-size "$CHUNK" >/dev/null || exit 1
export HF_TOKEN="$HUB_TOKEN" HF_ENDPOINT="$HUB_URL" LIB_REPO_USER="Bench" LIB_REPO_EMAIL="bench@hfgit.invalid"
# git_auth (tests/lib.sh) as a command line, so /usr/bin/time can run it
GIT=(git -c credential.helper= -c "credential.helper=!f() { echo username=hf; echo password=\$HF_TOKEN; }; f")
PUSH_SIZE=$((PUSH_MIB * MiB))
mkdir -p "$WORK/src"
for i in 1 2 3; do rand_file "$PUSH_SIZE" "shard$i" "$WORK/src/model-0000$i-of-00003.bin"; done
rand_file $((1 * MiB)) vocab "$WORK/src/vocab.bin"
printf '# bench model\n\nThree shards of random weights.\n' >"$WORK/src/README.md"
printf '{"architectures":["Bench"],"hidden_size":4096,"num_layers":32}\n' >"$WORK/src/config.json"
rand_file $((1536 * 1024)) tok /dev/stdout | base64 -w 76 >"$WORK/src/tokenizer.json" # 2 MiB of text: stays in git
TOTAL=$(du -cb "$WORK"/src/* | tail -n 1 | cut -f1)
cat "$WORK"/src/* >/dev/null # warm

# lib_prep NAME: a library clone of the fresh hub repo NAME with the content added (auto-tracking) and committed.
lib_prep() {
    "$LIB" open "$WORK/$1" "bench/$1" >"$WORK/cmd.out" 2>&1 || die "library clone of bench/$1 failed"
    ln "$WORK"/src/* "$WORK/$1/" && "$LIB" add "$WORK/$1" . --auto >"$WORK/cmd.out" 2>&1 &&
        "$LIB" commit "$WORK/$1" "bench content" >"$WORK/cmd.out" 2>&1 || die "library add/commit in $1 failed"
}
# git_prep NAME [agent]: the same with git + git-lfs (the .gitattributes the library wrote, so the same files
# are LFS); with "agent" also configured for multipart (hfgit lfs-enable-largefiles).
git_prep() {
    git_auth clone -q "$HUB_URL/bench/$1" "$WORK/$1" >"$WORK/cmd.out" 2>&1 || die "git clone of bench/$1 failed"
    (
        cd "$WORK/$1" && git lfs install --local >/dev/null && cp "$GITATTR" .gitattributes &&
            ln "$WORK"/src/* . && { [ "${2:-}" != agent ] || "$HFGIT" lfs-enable-largefiles . >/dev/null; } &&
            git add -A && git commit -q -m "bench content"
    ) >"$WORK/cmd.out" 2>&1 || die "git add/commit in $1 failed"
}
# pushed NAME: the hub's branch is the local HEAD
pushed() { [ "$(git ls-remote "$HUB_URL/bench/$1" refs/heads/main | cut -f1)" = "$(git -C "$WORK/$1" rev-parse HEAD)" ]; }
same_files() { local f; for f in "$WORK"/src/*; do cmp -s "$f" "$1/$(basename "$f")" || return 1; done; }

# measure KEY CMD...: one timed run, appended to KEY_t, KEY_c (CPU s) and KEY_rss; path_KEY: what the hub saw.
measure() {
    local key=$1 s
    shift
    s=$(hub_stats)
    timed "$@" || die "$key: $* failed"
    local -n mt=${key}_t mc=${key}_c mr=${key}_rss
    mt+=("$T") mc+=("$CPU") mr+=("$RSS")
    printf -v "path_$key" '%s' "$(path_of "$s")"
}
push_lib() { measure "$1" "$LIB" push "$WORK/$1$r"; pushed "$1$r" || die "the hub's main is not $1$r's HEAD"; }
push_git() { measure "$1" "${GIT[@]}" -C "$WORK/$1$r" push -q origin main; pushed "$1$r" || die "the hub's main is not $1$r's HEAD"; }
# the clones fetch what the library pushed (the basic repo)
clone_lib() { measure lc "$LIB" open "$WORK/cl$r" "$HUB_URL/bench/lb$r"; }
clone_git() { measure gc "${GIT[@]}" clone -q "$HUB_URL/bench/lb$r" "$WORK/cg$r"; }

# shellcheck disable=SC2034 # read through namerefs (local -n) in measure, row and pratio
lb_t=() lb_c=() lb_rss=() gb_t=() gb_c=() gb_rss=() lm_t=() lm_c=() lm_rss=() gm_t=() gm_c=() gm_rss=() \
    lc_t=() lc_c=() lc_rss=() gc_t=() gc_c=() gc_rss=()
for ((r = 1; r <= PUSH_REPS; r++)); do
    for n in lb gb; do hub_create_repo "bench/$n$r" >/dev/null || die "create bench/$n$r"; done
    for n in lm gm; do hub_create_repo "bench/$n$r" "\"lfsmultipartthresh\":$MP_THRESH" >/dev/null || die "create bench/$n$r"; done
    lib_prep "lb$r"
    GITATTR=$WORK/lb$r/.gitattributes
    git_prep "gb$r"
    lib_prep "lm$r"
    git_prep "gm$r" agent
    # each pair back to back, the order alternating between rounds
    if ((r % 2)); then push_lib lb; push_git gb; push_lib lm; push_git gm; clone_lib; clone_git
    else push_git gb; push_lib lb; push_git gm; push_lib lm; clone_git; clone_lib; fi
    if [ "$r" = 1 ]; then
        same_files "$WORK/cl$r" || die "the library's clone differs from the source files"
        same_files "$WORK/cg$r" || die "git's clone of the library's push differs from the source files"
        CLONES_OK=yes
    fi
    # free the disk (and page cache) for the next round
    rm -rf "$WORK"/{lb,gb,lm,gm,cl,cg}"$r" "$HUB_ROOT"/repos/models/bench/{lb,gb,lm,gm}"$r".git
done

mib() { printf '%s\n' "$@" | sort -n | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'; }
# row LABEL KEY [BASE_KEY]: median time, MB/s, median CPU, the hub's path; with BASE_KEY the paired time ratio
# (median of per-round ratios) and the peak RSS.
row() {
    local -n rt=${2}_t rc=${2}_c rr=${2}_rss
    local pv=path_$2 t
    t=$(median "${rt[@]}")
    printf '   %-24s %6.2f s  %5s MB/s  CPU %5.2f s' "$1" "$t" "$(mbs "$TOTAL" "$t")" "$(median "${rc[@]}")"
    [ -n "${!pv:-}" ] && printf '   %s' "${!pv}"
    [ $# -ge 3 ] && printf '\n   %24s time ratio %s (target <= 1.00), peak RSS %s MiB' "" "$(pratio "$2" "$3")" "$(mib "${rr[@]}")"
    printf '\n'
}
echo
echo "2. push of $((TOTAL / MiB)) MiB (3 x ${PUSH_MIB} MiB + 1 MiB binary as LFS, 3 text files in git) to fresh repos, median of $PUSH_REPS rounds"
echo "   under the repo's multipart threshold (hub default 5000000000 bytes):"
row "git + git-lfs" gb
row "library" lb gb
echo "   over the repo's multipart threshold ($MP_THRESH bytes, $((CHUNK / MiB)) MiB parts):"
row "git + git-lfs + agent" gm
row "library" lm gm
echo "   runs (s): library ${lb_t[*]} | git ${gb_t[*]} | library mp ${lm_t[*]} | git+agent ${gm_t[*]}"
echo
echo "3. clone of the library-pushed repo, median of $PUSH_REPS rounds (LFS downloads are basic GETs; contents checked: ${CLONES_OK:-no})"
row "git clone + git-lfs" gc
row "library" lc gc
echo "   runs (s): library ${lc_t[*]} | git ${gc_t[*]}"
echo
echo "summary                                  figure    target   result"
printf '  add speed vs sha256sum                %6s x   >= 0.80   %s\n' "$ADD_RATIO" "$(verdict "$ADD_RATIO" '>=' 0.80)"
printf '  add peak RSS (MiB; flat)              %6.1f     < 64      %s\n' "$(awk -v k="$ADD_RSS" 'BEGIN { print k / 1024 }')" \
    "$(verdict "$ADD_RSS" '<=' $((64 * 1024 - 1)))"
for x in "push basic, time vs git+git-lfs:lb:gb" "push multipart, time vs git+agent:lm:gm" \
    "clone, time vs git clone + git-lfs:lc:gc"; do
    IFS=: read -r what a b <<<"$x"
    x=$(pratio "$a" "$b")
    printf '  %-37s %6s x   <= 1.00   %s\n' "$what" "$x" "$(verdict "$x" '<=' 1.00)"
done
echo "  (ratios: median over rounds of each round's back-to-back pair)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs shared; other work on the machine makes every figure noisier)"
