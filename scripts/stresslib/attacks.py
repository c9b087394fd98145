"""Attacks on a live server (issue 13): expensive queries, and memory growth from distinct ones.

- Query bombs: range syntax, the superlinear ``[TO`` pattern, long fuzzy terms, many prefixes,
  stored-only fields, 850 Chinese characters. Sent one at a time, so the CPU the workers
  spent between two requests (``/proc/<pid>/stat``) is that request's: each must stay under
  CPU_LIMIT_S, answer without a 5xx other than a budget 503, and name no server path.
- Distinct queries: many 64-word English and 300-character Chinese queries, all different
  (nothing is answered from a cache), from a few clients. The workers' resident memory after
  the first quarter and at the end: the end must be within MEMORY_GROWTH of the quarter.
"""

from __future__ import annotations

import http.client
import json
import random
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from harness.procs import cpu_seconds, rss_bytes

CPU_LIMIT_S = 1.0
MEMORY_GROWTH = 0.15
LETTERS = "abcdefghijklmnopqrstuvwxyz"


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
        "64 prefixes": " ".join(f"{a}{b}*" for a in LETTERS[:8] for b in LETTERS[:8]),
        "wildcards": " ".join(f"{a}*{b}*" for a in LETTERS[:8] for b in LETTERS[:8]),
        "stored fields": "id:x* position:1 source:x article_title:x photo_date:2* spell:[a TO z]",
        # 850, not 1,000: URL-encoded, more would pass gunicorn's 8,190-byte request line.
        "850 Chinese characters": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(850)),
        "64 common words": " OR ".join(["china", "the", "and", "of", "development"] * 13),
        "deep parentheses": "(" * 8 + "a:b:c " * 100 + ")" * 8,
    }


def distinct_query(rng: random.Random, i: int) -> str:
    """One of many different queries: 64 random words, or 300 random Chinese characters."""
    if i % 2:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(300))
    return " ".join(_random_word(rng, 3, 10) for _ in range(64))


def _rss_bytes(pids: list[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids)


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
class MemoryResult:
    queries: int
    checkpoint: int
    rss_checkpoint: int = 0
    rss_end: int = 0
    rss_start: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def growth(self) -> float:
        return self.rss_end / self.rss_checkpoint - 1 if self.rss_checkpoint else float("inf")

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.growth <= MEMORY_GROWTH


@dataclass
class AttacksResult:
    bombs: list[BombResult] = field(default_factory=list)
    memory: MemoryResult | None = None

    @property
    def bombs_ok(self) -> bool:
        return bool(self.bombs) and all(
            b.cpu < CPU_LIMIT_S
            and not b.leaked_path
            and (b.status < 500 or b.code == "query_too_expensive")
            for b in self.bombs
        )


def run_bombs(port: int, pids: list[int], secrets: list[str]) -> list[BombResult]:
    """Each bomb on the API and the page, one request at a time, with its server CPU."""
    results = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for name, q in bomb_queries().items():
            for path in ("/api/search", "/search", "/api/suggest"):
                url = f"{path}?{urlencode({'q': q})}"
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


def run_memory(
    port: int, pids_of, queries: int, clients: int = 4, seed: int = 0, log=print
) -> MemoryResult:
    """``queries`` distinct queries from ``clients`` clients; worker RSS at a quarter and end."""
    result = MemoryResult(queries=queries, checkpoint=queries // 4)
    rng = random.Random(seed)
    texts = [distinct_query(rng, i) for i in range(queries)]
    next_index = 0
    lock = threading.Lock()
    checkpoint_reached = threading.Event()
    started = time.monotonic()
    result.rss_start = _rss_bytes(pids_of())

    def client() -> None:
        nonlocal next_index
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    i = next_index
                    next_index += 1
                if i >= queries:
                    return
                if i == result.checkpoint:
                    checkpoint_reached.set()
                try:
                    status, _ = _get(conn, "/api/search?" + urlencode({"q": texts[i]}))
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status = 0
                with lock:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status != 200:
                        result.failed += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    checkpoint_reached.wait()
    result.rss_checkpoint = _rss_bytes(pids_of())
    log(f"  {result.checkpoint} distinct queries: workers' RSS {result.rss_checkpoint >> 20} MB")
    for thread in threads:
        thread.join()
    result.rss_end = _rss_bytes(pids_of())
    result.seconds = time.monotonic() - started
    return result


def run(srv, work: Path, queries: int, seed: int = 0, log=print) -> AttacksResult:
    """Both attacks against the running server ``srv`` (work: paths no answer may contain)."""
    secrets = [str(work), str(Path(work).resolve()), str(Path.home()), "site-packages"]
    result = AttacksResult()
    log("attacks: query bombs ...")
    result.bombs = run_bombs(srv.port, srv.worker_pids(), secrets)
    log(f"attacks: {queries} distinct queries ...")
    result.memory = run_memory(srv.port, srv.worker_pids, queries, seed=seed, log=log)
    return result


def table(result: AttacksResult) -> str:
    """The attack rows alone, as the stress report prints them."""
    lines = []
    for name, ok, detail in rows(result):
        wrapped = textwrap.wrap(detail, 96) or [""]
        lines.append(f"{name:<32}  {'PASS' if ok else 'FAIL':<6}  {wrapped[0]}")
        lines += [f"{'':<32}          {more}" for more in wrapped[1:]]
    return "\n".join(lines)


def rows(result: AttacksResult | None) -> list[tuple[str, bool, str]]:
    """The report's rows for the attacks."""
    if result is None:
        return [("attacks", False, "not run")]
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
        if worst
        else "none sent"
    )
    m = result.memory
    if m is None:
        return [("attacks: query bombs", result.bombs_ok, bomb_detail)]
    memory_detail = (
        f"{m.queries:,} distinct queries (64 words / 300 Chinese characters) in "
        f"{m.seconds:.0f} s, {m.failed} not 200"
        + "".join(f" ({n}x {status})" for status, n in sorted(m.statuses.items()) if status != 200)
        + f"; workers' RSS {m.rss_start >> 20} MB at "
        f"start, {m.rss_checkpoint >> 20} MB after {m.checkpoint:,}, {m.rss_end >> 20} MB "
        f"after {m.queries:,} ({m.growth:+.1%}, limit +{MEMORY_GROWTH:.0%})"
    )
    return [
        ("attacks: query bombs", result.bombs_ok, bomb_detail),
        ("attacks: distinct-query memory", m.ok, memory_detail),
    ]
