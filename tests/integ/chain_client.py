#!/usr/bin/env python3
"""HTTP GETs in a row, each timed from socket() to the end of the answer.

Usage: chain_client.py HOST PORT PATH MODE...
  MODE b: a blocking socket (no Python timeout: a timeout would make the
          fd non-blocking), connect(), sendall, read to EOF;
  MODE n: a non-blocking socket: connect_ex, poll for POLLOUT, SO_ERROR,
          then send and receive with poll, all under a 15 s bound.
The request for the i-th MODE (from 1) asks for PATH-i.  One line per
connection: "CONN i MODE MS STATUS-LINE" or "CONN i MODE MS ERR what".
Exit 0 when every answer was HTTP 200, 1 otherwise.
"""
import errno
import select
import socket
import sys
import time

NB_BOUND_S = 15


def request(path):
    return ("GET %s HTTP/1.0\r\nHost: t\r\n\r\n" % path).encode()


def status(data):
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def blocking(host, port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect((host, port))
        s.sendall(request(path))
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                return status(data)
            data += b
    finally:
        s.close()


def wait(s, ev, end):
    p = select.poll()
    p.register(s, ev)
    left = end - time.monotonic()
    if left <= 0 or not p.poll(left * 1000):
        raise OSError(errno.ETIMEDOUT, "no readiness within %d s" % NB_BOUND_S)


def nonblocking(host, port, path):
    end = time.monotonic() + NB_BOUND_S
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, "connect: %s" % errno.errorcode.get(rc, rc))
        wait(s, select.POLLOUT, end)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, "SO_ERROR %s" % errno.errorcode.get(err, err))
        out = request(path)
        while out:
            try:
                out = out[s.send(out):]
            except BlockingIOError:
                wait(s, select.POLLOUT, end)
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except BlockingIOError:
                wait(s, select.POLLIN, end)
                continue
            if not b:
                return status(data)
            data += b
    finally:
        s.close()


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ok = True
    for i, mode in enumerate(sys.argv[4:], 1):
        t0 = time.monotonic()
        try:
            fn = blocking if mode == "b" else nonblocking
            res = fn(host, port, "%s-%d" % (path, i))
        except OSError as e:
            res = "ERR %s %s" % (errno.errorcode.get(e.errno, e.errno), e)
        ms = int((time.monotonic() - t0) * 1000)
        print("CONN %d %s %d %s" % (i, mode, ms, res), flush=True)
        ok = ok and res.startswith("HTTP/1.") and " 200" in res
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
