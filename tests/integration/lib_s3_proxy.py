#!/usr/bin/env python3
"""lib_s3_proxy.py: an HTTP/1.1 proxy between the clients and an S3 store (s3rver in the tests) that applies the
hub's fault knobs to the store requests the clients make, the way hfgit-hub applies them to its own part and
object URLs (hub/lfs_multipart.c, hub/lfs_object.c, hub/server.c's hub_throttle). With
`hfgit-hub --s3-endpoint <this proxy>` the presigned URLs the hub hands out point here; requests are forwarded
with their Host header untouched, so SigV4 signatures stay what the hub signed.

Only the clients' presigned requests (X-Amz-Signature in the query) are counted and faulted; the hub's own store
calls (presigned too, User-Agent hfgit-hub/...) and unsigned reads pass untouched.

  part      PUT ...?partNumber=N&uploadId=...   fail_part_number/times: 500 (body read first, as S3 does)
                                                drop_part_number/times: the connection closes halfway through
                                                the body (nothing reaches the store)
  object    PUT ...                             expire_object_times: 403 AccessDenied "Request has expired", as S3
                                                answers an expired presigned URL (body read first; counts down)
  download  GET/HEAD ...                        ignore_range: the Range header is dropped (the store answers
                                                200 with the whole object); fail_range_from/times: 500;
                                                corrupt_range_from/times: the body's first byte flipped
  every body of a presigned request             bandwidth_cap: bytes/s per request body, either direction

Control (same knob names and counter names as the hub's /__knobs and /__stats):
  POST /__proxy/knobs  {"fail_part_number":2,...}   sets the knobs given (unknown names ignored: the hub checks)
  GET  /__proxy/knobs
  GET  /__proxy/stats                                requests_part, parts_ok, parts_refused, requests_object_put,
                                                     requests_object_get, bytes_received, object_get_bytes,
                                                     parts_in_flight, peak_parts_in_flight, auth_on_signed_urls,
                                                     and the knobs above as they stand here
  POST /__proxy/stats/reset
Prints "listening on PORT" once ready.

    lib_s3_proxy.py STORE_HOST STORE_PORT
"""
import asyncio
import json
import re
import sys
import time

STORE_HOST, STORE_PORT = sys.argv[1], int(sys.argv[2])

KNOBS = {"bandwidth_cap": 0, "fail_part_number": 0, "fail_part_times": 0, "drop_part_number": 0,
         "drop_part_times": 0, "ignore_range": 0, "fail_range_from": 0, "fail_range_times": 0,
         "corrupt_range_from": 0, "corrupt_range_times": 0, "expire_object_times": 0}
STATS_NAMES = ["requests_part", "requests_object_put", "requests_object_get", "parts_ok", "parts_refused",
               "auth_on_signed_urls", "parts_in_flight", "peak_parts_in_flight", "bytes_received",
               "object_get_bytes"]
STATS = dict.fromkeys(STATS_NAMES, 0)
CHUNK = 1 << 20  # reads of up to 1 MiB: multi-GiB bodies pass at disk speed


def chunk():
    return 65536 if KNOBS["bandwidth_cap"] else CHUNK  # a capped body is paced in small steps, as the hub's


def log(msg):
    print("lib_s3_proxy: " + msg, file=sys.stderr, flush=True)


def knob_hits(number, times, n):
    """Counts a knob down; True when this request is to fail (hub/lfs_multipart.c's knob_hits)."""
    if KNOBS[times] > 0 and KNOBS[number] == n:
        KNOBS[times] -= 1
        return True
    return False


class Throttle:
    """hub_throttle: sleeps until the body is back under the cap (read at every chunk, as the hub does)."""

    def __init__(self):
        self.t0 = None
        self.sent = 0

    async def account(self, n):
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        self.sent += n
        cap = KNOBS["bandwidth_cap"]
        if cap:
            due = self.t0 + self.sent / cap
            if due > now:
                await asyncio.sleep(due - now)


