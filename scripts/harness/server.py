"""A server process on 127.0.0.1, ready when it answers, always stopped with its workers.

``Server`` runs any command (``searchapp serve``, or gunicorn serving the bench's peer apps) in
its own session, polls a path until it answers 200 and, on ``stop()``, SIGTERMs the process
group, waits, then SIGKILLs the group and any descendant that left it. ``LiveServer`` is
``searchapp serve`` over an index folder, the way the tests, ``stress.py`` and the scripts run
it.
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
from pathlib import Path

from harness.procs import children, descendants


def stop_servers_on_sigterm() -> None:
    """Make SIGTERM (``timeout``, ``kill``) unwind like Ctrl-C, so the ``with`` blocks and
    ``finally`` clauses stop the servers a script started: they run in their own sessions and
    would otherwise outlive it."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


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
    """``cmd`` started in a new session, listening on ``port``; ``ready_after`` is the time
    from the start to the first 200 on ``ready_path``. A server that exits or does not answer
    in ``timeout`` seconds is stopped and raises ``RuntimeError`` with the end of its log."""

    def __init__(
        self,
        cmd: list[str],
        port: int,
        log_path: Path,
        *,
        env: dict | None = None,
        cwd: Path | None = None,
        ready_path: str = "/healthz",
        timeout: float = 60.0,
        name: str = "server",
    ):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.seen: set[int] = set()
        self.started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        try:
            self.ready_after = self._wait_ready(ready_path, timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.seen.update(descendants(self.process.pid))
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {path} in {timeout} s:\n{self.log_tail()}")

    def log_text(self) -> str:
        """Everything the server has written so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, for error messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The live children of the server process (gunicorn's workers)."""
        return children(self.process.pid)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL the group and
        any descendant that escaped it. Safe to call twice."""
        pids = set(descendants(self.process.pid)) | self.seen
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in pids:  # workers that left the group (none should)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class LiveServer(Server):
    """``searchapp serve`` over ``index_dir`` on a free port (log: ``serve-<port>.log`` beside
    the index unless ``log_path`` is given); ``source``, ``extra`` and ``env`` as the CLI and
    environment take them."""

    def __init__(
        self,
        index_dir: Path,
        log_path: Path | None = None,
        *,
        workers: int = 2,
        source: Path | None = None,
        extra: tuple[str, ...] = (),
        env: dict | None = None,
        timeout: float = 60.0,
    ):
        self.index_dir = Path(index_dir)
        port = free_port()
        if source is not None:
            extra = ("--source", str(source), *extra)
        super().__init__(
            serve_command(self.index_dir, port, workers, tuple(extra)),
            port,
            log_path or self.index_dir.parent / f"serve-{port}.log",
            env=env,
            timeout=timeout,
            name="searchapp serve",
        )
        # The first worker may answer before gunicorn has forked the others: wait for them.
        deadline = time.monotonic() + 10
        while len(self.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
