#!/usr/bin/env python3
"""Where a searchapp worker's memory (PSS) goes, after the bench's load.

``bench.py`` reports one PSS per worker. This serves the searchapp index of a bench data folder
the way ``bench.py`` measures it (``searchapp serve``, 2 workers, the warm-up, the 200-query
latency run, the req/s run with 8 clients), then reads each worker's ``/proc/<pid>/smaps``
(``harness.smaps``): anonymous memory (private to the worker, or still shared with the master
it was forked from) and file-backed memory by file, the index's ``.seg`` files by sub-file
(postings ``.pst``, term index ``.trm``, impacts ``.imp``, columns ``.col`` ...). Needs root
(``/proc/kpagecount``).

    python scripts/bench.py --only searchapp --chunks 150000 --data /tmp/pss150   # once
    python scripts/pss_breakdown.py --data /tmp/pss150

``bench.py --smaps`` prints the same breakdown in its own runs (``--scale`` included).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import bench
from benchlib import corpus
from harness.server import stop_servers_on_sigterm


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the serving ones as ``bench.py`` takes them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a bench.py --data folder")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for req/s")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="req/s run length")
    parser.add_argument("--wait-idle", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--searchapp-src", type=Path, help="as bench.py's option")
    parser.add_argument("--json", type=Path, help="write the breakdowns to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve, load, break the workers' PSS down."""
    own = parse_args(argv)
    stop_servers_on_sigterm()
    args = bench.parse_args(["--data", str(own.data)])
    args.data = own.data.resolve()
    args.workers, args.clients = own.workers, own.clients
    args.load_seconds, args.wait_idle = own.load_seconds, own.wait_idle
    args.searchapp_src = own.searchapp_src.resolve() if own.searchapp_src else None
    if not (args.data / "index-searchapp").exists():
        print(f"error: no {args.data}/index-searchapp: run bench.py first", file=sys.stderr)
        return 1
    mixes_path = args.data / "queries.json"
    if mixes_path.exists():
        mixes = json.loads(mixes_path.read_text(encoding="utf-8"))
    else:
        mixes = bench.make_mixes(args, corpus.load_chunks(args.data))
    print(f"searchapp revision {bench.searchapp_revision(args.searchapp_src)}", flush=True)
    result = bench.measure_server(args, "searchapp", mixes, inspect=bench.smaps_of_workers)
    if own.json:
        own.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
