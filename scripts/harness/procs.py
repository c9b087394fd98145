"""A process tree read from Linux's ``/proc``: children, CPU time and memory (RSS, PSS).

No psutil or pgrep needed. PSS (``smaps_rollup``) counts each shared page once across the
processes that map it, so the workers of a forked server are not charged for pages they share
with the master (jieba's dictionary, a memory-mapped index); RSS counts them in every worker.
"""

from __future__ import annotations

import contextlib
import os
import time

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


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
    """Live child processes of ``pid`` (a gunicorn master's workers)."""
    return sorted(p for p, fields in proc_stats() if int(fields[1]) == pid)


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (children first)."""
    tree: dict[int, list[int]] = {}
    for child, fields in proc_stats():
        tree.setdefault(int(fields[1]), []).append(child)
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(tree.get(child, []))
    return found


def cpu_ticks(pid: int | str, children: bool = False) -> int:
    """User + system CPU clock ticks of ``pid`` (0 when gone); ``children`` adds the finished
    children it waited for (index builds run as subprocesses)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    if children:  # + cutime + cstime
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds the live processes ``pids`` have used so far."""
    return sum(cpu_ticks(pid) for pid in pids) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (0 when gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:
        return 0


def smaps_rollup(pid: int) -> dict[str, int]:
    """The memory fields of ``/proc/<pid>/smaps_rollup`` in bytes (``Rss``, ``Pss``,
    ``Pss_Anon``, ``Private_Dirty``...); empty when ``pid`` is gone or unreadable."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                fields = rest.split()
                if len(fields) == 2 and fields[1] == "kB":
                    found[name] = int(fields[0]) * 1024
    except OSError:
        pass
    return found


def pss_bytes(pid: int) -> int:
    """Proportional set size of ``pid`` (0 when gone or unreadable)."""
    return smaps_rollup(pid).get("Pss", 0)


def open_files(pids: list[int]) -> list[int]:
    """Open file descriptors of each process (-1 when gone), to see that rebuilds leak none."""
    counts = []
    for pid in pids:
        try:
            counts.append(len(os.listdir(f"/proc/{pid}/fd")))
        except OSError:
            counts.append(-1)
    return counts


def held_connections(pid: int, port: int) -> int | None:
    """Established TCP connections to ``port`` that process ``pid`` holds (None when
    unreadable): the requests a SIGKILL of that worker may fail."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as lines:
                next(lines)
                for line in lines:
                    cols = line.split()
                    local_port = int(cols[1].rsplit(":", 1)[1], 16)
                    if cols[3] == "01" and local_port == port and cols[9] in inodes:
                        count += 1
        return count
    except OSError:
        return None


def tree_memory(root: int) -> dict:
    """RSS and PSS (MB) of a server's workers (the leaves of its tree) and of the whole tree."""
    tree = [root, *descendants(root)]
    parents = {int(fields[1]) for _, fields in proc_stats()}
    workers = [pid for pid in tree if pid != root and pid not in parents] or [root]
    rows = []
    for pid in tree:
        with contextlib.suppress(OSError):
            rows.append(
                {
                    "pid": pid,
                    "worker": pid in workers,
                    "rss_mb": round(rss_bytes(pid) / 2**20, 1),
                    "pss_mb": round(pss_bytes(pid) / 2**20, 1),
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


def _system_ticks() -> int:
    with open("/proc/stat", encoding="utf-8") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def cpu_snapshot(root: int | None = None) -> tuple[float, int, int]:
    """(wall time, busy CPU ticks of the machine, CPU ticks of this process and the tree of
    ``root``), to tell later how much CPU other processes took meanwhile."""
    ours = cpu_ticks("self", children=True)
    if root is not None:
        ours += sum(cpu_ticks(pid) for pid in [root, *descendants(root)])
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
