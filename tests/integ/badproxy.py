#!/usr/bin/env python3
"""badproxy.py - a misbehaving proxy for the integration tests.

    badproxy.py MODE PORT COUNTFILE [LIFETIME]

Listens on 127.0.0.1:PORT and, for every connection, misbehaves as MODE:
  silent   accepts and reads, never answers
  close    reads the first bytes of the handshake, then closes
  dribble  answers a valid SOCKS5 handshake one byte per second
  garbage  answers bytes that are neither SOCKS5 nor HTTP
  407      an HTTP proxy that answers 407 to every CONNECT
  continue an HTTP proxy that answers "100 Continue" and, in a later
           segment, "200", then sends "BANNER-behind-100\n" as the server
           behind it would (interim 1xx heads are not final, RFC 9110)
  slow     a SOCKS5 proxy that takes 1 s per reply, then answers HTTP
           requests itself with "200 OK slow" (a working, slow tunnel)
  slowdest a SOCKS5 proxy with user/password (any) that answers the
           greeting and the auth at once, the request after 600 ms (as
           for a destination slow to connect), then HTTP as slow does;
           it reads pipelined messages as a real server does
  refuselate a SOCKS5 proxy (no auth) that reads pipelined messages as
           a real server does: a request for port 9 gets REP 5 (refused)
           after 300 ms, any other REP 0 at once and then an HTTP answer
           "200 OK late"
Each accepted connection is counted in COUNTFILE (rewritten each time).
Exits after LIFETIME seconds (default 40): nothing outlives a test.
"""
import socket
import sys
import threading
import time

REPLY_407 = (b"HTTP/1.1 407 Proxy Authentication Required\r\n"
             b"Proxy-Authenticate: Basic realm=\"bad\"\r\n"
             b"Content-Length: 0\r\n\r\n")


def dribble(c, data):
    for i in range(len(data)):
        c.sendall(data[i:i + 1])
        time.sleep(1)


def request_pending(first):
    """True when the SOCKS5 request did not come with the greeting
    (the shim may pipeline greeting and request in one write)."""
    return len(first) < 2 or len(first) <= 2 + first[1]


class Reader:
    """Exactly n bytes at a time from what the client sent so far."""

    def __init__(self, c, first):
        self.c, self.buf = c, first

    def take(self, n):
        while len(self.buf) < n:
            b = self.c.recv(4096)
            if not b:
                raise OSError("closed")
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def skip_addr(r):
    """The request's VER CMD RSV ATYP ADDR; returns its port."""
    head = r.take(4)
    if head[3] == 1:
        r.take(4)
    elif head[3] == 4:
        r.take(16)
    else:
        r.take(r.take(1)[0])
    return int.from_bytes(r.take(2), "big")


def refuselate(c, first):
    r = Reader(c, first)
    ver_n = r.take(2)
    r.take(ver_n[1])
    c.sendall(b"\x05\x00")
    if skip_addr(r) == 9:
        time.sleep(0.3)
        c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
        return
    c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
    if not r.buf:
        r.c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nlate")


def slowdest(c, first):
    r = Reader(c, first)
    ver_n = r.take(2)
    r.take(ver_n[1])                    # methods
    c.sendall(b"\x05\x02")
    r.take(1)                           # auth version
    r.take(r.take(1)[0])                # user
    r.take(r.take(1)[0])                # password
    c.sendall(b"\x01\x00")
    skip_addr(r)
    time.sleep(0.6)
    c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
    r.c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nslow")


def serve(c, mode):
    c.settimeout(30)
    try:
        first = c.recv(4096)
        if mode == "silent":
            while c.recv(4096):
                pass
        elif mode == "close":
            c.close()
        elif mode == "garbage":
            c.sendall(b"\xde\xad\xbe\xef not a proxy \x00\xff\r\n\r\n")
            time.sleep(5)
        elif mode == "dribble":
            dribble(c, b"\x05\x00")
            if request_pending(first):
                c.recv(4096)
            dribble(c, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
            time.sleep(5)
        elif mode == "slow":
            time.sleep(1)
            c.sendall(b"\x05\x00")
            if request_pending(first):
                c.recv(4096)
            time.sleep(1)
            c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nslow")
        elif mode == "continue":
            if first:
                c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                time.sleep(0.3)
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n"
                          b"BANNER-behind-100\n")
            time.sleep(2)
        elif mode == "slowdest":
            slowdest(c, first)
        elif mode == "refuselate":
            refuselate(c, first)
        elif mode == "407":
            if first:
                c.sendall(REPLY_407)
            time.sleep(2)
    except OSError:
        pass
    finally:
        c.close()


def main():
    mode, port, countfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 40
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.settimeout(0.5)
    count = 0
    with open(countfile, "w") as f:
        f.write("0\n")
    end = time.time() + lifetime
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        count += 1
        with open(countfile, "w") as f:
            f.write("%d\n" % count)
        threading.Thread(target=serve, args=(c, mode), daemon=True).start()


if __name__ == "__main__":
    main()
