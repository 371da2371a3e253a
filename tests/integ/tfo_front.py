#!/usr/bin/env python3
"""tfo_front.py LADDR LPORT TADDR TPORT [LIFETIME]

A plain TCP relay whose listener takes TCP Fast Open (data in the SYN):
each connection to LADDR:LPORT is carried to TADDR:TPORT, bytes as they
come, both ways.  Put in front of dante it makes a SOCKS5 proxy that a
tfo=on tunnel can reach with its greeting in the SYN (dante's own
listener does not take Fast Open).  Prints "ready" once listening; exits
after LIFETIME seconds (default 40).
"""
import asyncio
import socket
import sys


async def pipe(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
        w.write_eof()
    except (OSError, RuntimeError):
        w.close()


async def main():
    laddr, lport, taddr, tport = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], int(sys.argv[4])
    life = float(sys.argv[5]) if len(sys.argv) > 5 else 40

    async def conn(r, w):
        try:
            ur, uw = await asyncio.open_connection(taddr, tport)
        except OSError:
            w.close()
            return
        await asyncio.gather(pipe(r, uw), pipe(ur, w))
        w.close()
        uw.close()

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
    ls.bind((laddr, lport))
    ls.listen(128)
    await asyncio.start_server(conn, sock=ls)
    print("ready", flush=True)
    await asyncio.sleep(life)


asyncio.run(main())
