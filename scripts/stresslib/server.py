"""``searchapp serve`` in its own process group on a free port, always stopped with its workers.

The same interface as ``tests/conftest.py``'s ``LiveServer`` (``port``, ``url``,
``ready_after``, ``worker_pids()``, ``stop()``), so the scenarios run against either.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(
    index_dir: Path, port: int, workers: int = 2, extra: tuple[str, ...] = ()
) -> list[str]:
    """The command line of ``searchapp serve`` on 127.0.0.1 (``extra``: more options)."""
    return [
        sys.executable,
        "-m",
        "searchapp.cli",
        "serve",
        "--index",
        str(index_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra,
    ]


class Server:
    """A running ``searchapp serve``; ``ready_after`` is the time to its first 200."""

    def __init__(
        self,
        index_dir: Path,
        log_path: Path,
        workers: int = 2,
        timeout: float = 60.0,
        extra: tuple[str, ...] = (),
    ):
        self.index_dir = Path(index_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                serve_command(self.index_dir, self.port, workers, extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self.ready_after = self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return time.monotonic() - self.started
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master process."""
        return children(self.process.pid)

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left of it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def proc_stats() -> list[tuple[int, list[str]]]:
    """(pid, fields of /proc/pid/stat after the name) of every live (not zombie) process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            found.append((int(entry), fields))
    return found


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc; no pgrep needed)."""
    return sorted(p for p, fields in proc_stats() if int(fields[1]) == pid)


@contextlib.contextmanager
def running(
    index_dir: Path, log_path: Path, workers: int = 2, extra: tuple[str, ...] = ()
) -> Iterator[Server]:
    """A server for the duration of a ``with`` block (``extra``: more ``serve`` options)."""
    server = Server(index_dir, log_path, workers, extra=extra)
    try:
        yield server
    finally:
        server.stop()
