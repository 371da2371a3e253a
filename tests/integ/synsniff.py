#!/usr/bin/env python3
"""synsniff.py IFACE PORT [LIFETIME]

Prints one line for every TCP SYN (without ACK) to PORT seen on IFACE,
IPv4: "syn LEN TEXT", LEN the bytes of data the SYN carries (TCP Fast
Open) and TEXT those bytes with anything unprintable as '.'.  Prints
"ready" once listening; exits after LIFETIME seconds (default 40).  A raw
packet socket, so root in the namespace.  Used by t_optimistic_syn.sh to
see whether a program's first bytes rode in the SYN.
"""
import socket
import struct
import sys
import time


def main():
    iface, port = sys.argv[1], int(sys.argv[2])
    end = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 40)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(0x0800))
    s.bind((iface, 0))
    s.settimeout(0.5)
    print("ready", flush=True)
    while time.time() < end:
        try:
            pkt = s.recv(70000)
        except socket.timeout:
            continue
        if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack("!H", pkt[2:4])[0]
        tcp = pkt[ihl:total]
        if len(tcp) < 20:
            continue
        dport = struct.unpack("!H", tcp[2:4])[0]
        flags = tcp[13]
        if dport != port or not flags & 0x02 or flags & 0x10:
            continue
        data = tcp[(tcp[12] >> 4) * 4:]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
        print("syn %d %s" % (len(data), text), flush=True)


if __name__ == "__main__":
    main()
