#!/usr/bin/env python3
"""early_probe.py [-g] PROXY_HOST PROXY_PORT DEST PORT PATH [USER PASS]

Speaks SOCKS5 itself, the way an optimistic client would: greeting (one
method), RFC 1929 auth when given, the CONNECT request and an HTTP GET for
PATH all in one write.  With -g the greeting goes alone and the rest
follows its reply (the request and the GET in one write: what microsocks
#105 is about).  Then reads the method reply, the auth reply, the
request's reply and the destination's answer.  Prints one line:
  "early: ok STATUS-LINE"      the destination answered the early GET
  "early: silent AT"           nothing came for 3 s while waiting for AT
                               (method, auth, reply, data): the proxy
                               dropped what followed in that segment
  "early: refused REP"         the proxy refused the request
  "early: closed AT"           the proxy closed the connection at AT
Tells what a proxy does with early data, without the shim: the fidelity
check behind the optimistic=on design (t_optimistic.sh).
"""
import socket
import struct
import sys


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError(len(b))
        b += c
    return b


def main():
    args = sys.argv[1:]
    greet_first = args[:1] == ["-g"]
    if greet_first:
        args = args[1:]
    ph, pp, dest, port, path = args[0:5]
    auth = args[5:7]
    s = socket.create_connection((ph, int(pp)), timeout=3)
    out = bytes([5, 1, 2 if auth else 0])
    if greet_first:
        s.sendall(out)
        recv_exact(s, 2)
        out = b""
    if auth:
        u, p = auth[0].encode(), auth[1].encode()
        out += bytes([1, len(u)]) + u + bytes([len(p)]) + p
    out += bytes([5, 1, 0, 1]) + socket.inet_aton(dest)
    out += struct.pack(">H", int(port))
    out += ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, dest)).encode()
    s.sendall(out)
    at = "method"
    try:
        if not greet_first:
            recv_exact(s, 2)
        if auth:
            at = "auth"
            a = recv_exact(s, 2)
            if a[1] != 0:
                print("early: refused auth")
                return 0
        at = "reply"
        r = recv_exact(s, 4)
        if r[1] != 0:
            print("early: refused %d" % r[1])
            return 0
        recv_exact(s, {1: 6, 4: 18}.get(r[3], 6))
        at = "data"
        d = s.recv(4096)
        if not d:
            print("early: closed data")
            return 0
        print("early: ok " + d.split(b"\r\n")[0].decode("latin-1"))
    except EOFError:
        print("early: closed " + at)
    except ConnectionResetError:
        print("early: closed " + at)
    except socket.timeout:
        print("early: silent " + at)
    return 0


if __name__ == "__main__":
    sys.exit(main())
