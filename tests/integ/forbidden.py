"""forbidden.py LOG IFACE - the "forbidden" host of the escape matrix.

Runs in its own network namespace, behind the client's default routes
(env_forbidden in env.sh routes every address of the namespace's local
table to it, so it answers for any destination).  It appends one line to
LOG for:
  - every IPv4 / IPv6 packet IFACE receives (an AF_PACKET capture, so raw
    IP, AF_PACKET frames and packets no socket wants are logged too):
      PKT v4|v6 PROTO SRC[:PORT] > DST[:PORT] LEN
    Neighbour discovery and MLD (ICMPv6 130-143) and multicast are the
    link's own chatter and are not logged; ARP is not IP.
  - every TCP connection accepted on the ports below (any address):
      TCP SRC:PORT > DST:PORT
  - every UDP datagram to the ports below:
      UDP SRC:PORT > PORT LEN
TCP connections get "FORBIDDEN\\n" and are closed; a DNS query (UDP 53)
gets a REFUSED answer, so a resolver that leaks is answered at once.
"""
import os
import select
import socket
import struct
import sys
import threading

TCP_PORTS = (80, 443, 9)
UDP_PORTS = (53, 7, 9)
IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75
IPV6_RECVPKTINFO = 49
IPV6_PKTINFO = 50


def log(f, line):
    f.write(line + "\n")
    f.flush()


def ports(p, off):
    if len(p) >= off + 4:
        sp, dp = struct.unpack("!HH", p[off:off + 4])
        return ":%d" % sp, ":%d" % dp
    return "", ""


PROTOS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6", 255: "raw"}


def capture(f, iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    while True:
        frame, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        etype = struct.unpack("!H", frame[12:14])[0]
        p = frame[14:]
        if etype == 0x0800 and len(p) >= 20:
            ihl = (p[0] & 15) * 4
            proto = p[9]
            src = socket.inet_ntop(socket.AF_INET, p[12:16])
            dst = socket.inet_ntop(socket.AF_INET, p[16:20])
            if p[16] >= 224:
                continue
            sp, dp = ports(p, ihl) if proto in (6, 17) else ("", "")
            log(f, "PKT v4 %s %s%s > %s%s %d" % (PROTOS.get(proto, str(proto)),
                                                 src, sp, dst, dp, len(p)))
        elif etype == 0x86DD and len(p) >= 40:
            nh = p[6]
            src = socket.inet_ntop(socket.AF_INET6, p[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, p[24:40])
            if p[24] == 0xFF:
                continue
            if nh == 58 and len(p) > 40 and 130 <= p[40] <= 143:
                continue
            sp, dp = ports(p, 40) if nh in (6, 17) else ("", "")
            log(f, "PKT v6 %s %s%s > %s%s %d" % (PROTOS.get(nh, str(nh)),
                                                 src, sp, dst, dp, len(p)))


def refused(q):
    if len(q) < 12:
        return None
    # the same id and question, QR=1, RA, RCODE=5 (REFUSED)
    return q[:2] + bytes([0x80 | (q[2] & 0x79), 0x85]) + q[4:6] + b"\0" * 6 + q[12:]


def main():
    f = open(sys.argv[1], "a")
    iface = sys.argv[2]
    threading.Thread(target=capture, args=(f, iface), daemon=True).start()
    socks = {}
    for port in TCP_PORTS:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
        s.bind(("::", port))
        s.listen(64)
        socks[s] = "tcp"
    for port in UDP_PORTS:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
        socks[s] = "udp"
    log(f, "READY %d" % os.getpid())
    while True:
        r, _, _ = select.select(list(socks), [], [])
        for s in r:
            if socks[s] == "tcp":
                c, peer = s.accept()
                me = c.getsockname()
                log(f, "TCP %s:%d > %s:%d" % (peer[0], peer[1], me[0], me[1]))
                try:
                    c.sendall(b"FORBIDDEN\n")
                except OSError:
                    pass
                c.close()
                continue
            data, anc, _, peer = s.recvmsg(65535, 256)
            port = s.getsockname()[1]
            log(f, "UDP %s:%d > %d %d" % (peer[0], peer[1], port, len(data)))
            if port != 53:
                continue
            a = refused(data)
            # answer from the address the query was sent to
            for lvl, typ, val in anc:
                if lvl == socket.IPPROTO_IPV6 and typ == IPV6_PKTINFO and a:
                    try:
                        s.sendmsg([a], [(lvl, typ, val)], 0, peer)
                    except OSError:
                        pass


main()
