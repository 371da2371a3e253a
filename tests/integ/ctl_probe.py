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
"""
import array
import os
import socket
import sys

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
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect("\0" + name)
    req = b"\x01" + spn.encode()
    fds = []
    if mode == "policy":
        fds = [policy_fd()]
    elif mode == "memfd":
        fds = [os.memfd_create("proxywrap-policy")]
    if fds:
        s.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                           array.array("i", fds))])
    else:
        s.send(req)
    try:
        r = s.recv(20000)
    except socket.timeout:
        print("TIMEOUT")
        return
    print("CLOSED" if not r else "ANSWER %d %d" % (r[0], len(r) - 1))


main()
