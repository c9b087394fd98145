"""Attacks on a bare ``searchapp serve`` (issue 13): every one a check with a limit.

Against an index of the corpus plus ``hostile_files``' folder (indexing it is the first
attack: padded caption lines, 100,000 tiny blocks, links out of the folder), served by
``searchapp serve`` with its default settings (2 buffered workers):

- Slow clients: 50 idle and 50 slowloris connections (``slow.SlowClients``) held for longer
  than the 10 s header timeout, so they are cut off and come back; meanwhile normal requests
  (API, page, suggest), one after another: each must answer 200 within SLOW_LIMIT_S.
- Query bombs: range syntax, the superlinear ``[TO`` pattern, long fuzzy terms, regex-like
  wildcards, many prefixes, stored-only fields, 850 Chinese characters. Sent one at a time,
  so the CPU the workers spent between two requests (``/proc/<pid>/stat``) is that request's:
  each must stay under CPU_LIMIT_S and answer without a 5xx other than a budget 503.
- No answer (bombs, slow-client requests, the hostile files' pages) may contain a server
  path: the index, source and work folders, the home folder, ``site-packages``.
- Distinct queries (``memory``): a second server, the same but ``--max-requests 0`` so no
  worker is recycled and growth would show; its workers' PSS must settle.
"""

from __future__ import annotations

import http.client
import json
import random
import resource
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from harness.procs import cpu_seconds
from harness.server import LiveServer

from stresslib import hostile_files, memory
from stresslib.slow import SlowClients

CPU_LIMIT_S = 1.0
SLOW_LIMIT_S = 1.0
#: Seconds the slow clients are held: past the 10 s header timeout, so they reconnect.
SLOW_HOLD_S = 15.0
#: Generous guard on the CPU of indexing the hostile folder with the corpus (one 3 KB file
#: took 35 s before the fix). CPU, not elapsed time: the machine may be busy.
INDEX_LIMIT_S = 60.0
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NORMAL_PATHS = (
    "/api/search?q=Gwadar+port",
    "/search?q=railway",
    "/api/suggest?q=gwa",
    "/api/search?q=%E4%B8%AD%E5%9B%BD",
)


def _random_word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(LETTERS, k=rng.randint(low, high)))


def bomb_queries() -> dict[str, str]:
    """The expensive queries of the security review, by name."""
    rng = random.Random(13)
    return {
        "range [a TO z]": "[a TO z]",
        "two ranges": "[a TO z] OR spell:[a TO z]",
        "[TO x 330": "[TO" * 330 + " qzzz",
        "ranges x 90": " OR ".join(["[a TO z]", "spell:[a TO z]", "{0 TO 9}"] * 30),
        "8 fuzzy terms of 120 letters": " ".join(
            _random_word(rng, 120, 120) + "~2" for _ in range(8)
        ),
        "8 fuzzy terms of 24 letters": " ".join(_random_word(rng, 24, 24) + "~2" for _ in range(8)),
        "64 fuzzy terms": " ".join(_random_word(rng, 6, 12) + "~2" for _ in range(64)),
        "64 prefixes": " ".join(f"{a}{b}*" for a in LETTERS[:8] for b in LETTERS[:8]),
        "wildcards": " ".join(f"{a}*{b}*" for a in LETTERS[:8] for b in LETTERS[:8]),
        "regex-like wildcards": " ".join(
            ["a*b*c*d*e*f*g*h*", "[a-z]*[0-9]*", "?????*", "*a*", "(a|b)*c", "a.*b.*c"] * 8
        ),
        "stored fields": "id:x* position:1 source:x article_title:x photo_date:2* spell:[a TO z]",
        # 850, not 1,000: URL-encoded, more would pass gunicorn's 8,190-byte request line.
        "850 Chinese characters": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(850)),
        "64 common words": " OR ".join(["china", "the", "and", "of", "development"] * 13),
        "64 common-word phrases": " ".join(['"china and the"'] * 64),
        "deep parentheses": "(" * 8 + "a:b:c " * 100 + ")" * 8,
        # the hostile folder's 100,000 tiny blocks are 100,000 words starting with "w": a
        # spelling correction or a short fuzzy word scans every word sharing its first letter
        "correction among 100,000 w-words": "wvfzddwj",
        "short fuzzy word among 100,000 w-words": "wxq~2",
    }


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, str]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


@dataclass
class BombResult:
    name: str
    status: int
    code: str | None
    cpu: float
    seconds: float
    leaked_path: bool


