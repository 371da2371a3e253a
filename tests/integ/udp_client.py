"""udp_client.py MODE ARGS... - UDP clients for the integration tests.

Each mode prints what it saw, one fact per line, and exits non-zero when
a step fails outright (the test then checks the lines).

  native PROXY PPORT HOST PORT MSG   SOCKS5 UDP ASSOCIATE by hand, no shim
  sendto HOST PORT MSG               unconnected sendto/recvfrom
  connected HOST PORT MSG            connect, getpeername, send, MSG_PEEK,
                                     recv, MSG_TRUNC, MSG_DONTWAIT
  nonblock HOST PORT N               N datagrams at once, epoll for replies
  alternate H1 P1 H2 P2 N            one socket, two destinations in turns
  stray HOST PORT PORTFILE           wait for a stray sender, then talk
"""
import errno
import ipaddress
import os
import selectors
import socket
import struct
import sys
import time

TIMEOUT = 5


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def same_host(a, b):
    """a (an address received) is b, an address or a name (as resolved
    here: under the shim, a name the proxy resolves is a fake address)."""
    try:
        want = ipaddress.ip_address(b)
    except ValueError:
        want = ipaddress.ip_address(socket.getaddrinfo(
            b, None, family(a), socket.SOCK_DGRAM)[0][4][0])
    return ipaddress.ip_address(a.split("%")[0]) == want


def recv_reply(s, n=2048):
    data, peer = s.recvfrom(n)
    print("reply %s from %s %d" % (data.decode(), peer[0], peer[1]))
    return data, peer


def native(phost, pport, host, port, msg):
    ctrl = socket.create_connection((phost, int(pport)), TIMEOUT)
    ctrl.sendall(b"\x05\x01\x00")
    if ctrl.recv(2) != b"\x05\x00":
        sys.exit("method refused")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 0))
    u.settimeout(TIMEOUT)
    ctrl.sendall(b"\x05\x03\x00\x01" + bytes(4) +
                 struct.pack("!H", u.getsockname()[1]))
    rep = ctrl.recv(10)
    if len(rep) < 10 or rep[1] != 0 or rep[3] != 1:
        sys.exit("UDP ASSOCIATE refused: %r" % rep)
    relay = (socket.inet_ntoa(rep[4:8]), struct.unpack("!H", rep[8:10])[0])
    if relay[0] == "0.0.0.0":
        relay = (phost, relay[1])
    print("relay %s %d" % relay)
    hdr = (b"\x00\x00\x00\x01" + socket.inet_aton(host) +
           struct.pack("!H", int(port)))
    u.sendto(hdr + msg.encode(), relay)
    data, peer = u.recvfrom(2048)
    src = socket.inet_ntoa(data[4:8])
    print("native reply %s from %s via %s" % (data[10:].decode(), src,
                                              peer[0]))


def sendto(host, port, msg):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        s.sendto(msg.encode(), (host, int(port)))
    except OSError as e:
        print("error %s" % errno.errorcode[e.errno])
        return
    data, peer = recv_reply(s)
    print("source ok" if same_host(peer[0], host) and peer[1] == int(port)
          else "source WRONG")


def connected(host, port, msg):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    peer = s.getpeername()
    print("peer %s %d" % (peer[0], peer[1]))
    s.settimeout(TIMEOUT)
    s.send(msg.encode())
    print("peek %s" % s.recv(2048, socket.MSG_PEEK).decode())
    print("recv %s" % s.recv(2048).decode())
    s.send(b"big:60")
    buf = bytearray(10)
    n = s.recv_into(buf, 10, socket.MSG_TRUNC)
    print("trunc real length %d, got %s" % (n, bytes(buf).decode()))
    s.send(b"big:30")
    data, anc, flags, _ = s.recvmsg(8)
    print("recvmsg %s truncated %s" % (data.decode(),
                                        bool(flags & socket.MSG_TRUNC)))
    s.setblocking(True)
    s.settimeout(None)
    try:
        s.recv(2048, socket.MSG_DONTWAIT)
        print("dontwait got data")
    except BlockingIOError:
        print("dontwait EAGAIN")
    os.write(s.fileno(), b"by write")
    print("read %s" % os.read(s.fileno(), 2048).decode())


def nonblock(host, port, n):
    n = int(n)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.setblocking(False)
    for i in range(n):
        s.sendto(b"nb%d" % i, (host, int(port)))
    sel = selectors.EpollSelector()
    sel.register(s, selectors.EVENT_READ)
    got = set()
    end = time.monotonic() + TIMEOUT
    while len(got) < n and time.monotonic() < end:
        for _ in sel.select(max(0, end - time.monotonic())):
            while True:
                try:
                    data, peer = s.recvfrom(2048)
                except BlockingIOError:
                    break
                except OSError as e:
                    print("error %s" % errno.errorcode[e.errno])
                    return
                if same_host(peer[0], host):
                    got.add(data)
    print("nonblock got %d/%d" % (len(got), n))


def alternate(h1, p1, h2, p2, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    for i in range(int(n)):
        for h, p in ((h1, p1), (h2, p2)):
            s.sendto(b"alt%d-%s" % (i, h.encode()), (h, int(p)))
            data, peer = s.recvfrom(2048)
            print("reply %s from %s" % (data.decode(), peer[0]))


def stray(host, port, portfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(b"first", (host, int(port)))
    recv_reply(s)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    end = time.monotonic() + 10
    while not os.path.exists(portfile + ".sent"):
        if time.monotonic() > end:
            sys.exit("no stray sender")
        time.sleep(0.05)
    s.sendto(b"second", (host, int(port)))
    s.settimeout(1)
    try:
        while True:
            recv_reply(s)
    except socket.timeout:
        print("quiet")


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"native": native, "sendto": sendto, "connected": connected,
     "nonblock": nonblock, "alternate": alternate,
     "stray": stray}[mode](*args)


if __name__ == "__main__":
    main()
