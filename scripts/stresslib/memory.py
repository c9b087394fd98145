"""Worker memory under a stream of distinct hostile queries (issue 13, finding 3).

Every query is different, so nothing is answered from the response cache and every cache
below it (decoded posting lists, jieba segmentations, stems, synonyms, expansions) sees new
keys: an unbounded one grows the workers for as long as the stream lasts. A few clients send
them over HTTP; every ``SAMPLE_EVERY`` answers the workers' proportional set size (PSS, from
``/proc/<pid>/smaps_rollup``: pages shared with the master, such as jieba's dictionary, count
once, split between the processes) is sampled. From the sample after ``settle`` queries on,
every sample must be within ``MEMORY_BAND`` of that one: memory settles once the caches are
full, it does not keep climbing.

The server should not recycle its workers during the run (``--max-requests 0``): a new
worker starts small again and would hide any growth. A replaced worker is reported.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from harness.procs import cpu_seconds, pss_bytes

MEMORY_BAND = 0.15
SAMPLE_EVERY = 1000
LETTERS = "abcdefghijklmnopqrstuvwxyz"
KINDS = ("64 English words", "900 Chinese characters", "fuzzy/prefix/phrase mix", "unknown terms")


def _word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(LETTERS, k=rng.randint(low, high)))


def _chinese(rng: random.Random, length: int) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length))


def distinct_query(rng: random.Random, i: int) -> str:
    """Query ``i`` of the stream: the four kinds of KINDS in turn, all random.

    900 Chinese characters, URL-encoded, stay under gunicorn's 8,190-byte request line.
    """
    kind = i % 4
    if kind == 0:
        return " ".join(_word(rng, 3, 10) for _ in range(64))
    if kind == 1:
        return _chinese(rng, rng.randint(860, 900))
    if kind == 2:
        parts = [
            _word(rng, 4, 12) + "~" + rng.choice("12"),
            _word(rng, 2, 4) + "*",
            '"' + " ".join(_word(rng, 3, 8) for _ in range(4)) + '"',
            _word(rng, 5, 9) + "~",
            _chinese(rng, 6) + " " + _word(rng, 3, 6) + "*",
            "-" + _word(rng, 4, 8),
        ]
        rng.shuffle(parts)
        return " ".join(parts)
    return f"{_word(rng, 6, 14)}{i} zz{_word(rng, 4, 8)}q"


@dataclass
class Sample:
    queries: int
    seconds: float
    pss: int
    pids: tuple[int, ...]
    cpu: float = 0.0


@dataclass
class MemoryResult:
    queries: int
    settle: int
    clients: int
    samples: list[Sample] = field(default_factory=list)
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    #: Answers other than 200, by kind of query (KINDS) and status.
    refused: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def settled(self) -> list[Sample]:
        return [s for s in self.samples if s.queries >= self.settle]

    @property
    def band(self) -> tuple[float, float]:
        """Lowest and highest settled sample relative to the first settled one."""
        settled = self.settled
        if not settled or not settled[0].pss:
            return (float("-inf"), float("inf"))
        ref = settled[0].pss
        return (min(s.pss for s in settled) / ref - 1, max(s.pss for s in settled) / ref - 1)

    @property
    def cpu_per_query(self) -> float:
        """Workers' CPU seconds per query (the run's length on an idle machine: this times
        the queries over the cores)."""
        if len(self.samples) < 2 or not self.samples[-1].queries:
            return 0.0
        return (self.samples[-1].cpu - self.samples[0].cpu) / self.samples[-1].queries

    @property
    def replaced_workers(self) -> bool:
        return len({s.pids for s in self.samples}) > 1

    @property
    def ok(self) -> bool:
        low, high = self.band
        return (
            self.failed == 0
            and len(self.settled) >= 2
            and -MEMORY_BAND <= low
            and high <= MEMORY_BAND
            and not self.replaced_workers
        )

    def curve(self) -> str:
        """One line per sample: queries, seconds, total PSS and its change from the first."""
        first = self.samples[0].pss if self.samples else 0
        lines = [f"  {'queries':>8}  {'seconds':>8}  {'workers PSS':>12}  {'vs start':>9}"]
        for s in self.samples:
            change = s.pss / first - 1 if first else 0.0
            mark = "  <- from here on within the band" if s.queries == self.settle else ""
            lines.append(
                f"  {s.queries:>8,}  {s.seconds:>8.0f}  {s.pss / 2**20:>9.1f} MB  "
                f"{change:>+9.1%}{mark}"
            )
        return "\n".join(lines)


def run_memory(
    port: int,
    pids_of,
    queries: int,
    clients: int = 4,
    seed: int = 0,
    settle: int | None = None,
    log=print,
) -> MemoryResult:
    """``queries`` distinct queries to ``/api/search`` from ``clients`` connections.

    Sampled every SAMPLE_EVERY answers (every 5% of a shorter run); ``settle`` defaults to
    the first quarter (5,000 of 20,000).
    """
    every = min(SAMPLE_EVERY, max(50, queries // 20))
    if settle is None:
        settle = queries // 4 // every * every
    result = MemoryResult(queries=queries, settle=settle, clients=clients)
    rng = random.Random(seed)
    texts = [distinct_query(rng, i) for i in range(queries)]
    lock = threading.Lock()
    next_index = 0
    done = 0
    started = time.monotonic()

    def sample(count: int) -> None:
        pids = tuple(pids_of())
        result.samples.append(
            Sample(
                count,
                time.monotonic() - started,
                sum(map(pss_bytes, pids)),
                pids,
                cpu_seconds(list(pids)),
            )
        )
        if count:
            latest = result.samples[-1]
            log(f"  {count:>6,} queries, {latest.seconds:5.0f} s: PSS {latest.pss >> 20} MB")

    sample(0)

    def client() -> None:
        nonlocal next_index, done
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    i = next_index
                    next_index += 1
                if i >= queries:
                    return
                try:
                    conn.request("GET", "/api/search?" + urlencode({"q": texts[i]}))
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status = 0
                with lock:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status != 200:
                        key = f"{status} to {KINDS[i % len(KINDS)]}"
                        result.refused[key] = result.refused.get(key, 0) + 1
                    # a 503 is the time budget turning a query away: an answer, not a failure
                    result.failed += status not in (200, 503)
                    done += 1
                    if done % every == 0 or done == queries:
                        sample(done)  # under the lock: the samples stay in order
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def detail(m: MemoryResult) -> str:
    """The report's line for the memory run."""
    low, high = m.band
    settled = m.settled
    at_settle = settled[0].pss >> 20 if settled else 0
    end = m.samples[-1].pss >> 20 if m.samples else 0
    return (
        f"{m.queries:,} distinct queries ({', '.join(KINDS)}; {m.clients} clients) in "
        f"{m.seconds:.0f} s ({m.cpu_per_query * 1000:.0f} ms of worker CPU a query), "
        f"{m.failed} failed"
        + "".join(f", {n}x {key}" for key, n in sorted(m.refused.items()))
        + f"; workers' PSS {m.samples[0].pss >> 20 if m.samples else 0} MB at start, "
        f"{at_settle} MB after {m.settle:,}, {end} MB at the end; from {m.settle:,} on "
        f"{low:+.1%} .. {high:+.1%} (limit +-{MEMORY_BAND:.0%})"
        + ("; a worker was replaced during the run" if m.replaced_workers else "")
    )
