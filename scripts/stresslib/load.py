"""Concurrent clients that check every answer, and an indexer run in a loop beside them.

Each client thread keeps one ``http.client`` connection (gunicorn's sync workers close it after
every response; http.client reopens it), draws paths from the pool with its own seeded RNG and
sends them with no retries. An answer is *failed* when the request raises or gets a 5xx, and
*mismatched* when its digest equals neither reference (A nor B): a partial, mixed or empty
index. Every loop is bounded by a deadline and a request count.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.client import fetch
from harness.stats import percentile

from stresslib.mix import INVARIANT_KINDS, REQUEST_TIMEOUT, WEIGHTS, Probe, digest
from stresslib.mix import coarse as mix_coarse


@dataclass
class Failure:
    """A request that raised, got a 5xx, or an answer of neither version."""

    started: float
    ended: float
    path: str
    what: str
    #: when the client's kept-alive connection that carried it was opened: a worker killed
    #: while holding the idle connection fails the client's *next* request on it
    connected: float = 0.0


@dataclass
class LoadResult:
    clients: int = 0
    seconds: float = 0.0
    requests: int = 0
    failed: int = 0
    mismatched: int = 0
    empty: int = 0
    bad_inputs: int = 0
    invariant_checks: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    builds_seen: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    def describe_failures(self, limit: int = 5) -> str:
        return "; ".join(f"{f.path[:80]} -> {f.what[:160]}" for f in self.failures[:limit])


class Load:
    """``clients`` threads sending the pool for ``seconds`` (or ``max_requests``) in total."""

    # `duplicates` pairs this signature with RebuildLoop's and faults.kill_workers_under_load's
    # by shape (the run's settings, each with its default): deliberate, nothing to share.
    def __init__(
        self,
        port: int,
        pool: list[Probe],
        references: dict[str, dict[str, str]],
        clients: int = 32,
        seconds: float = 60.0,
        seed: int = 6,
        max_requests: int = 1_000_000,
        coarse: bool = False,
    ):
        self.port = port
        self.pool = pool
        self.coarse = coarse
        if coarse:  # compare only what an incremental update keeps equal (see mix.coarse)
            references = {
                v: {path: mix_coarse(path, a) for path, a in refs.items()}
                for v, refs in references.items()
            }
        self.references = references
        self.clients = clients
        self.seconds = seconds
        self.seed = seed
        self.max_requests = max_requests
        counts: dict[str, int] = {}
        for probe in pool:
            counts[probe.kind] = counts.get(probe.kind, 0) + 1
        self.cum_weights = list(
            itertools.accumulate(WEIGHTS[p.kind] / counts[p.kind] for p in pool)
        )
        self.result = LoadResult(clients=clients)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.sent = 0
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.started = 0.0

    def start(self) -> Load:
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            self.threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def join(self) -> LoadResult:
        for thread in self.threads:
            thread.join(timeout=max(1.0, self.deadline - time.monotonic()) + REQUEST_TIMEOUT + 5)
        self.result.seconds = time.monotonic() - self.started
        return self.result

    def run(self) -> LoadResult:
        return self.start().join()

    def _client(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        connected = 0.0
        try:
            while not self.stop_event.is_set() and time.monotonic() < self.deadline:
                with self.lock:
                    if self.sent >= self.max_requests:
                        return
                    self.sent += 1
                    self.in_flight += 1
                probe = rng.choices(self.pool, cum_weights=self.cum_weights)[0]
                t0 = time.monotonic()
                if conn.sock is None:  # http.client (re)connects on this request
                    connected = t0
                try:
                    status, body = fetch(conn, probe.path)
                    error = None
                except (OSError, http.client.HTTPException) as exc:
                    status, body, error = 0, b"", f"{type(exc).__name__}: {exc}"
                t1 = time.monotonic()
                answer = digest(probe.path, status, body) if error is None else ""
                if self.coarse and error is None:
                    answer = mix_coarse(probe.path, answer)
                with self.lock:
                    self.in_flight -= 1
                    self._record(probe, status, body, answer, error, t0, t1, connected)
        finally:
            conn.close()

    def _record(
        self, probe: Probe, status, body, answer, error, t0: float, t1: float, connected: float
    ) -> None:
        result = self.result
        result.requests += 1
        result.by_kind[probe.kind] = result.by_kind.get(probe.kind, 0) + 1
        result.latencies_ms.append((t1 - t0) * 1000)
        if probe.kind == "bad input":
            result.bad_inputs += 1
        if probe.kind in INVARIANT_KINDS:
            result.invariant_checks += 1
        if error is not None or status >= 500:
            result.failed += 1
            what = error or f"{status} {body[:300]!r}"
            result.failures.append(Failure(t0, t1, probe.path, what, connected))
            return
        if probe.path == "/healthz":
            try:
                result.builds_seen.add(json.loads(body).get("build"))
            except ValueError:
                pass
        matches = [v for v, refs in self.references.items() if refs.get(probe.path) == answer]
        if not matches:
            result.mismatched += 1
            if '"total": 0' in answer or '"articles": 0' in answer:
                result.empty += 1
            result.failures.append(Failure(t0, t1, probe.path, "neither version: " + answer))
            return
        label = matches[0] if len(matches) == 1 else "either"
        result.versions[label] = result.versions.get(label, 0) + 1


@dataclass
class RebuildRun:
    version: str
    returncode: int
    seconds: float
    output: str


def stage_source(source: Path, index_dir: Path) -> Path:
    """Make one folder per index hold ``source``'s files (copying only what differs).

    An index remembers the folder it was built from, and an incremental run from another
    folder that would remove articles needs ``--rebuild``; switching an index between
    versions A and B incrementally is done, as a user would, by changing the files of one
    folder.
    """
    staged = index_dir.parent / f"{index_dir.name}-source"
    staged.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in source.iterdir() if p.is_file()}
    for existing in staged.iterdir():
        if existing.name not in wanted:
            existing.unlink()
    for name, path in wanted.items():
        data = path.read_bytes()
        target = staged / name
        if not target.exists() or target.read_bytes() != data:
            tmp = staged / f".{name}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, target)
    return staged


def index_command(source: Path, index_dir: Path, rebuild: bool) -> list[str]:
    """The ``searchapp index`` command for ``source`` (staged into the index's own folder)."""
    staged = stage_source(Path(source), Path(index_dir))
    cmd = [sys.executable, "-m", "searchapp.cli", "index", "--source", str(staged)]
    cmd += ["--index", str(index_dir), "--quiet"]
    return cmd + (["--rebuild"] if rebuild else [])


def run_index(source: Path, index_dir: Path, rebuild: bool, timeout: float = 300.0):
    """``searchapp index`` to completion: (returncode, seconds, output)."""
    command = index_command(source, index_dir, rebuild)
    started = time.monotonic()
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, time.monotonic() - started, proc.stdout + proc.stderr


class RebuildLoop:
    """``searchapp index --rebuild`` (or an incremental run, ``rebuild=False``) from each
    version in turn until stopped (bounded)."""

    # `duplicates` pairs these attribute assignments with Load's and with the monkey-patch
    # table at the end of searchapp/whoosh_compat.py by shape alone: deliberate, nothing shared.
    def __init__(
        self,
        index_dir: Path,
        sources: dict[str, Path],
        order: tuple[str, ...] = ("A", "B"),
        max_runs: int = 200,
        seconds: float = 600.0,
        rebuild: bool = True,
    ):
        self.index_dir = index_dir
        self.rebuild = rebuild
        self.sources = sources
        self.order = order
        self.max_runs = max_runs
        self.seconds = seconds
        self.runs: list[RebuildRun] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> RebuildLoop:
        self.thread.start()
        return self

    def stop(self) -> list[RebuildRun]:
        self.stop_event.set()
        self.thread.join(timeout=330)
        return self.runs

    def _loop(self) -> None:
        deadline = time.monotonic() + self.seconds
        for n in range(self.max_runs):
            if self.stop_event.is_set() or time.monotonic() > deadline:
                return
            version = self.order[n % len(self.order)]
            try:
                code, seconds, output = run_index(
                    self.sources[version], self.index_dir, rebuild=self.rebuild
                )
            except subprocess.TimeoutExpired as exc:
                code, seconds, output = -1, exc.timeout, "timed out"
            self.runs.append(RebuildRun(version, code, seconds, output[-500:]))

    @property
    def failed(self) -> list[RebuildRun]:
        return [r for r in self.runs if r.returncode != 0]


def get_json(port: int, path: str) -> tuple[int, dict | list | None]:
    """One GET and its JSON body (None when it is not JSON)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        status, body = fetch(conn, path)
    finally:
        conn.close()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


@dataclass
class LiveSwap:
    """A rebuild under a running server: how long until its answers show the new content."""

    returncode: int
    rebuild_seconds: float
    seen_after: float | None
    same_processes: bool


def rebuild_and_watch(server, source: Path, stats: dict, timeout: float = 30.0) -> LiveSwap:
    """``searchapp index --rebuild`` from ``source`` while ``server`` runs, then poll
    ``/healthz`` until it reports ``stats`` (articles and chunks); no restart allowed."""
    before = (server.process.pid, sorted(server.worker_pids()))
    code, seconds, _ = run_index(source, server.index_dir, rebuild=True)
    ended = time.monotonic()
    seen_after = None
    while code == 0 and time.monotonic() - ended < timeout:
        status, body = get_json(server.port, "/healthz")
        if status == 200 and isinstance(body, dict):
            if (body.get("articles"), body.get("chunks")) == (stats["articles"], stats["chunks"]):
                seen_after = time.monotonic() - ended
                break
        time.sleep(0.02)
    after = (server.process.pid, sorted(server.worker_pids()))
    return LiveSwap(code, seconds, seen_after, before == after and server.process.poll() is None)


def load_during_loop(
    port: int,
    pool: list[Probe],
    references: dict[str, dict[str, str]],
    index_dir: Path,
    sources: dict[str, Path],
    clients: int,
    seconds: float,
    seed: int = 6,
    rebuild: bool = True,
    min_runs: int = 2,
    grace: float = 60.0,
) -> tuple[LoadResult, list[RebuildRun]]:
    """Load for ``seconds`` while ``searchapp index`` runs in a loop (A, B, A, ...), and on
    until ``min_runs`` runs have finished (at most ``grace`` seconds more).

    With ``rebuild=False`` the runs are incremental and answers are compared coarsely
    (``mix.coarse``).
    """
    loop = RebuildLoop(index_dir, sources, seconds=seconds + grace, rebuild=rebuild)
    load = Load(port, pool, references, clients, seconds + grace, seed=seed, coarse=not rebuild)
    loop.start()
    load.start()
    try:
        while time.monotonic() < load.deadline:
            if time.monotonic() - load.started >= seconds and len(loop.runs) >= min_runs:
                break
            time.sleep(0.1)
    finally:
        load.stop()
        result = load.join()
        runs = loop.stop()
    return result, runs
