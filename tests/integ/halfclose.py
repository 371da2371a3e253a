#!/usr/bin/env python3
"""Half-close across a tunnel, with every byte checked.

  halfclose.py server ADDR PORT   per connection: read to EOF, answer
                                  "GOT N ok|bad\\n", then send N bytes of
                                  the pattern, then close
  halfclose.py proxy ADDR PORT    the same behind an HTTP CONNECT answer
                                  (a stand-in proxy that is its own
                                  destination, for stunnel to front: the
                                  proxies here close both ways at a FIN)
  halfclose.py send ADDR PORT N   per connection: send N bytes of the
                                  pattern, then close
  halfclose.py client HOST PORT N send N bytes of the pattern, shut the
                                  write side, read the answer and the N
                                  bytes back to EOF; "HALFCLOSE ok N"
  halfclose.py recv HOST PORT N   read to EOF: the N bytes of "send";
                                  "RECV ok N"
  halfclose.py slow HOST PORT N WHOST WPORT K
                                  a slow reader: connect to a "send"
                                  server and read nothing while K GETs
                                  to WHOST:WPORT run one after another
                                  ("OTHERS ok K in S s"), then read the N
                                  bytes whole ("SLOW ok N")

The pattern: byte k is ((k % 65521) * 131 + 7) & 0xff (a prime period, so
no buffer size lines up with it); tests/bin/halfclose.c makes the same.
"""
import socket
import sys
import threading
import time

PERIOD = 65521
BLOCK = bytes(((i * 131 + 7) & 0xFF) for i in range(PERIOD))


def pattern(off, n):
    out = bytearray()
    while n > 0:
        i = off % PERIOD
        take = min(n, PERIOD - i)
        out += BLOCK[i:i + take]
        off += take
        n -= take
    return bytes(out)


def read_eof(s, chunk=65536):
    data = bytearray()
    while True:
        b = s.recv(chunk)
        if not b:
            return bytes(data)
        data += b


def serve_one(c, proxy=False):
    n, good, b = 0, True, b""
    if proxy:
        while b"\r\n\r\n" not in b:
            more = c.recv(4096)
            if not more:
                c.close()
                return
            b += more
        b = b.partition(b"\r\n\r\n")[2]
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    while True:
        if not b:
            b = c.recv(65536)
        if not b:
            break
        if b != pattern(n, len(b)):
            good = False
        n += len(b)
        b = b""
    c.sendall(b"GOT %d %s\n" % (n, b"ok" if good else b"bad"))
    off = 0
    while off < n:
        k = min(65536, n - off)
        c.sendall(pattern(off, k))
        off += k
    # stunnel 5.68 takes the hang-up of a socket it has shut for writing
    # as the end of reading too and drops what it has not read yet: let
    # it drain before the FIN
    if proxy:
        time.sleep(1)
    c.close()


def send_one(c, n):
    off = 0
    while off < n:
        k = min(65536, n - off)
        c.sendall(pattern(off, k))
        off += k
    c.close()


def server(mode, addr, port, n=0):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        if mode == "send":
            target, args = send_one, (c, n)
        else:
            target, args = serve_one, (c, mode == "proxy")
        threading.Thread(target=target, args=args, daemon=True).start()


def client(host, port, n):
    s = socket.create_connection((host, port), timeout=30)
    off = 0
    while off < n:
        k = min(65536, n - off)
        s.sendall(pattern(off, k))
        off += k
    s.shutdown(socket.SHUT_WR)
    head, _, rest = read_eof(s).partition(b"\n")
    if head != b"GOT %d ok" % n:
        print("BAD answer %r" % head[:80])
        sys.exit(1)
    if rest != pattern(0, n):
        print("BAD echo: %d bytes back, wanted %d" % (len(rest), n))
        sys.exit(1)
    print("HALFCLOSE ok %d" % n)


def recv(host, port, n):
    s = socket.create_connection((host, port), timeout=30)
    data = read_eof(s)
    if data != pattern(0, n):
        print("BAD: %d bytes, wanted %d" % (len(data), n))
        sys.exit(1)
    print("RECV ok %d" % n)


def slow(host, port, n, whost, wport, k):
    a = socket.create_connection((host, port), timeout=60)
    time.sleep(1)       # its window fills; nothing is read
    t0 = time.monotonic()
    for i in range(k):
        b = socket.create_connection((whost, wport), timeout=20)
        b.sendall(b"GET /slow-%d HTTP/1.0\r\nHost: w\r\n\r\n" % i)
        got = read_eof(b)
        b.close()
        if not (got.startswith(b"HTTP/1.") and got[8:13] == b" 200 "):
            print("BAD GET %d: %r" % (i, got[:60]))
            sys.exit(1)
    print("OTHERS ok %d in %.2f s" % (k, time.monotonic() - t0), flush=True)
    data = read_eof(a, 1 << 20)
    if data != pattern(0, n):
        print("BAD slow: %d bytes, wanted %d" % (len(data), n))
        sys.exit(1)
    print("SLOW ok %d" % n)


if __name__ == "__main__":
    if sys.argv[1] in ("server", "proxy"):
        server(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "send":
        server("send", sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "slow":
        slow(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
             int(sys.argv[6]), int(sys.argv[7]))
    elif sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
