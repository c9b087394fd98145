"""HTTP load: sequential latency percentiles and requests/s with concurrent clients.

searchapp keeps a per-worker cache of recent responses, so a measured request must never
repeat an earlier one: the warm-up uses other queries than the latency run, the req/s run
draws from a separate pool, and when it wraps around the pool each round adds one more
trailing space (same work for every engine, a new cache key for searchapp).

Plain ``http.client`` over 127.0.0.1 (it reconnects by itself when a server closes the
connection after each response, as gunicorn's sync workers do). Every loop is bounded by a
request count and a deadline.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import quote

from harness.client import fetch, run_clients
from harness.stats import percentile

REQUEST_TIMEOUT = 60.0


def search_path(q: str, per_page: int = 10) -> str:
    """The API path for one query (the peers ignore ``per_page``)."""
    return f"/api/search?q={quote(q)}&per_page={per_page}"


def _summary(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        return {"hits": 0, "snippets": 0}
    hits = data.get("hits") or []
    return {
        "hits": len(hits),
        "snippets": sum(1 for h in hits if isinstance(h, dict) and h.get("snippet")),
        "total": data.get("total"),
        "took_ms": data.get("took_ms"),
    }


def latency_run(port: int, queries: list[dict], deadline_s: float = 600.0) -> dict:
    """Each query once, one client, in order: per-request wall times and result counts."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    samples: list[dict] = []
    errors = 0
    stop_at = time.monotonic() + deadline_s
    try:
        for query in queries:
            if time.monotonic() > stop_at:
                break
            start = time.perf_counter()
            try:
                status, body = fetch(conn, search_path(query["q"]))
            except (OSError, http.client.HTTPException):
                status, body = 0, b""
            ms = (time.perf_counter() - start) * 1000
            if status != 200:
                errors += 1
                continue
            summary = _summary(body)
            samples.append(
                {
                    "q": query["q"],
                    "kind": query["kind"],
                    "ms": round(ms, 3),
                    "hits": summary["hits"],
                    "snippets": summary["snippets"],
                }
            )
    finally:
        conn.close()
    return summarize_latency(samples, errors)


def pooled_latency(runs: list[dict]) -> dict:
    """One summary of several ``latency_run`` results (their samples together), with each
    run's p50 kept in ``rounds_p50_ms``."""
    samples = [s for run in runs for s in run["samples"]]
    pooled = summarize_latency(samples, sum(run["errors"] for run in runs))
    pooled["rounds_p50_ms"] = [run["p50_ms"] for run in runs]
    return pooled


def summarize_latency(samples: list[dict], errors: int) -> dict:
    """Percentiles, per query kind and in all, of ``latency_run``'s samples."""
    times = [s["ms"] for s in samples]
    by_kind: dict[str, dict] = {}
    for kind in sorted({s["kind"] for s in samples}):
        kind_samples = [s for s in samples if s["kind"] == kind]
        kind_times = [s["ms"] for s in kind_samples]
        by_kind[kind] = {
            "n": len(kind_samples),
            "p50_ms": round(percentile(kind_times, 50), 2),
            "p95_ms": round(percentile(kind_times, 95), 2),
            "zero_hit": sum(1 for s in kind_samples if not s["hits"]),
        }
    return {
        "requests": len(samples),
        "errors": errors,
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(sum(times) / len(times), 2) if times else 0.0,
        "zero_hit": sum(1 for s in samples if not s["hits"]),
        "no_snippet": sum(1 for s in samples if s["hits"] and not s["snippets"]),
        "by_kind": by_kind,
        "slowest": sorted(
            ({"q": s["q"], "kind": s["kind"], "ms": round(s["ms"], 1)} for s in samples),
            key=lambda s: -s["ms"],
        )[:5],
        "samples": samples,
    }


def throughput_run(
    port: int, queries: list[dict], clients: int = 8, seconds: float = 20.0, max_requests: int = 0
) -> dict:
    """``clients`` threads take queries in order for ``seconds``; requests/s.

    After the last query the pool is reused with one more trailing space per round.
    """
    max_requests = max_requests or len(queries) * 50
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "errors": 0}
    times: list[float] = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    stop_at = start + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while time.perf_counter() < stop_at:
                with lock:
                    if state["next"] >= max_requests:
                        return
                    index = state["next"]
                    state["next"] += 1
                rounds, slot = divmod(index, len(queries))
                q = queries[slot]["q"] + " " * rounds  # never repeat a cached request
                t0 = time.perf_counter()
                try:
                    status, _ = fetch(conn, search_path(q))
                except (OSError, http.client.HTTPException):
                    status = 0
                elapsed = time.perf_counter() - t0
                with lock:
                    if status == 200:
                        state["done"] += 1
                        times.append(elapsed * 1000)
                    else:
                        state["errors"] += 1
        finally:
            conn.close()

    run_clients(client, clients, timeout=seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu_start
    return {
        "clients": clients,
        "client_cpu_share": round(client_cpu / elapsed, 2) if elapsed else 0.0,
        "seconds": round(elapsed, 2),
        "requests": state["done"],
        "errors": state["errors"],
        "rps": round(state["done"] / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(times, 50), 2),
        "p99_ms": round(percentile(times, 99), 2),
    }


def warm_up(port: int, queries: list[dict], clients: int = 8, seconds: float = 60.0) -> dict:
    """Send every query once, concurrently, so both workers have loaded what they load lazily.

    Use other queries than the measured ones, or searchapp answers those from its cache.
    """
    return throughput_run(port, queries, clients, seconds, max_requests=len(queries))
