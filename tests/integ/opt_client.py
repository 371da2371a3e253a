#!/usr/bin/env python3
"""opt_client.py MODE HOST PORT [N]: the program side of t_optimistic.sh.

  echo HOST PORT N     blocking socket to the banner echo (env_banner):
                       writes N patterned bytes at once after a blocking
                       connect(), then reads the banner and the echo
                       back (no half-close: microsocks ends both ways on
                       the first EOF); "echo ok N"
                       when the banner comes first and every byte returns
                       in order
  poll|epoll HOST PORT N
                       the same on a non-blocking socket driven by poll()
                       or a level-triggered epoll: it writes when told
                       writable, and each read it is told it may do must
                       return bytes (never EAGAIN: that would be a readable
                       report for the proxy's replies); "poll ok N EAGAIN=0"
  refused HOST PORT    connect(), send one line, then recv: prints
                       "connect ok", "send ok" and "ERRNO NAME" for the
                       first call that fails
Prints "ERRNO NAME" (exit 3) when a call fails unexpectedly.
"""
import errno
import os
import select
import socket
import sys
import time

BANNER = b"PWBANNER-0123456789 hello\r\n"


def pattern(n):
    unit = bytes(range(256))
    return (unit * (n // 256 + 1))[:n]


def check(got, n, mode, extra=""):
    want = BANNER + pattern(n)
    if got == want:
        print("%s ok %d%s" % (mode, n, extra))
        return 0
    i = next((k for k in range(min(len(got), len(want)))
              if got[k] != want[k]), min(len(got), len(want)))
    print("%s bad: got %d bytes of %d, first difference at %d: %r"
          % (mode, len(got), len(want), i, got[max(0, i - 8):i + 8]))
    return 1


def echo(host, port, n):
    # a blocking connect (a timeout would make it non-blocking); no
    # half-close: microsocks ends both ways on the first EOF
    s = socket.socket()
    s.connect((host, port))
    s.settimeout(10)
    s.sendall(pattern(n))
    got, want = b"", len(BANNER) + n
    while len(got) < want:
        c = s.recv(65536)
        if not c:
            break
        got += c
    return check(got, n, "echo")


def evloop(mode, host, port, n):
    s = socket.socket()
    s.setblocking(False)
    rc = s.connect_ex((host, port))
    if rc not in (0, errno.EINPROGRESS):
        print("ERRNO " + errno.errorcode[rc])
        return 3
    out, got, eagain = pattern(n), b"", 0
    connected, want = False, len(BANNER) + n
    if mode == "epoll":
        ep = select.epoll()
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if mode == "epoll":
            evs = [e for _, e in ep.poll(1)]
            ev = 0
            for e in evs:
                ev |= e
            r, w = ev & select.EPOLLIN, ev & select.EPOLLOUT
            if ev & select.EPOLLERR:
                r = True
        else:
            p = select.poll()
            p.register(s.fileno(), select.POLLIN |
                       (select.POLLOUT if out or not connected else 0))
            ev = 0
            for _, e in p.poll(1000):
                ev |= e
            r, w = ev & (select.POLLIN | select.POLLERR), ev & select.POLLOUT
        if w and not connected:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                print("ERRNO " + errno.errorcode[err])
                return 3
            connected = True
        if w and out:
            k = s.send(out)
            out = out[k:]
        if w and not out and mode == "epoll":
            ep.modify(s.fileno(), select.EPOLLIN)
        if r:
            try:
                c = s.recv(65536)
            except BlockingIOError:
                eagain += 1
                continue
            got += c
            if not c or len(got) >= want:
                return check(got, n, mode, " EAGAIN=%d" % eagain)
    print("%s timed out with %d bytes" % (mode, len(got)))
    return 1


def refused(host, port):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((host, port))
        print("connect ok")
        s.sendall(b"early bytes\r\n")
        print("send ok")
        c = s.recv(100)
        print("recv %r" % c)
    except OSError as e:
        print("ERRNO " + errno.errorcode.get(e.errno, str(e.errno)))
    return 0


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    try:
        if mode == "echo":
            return echo(host, port, n)
        if mode in ("poll", "epoll"):
            return evloop(mode, host, port, n)
        return refused(host, port)
    except OSError as e:
        print("ERRNO " + errno.errorcode.get(e.errno, str(e.errno)))
        return 3


if __name__ == "__main__":
    sys.exit(main())
