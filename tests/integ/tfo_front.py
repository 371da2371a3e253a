#!/usr/bin/env python3
"""tfo_front.py LADDR LPORT TADDR TPORT [LIFETIME]

A plain TCP relay whose listener takes TCP Fast Open (data in the SYN):
each connection to LADDR:LPORT is carried to TADDR:TPORT, bytes as they
come, both ways, with TCP_NODELAY.  Put in front of dante it makes a
SOCKS5 proxy that a tfo=on tunnel reaches with its greeting in the SYN
(dante's own listener does not take Fast Open).  Threads, not asyncio: an
asyncio transport's second write on a socket still in SYN_RECV waits for
the handshake's last ACK, a round trip that Fast Open is meant to save.
Prints "ready" once listening; exits after LIFETIME seconds (default 40).
Used by t_optimistic.sh and bench/optimistic.sh.
"""
import socket
import sys
import threading
import time


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(c, taddr, tport):
    try:
        u = socket.create_connection((taddr, tport), timeout=10)
    except OSError:
        c.close()
        return
    u.settimeout(None)
    for s in (c, u):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(u, c), daemon=True)
    t.start()
    pump(c, u)
    t.join(60)
    c.close()
    u.close()


def main():
    laddr, lport, taddr, tport = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], int(sys.argv[4])
    end = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 40)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
    ls.bind((laddr, lport))
    ls.listen(128)
    ls.settimeout(0.5)
    print("ready", flush=True)
    while time.time() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c, taddr, tport),
                         daemon=True).start()


if __name__ == "__main__":
    main()
