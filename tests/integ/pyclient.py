#!/usr/bin/env python3
"""Small TCP clients for the integration tests, run under the shim.

Usage: pyclient.py MODE HOST PORT [PATH]
  get       blocking connect, HTTP GET PATH, print the response body
  connect   connect only; print OK
  peer      connect; print "PEER host port" from getpeername()
  nonblock  non-blocking connect: connect_ex, select, SO_ERROR, then GET
  banner    read a server-first banner line, then check an echo
  asyncio   asyncio.open_connection, GET PATH
  twice     two connects; print the outcome of each, then DONE
A failed connect prints "ERRNO NAME" and exits 3.
"""
import asyncio
import errno
import select
import socket
import sys


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def die_errno(e):
    print("ERRNO %s" % errno.errorcode.get(e, str(e)), flush=True)
    sys.exit(3)


def connect(host, port, timeout=20):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except OSError as e:
        die_errno(e.errno if e.errno is not None else errno.ETIMEDOUT)
    return s


def request(host, path):
    h = "[%s]" % host if ":" in host else host
    return ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, h)).encode()


def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


def body(resp):
    head, _, b = resp.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    print("STATUS %s" % status)
    sys.stdout.write(b.decode(errors="replace"))


def mode_get(host, port, path):
    s = connect(host, port)
    s.sendall(request(host, path))
    body(read_all(s))


def mode_connect(host, port):
    connect(host, port).close()
    print("OK")


def mode_peer(host, port):
    s = connect(host, port)
    p = s.getpeername()
    print("PEER %s %d" % (p[0], p[1]))
    s.close()


def mode_nonblock(host, port, path):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setblocking(False)
    rc = s.connect_ex((host, port))
    print("CONNECT %s" % ("0" if rc == 0 else errno.errorcode.get(rc, rc)))
    if rc not in (0, errno.EINPROGRESS):
        die_errno(rc)
    _, w, _ = select.select([], [s], [], 20)
    if not w:
        print("SELECT timeout")
        sys.exit(4)
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    print("SO_ERROR %s" % ("0" if err == 0 else errno.errorcode.get(err, err)))
    if err:
        die_errno(err)
    p = s.getpeername()
    print("PEER %s %d" % (p[0], p[1]))
    s.setblocking(True)
    s.settimeout(20)
    s.sendall(request(host, path))
    body(read_all(s))


def mode_banner(host, port):
    s = connect(host, port)
    line = b""
    while not line.endswith(b"\r\n") and len(line) < 200:
        b = s.recv(1)
        if not b:
            break
        line += b
    print("BANNER %s" % line.decode(errors="replace").rstrip("\r\n"))
    s.sendall(b"ping-pw\n")
    echo = b""
    while len(echo) < 8:
        b = s.recv(64)
        if not b:
            break
        echo += b
    print("ECHO %s" % echo.decode(errors="replace").rstrip("\n"))


def mode_asyncio(host, port, path):
    async def go():
        try:
            r, w = await asyncio.wait_for(
                asyncio.open_connection(host, port), 20)
        except OSError as e:
            die_errno(e.errno if e.errno is not None else errno.EIO)
        w.write(request(host, path))
        await w.drain()
        data = await asyncio.wait_for(r.read(), 20)
        w.close()
        return data
    body(asyncio.run(go()))


def mode_twice(host, port):
    for i in (1, 2):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((host, port))
            print("TRY%d OK" % i)
        except OSError as e:
            print("TRY%d ERRNO %s" % (i, errno.errorcode.get(e.errno, e.errno)))
        s.close()
    print("DONE")


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/"
    if mode == "get":
        mode_get(host, port, path)
    elif mode == "connect":
        mode_connect(host, port)
    elif mode == "peer":
        mode_peer(host, port)
    elif mode == "nonblock":
        mode_nonblock(host, port, path)
    elif mode == "banner":
        mode_banner(host, port)
    elif mode == "asyncio":
        mode_asyncio(host, port, path)
    elif mode == "twice":
        mode_twice(host, port)
    else:
        sys.exit("unknown mode " + mode)


main()
