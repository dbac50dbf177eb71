#!/usr/bin/env python3
"""lib_cut_proxy.py: a TCP proxy in front of hfgit-hub that hangs up on the client (FIN, then RST) as soon as it
has seen the start of a push's pack upload (POST .../git-receive-pack) and 256 KiB of it: the server "dies"
while the client is still writing. Everything else is piped both ways untouched. Used by t_lib_push_cut.sh.
Prints "listening on PORT" once ready.

    lib_cut_proxy.py HUB_HOST HUB_PORT
"""
import asyncio
import socket
import struct
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])


async def hang_up(creader, writer):
    """As a server process that exits: FIN first (the client, busy writing, does not notice), then the socket
    closes with the client's data unread, which answers the client's next segments with RST. A write after
    that fails with EPIPE, and raises SIGPIPE unless the writer blocked or ignored it."""
    sock = writer.get_extra_info("socket")
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        await asyncio.wait_for(creader.read(1 << 20), 0.3)
    except (asyncio.TimeoutError, ConnectionError):
        pass
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


async def upstream(creader, cwriter, hwriter):
    seen, after = b"", -1
    try:
        while True:
            data = await creader.read(65536)
            if not data:
                break
            if after < 0:
                seen = (seen + data)[-4096:]
                if b"POST " in seen and b"git-receive-pack " in seen:
                    after = 0
            if after >= 0:
                after += len(data)
                if after > 262144:
                    hwriter.transport.abort()
                    await hang_up(creader, cwriter)
                    return
            hwriter.write(data)
            await hwriter.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    try:
        hwriter.close()
    except Exception:
        pass


async def downstream(hreader, cwriter):
    try:
        while True:
            data = await hreader.read(65536)
            if not data:
                break
            cwriter.write(data)
            await cwriter.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    try:
        cwriter.close()
    except Exception:
        pass


async def handle(creader, cwriter):
    hreader, hwriter = await asyncio.open_connection(HOST, PORT)
    await asyncio.gather(upstream(creader, cwriter, hwriter), downstream(hreader, cwriter))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
