#!/usr/bin/env python3
"""A stand-in HTTP/2 proxy that sends GOAWAY mid-connection, for the
relay's tests (t_https_h2.sh): nghttpx says GOAWAY only on a graceful
shutdown, and then names every stream it has taken as done, so no real
peer here leaves a stream above the GOAWAY's last stream id.

  h2goaway.py server ADDR PORT CERT KEY LOG
      TLS with ALPN h2.  Each CONNECT stream is answered 200 and is its
      own destination: DATA comes back as it came, END_STREAM as
      END_STREAM.  On a connection's second stream it sends GOAWAY with
      the first stream's id as the last (so the second is refused) and
      answers nothing more for it; later connections are plain.  LOG
      gets one line per event: "conn N", "goaway-sent N", "goaway-got N",
      "eof N".
  h2goaway.py client HOST PORT
      Through the shim: stream A says "ping1"; stream B's connect fails
      (the errno's name); A says "ping2" and half-closes; a third
      connect, on a new connection, says "ping3".  One line each:
      "A ping1", "B ECONNREFUSED", "A ping2 eof", "C ping3".

The frames are made by hand (HEADERS carry one HPACK byte, 0x88:
":status: 200" from the static table); what the relay sends is read
only for its frame type, flags and stream id.
"""
import errno
import os
import socket
import ssl
import struct
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINUP = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags,
                       sid) + payload


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


class Conn:
    def __init__(self, s, num, log, goaway):
        self.s, self.num, self.log, self.goaway = s, num, log, goaway
        self.streams = []
        self.answered = set()
        self.lock = threading.Lock()

    def send(self, data):
        with self.lock:
            self.s.sendall(data)

    def note(self, what):
        self.log.write("%s %d\n" % (what, self.num))
        self.log.flush()

    def run(self):
        read_exact(self.s, len(PREFACE))
        self.send(frame(SETTINGS, 0, 0))
        while True:
            hd = read_exact(self.s, 9)
            n = (hd[0] << 16) | (hd[1] << 8) | hd[2]
            ftype, flags = hd[3], hd[4]
            sid = struct.unpack(">I", hd[5:9])[0] & 0x7FFFFFFF
            payload = read_exact(self.s, n) if n else b""
            self.on_frame(ftype, flags, sid, payload)

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == SETTINGS and not flags & ACK:
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            self.note("goaway-got")
        elif ftype == HEADERS:
            self.streams.append(sid)
            if self.goaway and len(self.streams) == 2:
                last = self.streams[0]
                self.send(frame(GOAWAY, 0, 0, struct.pack(">II", last, 0)))
                self.note("goaway-sent")
            else:
                self.answered.add(sid)
                self.send(frame(HEADERS, END_HEADERS, sid, b"\x88"))
        elif ftype == DATA and sid in self.answered:
            out = b""
            if payload:
                # give the window back, then echo
                inc = struct.pack(">I", len(payload))
                out += frame(WINUP, 0, 0, inc) + frame(WINUP, 0, sid, inc)
                out += frame(DATA, 0, sid, payload)
            if flags & END_STREAM:
                out += frame(DATA, END_STREAM, sid)
            if out:
                self.send(out)


def serve(addr, port, cert, key, logpath):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    log = open(logpath, "a")
    num = 0
    while True:
        raw, _ = ls.accept()
        num += 1
        try:
            s = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        c = Conn(s, num, log, goaway=num == 1)
        c.note("conn")

        def run(c=c):
            try:
                c.run()
            except (EOFError, OSError, ssl.SSLError):
                pass
            c.note("eof")
            c.s.close()
        threading.Thread(target=run, daemon=True).start()


def echo(s, word):
    s.sendall(word.encode())
    return s.recv(100).decode()


def client(host, port):
    a = socket.create_connection((host, port), timeout=10)
    print("A", echo(a, "ping1"), flush=True)
    try:
        b = socket.create_connection((host, port), timeout=10)
        print("B connected", echo(b, "pingB"), flush=True)
    except OSError as e:
        print("B", errno.errorcode.get(e.errno, e.errno), flush=True)
    got = echo(a, "ping2")
    a.shutdown(socket.SHUT_WR)
    print("A", got, "eof" if a.recv(100) == b"" else "more", flush=True)
    a.close()
    c = socket.create_connection((host, port), timeout=10)
    print("C", echo(c, "ping3"), flush=True)
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
              sys.argv[6])
    else:
        client(sys.argv[2], int(sys.argv[3]))
