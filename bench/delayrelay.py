#!/usr/bin/env python3
"""delayrelay.py DELAY_MS LPORT:TPORT[:tfo] [LPORT:TPORT[:tfo]...]

A TCP relay on 127.0.0.1: each LPORT forwards to 127.0.0.1:TPORT and holds
every chunk DELAY_MS before passing it on, in each direction (order kept,
end-of-stream delayed the same).  A round trip through it costs
2 * DELAY_MS, so the handshake time of a proxy protocol divided by that is
the number of round trips it needs.  The TCP handshake with the relay itself
is not delayed.  ":tfo": LPORT's listener takes TCP Fast Open (data in
the SYN; net.ipv4.tcp_fastopen needs the server bit).  Exits on SIGTERM,
or after an hour.
"""
import asyncio
import collections
import signal
import socket
import sys


class Side(asyncio.Protocol):
    """One connection; forwards what it receives to its peer, late."""

    def __init__(self, delay):
        self.delay = delay
        self.peer = None
        self.transport = None
        self.queue = collections.deque()   # (due, bytes or None for EOF)
        self.timer = None
        self.early = []                    # received before the peer exists

    def connection_made(self, transport):
        self.transport = transport
        # no Nagle here, as in a network: asyncio sets TCP_NODELAY only on
        # sockets made with IPPROTO_TCP, and the listener's (socket.socket())
        # has proto 0, so an accepted one held a small write back until
        # the peer's delayed ACK, some 40 ms
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def attach(self, peer):
        self.peer = peer
        for item in self.early:
            self._push(item)
        self.early = []

    def _push(self, data):
        loop = asyncio.get_running_loop()
        self.queue.append((loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = loop.call_at(self.queue[0][0], self._flush)

    def _flush(self):
        loop = asyncio.get_running_loop()
        self.timer = None
        now = loop.time()
        while self.queue and self.queue[0][0] <= now + 0.0005:
            _, data = self.queue.popleft()
            pt = self.peer.transport
            if pt is None or pt.is_closing():
                continue
            if data is None:
                if pt.can_write_eof():
                    pt.write_eof()
                else:
                    pt.close()
            elif data is False:
                pt.close()
            else:
                pt.write(data)
        if self.queue:
            self.timer = loop.call_at(self.queue[0][0], self._flush)

    def _send(self, data):
        if self.peer is None:
            self.early.append(data)
        else:
            self._push(data)

    def data_received(self, data):
        self._send(data)

    def eof_received(self):
        self._send(None)
        return True

    def connection_lost(self, exc):
        self._send(False)


class Client(Side):
    def __init__(self, delay, tport):
        super().__init__(delay)
        self.tport = tport

    def connection_made(self, transport):
        super().connection_made(transport)
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self):
        loop = asyncio.get_running_loop()
        try:
            _, up = await loop.create_connection(
                lambda: Side(self.delay), "127.0.0.1", self.tport)
        except OSError:
            self.transport.close()
            return
        up.attach(self)
        self.attach(up)


async def main():
    delay = float(sys.argv[1]) / 1000
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(0))
    for spec in sys.argv[2:]:
        parts = spec.split(":")
        lport, tport = int(parts[0]), int(parts[1])
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if parts[2:] == ["tfo"]:
            ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
        ls.bind(("127.0.0.1", lport))
        ls.listen(1024)
        await loop.create_server(lambda t=tport: Client(delay, t), sock=ls)
    print("ready", flush=True)
    await asyncio.wait_for(stop, timeout=3600)


asyncio.run(main())
