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
  drain HOST PORT MSG                one datagram, then every datagram that
                                     arrives until 1 s of quiet
  v6only HOST PORT MSG               sendto from an IPV6_V6ONLY socket
  mmsg HOST PORT N                   sendmmsg N datagrams in one call,
                                     recvmmsg (MSG_WAITFORONE) the echoes
  reconnect HOST PORT DHOST DPORT    connect to HOST (proxied), then to
                                     DHOST (direct), back, AF_UNSPEC
  asyncio HOST PORT N                asyncio datagram endpoints, connected
                                     and not, N datagrams each
  peekfrom HOST PORT MSG             unconnected: MSG_PEEK then recvfrom
  mapped HOST PORT MSG               dual-stack IPv6 socket, ::ffff:HOST
  fork HOST PORT                     parent, then a forked child, then the
                                     parent again on one socket
  threads HOST PORT T N              T threads send N each at once on one
                                     blocking socket; then main receives
  recvfirst HOST PORT MSG [CALL]     a thread already blocked in CALL
                                     (recvfrom, recv, recvmsg, read,
                                     recvmmsg) when
                                     the first datagram goes out
  resolved HOST PORT NAME MSG        to HOST, a lookup of NAME (an answer
                                     is HOST), to HOST again
  reuse HOST PORT DHOST DPORT        close a proxied socket; its fd number
                                     reused for a direct destination
"""
import threading
import asyncio
import ctypes
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
    os.writev(s.fileno(), [b"by ", b"wri", b"tev"])
    a, b = bytearray(4), bytearray(100)
    n = os.readv(s.fileno(), [a, b])
    print("readv %s" % (bytes(a) + bytes(b))[:n].decode())
    s.sendmsg([b"by ", b"sendmsg"])
    s.settimeout(TIMEOUT)
    data, anc, flags, peer = s.recvmsg(2048)
    print("recvmsg %s from %s %d" % (data.decode(), peer[0], peer[1]))
    s.send(b"by send")
    data, peer = s.recvfrom(2048)
    print("recvfrom %s from %s %d" % (data.decode(), peer[0], peer[1]))


def nonblock(host, port, n):
    n = int(n)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.setblocking(False)
    t0 = time.monotonic()
    for i in range(n):
        s.sendto(b"nb%d" % i, (host, int(port)))
    print("sent %d in %d ms" % (n, (time.monotonic() - t0) * 1000))
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
    replies_until_quiet(s)


def replies_until_quiet(s):
    """Print every reply that arrives until 1 s of quiet."""
    s.settimeout(1)
    try:
        while True:
            recv_reply(s)
    except socket.timeout:
        print("quiet")


def drain(host, port, msg):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(msg.encode(), (host, int(port)))
    recv_reply(s)
    replies_until_quiet(s)


def v6only(host, port, msg):
    """dig (BIND's libuv) and many servers' clients set IPV6_V6ONLY: the
    socket cannot reach an IPv4 relay, not even as ::ffff:a.b.c.d."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.settimeout(TIMEOUT)
    s.sendto(msg.encode(), (host, int(port)))
    data, peer = recv_reply(s)
    print("source ok" if same_host(peer[0], host) and peer[1] == int(port)
          else "source WRONG")


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(Iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", Msghdr), ("len", ctypes.c_uint)]


def sockaddr_in(host, port):
    b = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port)
    return ctypes.create_string_buffer(b + socket.inet_aton(host) + bytes(8),
                                       16)


def recv_vector(n, size):
    """n receive buffers of size bytes, n IPv4 name buffers, and the
    mmsghdr vector over them (keep all three alive while it is used)."""
    bufs = [ctypes.create_string_buffer(size) for i in range(n)]
    names = [ctypes.create_string_buffer(16) for i in range(n)]
    iovs = (Iovec * n)()
    vec = (Mmsghdr * n)()
    for i in range(n):
        iovs[i].base = ctypes.addressof(bufs[i])
        iovs[i].len = size
        vec[i].hdr.name = ctypes.addressof(names[i])
        vec[i].hdr.namelen = 16
        vec[i].hdr.iov = ctypes.pointer(iovs[i])
        vec[i].hdr.iovlen = 1
    vec.iovs = iovs
    return bufs, names, vec


def mmsg(host, port, n):
    """sendmmsg/recvmmsg through libc (ctypes calls the interposed ones)."""
    n = int(n)
    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                 struct.pack("ll", TIMEOUT, 0))
    to = sockaddr_in(host, int(port))
    bufs = [ctypes.create_string_buffer(b"mm%d" % i, 3) for i in range(n)]
    iovs = (Iovec * n)()
    vec = (Mmsghdr * n)()
    for i in range(n):
        iovs[i].base = ctypes.addressof(bufs[i])
        iovs[i].len = 3
        vec[i].hdr.name = ctypes.addressof(to)
        vec[i].hdr.namelen = 16
        vec[i].hdr.iov = ctypes.pointer(iovs[i])
        vec[i].hdr.iovlen = 1
    r = libc.sendmmsg(s.fileno(), vec, n, 0)
    if r < 0:
        print("error %s" % errno.errorcode[ctypes.get_errno()])
        return
    print("sendmmsg sent %d" % r)
    got = 0
    while got < n:
        rbufs, names, rvec = recv_vector(n, 64)
        r = libc.recvmmsg(s.fileno(), rvec, n, 0x10000, None)  # WAITFORONE
        if r <= 0:
            print("error %s" % errno.errorcode[ctypes.get_errno()])
            return
        for i in range(r):
            nm = names[i].raw
            src = socket.inet_ntoa(nm[4:8])
            sport = struct.unpack("!H", nm[2:4])[0]
            print("mmsg %s from %s %d namelen %d" % (
                rbufs[i].raw[:rvec[i].len].decode(), src, sport,
                rvec[i].hdr.namelen))
        got += r
    print("recvmmsg got %d" % got)


