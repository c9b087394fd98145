#!/usr/bin/env python3
"""Compare `searchapp serve` settings: worker class, workers and threads, under load.

A short run for choosing the defaults (README, "Production"): for each setting, a server on
the bundled and fixture articles, 8 clients for ``--seconds`` over the judged queries (each
request distinct, so the response cache never answers), then requests/s, p50/p99 latency
and resident memory per worker. The machine may be shared: run it twice, compare ratios.

    python scripts/serve_settings.py --seconds 8
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchlib.load import throughput_run
from harness.procs import rss_bytes
from harness.server import LiveServer, stop_servers_on_sigterm

from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = {
    "sync, 2 workers": ("--worker-class", "sync", "--workers", "2"),
    "gthread, 2x4": ("--worker-class", "gthread", "--workers", "2", "--threads", "4"),
    "buffered, 2x4": ("--workers", "2", "--threads", "4"),
    "buffered, 2x1 (default)": ("--workers", "2", "--threads", "1"),
    "buffered, 2x16": ("--workers", "2", "--threads", "16"),
    "buffered, 4x4": ("--workers", "4", "--threads", "4"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", nargs="*", help="names of settings to run")
    args = parser.parse_args()
    stop_servers_on_sigterm()
    judged = json.loads((ROOT / "tests" / "relevance" / "queries.json").read_text("utf-8"))
    queries = [{"q": item["q"]} for item in judged["queries"]]
    rows = []
    with tempfile.TemporaryDirectory(prefix="serve-settings-") as tmp:
        index = Path(tmp) / "index"
        build_index([BUNDLED_CORPUS, ROOT / "tests" / "fixtures" / "articles"], index)
        for name, extra in SETTINGS.items():
            if args.only and name not in args.only:
                continue
            server = LiveServer(index, Path(tmp) / "serve.log", workers=2, extra=extra)
            try:
                throughput_run(server.port, queries, clients=args.clients, seconds=2)  # warm
                result = throughput_run(
                    server.port, queries, clients=args.clients, seconds=args.seconds
                )
                memory = [rss_bytes(pid) / 1e6 for pid in server.worker_pids()]
            finally:
                server.stop()
            rows.append((name, result, max(memory)))
    print(
        f"{'setting':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'RSS/worker':>11}"
    )
    for name, r, memory in rows:
        print(
            f"{name:<26} {r['rps']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['errors']:>7} {memory:>9.0f}MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
