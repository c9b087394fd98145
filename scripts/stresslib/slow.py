"""Idle and slowloris connections held against a server, and a normal request timed meanwhile.

An idle connection connects and sends nothing. A slowloris connection sends a request line
and then one header byte at a time, every ``interval`` seconds, and reconnects as soon as the
server closes it, so the pressure never lets up. ``SlowClients`` holds both kinds from one
background thread (non-blocking sockets, ``select``), so 100 of them cost the client little.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
import time


class SlowClients:
    """``with SlowClients(port, idle=50, slowloris=50): ...`` holds them for the block."""

    def __init__(self, port: int, idle: int = 50, slowloris: int = 50, interval: float = 0.5):
        self.port = port
        self.idle_count = idle
        self.slow_count = slowloris
        self.interval = interval
        self.stop = threading.Event()
        self.idle: list[socket.socket] = []
        self.slow: list[socket.socket] = []
        self.reconnects = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self, first: bytes = b"") -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if first:
            sock.sendall(first)
        sock.setblocking(False)
        return sock

    def __enter__(self) -> SlowClients:
        self.idle = [self._connect() for _ in range(self.idle_count)]
        self.slow = [self._start_slow() for _ in range(self.slow_count)]
        self.thread.start()
        time.sleep(0.3)  # let the server accept them all before the caller measures
        return self

    def _start_slow(self) -> socket.socket:
        return self._connect(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")

    def _reopen(self, socks: list[socket.socket], i: int, opener) -> None:
        """Replace ``socks[i]``, closed by the server, with a new connection (if one opens)."""
        socks[i].close()
        self.reconnects += 1
        with contextlib.suppress(OSError):
            socks[i] = opener()

    def _run(self) -> None:
        while not self.stop.is_set():
            for i, sock in enumerate(self.slow):
                try:
                    sock.send(b"a")
                except OSError:  # closed by the server: come back at once
                    self._reopen(self.slow, i, self._start_slow)
            # notice closed idle sockets (readable with EOF) and reopen them too
            ready, _, _ = select.select(self.idle, [], [], 0)
            for sock in ready:
                try:
                    data = sock.recv(1024)
                except OSError:
                    data = b""
                if not data:
                    self._reopen(self.idle, self.idle.index(sock), self._connect)
            self.stop.wait(self.interval)

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.idle + self.slow:
            sock.close()


def timed_get(port: int, path: str = "/api/search?q=Gwadar", timeout: float = 60.0):
    """(seconds, status) of one GET on a new connection; status None if it failed."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return time.monotonic() - started, response.status
    except OSError:
        return time.monotonic() - started, None
    finally:
        conn.close()
