#!/usr/bin/env python3
"""lib_fault_proxy.py: a TCP proxy in front of hfgit-hub that answers "500 Internal Server Error" to the first
request of a connection when it is a GET of .../info/refs and the count in FAIL_FILE is above 0 (decrementing
it); everything else is piped both ways untouched. Used by t_lib_retry.sh to check that libhfgit retries a
server error on the ref advertisement. Prints "listening on PORT" once ready.

    lib_fault_proxy.py HUB_HOST HUB_PORT FAIL_FILE
"""
import asyncio
import sys

HOST, PORT, FAIL_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def take_failure():
    try:
        with open(FAIL_FILE) as f:
            n = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return False
    if n <= 0:
        return False
    with open(FAIL_FILE, "w") as f:
        f.write(str(n - 1))
    return True


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter):
    first = await creader.readline()
    if first.startswith(b"GET ") and b"/info/refs" in first and take_failure():
        await creader.read(0)
        body = b"injected failure\n"
        cwriter.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await cwriter.drain()
        cwriter.close()
        return
    hreader, hwriter = await asyncio.open_connection(HOST, PORT)
    hwriter.write(first)
    await asyncio.gather(pipe(creader, hwriter), pipe(hreader, cwriter))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
