#!/usr/bin/env python3
"""Talk to a proxywrap session's control socket the way ctl_client.c does.

Usage: ctl_probe.py name          print the session's control socket name,
                                  read from the sealed policy this process
                                  inherited (run it inside the session)
       ctl_probe.py MODE NAME SPN  send one CTL_NEGOTIATE request for SPN:
         policy   with the session's policy fd attached (as the library)
         nofd     with no fd
         memfd    with a look-alike memfd named as the policy is
       and print "ANSWER status length" or "CLOSED" (no answer at all).
       ctl_probe.py time NAME SPN N  N policy requests one after another:
                                  print the median microseconds of one
       ctl_probe.py flood NAME SPN N  N connections, each an empty message
                                  carrying two pipe fds; print "SENT N"
"""
import array
import os
import socket
import statistics
import sys
import time

HDR = 200           # struct sess_hdr up to its ctl name (sessfmt.h)
CTL_MAX = 64


def policy_fd():
    for n in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + n).startswith(
                    "/memfd:proxywrap-policy"):
                return int(n)
        except OSError:
            pass
    sys.exit("no policy fd")


def main():
    if sys.argv[1] == "name":
        b = os.pread(policy_fd(), CTL_MAX, HDR)
        print(b.split(b"\0", 1)[0].decode())
        return
    mode, name, spn = sys.argv[1:4]
    if mode == "time":
        ts = []
        pfd = policy_fd()
        for _ in range(int(sys.argv[4])):
            t0 = time.perf_counter()
            r = ask(name, spn, [pfd])
            ts.append((time.perf_counter() - t0) * 1e6)
            if not r or r[0] != 0:
                sys.exit("no token")
        print("%d" % statistics.median(ts))
        return
    if mode == "flood":
        for _ in range(int(sys.argv[4])):
            r, w = os.pipe()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(10)
            s.connect("\0" + name)
            s.sendmsg([b""], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                               array.array("i", [r, w]))])
            s.recv(100)
            s.close()
            os.close(r)
            os.close(w)
        print("SENT %s" % sys.argv[4])
        return
    fds = []
    if mode == "policy":
        fds = [policy_fd()]
    elif mode == "memfd":
        fds = [os.memfd_create("proxywrap-policy")]
    try:
        r = ask(name, spn, fds)
    except socket.timeout:
        print("TIMEOUT")
        return
    print("CLOSED" if not r else "ANSWER %d %d" % (r[0], len(r) - 1))


def ask(name, spn, fds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect("\0" + name)
    req = b"\x01" + spn.encode()
    if fds:
        s.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                           array.array("i", fds))])
    else:
        s.send(req)
    r = s.recv(20000)
    s.close()
    return r


main()
