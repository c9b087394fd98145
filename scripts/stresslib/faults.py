"""Faults: the indexer SIGKILLed at random moments, a damaged index, a gunicorn worker killed.

After each kill of ``searchapp index`` the index must open and equal, in stats and query
counts, either the content before the run or the content after it (``index_state``), and the
next run must complete. A damaged index must make ``serve`` and ``search`` fail with a message
that says to rebuild (no traceback), and ``index --rebuild`` must repair it. A worker killed
under load must be replaced, failing no request but the one it was answering.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.procs import held_connections, proc_stats
from harness.server import free_port, serve_command

from stresslib.corpus import EDIT_WORD, MARKER, MARKER_ZH, STABLE
from stresslib.load import Load, LoadResult, index_command, run_index
from stresslib.mix import Probe

CHECK_QUERIES = (STABLE, MARKER, MARKER_ZH, EDIT_WORD, "railway", "中老铁路", "Gwadar", "port*")


def index_state(index_dir: Path) -> dict:
    """What a new reader sees: stats, the Whoosh document count and a few query totals.

    ``{"error": message}`` when the index does not open or a query fails. Only public
    functions of searchapp are used, with a fresh handle, so nothing is cached between calls.
    """
    from whoosh import index as whoosh_index

    from searchapp.handle import IndexHandle
    from searchapp.searching import search
    from searchapp.store import IndexUnavailable, current_build

    handle = IndexHandle(index_dir)
    try:
        stats = {k: v for k, v in handle.stats().items() if k != "build"}
        totals = {q: search(handle, q, per_page=1)["total"] for q in CHECK_QUERIES}
    except IndexUnavailable as exc:
        return {"error": str(exc)}
    build = current_build(index_dir)
    try:
        ix = whoosh_index.open_dir(str(build))
        try:
            docs = ix.doc_count()
        finally:
            ix.close()
    except Exception as exc:  # noqa: BLE001 - any failure to read is the finding
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"stats": stats, "docs": docs, "totals": totals}


def docs_lost(state: dict, references: list[dict]) -> int:
    """Chunks missing from ``state`` compared with the nearest reference (0 if it is one)."""
    if any(state == ref for ref in references):
        return 0
    if "error" in state:
        return min(ref["docs"] for ref in references)
    return min(max(0, ref["docs"] - state["docs"]) for ref in references) or 0


@dataclass
class KillTrial:
    n: int
    mode: str
    old: str
    new: str
    delay: float
    killed: bool
    seen: str  # "old", "new" or what else was found
    lost: int
    next_ok: bool
    next_seconds: float
    leftovers: int
    orphans: int = 0
    note: str = ""


@dataclass
class KillsResult:
    trials: list[KillTrial] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return sum(t.killed for t in self.trials)

    @property
    def bad(self) -> list[KillTrial]:
        return [
            t
            for t in self.trials
            if t.seen not in ("old", "new") or not t.next_ok or t.lost or t.leftovers or t.orphans
        ]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.trials:
            key = t.seen if t.killed else "finished first"
            out[key] = out.get(key, 0) + 1
        return out


def indexer_kills(
    index_dir: Path,
    sources: dict[str, Path],
    references: dict[str, dict],
    count: int = 20,
    seed: int = 6,
    start: str = "A",
    log=None,
) -> KillsResult:
    """``count`` runs of ``searchapp index`` (a ``--rebuild`` or an incremental run after the
    sources changed, at random) SIGKILLed after a random delay, each followed by a full run.

    ``references`` holds ``index_state`` of a clean build of each version. The delays are
    drawn (seeded) over the measured length of the same kind of run in the same direction, so
    some kills land in start-up, some while writing, some in the commit and swap, and a few
    after the run finished. Only the indexer process is killed (as ``kill -9 PID`` or the OOM
    killer would): processes it started for a parallel build must die with it. Leftovers
    (``*.tmp`` builds, more than two builds, a stray ``.current.*.tmp`` link) must be gone
    after the next run.
    """
    rng = random.Random(seed)
    result = KillsResult()
    code, seconds, output = run_index(sources[start], index_dir, rebuild=True)
    if code != 0 or index_state(index_dir) != references[start]:
        raise RuntimeError(f"first build of {start} failed or differs: {output[-500:]}")
    other = {"A": "B", "B": "A"}
    durations: dict[tuple[str, str], list[float]] = {("rebuild", start): [seconds]}
    # measure each kind of run first (not counted as trials): their lengths differ a lot
    for mode, version in (
        ("incremental", other[start]),
        ("incremental", start),
        ("rebuild", other[start]),
    ):
        code, seconds, output = run_index(sources[version], index_dir, rebuild=mode == "rebuild")
        if code != 0 or index_state(index_dir) != references[version]:
            raise RuntimeError(f"{mode} run to {version} failed or differs: {output[-500:]}")
        durations[mode, version] = [seconds]
    current = other[start]
    for n in range(1, count + 1):
        target = other[current]
        mode = rng.choice(("rebuild", "incremental"))
        length = statistics.median(durations[mode, target])
        delay = rng.uniform(0.02, 1.02) * length
        proc = subprocess.Popen(
            index_command(sources[target], index_dir, rebuild=mode == "rebuild"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
        killed = proc.poll() is None
        if killed:  # the indexer process alone, as ``kill -9 PID`` or the OOM killer would
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        orphans = _outliving(proc.pid)
        state = index_state(index_dir)
        if state == references[current]:
            seen = "old"
        elif state == references[target]:
            seen = "new"
        else:
            seen = "neither: " + str(state)[:300]
        lost = docs_lost(state, [references[current], references[target]])
        code, seconds, output = run_index(sources[target], index_dir, rebuild=mode == "rebuild")
        durations[mode, target].append(seconds)
        after = index_state(index_dir)
        builds = list((index_dir / "builds").iterdir())
        leftovers = sum(1 for b in builds if b.name.endswith(".tmp")) + max(0, len(builds) - 2)
        leftovers += len(list(index_dir.glob(".current.*.tmp")))  # a half-made symlink swap
        next_ok = code == 0 and after == references[target]
        lost += docs_lost(after, [references[target]])
        trial = KillTrial(
            n,
            mode,
            current,
            target,
            round(delay, 2),
            killed,
            seen,
            lost,
            next_ok,
            round(seconds, 2),
            leftovers,
            orphans,
            "" if next_ok else output[-300:],
        )
        result.trials.append(trial)
        if log:
            log(
                f"  kill {n:2d}: {mode:11s} {current}->{target} at {delay:5.2f} s "
                f"{'killed' if killed else 'had finished'}, index = {seen[:40]}, "
                f"next run {'ok' if next_ok else 'FAILED'} ({seconds:.1f} s)"
            )
        current = target
    return result


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    return [pid for pid, fields in proc_stats() if int(fields[2]) == pgid]


def _outliving(pgid: int, wait: float = 3.0) -> int:
    """Processes of a killed indexer's group still alive after ``wait`` seconds (its build
    processes must die with it); they are killed then, and counted."""
    deadline = time.monotonic() + wait
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = len(_group(pgid))
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    return left


@dataclass
class CommandOutcome:
    returncode: int | None
    output: str
    seconds: float

    @property
    def clear(self) -> bool:
        """Failed, said how to repair, no traceback."""
        return (
            self.returncode not in (0, None)
            and "rebuild" in self.output
            and "Traceback" not in self.output
        )


def run_bounded(cmd: list[str], timeout: float) -> CommandOutcome:
    """Run ``cmd`` in its own process group; kill the group if it outlives ``timeout``."""
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate(timeout=30)
        code = None  # still running: it did not refuse the damaged index
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return CommandOutcome(code, output, time.monotonic() - started)


def damage(index_dir: Path, how: str) -> Path:
    """Truncate the largest ``*.seg`` file of ``index/current``: to half, 100 bytes or 0."""
    segments = sorted((index_dir / "current").glob("*.seg"), key=lambda p: p.stat().st_size)
    if not segments:
        raise RuntimeError(f"no segment file in {index_dir / 'current'}")
    target = segments[-1]
    size = {"half": target.stat().st_size // 2, "100 bytes": 100, "empty": 0}[how]
    os.truncate(target, size)
    return target


@dataclass
class DamageCase:
    how: str
    index_dir: Path
    serve: CommandOutcome
    search: CommandOutcome
    repair_ok: bool
    repaired_state_ok: bool

    @property
    def ok(self) -> bool:
        return self.serve.clear and self.search.clear and self.repair_ok and self.repaired_state_ok


def damaged_index(index_dir: Path, source: Path, reference: dict, how: str = "half") -> DamageCase:
    """Build, damage, ask ``serve`` and ``search``, then ``index --rebuild`` and compare."""
    code, _, output = run_index(source, index_dir, rebuild=True)
    if code != 0:
        raise RuntimeError(f"build failed: {output[-500:]}")
    damage(index_dir, how)
    serve = run_bounded(serve_command(index_dir, free_port()), timeout=60)
    search = run_bounded(
        [sys.executable, "-m", "searchapp.cli", "search", STABLE, "--index", str(index_dir)],
        timeout=60,
    )
    code, _, _ = run_index(source, index_dir, rebuild=True)
    state_ok = index_state(index_dir) == reference
    return DamageCase(how, index_dir, serve, search, code == 0, state_ok)


@dataclass
class WorkerKill:
    victim: int
    at: float
    in_flight: int
    replaced_after: float | None
    failed: int = 0
    #: client connections the victim had open when killed (Linux /proc; None elsewhere)
    held: int | None = None

    @property
    def bound(self) -> int:
        """Failures a kill may cause: one request per connection the worker held (at least
        the one it was answering)."""
        return max(1, self.held or 0)


@dataclass
class WorkerKillResult:
    load: LoadResult
    kills: list[WorkerKill]
    failed_outside_kills: int

    @property
    def ok(self) -> bool:
        return (
            self.failed_outside_kills == 0
            and self.load.mismatched == 0
            and all(k.replaced_after is not None and k.failed <= k.bound for k in self.kills)
        )


def kill_workers_under_load(
    server,
    pool: list[Probe],
    references: dict[str, dict[str, str]],
    kills: int = 1,
    clients: int = 8,
    seconds: float = 6.0,
    seed: int = 6,
    workers: int = 2,
) -> WorkerKillResult:
    """SIGKILL a random worker ``kills`` times, evenly spread over a load of ``seconds``.

    A sync worker answers one connection at a time, so a kill may fail at most the one
    request that worker was answering; a threaded worker (searchapp's ``buffered``, gthread)
    keeps every connection it accepted, so a kill may fail one request per connection it held
    (``WorkerKill.held``). Failures are matched to kills by time: the request was in flight at
    the moment of the kill, or it was the next one on a kept-alive connection opened before
    the kill (the killed worker held it idle; its client only learns on its next request).
    """
    rng = random.Random(seed)
    load = Load(server.port, pool, references, clients=clients, seconds=seconds, seed=seed)
    done: list[WorkerKill] = []
    load.start()
    try:
        for k in range(kills):
            wait_until = load.started + seconds * (k + 1) / (kills + 1)
            time.sleep(max(0.0, wait_until - time.monotonic()))
            pids = server.worker_pids()
            for _ in range(100):  # a worker may be being replaced: wait for one (bounded)
                if pids:
                    break
                time.sleep(0.05)
                pids = server.worker_pids()
            victim = rng.choice(pids)
            held = held_connections(victim, server.port)
            with load.lock:
                in_flight = load.in_flight
                at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            replaced_after = None
            limit = at + 30
            while time.monotonic() < limit:
                now = server.worker_pids()
                if victim not in now and len(now) >= workers:
                    replaced_after = time.monotonic() - at
                    break
                time.sleep(0.02)
            done.append(WorkerKill(victim, at, in_flight, replaced_after, held=held))
    finally:
        result = load.join()
    outside = 0
    for failure in result.failures:
        if failure.what.startswith("neither version"):
            continue
        hit = [k for k in done if min(failure.connected, failure.started) <= k.at <= failure.ended]
        if hit:
            hit[0].failed += 1
        else:
            outside += 1
    return WorkerKillResult(result, done, outside)
