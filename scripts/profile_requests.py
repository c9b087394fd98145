#!/usr/bin/env python3
"""CPU per search request, in-process: the bench's query mix through Flask's test client.

Wall-clock latency moves with whatever else the machine runs; the CPU time a process spends
answering does not, so this is how a change to the request path is measured on a busy
machine. It opens an index built by the bench (``scripts/bench.py`` leaves
``<data>/index-searchapp`` and ``<data>/queries.json``), warms up on the bench's warm-up
queries, then sends the measured mix as the bench does (``/api/search?q=...&per_page=10``),
``--passes`` times with the response cache emptied before each pass, and prints the process
CPU time per request (median over passes), then the same for the HTML search page, then a
cProfile of one more API pass (top ``--top`` by cumulative and by own time).

The app is configured as ``searchapp serve`` configures it (query log on, metrics off); the
query log goes to a temporary folder whose ``current`` points at the bench's build, so the
bench's data is only read. Whichever ``searchapp`` is importable is measured: to measure
another commit, ``git worktree add /tmp/old <commit>`` and run with ``PYTHONPATH=/tmp/old``.

``--save-digests FILE`` writes a digest of every response body (the API ungrouped and grouped,
and the HTML page; ``took_ms`` blanked); ``--check-against FILE`` compares with such a file
and exits 1 when any body differs: a speed change must not change an answer.

    python scripts/profile_requests.py --data /tmp/bench-before --save-digests /tmp/d.json
    python scripts/profile_requests.py --data /tmp/bench-before --check-against /tmp/d.json
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from benchlib.load import search_path

_TOOK = re.compile(rb'"took_ms":\s*[0-9.eE+-]+')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("bench-data"), help="a bench's data")
    parser.add_argument("--passes", type=int, default=3, help="timed passes (median reported)")
    parser.add_argument("--top", type=int, default=25, help="profile rows shown per order")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile pass")
    parser.add_argument("--save-digests", type=Path, help="write response digests here")
    parser.add_argument("--check-against", type=Path, help="compare response digests with")
    return parser.parse_args(argv)


def make_app(data: Path, scratch: Path):
    """The app as ``serve`` makes it, reading the bench's current build: jieba loaded and
    what is loaded so far frozen out of the garbage collector (its full passes over jieba's
    dictionary came at random and made passes differ by a third)."""
    from searchapp.analysis import analyze
    from searchapp.serving import WORKER_GC_THRESHOLDS
    from searchapp.web import create_app

    build = (data / "index-searchapp" / "current").resolve()
    if not build.is_dir():
        sys.exit(f"no index in {data / 'index-searchapp'}: run scripts/bench.py first")
    (scratch / "current").symlink_to(build)
    analyze("预热 jieba warm-up", mode="index")
    app = create_app({"INDEX_DIR": str(scratch), "QUERY_LOG": True, "METRICS": False})
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)  # as the server sets them
    return app


def page_path(q: str) -> str:
    """The HTML search page of a query (grouped by article, the page's default)."""
    return f"/search?q={quote(q)}"


def forget_responses(app) -> None:
    """Empty the response cache, so a pass answers every query again (the bench never
    repeats a request); the term and analysis caches stay warm, as in a serving worker."""
    app.extensions["searchapp.index"].open().results.clear()


def send_all(client, paths: list[str]) -> list[bytes]:
    bodies = []
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path}: HTTP {response.status_code}")
        bodies.append(response.get_data())
    return bodies


def timed_passes(app, client, paths: list[str], passes: int) -> tuple[list[float], list[bytes]]:
    """CPU ms per request of each pass, and the bodies of the first."""
    per_request, first = [], []
    for i in range(passes):
        forget_responses(app)
        start = time.process_time()
        bodies = send_all(client, paths)
        per_request.append((time.process_time() - start) * 1000 / len(paths))
        if i == 0:
            first = bodies
        elif digests_of(bodies) != digests_of(first):
            sys.exit("a pass answered differently from the first: responses are not stable")
    return per_request, first


def report(label: str, cpu: list[float]) -> None:
    print(
        f"{label}: CPU {statistics.median(cpu):.2f} ms/request (median of {len(cpu)} passes; "
        f"fastest {min(cpu):.2f}; all: {', '.join(f'{c:.2f}' for c in cpu)})"
    )


def digests_of(bodies: list[bytes]) -> list[str]:
    return [hashlib.sha256(_TOOK.sub(b'"took_ms":0', body)).hexdigest()[:16] for body in bodies]


def profile_pass(app, client, paths: list[str], top: int) -> None:
    forget_responses(app)
    profiler = cProfile.Profile()
    profiler.enable()
    send_all(client, paths)
    profiler.disable()
    calls = sum(stat[1] for stat in pstats.Stats(profiler).stats.values())
    print(f"\nfunction calls per API request (deterministic): {calls / len(paths):,.0f}")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        text = out.getvalue()
        print(f"\n--- profile of one API pass, top {top} by {order} ---")
        print(text[text.find("   ncalls") :].rstrip())


def check_digests(found: dict, path: Path) -> int:
    """Print and count the responses that differ from the digests saved in ``path``."""
    expected = json.loads(path.read_text(encoding="utf-8"))
    differ = 0
    for kind, by_query in expected.items():
        for q, digest in by_query.items():
            if found.get(kind, {}).get(q) != digest:
                differ += 1
                if differ <= 10:
                    print(f"  DIFFERS: {kind} {q!r}")
    total = sum(len(v) for v in expected.values())
    print(f"digest check against {path}: {total - differ} of {total} responses identical")
    return differ


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mixes = json.loads((args.data / "queries.json").read_text(encoding="utf-8"))
    measured = [q["q"] for q in mixes["latency"]]
    warm = [q["q"] for q in mixes["warm"]]
    with tempfile.TemporaryDirectory(prefix="searchapp-profile-") as scratch:
        app = make_app(args.data, Path(scratch))
        import searchapp

        print(f"searchapp from {Path(searchapp.__file__).parent}; {len(measured)} queries")
        client = app.test_client()
        send_all(client, [search_path(q) for q in warm] + [page_path(q) for q in warm[:50]])

        api = [search_path(q) for q in measured]
        cpu, api_bodies = timed_passes(app, client, api, args.passes)
        report("API  /api/search", cpu)
        pages = [page_path(q) for q in measured]
        cpu, page_bodies = timed_passes(app, client, pages, args.passes)
        report("HTML /search    ", cpu)
        forget_responses(app)
        grouped = send_all(client, [search_path(q) + "&group=article" for q in measured])
        kinds = {"api": api_bodies, "api_grouped": grouped, "html": page_bodies}
        found = {
            kind: dict(zip(measured, digests_of(bodies), strict=True))
            for kind, bodies in kinds.items()
        }
        if args.save_digests:
            args.save_digests.write_text(json.dumps(found, indent=1, ensure_ascii=False))
            print(f"digests of {3 * len(measured)} responses saved to {args.save_digests}")
        differ = check_digests(found, args.check_against) if args.check_against else 0
        if not args.no_profile:
            profile_pass(app, client, api, args.top)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
