#!/usr/bin/env python3
"""tunwire.py DELAY_MS NS_A ADDR_A NS_B ADDR_B

A wire between two network namespaces (named, /run/netns/NAME) made of two
TUN devices, "wire0" in each, that holds every packet DELAY_MS before
passing it on, in each direction: unlike bench/delayrelay.py it delays the
TCP handshake too (netem is not available on the bench machines).
ADDR_A/ADDR_B are the two ends' IPv4 addresses (a point-to-point link).
Prints "ready" once both devices are up; exits on SIGTERM, or after an hour.
"""
import ctypes
import fcntl
import heapq
import os
import select
import signal
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def enter(ns):
    fd = os.open("/run/netns/" + ns if ns else "/proc/1/ns/net", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + ns)
    os.close(fd)


def tun(ns, addr, peer):
    enter(ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF,
                struct.pack("16sH", b"wire0", IFF_TUN | IFF_NO_PI))
    subprocess.run(["ip", "-n", ns, "addr", "add", addr, "peer", peer,
                    "dev", "wire0"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "wire0", "up"],
                   check=True)
    return fd


def main():
    delay = float(sys.argv[1]) / 1000
    na, aa, nb, ab = sys.argv[2:6]
    fa = tun(na, aa, ab)
    fb = tun(nb, ab, aa)
    peer = {fa: fb, fb: fa}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    due, seq, end = [], 0, time.monotonic() + 3600
    while time.monotonic() < end:
        wait = max(0.0, due[0][0] - time.monotonic()) if due else 1.0
        r, _, _ = select.select([fa, fb], [], [], wait)
        now = time.monotonic()
        for fd in r:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                seq += 1
                heapq.heappush(due, (now + delay, seq, peer[fd], pkt))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, fd, pkt = heapq.heappop(due)
            try:
                os.write(fd, pkt)
            except OSError:
                pass


if __name__ == "__main__":
    main()