@dataclass
class SlowResult:
    """Normal requests timed while the slow clients were held."""

    idle: int
    slowloris: int
    seconds: float = 0.0
    times: list[float] = field(default_factory=list)
    #: The same requests with nothing held, before: what the machine gives anyway.
    baseline: list[float] = field(default_factory=list)
    failed: int = 0
    leaked_path: int = 0
    reconnects: int = 0

    @property
    def ok(self) -> bool:
        return (
            bool(self.times)
            and self.failed == 0
            and self.leaked_path == 0
            and max(self.times) <= SLOW_LIMIT_S
        )


@dataclass
class HostileIndexResult:
    """Indexing the hostile folder (with the corpus), and what the server made of it."""

    returncode: int
    seconds: float
    cpu: float
    output: str
    served: hostile_files.ServedCheck | None = None

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0
            and self.cpu <= INDEX_LIMIT_S
            and self.served is not None
            and not self.served.problems
        )


@dataclass
class AttacksResult:
    hostile_index: HostileIndexResult | None = None
    slow: SlowResult | None = None
    bombs: list[BombResult] = field(default_factory=list)
    memory: memory.MemoryResult | None = None

    @property
    def bombs_ok(self) -> bool:
        return bool(self.bombs) and all(
            b.cpu < CPU_LIMIT_S
            and not b.leaked_path
            and (b.status < 500 or b.code == "query_too_expensive")
            for b in self.bombs
        )

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in rows(self))


def run_bombs(port: int, pids_of, secrets: list[str]) -> list[BombResult]:
    """Each bomb on the API, the page and suggest, one request at a time, with its CPU."""
    results = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for name, q in bomb_queries().items():
            for path in ("/api/search", "/search", "/api/suggest"):
                url = f"{path}?{urlencode({'q': q})}"
                pids = pids_of()
                before, started = cpu_seconds(pids), time.monotonic()
                status, body = _get(conn, url)
                cpu, seconds = cpu_seconds(pids) - before, time.monotonic() - started
                code = None
                if status >= 400 and path.startswith("/api/"):
                    try:
                        code = json.loads(body)["error"]["code"]
                    except (ValueError, KeyError, TypeError):
                        code = "not the error shape"
                leaked = any(secret in body for secret in secrets)
                results.append(BombResult(f"{name} {path}", status, code, cpu, seconds, leaked))
    finally:
        conn.close()
    return results


def run_slow(port: int, secrets: list[str], seconds: float = SLOW_HOLD_S) -> SlowResult:
    """Normal requests, one after another, while 50 idle and 50 slowloris clients are held."""
    result = SlowResult(idle=50, slowloris=50, seconds=seconds)
    for path in NORMAL_PATHS * 5:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            _get(conn, path)
        finally:
            conn.close()
        result.baseline.append(time.monotonic() - started)
    with SlowClients(port, idle=result.idle, slowloris=result.slowloris) as held:
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            path = NORMAL_PATHS[i % len(NORMAL_PATHS)]
            i += 1
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                status, body = _get(conn, path)
            except (OSError, http.client.HTTPException):
                status, body = 0, ""
            finally:
                conn.close()
            result.times.append(time.monotonic() - started)
            result.failed += status != 200
            result.leaked_path += any(secret in body for secret in secrets)
            time.sleep(0.2)
        result.reconnects = held.reconnects
    return result


