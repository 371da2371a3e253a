"""udp_echo.py LOG ADDR PORT [ADDR PORT]... - a UDP echo for the tests.

Every datagram is sent back to its sender as b"echo " + payload, and one
line "FROM addr port payload" is appended to LOG, so a test can tell
where a datagram really came from (the proxy's relay or the client).
A payload starting with b"big:N" is answered with N bytes of b"x" after
the prefix, for truncation tests.
"""
import selectors
import socket
import sys


def main():
    log = sys.argv[1]
    pairs = sys.argv[2:]
    sel = selectors.DefaultSelector()
    for i in range(0, len(pairs), 2):
        addr, port = pairs[i], int(pairs[i + 1])
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            data, peer = s.recvfrom(65535)
            with open(log, "a") as f:
                f.write("FROM %s %d %s\n" % (peer[0], peer[1],
                                             data.decode("ascii", "replace")))
            reply = b"echo " + data
            if data.startswith(b"big:"):
                reply = b"echo " + b"x" * int(data[4:].split()[0])
            s.sendto(reply, peer)


if __name__ == "__main__":
    main()
