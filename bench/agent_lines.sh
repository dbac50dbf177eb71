#!/usr/bin/env bash
# bench/agent_lines.sh: the agent's peak memory on a request line with 10,000 part URLs of 1 KB each (S3's
# maximum part count; issue 11, design.md §6 bar: peak RSS <= 32 MiB), next to the same agent serving a
# one-line init + terminate (the baseline: libcurl and OpenSSL loaded, nothing parsed).
# The upload itself fails at once (the file does not exist): the figure is the cost of reading and parsing.
#
#   BUILD=build bash bench/agent_lines.sh      (PARTS=10000 URL_BYTES=1000 to change)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
AGENT=$BUILD_DIR/git-lfs-hfmultipart
PARTS=${PARTS:-10000}
URL_BYTES=${URL_BYTES:-1000}
INIT='{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}'

python3 - "$PARTS" "$URL_BYTES" >"$WORK/big.in" <<'PY'
import sys, json
n, ulen = int(sys.argv[1]), int(sys.argv[2])
size = n * 5 * 1048576
hdr = {"chunk_size": str(size // n)}
for i in range(1, n + 1):
    base = "http://127.0.0.1:9/__part/x/%d?sig=" % i
    hdr["%05d" % i] = base + "a" * max(0, ulen - len(base))
print('{"event":"init","operation":"upload","remote":"origin","concurrent":true,"concurrenttransfers":8}')
print(json.dumps({"event": "upload", "oid": "c" * 64, "size": size, "path": "/nonexistent/x",
                  "action": {"href": "http://127.0.0.1:9/__complete/x", "header": hdr}}, separators=(",", ":")))
print('{"event":"terminate"}')
PY
printf '%s\n{"event":"terminate"}\n' "$INIT" >"$WORK/small.in"

peak_kib() { HFGIT_TRACE=1 "$AGENT" <"$1" 2>&1 >/dev/null | sed -n 's/.*peak RSS (VmHWM) \([0-9]*\) KiB.*/\1/p'; }
base=$(peak_kib "$WORK/small.in")
big=$(peak_kib "$WORK/big.in")
line=$(sed -n 2p "$WORK/big.in" | wc -c)
echo "bench/agent_lines.sh: a request line of $((line / 1024)) KiB ($PARTS part URLs of $URL_BYTES bytes)"
awk -v b="$base" -v g="$big" 'BEGIN { printf "  baseline (init + terminate)   peak RSS %6.1f MiB\n  10,000-part line              peak RSS %6.1f MiB  (bar <= 32 MiB: %s; %.1f MiB over the baseline)\n",
    b / 1024, g / 1024, g <= 32768 ? "met" : "NOT met", (g - b) / 1024 }'