def index_hostile(work: Path, sources: list[Path]) -> tuple[HostileIndexResult, Path]:
    """``searchapp index --rebuild`` of ``sources`` and the hostile folder, timed."""
    hostile = hostile_files.make_hostile_source(work / "hostile")
    index = work / "attacks-index"
    command = [sys.executable, "-m", "searchapp.cli", "index", "--index", str(index)]
    for source in [*sources, hostile]:
        command += ["--source", str(source)]
    started, cpu = time.monotonic(), _children_cpu()
    proc = subprocess.run(
        [*command, "--rebuild"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    seconds, cpu = time.monotonic() - started, _children_cpu() - cpu
    return HostileIndexResult(proc.returncode, seconds, cpu, proc.stdout + proc.stderr), index


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(work: Path, sources: list[Path], queries: int, seed: int = 0, log=print) -> AttacksResult:
    """Every attack, against servers of ``sources`` plus the hostile folder, under ``work``."""
    work = Path(work).resolve()
    secrets = [str(work), str(Path.home()), "site-packages", *map(str, sources)]
    secrets += [str(Path(s).resolve()) for s in sources]
    result = AttacksResult()
    log("attacks: indexing the hostile files ...")
    result.hostile_index, index = index_hostile(work, sources)
    if result.hostile_index.returncode != 0:
        log(result.hostile_index.output)
        return result
    with LiveServer(index, work / "attacks-serve.log") as srv:
        result.hostile_index.served = hostile_files.check_served(srv.port)
        log(f"attacks: 50 idle + 50 slowloris connections for {SLOW_HOLD_S:.0f} s ...")
        result.slow = run_slow(srv.port, secrets)
        log("attacks: query bombs ...")
        result.bombs = run_bombs(srv.port, srv.worker_pids, secrets)
    if queries:
        log(f"attacks: {queries:,} distinct queries (no worker recycling) ...")
        log_path = work / "attacks-memory.log"
        with LiveServer(index, log_path, extra=("--max-requests", "0")) as srv:
            result.memory = memory.run_memory(
                srv.port, srv.worker_pids, queries, seed=seed, log=log
            )
        log(result.memory.curve())
    return result


def table(result: AttacksResult) -> str:
    """The attack rows alone, as the stress report prints them."""
    lines = []
    for name, ok, detail in rows(result):
        wrapped = textwrap.wrap(detail, 96) or [""]
        lines.append(f"{name:<32}  {'PASS' if ok else 'FAIL':<6}  {wrapped[0]}")
        lines += [f"{'':<32}          {more}" for more in wrapped[1:]]
    if result is not None and result.memory is not None:
        lines += ["", "workers' memory (PSS) during the distinct queries:", result.memory.curve()]
    return "\n".join(lines)


def _hostile_row(h: HostileIndexResult | None) -> tuple[str, bool, str]:
    name = "attacks: hostile files indexed"
    if h is None:
        return name, False, "not run"
    if h.returncode != 0:
        return name, False, f"searchapp index exited {h.returncode}: {h.output[-300:]}"
    s = h.served
    detail = (
        f"padded caption lines x{len(hostile_files.PADDED_LINES)}, 100,000 tiny blocks, links "
        f"out of the folder, binary/GBK/empty files: indexed with the corpus in {h.cpu:.1f} s "
        f"of CPU (limit {INDEX_LIMIT_S:.0f} s), {h.seconds:.1f} s elapsed"
    )
    if s is not None:
        detail += (
            f"; tiny-blocks page {s.tiny_page_bytes:,} bytes, API {s.tiny_api_bytes:,} bytes; "
            + ("; ".join(s.problems) if s.problems else "links not served, secret not found")
        )
    return name, h.ok, detail


def _slow_row(s: SlowResult | None) -> tuple[str, bool, str]:
    name = "attacks: idle + slowloris held"
    if s is None:
        return name, False, "not run"
    worst = max(s.times) if s.times else float("inf")
    return (
        name,
        s.ok,
        (
            f"{s.idle} idle + {s.slowloris} slowloris connections held {s.seconds:.0f} s "
            f"({s.reconnects} cut off and reconnected): {len(s.times)} normal requests, "
            f"{s.failed} failed, max {worst * 1000:.0f} ms (limit {SLOW_LIMIT_S * 1000:.0f} ms), "
            f"{s.leaked_path} with a server path; the same requests with nothing held: max "
            f"{max(s.baseline, default=0) * 1000:.0f} ms"
        ),
    )


def rows(result: AttacksResult | None) -> list[tuple[str, bool, str]]:
    """The report's rows for the attacks."""
    if result is None:
        return [("attacks", False, "not run")]
    out = [_hostile_row(result.hostile_index), _slow_row(result.slow)]
    bombs = result.bombs
    worst = max(bombs, key=lambda b: b.cpu) if bombs else None
    statuses: dict[str, int] = {}
    for b in bombs:
        key = f"{b.status}" + (f" {b.code}" if b.code else "")
        statuses[key] = statuses.get(key, 0) + 1
    bomb_detail = (
        f"{len(bombs)} requests ({len(bombs) // 3} bombs x API, page, suggest): server CPU max "
        f"{worst.cpu:.2f} s ({worst.name}; limit {CPU_LIMIT_S:.0f} s), slowest answer "
        f"{max(b.seconds for b in bombs):.2f} s; answers "
        + ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items()))
        + f"; {sum(b.leaked_path for b in bombs)} with a server path"
        + "".join(
            f"; OVER: {b.name} {b.cpu:.2f} s"
            for b in bombs
            if b.cpu >= CPU_LIMIT_S or b.leaked_path
        )
        if worst
        else "none sent"
    )
    out.append(("attacks: query bombs", result.bombs_ok, bomb_detail))
    if result.memory is not None:
        m = result.memory
        out.append(("attacks: distinct-query memory", m.ok, memory.detail(m)))
    return out
