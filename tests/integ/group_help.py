#!/usr/bin/env python3
"""Helpers for t_groups.sh.

  group_help.py serve HOST PORT MAXFILE SECS
      accept connections for SECS seconds; hold each until the client
      says "bye" (then close it) or goes; write the most open at once to
      MAXFILE after every change, a timeline to MAXFILE.log, and
      MAXFILE.ready once listening
  group_help.py hold HOST PORT SECS
      connect (blocking), hold SECS, say bye and wait for the server to
      close first, close; print OK or ERRNO NAME
  group_help.py nbhold HOST PORT SECS
      the same with a non-blocking connect (select, SO_ERROR)
  group_help.py time HOST PORT N
      N blocking connects one after the other; print the median and the
      mean connect time in microseconds ("median_us mean_us")
"""
import errno
import select
import socket
import statistics
import sys
import threading
import time


def serve(host, port, maxfile, secs):
    lock = threading.Lock()
    state = {"open": 0, "max": 0}

    def put():
        with open(maxfile, "w") as f:
            f.write("%d\n" % state["max"])

    log = open(maxfile + ".log", "a")

    def one(c, peer):
        with lock:
            state["open"] += 1
            state["max"] = max(state["max"], state["open"])
            put()
            log.write("%.6f open %s %d\n" % (time.time(), peer, state["open"]))
            log.flush()
        # until the client says bye (then this side closes first, so the
        # count drops before the client can see the end) or goes away
        got = b""
        try:
            while not got.endswith(b"bye\n"):
                b = c.recv(4096)
                if not b:
                    break
                got = (got + b)[-8:]
        except OSError:
            pass
        with lock:
            state["open"] -= 1
            log.write("%.6f close %s %d\n" % (time.time(), peer, state["open"]))
            log.flush()
        c.close()

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(64)
    s.settimeout(0.5)
    put()
    with open(maxfile + ".ready", "w") as f:
        f.write("ready\n")
    end = time.time() + secs
    while time.time() < end:
        try:
            c, peer = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=one, args=(c, peer[1]),
                         daemon=True).start()


def hold(host, port, secs, nonblock):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if nonblock:
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                raise OSError(rc, "connect")
            _, w, _ = select.select([], [s], [], 30)
            if not w:
                raise OSError(errno.ETIMEDOUT, "select")
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc != 0:
                raise OSError(rc, "SO_ERROR")
            s.setblocking(True)
        else:
            s.settimeout(30)
            s.connect((host, port))
    except OSError as e:
        print("ERRNO %s" % errno.errorcode.get(e.errno, str(e.errno)),
              flush=True)
        sys.exit(3)
    time.sleep(secs)
    # the server closes first: by the EOF here it has counted this one
    # closed (a proxy may close its client side before the server has
    # seen the end, so closing from here could overlap the next tunnel)
    s.sendall(b"bye\n")
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    print("OK", flush=True)


def timing(host, port, n):
    ts = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t0 = time.perf_counter()
        s.connect((host, port))
        ts.append((time.perf_counter() - t0) * 1e6)
        s.close()
    print("%d %d" % (statistics.median(ts), statistics.mean(ts)))


def main():
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    elif mode in ("hold", "nbhold"):
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
             mode == "nbhold")
    elif mode == "time":
        timing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("unknown mode")


if __name__ == "__main__":
    main()
