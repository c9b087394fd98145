"""Start, watch and always stop the servers the benchmark runs.

Each server is started in its own session (process group); stopping sends SIGTERM to the group,
waits, then SIGKILLs the group and any descendant that escaped it. Memory is read from /proc.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A started server process and what we know about it."""

    name: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    started: float
    seen: set[int] = field(default_factory=set)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (children first)."""
    children = _children_map()
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def start(name: str, cmd: list[str], log_path: Path, env: dict | None = None, cwd=None) -> Server:
    """Start ``cmd`` in a new session, output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = int(cmd[cmd.index("--port") + 1]) if "--port" in cmd else 0
    if not port and "--bind" in cmd:
        port = int(cmd[cmd.index("--bind") + 1].rsplit(":", 1)[1])
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    return Server(name=name, port=port, proc=proc, log_path=log_path, started=time.perf_counter())


def stop(server: Server, grace: float = 15.0) -> None:
    """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    pids = set(descendants(server.proc.pid)) | server.seen
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and server.proc.poll() is None:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGKILL)
    for pid in pids:  # workers that left the group (none should)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.proc.wait(timeout=10)


@contextlib.contextmanager
def running(name: str, cmd: list[str], log_path: Path, **kwargs) -> Iterator[Server]:
    """Start a server and stop it whatever happens."""
    server = start(name, cmd, log_path, **kwargs)
    try:
        yield server
    finally:
        stop(server)


def wait_for(server: Server, path: str, timeout: float = 180.0) -> float:
    """Poll ``path`` until it answers 200; return seconds since the server was started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                server.seen.update(descendants(server.proc.pid))
                return time.perf_counter() - server.started
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer {path} in {timeout} s:\n{server.log_tail()}")


_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_ticks(pid: int | str, children: bool = False) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    if children:  # + cutime + cstime: finished children we waited for (index builds)
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def _system_ticks() -> int:
    with open("/proc/stat", encoding="utf-8") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def cpu_snapshot(server: Server | None = None) -> tuple[float, int, int]:
    """(wall time, busy CPU ticks of the machine, CPU ticks of this process and the server)."""
    ours = _proc_ticks("self", children=True)
    if server is not None:
        ours += sum(_proc_ticks(pid) for pid in [server.proc.pid, *descendants(server.proc.pid)])
    return time.monotonic(), _system_ticks(), ours


def other_cpu(before: tuple[float, int, int], after: tuple[float, int, int]) -> float:
    """CPU cores used by processes other than ours between two snapshots."""
    wall = after[0] - before[0]
    if wall <= 0:
        return 0.0
    others = (after[1] - before[1]) - (after[2] - before[2])
    return round(max(0.0, others / _TICKS / wall), 2)


def wait_for_quiet(limit_cores: float = 0.25, timeout: float = 120.0) -> float:
    """Wait (up to ``timeout`` s) until other processes use under ``limit_cores``; return it."""
    deadline = time.monotonic() + timeout
    while True:
        before = cpu_snapshot()
        time.sleep(2.0)
        busy = other_cpu(before, cpu_snapshot())
        if busy < limit_cores or time.monotonic() > deadline:
            return busy


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(server: Server) -> dict:
    """RSS and PSS (MB) of the worker processes (leaf descendants) and of the whole tree."""
    tree = [server.proc.pid, *descendants(server.proc.pid)]
    children = _children_map()
    workers = [pid for pid in tree if pid != server.proc.pid and not children.get(pid)]
    workers = workers or [server.proc.pid]
    rows = []
    for pid in tree:
        with contextlib.suppress(OSError):
            rows.append(
                {
                    "pid": pid,
                    "worker": pid in workers,
                    "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
                    "pss_mb": round(_pss_kb(pid) / 1024, 1),
                }
            )
    worker_rows = [r for r in rows if r["worker"]]
    n = max(1, len(worker_rows))
    return {
        "workers": len(worker_rows),
        "worker_rss_mb": round(sum(r["rss_mb"] for r in worker_rows) / n, 1),
        "worker_rss_max_mb": max((r["rss_mb"] for r in worker_rows), default=0.0),
        "worker_pss_mb": round(sum(r["pss_mb"] for r in worker_rows) / n, 1),
        "total_pss_mb": round(sum(r["pss_mb"] for r in rows), 1),
        "processes": rows,
    }