def reconnect(host, port, dhost, dport):
    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    for i, (h, p) in enumerate(((host, port), (dhost, dport), (host, port))):
        s.connect((h, int(p)))
        peer = s.getpeername()
        s.send(b"rc%d-%s" % (i, h.encode()))
        data, src = s.recvfrom(2048)
        print("connected %s %d: %s from %s" % (peer[0], peer[1],
                                               data.decode(), src[0]))
    # connect(AF_UNSPEC) dissolves the connection (python cannot say it)
    unspec = ctypes.create_string_buffer(16)
    if libc.connect(s.fileno(), unspec, 16) != 0:
        print("error %s" % errno.errorcode[ctypes.get_errno()])
        return
    try:
        s.getpeername()
        print("still connected")
    except OSError as e:
        print("unconnected %s" % errno.errorcode[e.errno])
    for i, (h, p) in enumerate(((dhost, dport), (host, port))):
        s.sendto(b"rc-unspec%d-%s" % (i, h.encode()), (h, int(p)))
        data, src = s.recvfrom(2048)
        print("sendto %s: %s from %s %d" % (h, data.decode(), src[0], src[1]))


def run_asyncio(host, port, n):
    n = int(n)

    class Echo(asyncio.DatagramProtocol):
        def __init__(self, name, done):
            self.name, self.done, self.got = name, done, set()

        def datagram_received(self, data, addr):
            ok = same_host(addr[0], host) and addr[1] == int(port)
            print("%s %s from %s" % (self.name, data.decode(),
                                     "dest" if ok else addr))
            self.got.add(data)
            if len(self.got) == n and not self.done.done():
                self.done.set_result(True)

        def error_received(self, exc):
            print("%s error %s" % (self.name, exc))

    async def go():
        loop = asyncio.get_running_loop()
        for name in ("aconn", "aunconn"):
            done = loop.create_future()
            if name == "aconn":
                tr, pr = await loop.create_datagram_endpoint(
                    lambda: Echo(name, done), remote_addr=(host, int(port)))
                for i in range(n):
                    tr.sendto(b"%s%d" % (name.encode(), i))
            else:
                tr, pr = await loop.create_datagram_endpoint(
                    lambda: Echo(name, done), family=family(host))
                for i in range(n):
                    tr.sendto(b"%s%d" % (name.encode(), i), (host, int(port)))
            try:
                await asyncio.wait_for(done, TIMEOUT)
            except asyncio.TimeoutError:
                pass
            print("%s got %d/%d" % (name, len(pr.got), n))
            tr.close()

    asyncio.run(go())


def peekfrom(host, port, msg):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(msg.encode(), (host, int(port)))
    d1, p1 = s.recvfrom(2048, socket.MSG_PEEK)
    print("peekfrom %s from %s %d" % (d1.decode(), p1[0], p1[1]))
    d2, p2 = s.recvfrom(2048)
    print("recvfrom %s from %s %d" % (d2.decode(), p2[0], p2[1]))
    print("peek same" if (d1, p1) == (d2, p2) else "peek DIFFERS")


def mapped(host, port, msg):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.settimeout(TIMEOUT)
    s.sendto(msg.encode(), ("::ffff:" + host, int(port)))
    recv_reply(s)


