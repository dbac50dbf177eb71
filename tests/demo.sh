#!/usr/bin/env bash
# make demo: start a local hub, push a multi-part LFS file with plain git + git-lfs + our agent, push another
# with the C API, clone both back (git + git-lfs, and the library), check SHA-256s, print a summary, clean up.
#
# Everything lives in one temp dir (HOME included, so your git config is neither read nor changed) and is
# removed at the end. DEMO_SIZE_MIB (default 200) sets the file size; KEEP_DEMO=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD
SIZE_MIB=${DEMO_SIZE_MIB:-200}
CHUNK=$((16 * 1024 * 1024))     # 16 MiB parts: a 200 MiB file goes up as 13 parts in parallel
THRESHOLD=$((50 * 1024 * 1024)) # multipart from 50 MiB (the real Hub: 5 GB)

for b in hfgit-hub hfgit git-lfs-hfmultipart libhfgit.a; do
    [ -e "$BIN/$b" ] || { echo "demo: $BIN/$b is missing: run make first" >&2; exit 1; }
done
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/hfgit-demo.XXXXXX")
HUB_PID=""
finish() {
    [ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
    if [ -n "${KEEP_DEMO:-}" ]; then echo "demo: kept $DEMO"; else rm -rf "$DEMO"; fi
}
trap finish EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

export HOME=$DEMO/home PATH="$BIN:$PATH"
mkdir -p "$HOME"
git config --global user.name "hfgit demo"
git config --global user.email "demo@hfgit.invalid"
git lfs install --skip-repo >/dev/null
# The token reaches git through a credential helper that reads it from the environment at run time: it never
# appears in a URL, in .git/config or on a command line.
export HF_TOKEN="hf_demo_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
git config --global credential.helper '!f() { echo username=hf; echo "password=$HF_TOKEN"; }; f'

step "1. start hfgit-hub (multipart from $((THRESHOLD >> 20)) MiB, $((CHUNK >> 20)) MiB parts)"
"$BIN/hfgit-hub" --root "$DEMO/hub" --listen 127.0.0.1:0 --token "$HF_TOKEN" --empty-repos \
    --multipart-threshold "$THRESHOLD" --chunk-size "$CHUNK" >"$DEMO/hub.out" 2>"$DEMO/hub.err" &
HUB_PID=$!
for _ in $(seq 100); do
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$DEMO/hub.out" 2>/dev/null)
    [ -n "$URL" ] && break
    sleep 0.05
done
[ -n "${URL:-}" ] || { cat "$DEMO/hub.err"; exit 1; }
export HF_ENDPOINT=$URL
echo "hub at $URL"
curl -sS -f -X POST -H "Authorization: Bearer $HF_TOKEN" -H 'Content-Type: application/json' \
    --data '{"organization":"demo","name":"big-model","type":"model"}' "$URL/api/repos/create" >/dev/null
echo "created repo demo/big-model"

step "2. plain git + git-lfs + git-lfs-hfmultipart: push a $SIZE_MIB MiB file"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$DEMO/weights-git.bin"
git clone -q "$URL/demo/big-model" "$DEMO/work" 2>/dev/null
cd "$DEMO/work"
hfgit lfs-enable-largefiles .
git lfs track '*.bin' >/dev/null
cp "$DEMO/weights-git.bin" weights-git.bin
git add .gitattributes weights-git.bin
git commit -qm "Add weights with plain git"
t0=$(t)
nparts=$(((SIZE_MIB * 1048576 + CHUNK - 1) / CHUNK))
git push origin main >"$DEMO/push.log" 2>&1 &
push_pid=$!
# Part progress as the hub sees it (git-lfs shows its own meter only on a terminal).
while kill -0 "$push_pid" 2>/dev/null; do
    s=$(curl -sS "$URL/__stats" 2>/dev/null || true)
    printf '  parts stored: %s/%s, in flight now: %s\n' "$(sed -n 's/.*"parts_ok":\([0-9]*\).*/\1/p' <<<"$s")" \
        "$nparts" "$(sed -n 's/.*"parts_in_flight":\([0-9]*\).*/\1/p' <<<"$s")"
    sleep 0.5
done
wait "$push_pid" || { cat "$DEMO/push.log"; echo "demo: git push failed"; exit 1; }
t_git=$(secs "$t0" "$(t)")
stats=$(curl -sS "$URL/__stats")
printf '  parts stored: %s/%s, in flight now: %s\n' "$(sed -n 's/.*"parts_ok":\([0-9]*\).*/\1/p' <<<"$stats")" \
    "$nparts" "$(sed -n 's/.*"parts_in_flight":\([0-9]*\).*/\1/p' <<<"$stats")"
parts=$(sed -n 's/.*"parts_ok":\([0-9]*\).*/\1/p' <<<"$stats")
peak=$(sed -n 's/.*"peak_parts_in_flight":\([0-9]*\).*/\1/p' <<<"$stats")
echo "pushed in ${t_git} s: $parts parts, up to $peak in flight at once"

step "3. the C API (libhfgit, no git binary): push another $SIZE_MIB MiB file"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$DEMO/weights-c.bin"
# Under `make check SAN=...` the library carries the sanitizer runtime, so the program links it too.
cc -std=c11 ${SAN:+-fsanitize=$SAN} -o "$DEMO/push_file" "$ROOT/examples/push_file.c" -I"$ROOT/include" "$BIN/libhfgit.a" \
    $(pkg-config --libs libgit2 libcurl openssl zlib) -lpthread
t0=$(t)
"$DEMO/push_file" demo/big-model "$DEMO/work-c" "$DEMO/weights-c.bin" weights-c.bin 2>&1 | tail -n 3 | sed 's/^/  /'
t_c=$(secs "$t0" "$(t)")
stats=$(curl -sS "$URL/__stats")
parts2=$(sed -n 's/.*"parts_ok":\([0-9]*\).*/\1/p' <<<"$stats")
echo "pushed in ${t_c} s: $((parts2 - parts)) more parts"

step "4. clone everything back and check SHA-256s"
t0=$(t)
git clone -q "$URL/demo/big-model" "$DEMO/clone-git"
t_clone_git=$(secs "$t0" "$(t)")
t0=$(t)
hfgit -q clone demo/big-model "$DEMO/clone-lib"
t_clone_lib=$(secs "$t0" "$(t)")
bad=0
for f in weights-git.bin weights-c.bin; do
    want=$(sha "$DEMO/${f%.bin}.bin")
    for c in clone-git clone-lib; do
        got=$(sha "$DEMO/$c/$f")
        if [ "$got" = "$want" ]; then echo "  $c/$f  sha256 ${got:0:16}…  ok"; else
            echo "  $c/$f  sha256 ${got:0:16}…  MISMATCH (want ${want:0:16}…)"; bad=1; fi
    done
done

step "summary"
cat <<EOF
  plain git push (agent, $((CHUNK >> 20)) MiB parts in parallel): $SIZE_MIB MiB in ${t_git} s
  C API push (libhfgit):                            $SIZE_MIB MiB in ${t_c} s
  git clone (git-lfs download):                     $((2 * SIZE_MIB)) MiB in ${t_clone_git} s
  hfgit clone (libhfgit download):                  $((2 * SIZE_MIB)) MiB in ${t_clone_lib} s
  completions: $(sed -n 's/.*"completions_ok":\([0-9]*\).*/\1/p' <<<"$stats"), Authorization headers on signed URLs: $(sed -n 's/.*"auth_on_signed_urls":\([0-9]*\).*/\1/p' <<<"$stats")
EOF
if [ "$bad" -ne 0 ]; then echo "demo: FAILED: content mismatch"; exit 1; fi
echo "demo: OK (hub stopped, temp files removed)"
