#!/usr/bin/env python3
"""How each gunicorn worker class copes with idle and slowloris connections.

For each worker class (``buffered``, searchapp's default; gunicorn's ``gthread`` and
``sync``) this starts ``searchapp serve --workers 2`` on the bundled article, times normal
requests on a quiet server, then again while 50 idle and 50 slowloris connections are held
(``stresslib.slow``) for ``--seconds`` (longer than the 10 s header timeout, so the slow
clients are cut off and reconnect). Prints one table. On 127.0.0.1 only.

    python scripts/slow_clients.py                 # all three, about 2 minutes
    python scripts/slow_clients.py --classes buffered --seconds 15
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.server import LiveServer, stop_servers_on_sigterm
from stresslib.slow import SlowClients, timed_get

from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index


def measure(index: Path, log: Path, worker_class: str, seconds: float, timeout: float) -> dict:
    server = LiveServer(index, log, workers=2, extra=("--worker-class", worker_class))
    try:
        quiet = [timed_get(server.port)[0] for _ in range(20)]
        held_times, failed = [], 0
        with SlowClients(server.port, idle=50, slowloris=50) as held:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                took, status = timed_get(server.port, timeout=timeout)
                held_times.append(took)
                failed += status != 200
                time.sleep(0.5)
            reconnects = held.reconnects
        return {
            "class": worker_class,
            "quiet_p50_ms": statistics.median(quiet) * 1000,
            "held_requests": len(held_times),
            "held_p50_ms": statistics.median(held_times) * 1000,
            "held_max_ms": max(held_times) * 1000,
            "held_failed": failed,
            "reconnects": reconnects,
        }
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", nargs="+", default=["buffered", "gthread", "sync"])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=35.0, help="per request")
    args = parser.parse_args()
    stop_servers_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        index = Path(tmp) / "index"
        build_index([BUNDLED_CORPUS], index)
        rows = [
            measure(index, Path(tmp) / f"{name}.log", name, args.seconds, args.timeout)
            for name in args.classes
        ]
    print(
        f"{'worker class':<12} {'quiet p50':>10} {'held: requests':>15} {'p50':>9} "
        f"{'max':>9} {'failed':>7} {'slow clients cut off':>21}"
    )
    for r in rows:
        print(
            f"{r['class']:<12} {r['quiet_p50_ms']:>8.1f}ms {r['held_requests']:>15} "
            f"{r['held_p50_ms']:>7.1f}ms {r['held_max_ms']:>7.0f}ms {r['held_failed']:>7} "
            f"{r['reconnects']:>21}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