def fork(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(b"fork-parent0", (host, int(port)))
    recv_reply(s)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            s.sendto(b"fork-child", (host, int(port)))
            recv_reply(s)
        except OSError as e:
            print("child error %s" % e)
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    s.sendto(b"fork-parent1", (host, int(port)))
    recv_reply(s)


def threads(host, port, nt, n):
    nt, n = int(nt), int(n)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                 struct.pack("ll", TIMEOUT, 0))
    go = threading.Barrier(nt)
    errs = []

    def sender(t):
        go.wait()
        for j in range(n):
            try:
                s.sendto(b"t%d-%d" % (t, j), (host, int(port)))
            except OSError as e:
                errs.append(e)

    ts = [threading.Thread(target=sender, args=(t,)) for t in range(nt)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    got, wrong = set(), 0
    while len(got) < nt * n:
        try:
            data, peer = s.recvfrom(2048)
        except OSError:
            break
        if not same_host(peer[0], host) or peer[1] != int(port):
            wrong += 1
            print("elsewhere %r from %s" % (data[:40], peer))
            continue
        got.add(data)
    print("threads got %d/%d, %d from elsewhere, %d send errors %s" % (
        len(got), nt * n, wrong, len(errs), errs[:1]))


def recvmmsg_one(s):
    """recvmmsg (through libc, so the shim's) of up to 2 datagrams with
    MSG_WAITFORONE; the first, and its IPv4 source."""
    libc = ctypes.CDLL(None, use_errno=True)
    bufs, names, vec = recv_vector(2, 2048)
    r = libc.recvmmsg(s.fileno(), vec, 2, 0x10000, None)  # WAITFORONE
    if r <= 0:
        raise OSError(ctypes.get_errno(), "recvmmsg")
    nm = names[0].raw
    return (bufs[0].raw[:vec[0].len],
            (socket.inet_ntoa(nm[4:8]), struct.unpack("!H", nm[2:4])[0]))


def recvfirst(host, port, msg, call="recvfrom"):
    """A receiver thread and a sender on one socket (DNS stub resolvers,
    game and QUIC clients): the receiver is blocked in CALL (recvfrom,
    recv, recvmsg, read or recvmmsg) before the sender's first datagram
    opens the association."""
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind(("0.0.0.0" if family(host) == socket.AF_INET else "::", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                 struct.pack("ll", TIMEOUT, 0))
    out = []
    calls = {
        "recvfrom": lambda: s.recvfrom(2048),
        "recv": lambda: (s.recv(2048), None),
        "recvmsg": lambda: s.recvmsg(2048)[::3],
        "read": lambda: (os.read(s.fileno(), 2048), None),
        "recvmmsg": lambda: recvmmsg_one(s),
    }

    def receiver():
        try:
            out.append(calls[call]())
        except OSError as e:
            out.append(e)

    t = threading.Thread(target=receiver)
    t.start()
    time.sleep(0.3)
    s.sendto(msg.encode(), (host, int(port)))
    t.join()
    if isinstance(out[0], OSError):
        print("receiver error %s" % out[0])
        return
    data, peer = out[0]
    print("receiver %s %r from %s %s" % (
        call, data, peer[0] if peer else "-", peer[1] if peer else "-"))


def resolved(host, port, name, msg):
    """Datagrams to HOST, then a lookup of NAME (which answers HOST), then
    to HOST again: the lookup may change which rule decides HOST."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    for i in range(3):
        s.sendto(b"%s-before%d" % (msg.encode(), i), (host, int(port)))
        recv_reply(s)
    addrs = {a[4][0] for a in socket.getaddrinfo(name, int(port),
                                                 socket.AF_INET,
                                                 socket.SOCK_DGRAM)}
    print("%s is %s" % (name, " ".join(sorted(addrs))))
    s.sendto(b"%s-after" % msg.encode(), (host, int(port)))
    recv_reply(s)


def reuse(host, port, dhost, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(b"reuse-first", (host, int(port)))
    recv_reply(s)
    fd = s.fileno()
    s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    print("same fd" if s.fileno() == fd else "other fd")
    s.sendto(b"reuse-direct", (dhost, int(dport)))
    recv_reply(s)
    s.sendto(b"reuse-again", (host, int(port)))
    recv_reply(s)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"native": native, "sendto": sendto, "connected": connected,
     "nonblock": nonblock, "alternate": alternate,
     "stray": stray, "drain": drain, "v6only": v6only, "mmsg": mmsg,
     "reconnect": reconnect, "asyncio": run_asyncio, "peekfrom": peekfrom,
     "mapped": mapped, "fork": fork, "threads": threads,
     "recvfirst": recvfirst, "resolved": resolved,
     "reuse": reuse}[mode](*args)


if __name__ == "__main__":
    main()
