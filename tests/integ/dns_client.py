#!/usr/bin/env python3
"""Name-resolution clients for t_dns.sh, run under the shim.

Usage: dns_client.py MODE ARGS...
  both  LOCALNAME LPORT WORLDNAME WPORT PATH1 PATH2
        one process: GET PATH1 from LOCALNAME:LPORT, then PATH2 from
        WORLDNAME:WPORT (http.client: getaddrinfo + connect)
  calls NAME PORT PATH
        socket.gethostbyname, socket.getaddrinfo (AF_UNSPEC, AF_INET,
        AF_INET6), then a GET to the first getaddrinfo answer
  resolve NAME
        print socket.gethostbyname(NAME); "GAIERROR n" on failure (exit 4)
  get   HOST PORT PATH
        GET PATH from an address literal; print the body
  numeric NAME
        getaddrinfo(NAME, AI_NUMERICHOST) for AF_UNSPEC, AF_INET and
        AF_INET6: print "NUMERIC FAM GAIERROR n" or "NUMERIC FAM ADDR"
"""
import http.client
import socket
import sys


def fetch(host, port, path):
    c = http.client.HTTPConnection(host, port, timeout=15)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode(errors="replace")
    c.close()
    print("STATUS %d" % r.status)
    sys.stdout.write(body)
    sys.stdout.flush()


def fetch_addr(sa, family, path):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(sa)
    s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    sys.stdout.write(data.partition(b"\r\n\r\n")[2].decode(errors="replace"))
    sys.stdout.flush()


def main():
    mode = sys.argv[1]
    try:
        if mode == "both":
            lname, lport, wname, wport, p1, p2 = sys.argv[2:8]
            fetch(lname, int(lport), p1)
            fetch(wname, int(wport), p2)
        elif mode == "calls":
            name, port, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
            print("GHBN %s" % socket.gethostbyname(name))
            first = None
            for fam in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
                res = socket.getaddrinfo(name, port, fam, socket.SOCK_STREAM)
                for r in res:
                    print("GAI %d %s" % (fam, r[4][0]))
                if first is None:
                    first = res[0]
            fetch_addr(first[4], first[0], path)
        elif mode == "resolve":
            print(socket.gethostbyname(sys.argv[2]))
        elif mode == "numeric":
            for fam in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
                try:
                    res = socket.getaddrinfo(sys.argv[2], 22, fam,
                                             socket.SOCK_STREAM, 0,
                                             socket.AI_NUMERICHOST)
                    print("NUMERIC %d %s" % (fam, res[0][4][0]))
                except socket.gaierror as e:
                    print("NUMERIC %d GAIERROR %d" % (fam, e.errno))
        elif mode == "get":
            fetch(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        else:
            sys.exit(2)
    except socket.gaierror as e:
        print("GAIERROR %d" % e.errno, flush=True)
        sys.exit(4)


main()
