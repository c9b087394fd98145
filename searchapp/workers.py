"""A gunicorn worker that reads each request's head in its event loop, not in a thread.

gunicorn's ``sync`` worker reads a request on the worker itself: a client that connects and
sends nothing holds the whole worker until the timeout. Its ``gthread`` worker hands every
new connection to a thread, which waits 5 s for a first byte and then reads the head with no
time limit, so a client trickling a header a byte at a time (slowloris) holds a thread for
ever. ``BufferedThreadWorker`` keeps gthread's thread pool for the application but reads the
head of every request (and a small body, like a click report) without blocking, in the
worker's main loop, next to its idle kept-alive connections. A thread is used only once the
whole request is there. A client gets ``header_timeout`` seconds to send it; then the
connection is closed. The number of open connections per worker stays bounded by gunicorn's
``worker_connections``. This is what nginx does in front of an application, for the bare
``searchapp serve``. Like gthread, a worker keeps the kept-alive connections it accepted, so
a worker killed by a signal fails one request per connection it held (README "Production").

With one request thread (``--threads 1``, the default: a worker reads its index one request
at a time anyway), a complete request is answered in the event loop itself, not handed to the
thread and back: no thread wake-up, pipe write and GIL hand-over per request (150,000 chunks,
1,200 distinct searches: wall p50 2.25 -> 2.08 ms, worker CPU 2.66 -> 2.50 ms a request).
Heads are still read without blocking, so slow senders cost nothing; a client that does not
read its answer is cut off once a write has waited ``header_timeout`` seconds (``SO_SNDTIMEO``,
set on every connection, threads or not), so it cannot hold the worker (or its one thread).

An answer's head waits for its body and both go out in one ``sendall`` (``_HeadWithBody``):
gunicorn writes them in two, which is two packets, two system calls and two wake-ups of the
client for every answer.
"""

from __future__ import annotations

import re
import selectors
import socket
import struct
import time
from collections import deque
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

#: The most bytes read before a request goes to a thread anyway (the parser then rejects a
#: head that is too large with gunicorn's own 4xx).
MAX_BUFFERED = 72 * 1024
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,9})[ \t]*\r\n", re.IGNORECASE)
_EXPECT = re.compile(rb"\r\nexpect:", re.IGNORECASE)
_HEAD_END = b"\r\n\r\n"
#: Seconds a stopping worker (reload, max_requests) still waits for requests being sent.
STOP_LINGER = 2.0


class BufferedThreadWorker(ThreadWorker):
    """gthread with request heads read by the event loop (see the module docstring)."""

    #: Set from searchapp's config by ``serving.serve`` (gunicorn has no such setting).
    header_timeout = 10.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: deque[TConn] = deque()  # by deadline: every one gets the same timeout
        self.ready: deque[TConn] = deque()  # complete requests to answer in the loop
        self.answering = False
        self._stopping = False

    def accept(self, listener) -> None:
        if self.cfg.is_ssl:  # TLS needs its handshake in a thread; searchapp serves plain HTTP
            super().accept(listener)
            return
        try:
            client, address = listener.accept()
        except BlockingIOError:
            return
        except OSError:
            return
        self.nr_conns += 1
        seconds = int(self.header_timeout)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, 0))
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        self._read_head(conn)

    def enqueue_req(self, conn: TConn) -> None:
        """Answer a complete request: in the event loop with one request thread (see the
        module docstring), else in the thread pool as gthread does.

        Answering ends with ``finish_request``, which comes back here when the client has
        already sent its next request (pipelining): that one is queued and answered by the
        loop below, not by a call in a call (a client could pipeline hundreds)."""
        if self.cfg.threads > 1:
            super().enqueue_req(conn)
            return
        self.ready.append(conn)
        if self.answering:
            return
        self.answering = True
        try:
            while self.ready:
                conn = self.ready.popleft()
                done: futures.Future = futures.Future()
                try:
                    done.set_result(self.handle(conn))
                except Exception as exc:  # what the pool's future would have held
                    done.set_exception(exc)
                self.finish_request(conn, done)
        finally:
            self.answering = False

    def handle(self, conn: TConn):
        """gthread's ``handle``, with the answer's head sent with its body (see
        :class:`_HeadWithBody`)."""
        sock = conn.sock
        coalescing = _HeadWithBody(sock)
        conn.sock = coalescing
        try:
            return super().handle(conn)
        finally:
            conn.sock = sock
            coalescing.flush()

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection has a new request coming: read its head here too, now
        (its bytes are there), staying registered with the poller for the rest of it (a
        change of callback: no system call, where unregistering and registering again took
        two, and the read waited for the next turn of the loop)."""
        self.keepalived_conns.remove(conn)
        self._read_head(conn, registered=True)
        self._on_head_data(conn, client)

    def _read_head(self, conn: TConn, registered: bool = False) -> None:
        conn.head = bytearray()
        conn.head_deadline = time.monotonic() + self.header_timeout
        self.reading.append(conn)
        callback = partial(self._on_head_data, conn)
        if registered:
            self.poller.modify(conn.sock, selectors.EVENT_READ, callback)
        else:
            self.poller.register(conn.sock, selectors.EVENT_READ, callback)

    def _on_head_data(self, conn: TConn, client) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.head += data
        if not _complete(conn.head):
            return
        self.poller.unregister(conn.sock)
        self.reading.remove(conn)
        buffered = bytes(conn.head)
        del conn.head
        if not conn.initialized:
            conn.init()  # makes the parser (plain HTTP/1.1: no reads here)
        conn.sock.setblocking(False)
        conn.parser.unreader.unread(buffered)
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: TConn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self.reading.remove(conn)
        except ValueError:
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also close connections that did not send a whole request in time (when stopping,
        within ``STOP_LINGER`` seconds: a request already on its way is still answered)."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not self._stopping:
            self._stopping = True
            for conn in self.reading:  # the same cap for all keeps the deque in order
                conn.head_deadline = min(conn.head_deadline, now + STOP_LINGER)
        while self.reading and self.reading[0].head_deadline <= now:
            self._drop(self.reading[0])


class _HeadWithBody:
    """A socket whose first small ``sendall`` waits for the next one: gunicorn sends an
    answer's head and its body in two calls, two packets and two wake-ups of the client.
    Any other use of the socket (``fileno`` for sendfile, a close) sends what waits first."""

    HOLD = 16 * 1024

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._held = b""
        self._first = True

    def sendall(self, data) -> None:
        if self._first and len(data) <= self.HOLD:
            self._first = False
            self._held = bytes(data)
            return
        self._first = False
        if self._held:
            data, self._held = self._held + bytes(data), b""
        self._sock.sendall(data)

    def flush(self) -> None:
        """Send what waits (an answer without a body); a gone client is the caller's."""
        try:
            self._send_held()
        except OSError:
            pass

    def __getattr__(self, name):
        self._send_held()
        return getattr(self._sock, name)

    def _send_held(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._sock.sendall(held)


def _complete(head: bytearray) -> bool:
    """Whether ``head`` holds a whole request head (and its body, if it is small and sized)."""
    if len(head) >= MAX_BUFFERED:
        return True
    end = head.find(_HEAD_END)
    if end < 0:
        return False
    match = _CONTENT_LENGTH.search(head, 0, end + 2)
    if match is None or _EXPECT.search(head, 0, end + 2):
        return True  # no body, chunked, or the client waits for "100 Continue": a thread reads it
    return len(head) >= min(end + 4 + int(match.group(1)), MAX_BUFFERED)
