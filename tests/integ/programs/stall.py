#!/usr/bin/env python3
# stall.py ADDR PORT... - a destination whose connects neither complete
# nor fail: it listens on each ADDR:PORT with a backlog of 0, fills the
# accept queue with connections of its own and never accepts, so the
# kernel drops every further SYN and a connect to it stays in progress
# (the SYN is retried for minutes).  A program's own connect timeout is
# timed against it.  Runs until killed.
import signal
import socket
import sys

keep = []
addr = sys.argv[1]
for port in map(int, sys.argv[2:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(0)
    keep.append(s)
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect((addr, port))
        except BlockingIOError:
            pass
        keep.append(c)
while True:
    signal.pause()