async def read_head(reader):
    """The start line and header lines of a message (bytes, without the blank line); None at EOF."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if lines:
                return lines
            continue  # stray CRLF between messages
        lines.append(line)


def header(lines, name):
    name = name.lower().encode()
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip().decode("latin-1")
    return None


def drop_header(lines, name):
    name = name.lower().encode()
    return [lines[0]] + [l for l in lines[1:] if l.partition(b":")[0].strip().lower() != name]


async def copy_body(reader, writer, lines, throttle=None, counter=None, corrupt=False, limit=None):
    """Copies the body that follows head LINES from READER to WRITER (Content-Length or chunked), untouched but
    for the corrupt knob; returns the number of body bytes. Stops early (returning -1) after LIMIT bytes."""
    total = 0
    chunked = (header(lines, "Transfer-Encoding") or "").lower() == "chunked"

    async def out(data):
        nonlocal total, corrupt
        if corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
            corrupt = False
        total += len(data)
        if counter:
            STATS[counter] += len(data)
        writer.write(data)
        await writer.drain()
        if throttle:
            await throttle.account(len(data))

    if chunked:
        while True:
            size_line = await reader.readline()
            writer.write(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    t = await reader.readline()
                    writer.write(t)
                    if t in (b"\r\n", b"\n", b""):
                        break
                await writer.drain()
                return total
            left = size
            while left:
                data = await reader.read(min(left, chunk()))
                if not data:
                    raise ConnectionError("body ended early")
                left -= len(data)
                await out(data)
            writer.write(await reader.readexactly(2))
    length = header(lines, "Content-Length")
    if length is None and lines[0].startswith(b"HTTP/"):  # a response without a length: the body ends at EOF
        while True:
            data = await reader.read(chunk())
            if not data:
                writer.close()
                return total
            await out(data)
    left = int(length or 0)
    while left:
        want = min(left, chunk())
        if limit is not None:
            if total >= limit:
                return -1
            want = min(want, limit - total)
        data = await reader.read(want)
        if not data:
            raise ConnectionError("body ended early")
        left -= len(data)
        await out(data)
    return total


class Discard:
    def write(self, data):
        pass

    async def drain(self):
        pass


def s3_error(status, reason, code, message, close=False):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
            % (code, message)).encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n%s\r\n"
            % (status, reason.encode(), len(body), b"Connection: close\r\n" if close else b"")) + body


def json_answer(obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def control(lines, path, creader, cwriter):
    body = b""
    n = int(header(lines, "Content-Length") or 0)
    if n:
        body = await creader.readexactly(n)
    method = lines[0].split()[0]
    if path == "/__proxy/knobs":
        if method == b"POST":
            try:
                given = json.loads(body or b"{}")
            except ValueError:
                given = {}
            for k, v in given.items():
                if k in KNOBS and isinstance(v, int):
                    KNOBS[k] = v
        cwriter.write(json_answer(KNOBS))
    elif path == "/__proxy/stats/reset" and method == b"POST":
        for k in STATS:
            if k != "parts_in_flight":
                STATS[k] = 0
        STATS["peak_parts_in_flight"] = STATS["parts_in_flight"]
        cwriter.write(json_answer(STATS))
    else:  # the counters, and the knobs as they stand here (their counts go down here, not on the hub)
        cwriter.write(json_answer(dict(STATS, **KNOBS)))
    await cwriter.drain()


class Upstream:
    """One store connection per client connection, opened when first needed and reopened after a close."""

    def __init__(self):
        self.r = self.w = None

    async def get(self):
        if self.w is None or self.w.is_closing() or self.r.at_eof():
            self.close()
            self.r, self.w = await asyncio.open_connection(STORE_HOST, STORE_PORT)
        return self.r, self.w

    def close(self):
        if self.w is not None:
            self.w.close()
        self.r = self.w = None


async def one_request(lines, creader, cwriter, up):
    """Handles one request; False when the client connection is to close."""
    method, target = lines[0].split()[0].decode(), lines[0].split()[1].decode("latin-1")
    path, _, query = target.partition("?")
    if path.startswith("/__proxy/"):
        await control(lines, path, creader, cwriter)
        return True
    presigned = "X-Amz-Signature=" in query and not (header(lines, "User-Agent") or "").startswith("hfgit-hub/")
    m = re.search(r"(?:^|&)partNumber=(\d+)", query)
    kind = None
    if presigned:
        kind = "part" if method == "PUT" and m else "put" if method == "PUT" else "get" if method in ("GET", "HEAD") else None
        if header(lines, "Authorization") is not None:
            STATS["auth_on_signed_urls"] += 1
    corrupt = False
    drop_at = None
    # Expect: 100-continue (curl asks it for large bodies) is answered here, so the store sees a plain request
    expect = (header(lines, "Expect") or "").lower() == "100-continue"
    lines = drop_header(lines, "Expect")
    if kind == "part":
        n = int(m.group(1))
        STATS["requests_part"] += 1
        if knob_hits("fail_part_number", "fail_part_times", n):
            log("knob: failing part %d with 500" % n)
            STATS["parts_refused"] += 1
            if not expect:  # read the body first, as S3 does; else the client never sends it
                await copy_body(creader, Discard(), lines)
            cwriter.write(s3_error(500, "Internal Server Error", "InternalError",
                                   "injected failure of part %d (knob)" % n, close=expect))
            await cwriter.drain()
            return not expect
        if knob_hits("drop_part_number", "drop_part_times", n):
            size = int(header(lines, "Content-Length") or 0)
            drop_at = size // 2 or 1
    elif kind == "put":
        STATS["requests_object_put"] += 1
        if KNOBS["expire_object_times"] > 0:
            KNOBS["expire_object_times"] -= 1
            log("knob: refusing an object PUT with 403 (expired URL)")
            if not expect:  # read the body first, as S3 does; else the client never sends it
                await copy_body(creader, Discard(), lines)
            cwriter.write(s3_error(403, "Forbidden", "AccessDenied", "Request has expired (knob)", close=expect))
            await cwriter.drain()
            return not expect
    elif kind == "get":
        STATS["requests_object_get"] += 1
        rng = header(lines, "Range")
        frm = 0
        rm = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if rm and KNOBS["ignore_range"]:
            lines = drop_header(lines, "Range")
        elif rm:
            frm = int(rm.group(1))
        if KNOBS["fail_range_times"] > 0 and KNOBS["fail_range_from"] == frm:
            KNOBS["fail_range_times"] -= 1
            cwriter.write(s3_error(500, "Internal Server Error", "InternalError",
                                   "injected failure (fail_range_from)"))
            await cwriter.drain()
            return True
        if method == "GET" and KNOBS["corrupt_range_times"] > 0 and KNOBS["corrupt_range_from"] == frm:
            KNOBS["corrupt_range_times"] -= 1
            corrupt = True
    if kind == "part":
        STATS["parts_in_flight"] += 1
        STATS["peak_parts_in_flight"] = max(STATS["peak_parts_in_flight"], STATS["parts_in_flight"])
    ok = False
    if expect:
        cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        if drop_at is not None:
            await copy_body(creader, Discard(), lines, counter="bytes_received", limit=drop_at)
            log("knob: dropping the connection of part %s after %d bytes" % (m.group(1), drop_at))
            return False
        sr, sw = await up.get()
        sw.write(b"".join(lines) + b"\r\n")
        await copy_body(creader, sw, lines, throttle=Throttle() if kind in ("part", "put") else None,
                        counter="bytes_received" if kind in ("part", "put") else None)
        while True:
            rlines = await read_head(sr)
            if rlines is None:
                raise ConnectionError("the store closed the connection")
            status = int(rlines[0].split()[1])
            if status >= 200:
                break
        cwriter.write(b"".join(rlines) + b"\r\n")
        if method != "HEAD" and status not in (204, 304) and not 100 <= status < 200:
            await copy_body(sr, cwriter, rlines, throttle=Throttle() if kind == "get" else None,
                            counter="object_get_bytes" if kind == "get" and status < 300 else None,
                            corrupt=corrupt and status < 300)
        else:
            await cwriter.drain()
        ok = 200 <= status < 300
        if (header(rlines, "Connection") or "").lower() == "close":
            up.close()
        return (header(lines, "Connection") or "").lower() != "close"
    finally:
        if kind == "part":
            STATS["parts_in_flight"] -= 1
            STATS["parts_ok" if ok else "parts_refused"] += 1


async def handle(creader, cwriter):
    up = Upstream()
    try:
        while True:
            lines = await read_head(creader)
            if lines is None or not await one_request(lines, creader, cwriter, up):
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
        pass
    finally:
        up.close()
        try:
            cwriter.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=1 << 20)
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
