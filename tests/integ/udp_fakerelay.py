"""udp_fakerelay.py LOG ADDR PORTFILE [DELAY_MS] - a SOCKS5 proxy that
only does UDP ASSOCIATE, and whose relay misbehaves on purpose.

Listens on ADDR, port 0; the port goes to PORTFILE.  For each control
connection: method "no auth" after DELAY_MS, then the UDP ASSOCIATE
request is logged ("ASSOC cmd 3 atyp addr port") and answered with a
relay socket on ADDR.  Every datagram the relay gets is logged
("DGRAM rsv frag atyp addr port payload from ip port") and answered, in
this order, with:
  1. FRAG 1 (a fragment: RFC 1928 §7 lets a relay drop or reassemble)
  2. ATYP 9 (malformed)
  3. a 5-byte datagram (shorter than any header)
  4. a well-formed reply from another port of this host (not the relay)
  5. the real reply: the request's header, b"echo " + payload
A client through the shim must see only the last one.
"""
import os
import selectors
import socket
import struct
import sys
import time


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def parse_addr(b, atyp):
    """(text, port, header length after ATYP) or None."""
    if atyp == 1 and len(b) >= 6:
        return socket.inet_ntoa(b[:4]), struct.unpack("!H", b[4:6])[0], 6
    if atyp == 4 and len(b) >= 18:
        return (socket.inet_ntop(socket.AF_INET6, b[:16]),
                struct.unpack("!H", b[16:18])[0], 18)
    if atyp == 3 and len(b) >= 1 and len(b) >= 1 + b[0] + 2:
        n = b[0]
        return (b[1:1 + n].decode("ascii", "replace"),
                struct.unpack("!H", b[1 + n:3 + n])[0], 1 + n + 2)
    return None


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        r = c.recv(n - len(b))
        if not r:
            raise EOFError
        b += r
    return b


def control(c, path, addr, delay, sel, relays):
    ver, nm = recv_exact(c, 2)
    recv_exact(c, nm)
    # A slow proxy, not one that stalls mid-handshake (the shim would
    # take that for a proxy that cannot take a pipelined handshake).
    time.sleep(delay)
    c.sendall(b"\x05\x00")
    ver, cmd, rsv, atyp = recv_exact(c, 4)
    need = {1: 6, 4: 18}.get(atyp)
    if need is None:
        n = recv_exact(c, 1)
        rest = n + recv_exact(c, n[0] + 2)
    else:
        rest = recv_exact(c, need)
    a = parse_addr(rest, atyp)
    log(path, "ASSOC cmd %d atyp %d %s %d" % (cmd, atyp, a[0], a[1]))
    if cmd != 3:
        c.sendall(b"\x05\x07\x00\x01" + bytes(6))
        return
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, 0))
    spoof = socket.socket(fam, socket.SOCK_DGRAM)
    spoof.bind((addr, 0))
    relays[u] = spoof
    sel.register(u, selectors.EVENT_READ, "relay")
    port = u.getsockname()[1]
    if fam == socket.AF_INET:
        bnd = b"\x01" + socket.inet_aton(addr)
    else:
        bnd = b"\x04" + socket.inet_pton(fam, addr)
    c.sendall(b"\x05\x00\x00" + bnd + struct.pack("!H", port))


def relay(u, spoof, path):
    data, peer = u.recvfrom(65535)
    if len(data) < 4:
        log(path, "SHORT %r from %s %d" % (data, peer[0], peer[1]))
        return
    rsv, frag, atyp = struct.unpack("!HBB", data[:4])
    a = parse_addr(data[4:], atyp)
    if a is None:
        log(path, "BAD %r from %s %d" % (data, peer[0], peer[1]))
        return
    hdr = data[:4 + a[2]]
    payload = data[4 + a[2]:]
    log(path, "DGRAM rsv %d frag %d atyp %d %s %d %s from %s %d" % (
        rsv, frag, atyp, a[0], a[1], payload.decode("ascii", "replace"),
        peer[0], peer[1]))
    u.sendto(b"\x00\x00\x01" + hdr[3:] + b"FRAGMENT-" + payload, peer)
    u.sendto(b"\x00\x00\x00\x09" + bytes(6) + b"BADATYP-" + payload, peer)
    u.sendto(b"\x00\x00\x00\x01\x7f", peer)
    spoof.sendto(hdr + b"SPOOF-" + payload, peer)
    # Let the junk arrive first, so a client that took it would show it.
    time.sleep(0.05)
    u.sendto(hdr + b"echo " + payload, peer)


def main():
    path, addr, portfile = sys.argv[1:4]
    delay = int(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, 0))
    ls.listen(8)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, "listen")
    relays = {}
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                c, _ = ls.accept()
                try:
                    control(c, path, addr, delay, sel, relays)
                except (EOFError, OSError):
                    c.close()
                    continue
                sel.register(c, selectors.EVENT_READ, "ctrl")
            elif key.data == "ctrl":
                # The client ended the association (or sent junk).
                try:
                    gone = not key.fileobj.recv(64)
                except OSError:
                    gone = True
                if gone:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
            else:
                relay(key.fileobj, relays[key.fileobj], path)


if __name__ == "__main__":
    main()
