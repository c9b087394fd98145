"""Prometheus metrics, summed over gunicorn's workers (prometheus-client multiprocess mode).

``serve --metrics`` gives each server start a fresh, empty ``PROMETHEUS_MULTIPROC_DIR``
before this module is imported (prometheus-client picks its storage at import time), and
gunicorn's ``child_exit`` hook calls ``worker_exited`` so a dead worker's gauges go away.
Without that variable (tests, a single process) the metrics live in the process.

Labels stay few: the route is the URL rule (``/articles/<path:article_id>``), never the path.
"""

from __future__ import annotations

import os
import re
import threading
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

from searchapp.ops.health import build_age

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "searchapp_http_requests", "HTTP requests answered.", ["route", "method", "status"]
)
REQUEST_SECONDS = Histogram(
    "searchapp_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["route", "status"],
    buckets=LATENCY_BUCKETS,
)
SEARCH_SECONDS = Histogram(
    "searchapp_search_duration_seconds",
    "Time to answer a search, by query class (empty, en, zh, mixed, syntax).",
    ["query_class"],
    buckets=LATENCY_BUCKETS,
)
SEARCHES = Counter("searchapp_searches", "Searches answered.", ["query_class"])
ZERO_RESULTS = Counter(
    "searchapp_zero_result_searches", "Searches that found nothing.", ["query_class"]
)
CACHE = Counter(
    "searchapp_search_cache_lookups", "Response cache lookups by result (hit, miss).", ["result"]
)
WORKER_MEMORY = Gauge(
    "searchapp_worker_resident_memory_bytes",
    "Resident memory of each live worker process.",
    multiprocess_mode="liveall",
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z0-9]")
_SYNTAX = re.compile(r'["*?~:()\[\]]|(?:^|\s)-\S|\b(?:OR|AND|NOT)\b')
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def query_class(q: str) -> str:
    """``empty``, ``syntax`` (quotes, operators, wildcards, fields), ``zh``, ``en`` or ``mixed``."""
    if not q.strip():
        return "empty"
    if _SYNTAX.search(q):
        return "syntax"
    cjk, latin = bool(_CJK.search(q)), bool(_LATIN.search(q))
    return "mixed" if cjk and latin else "zh" if cjk else "en"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route, str(status)).observe(seconds)


def observe_search(q: str, seconds: float, total: int) -> None:
    kind = query_class(q)
    SEARCHES.labels(kind).inc()
    SEARCH_SECONDS.labels(kind).observe(seconds)
    if not total:
        ZERO_RESULTS.labels(kind).inc()


class CacheCounter:
    """Moves the cache counters by what an index handle counted since the last look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, tuple[int, int]] = {}

    def update(self, handle) -> None:
        hits, misses = getattr(handle, "cache_hits", 0), getattr(handle, "cache_misses", 0)
        with self._lock:
            old_hits, old_misses = self._seen.get(id(handle), (0, 0))
            self._seen[id(handle)] = (hits, misses)
        if hits > old_hits:
            CACHE.labels("hit").inc(hits - old_hits)
        if misses > old_misses:
            CACHE.labels("miss").inc(misses - old_misses)


_memory_checked = 0.0


def update_worker_memory(every: float = 1.0) -> None:
    """Record this process's resident memory (at most once a second)."""
    global _memory_checked
    now = time.monotonic()
    if now - _memory_checked < every:
        return
    _memory_checked = now
    try:
        with open("/proc/self/statm") as statm:
            WORKER_MEMORY.set(int(statm.read().split()[1]) * _PAGE_SIZE)
    except (OSError, ValueError, IndexError):
        pass


class IndexCollector:
    """The index the scraping worker serves: build id, age, articles, chunks (read at scrape)."""

    def __init__(self, handle):
        self.handle = handle

    def collect(self):
        try:
            manifest = self.handle.open().manifest
        except Exception:  # no index: /readyz says so; the metrics just lack these
            return
        info = InfoMetricFamily("searchapp_index_build", "The index build being served.")
        info.add_metric([], {"build": str(manifest.get("build", ""))})
        yield info
        age = build_age(manifest)
        if age is not None:
            yield GaugeMetricFamily(
                "searchapp_index_age_seconds", "Seconds since the index build was made.", age
            )
        stats = manifest.get("stats", {})
        for name in ("articles", "chunks"):
            yield GaugeMetricFamily(
                f"searchapp_index_{name}", f"{name.capitalize()} in the index.", stats.get(name, 0)
            )


class _Together:
    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition(handle) -> tuple[bytes, str]:
    """The metrics text of every worker (or this process) and the index, with its type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        source = MultiProcessCollector(None)
    else:
        source = REGISTRY
    return generate_latest(_Together(source, IndexCollector(handle))), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn's ``child_exit``: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
