#!/usr/bin/env python3
"""slowaccept.py ADDR PORT LIFETIME [HOLD_MS] - a server whose TCP handshake
is slow, or never completes.

The kernel's own reference for "a connect still in progress, then done":
it listens with a backlog of 0 and fills that one place itself, so the
kernel drops the next SYN; after HOLD_MS (default 600) it frees the
place, and the client's retransmitted SYN (after about 1 s) completes the
connect.  HOLD_MS -1: never (a connect that stays in progress until the
client gives up, the same every time, unlike an address nobody has,
whose failed ARP the kernel remembers).  Each
connection then gets "HTTP/1.0 200 OK" and is closed.  Prints "ready"
once the place is taken.  Exits after LIFETIME seconds.
"""
import socket
import sys
import threading
import time

addr, port, life = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
hold = int(sys.argv[4]) if len(sys.argv) > 4 else 600
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(0)
filler = socket.create_connection((addr, port))
print("ready", flush=True)
threading.Timer(life, lambda: __import__("os")._exit(0)).start()
if hold < 0:
    time.sleep(life + 1)
time.sleep(hold / 1000)
while True:
    c, _ = ls.accept()
    if c.getpeername() == filler.getsockname():
        c.close()
        continue
    c.settimeout(5)
    try:
        c.recv(1024)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nslow\n")
    except OSError:
        pass
    c.close()
