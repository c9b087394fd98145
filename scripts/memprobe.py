#!/usr/bin/env python3
"""Find what grows a worker under distinct queries, in one process (issue 13, finding 3).

``stress.py --attacks-only N`` shows *that* a worker grows; this shows *what*. It builds the
same index (the small generated corpus and the hostile folder, ``stresslib``), makes the app
as ``searchapp serve`` does (``create_app``: query log, rate limiter, error handlers) and sends
every query of ``stresslib.memory.distinct_query`` through Flask's test client
(``/api/search?q=...``), so the whole request path runs (all but gunicorn). At each sample
it prints:

- the process's RSS, what Python holds (``sys.getallocatedblocks``; tracemalloc's traced
  bytes with ``--trace-from``), and glibc's heap (``mallinfo2``: in use, free
  inside the heap, mmapped): RSS growing while these stay flat is fragmentation, not a leak;
- every cache of searchapp (entries and bytes) and the sizes of the containers held by the
  objects a search touches (jieba's tokenizer, Whoosh's readers, the app), changed ones only;
- the object types whose live count grew most (``gc.get_objects``);
- with ``--trace-from N``, the allocation sites (by traceback) of what was allocated since
  query N and is still held.

    python scripts/memprobe.py                      # 6,000 queries, samples at 1k/3k/6k
    python scripts/memprobe.py --queries 4000 --samples 2000,4000 --trace-from 2000
    python scripts/memprobe.py --work /tmp/probe    # keep (and reuse) the index there
    python scripts/memprobe.py --live --queries 3000 --samples 500,1000,2000,3000
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import logging
import os
import random
import sys
import tempfile
import time
import tracemalloc
import types
from pathlib import Path
from urllib.parse import urlencode

from harness.procs import rss_bytes, smaps_rollup
from stresslib import attacks, corpus
from stresslib.memory import distinct_query

MB = 2**20


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_heap() -> dict[str, int] | None:
    """glibc's heap: bytes in use, free inside it, and mmapped blocks (None off glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
    except (OSError, AttributeError):
        return None
    info = libc.mallinfo2()
    return {"in use": info.uordblks, "free": info.fordblks, "mmapped": info.hblkhd}


def build_index(work: Path, seed: int) -> Path:
    """The attacks' index (``stress.py --attacks-only``), built once per work folder."""
    index = work / "attacks-index"
    if (index / "current").exists():
        return index
    versions = corpus.make_versions(work / "corpus", generated=60, markers=4, seed=seed)
    result, index = attacks.index_hostile(work, [versions.a])
    if result.returncode != 0:
        raise SystemExit(result.output)
    return index


def cache_sizes(app) -> dict[str, tuple[int, int]]:
    """(entries, bytes or 0) of every cache a search may fill."""
    from searchapp import analysis
    from searchapp.web import operations

    opened = app.extensions["searchapp.index"].open()
    out = {
        "responses": (len(opened.results), opened.results.nbytes),
        "filter masks": (len(opened.filters), opened.filters.nbytes),
        "posting lists": (len(opened.evaluator.terms_cache), opened.evaluator.terms_cache.nbytes),
        "segmentations": (len(analysis._SEGMENTATIONS), analysis._SEGMENTATIONS.nbytes),
    }
    queries = getattr(analysis, "_QUERY_SEGMENTATIONS", None)  # absent before the fix
    if queries is not None:
        out["query segmentations"] = (len(queries), queries.nbytes)
    out |= {
        "stems": (analysis._stem_short.cache_info().currsize, 0),
        "fold_char": (analysis.fold_char.cache_info().currsize, 0),
        "fold table": (len(analysis._FOLD_TABLE), 0),
        "synonym expansions": (len(opened.parser.synonyms._expansions), 0),
        "static hashes": (operations._file_version.cache_info().currsize, 0),
        "memo": (len(opened.memo), 0),
    }
    return out


def container_sizes(roots: dict[str, object], depth: int = 2) -> dict[str, int]:
    """len() of every dict, list, set or deque reachable from ``roots`` through attributes
    (``depth`` levels): an unbounded one shows as a number that keeps rising."""
    sizes: dict[str, int] = {}
    seen: set[int] = set()

    def walk(name: str, obj: object, level: int) -> None:
        if id(obj) in seen or level > depth or (level and isinstance(obj, types.ModuleType)):
            return  # (modules are roots of their own: reached here, their names would vary)
        seen.add(id(obj))
        if isinstance(obj, dict | list | set | collections.deque | collections.OrderedDict):
            sizes[name] = len(obj)
            if isinstance(obj, dict) and len(obj) < 64:
                for key, value in list(obj.items()):
                    if isinstance(key, str):
                        walk(f"{name}[{key!r}]", value, level + 1)
            return
        try:
            attrs = getattr(obj, "__dict__", None)
        except Exception:  # a context-bound proxy (Flask's request) outside a request
            return
        if isinstance(attrs, dict):
            for key, value in list(attrs.items()):
                walk(f"{name}.{key}", value, level + 1)

    for name, root in roots.items():
        walk(name, root, 0)
    return sizes


def roots_of(app) -> dict[str, object]:
    """The objects a search goes through, whose containers are watched."""
    import re

    opened = app.extensions["searchapp.index"].open()
    roots: dict[str, object] = {
        "app": app,
        "opened": opened,
        "evaluator": opened.evaluator,
        "reader": opened.evaluator.reader,
        "searcher": opened.searcher,
        "re._cache": getattr(re, "_cache", {}),
    }
    for n, (reader, _offset) in enumerate(opened.evaluator.segments):
        roots[f"segment{n}"] = reader
    for name, module in list(sys.modules.items()):
        if name.startswith(("jieba", "rjieba", "whoosh", "flask_limiter", "limits", "searchapp")):
            roots[f"module {name}"] = module
    return roots


def type_counts() -> collections.Counter:
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


SMAPS_FIELDS = ("Rss", "Pss", "Pss_Anon", "Shared_Dirty", "Private_Dirty", "Anonymous")


def smaps(pid: int) -> dict[str, int]:
    """A process's ``smaps_rollup`` fields of SMAPS_FIELDS (bytes): Private_Dirty rising while
    Rss stays is copy-on-write of pages shared with the master (jieba's dictionary), not new
    memory."""
    found = smaps_rollup(pid)
    return {name: found.get(name, 0) for name in SMAPS_FIELDS}


def live(index: Path, work: Path, texts: list[str], samples: list[int]) -> None:
    """The queries over HTTP to ``searchapp serve --max-requests 0`` (2 workers), one at a
    time, with the workers' memory from ``smaps_rollup`` at each sample."""
    import http.client

    from harness.server import LiveServer

    with LiveServer(index, work / "memprobe-serve.log", extra=("--max-requests", "0")) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        statuses: collections.Counter = collections.Counter()
        print(f"{'queries':>8}  " + "  ".join(f"{f:>13}" for f in SMAPS_FIELDS) + "  (MB, workers)")
        for i, q in enumerate(texts, 1):
            conn.request("GET", "/api/search?" + urlencode({"q": q}))
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
            if i in samples:
                total = collections.Counter()
                for pid in srv.worker_pids():
                    total.update(smaps(pid))
                cells = "  ".join(f"{total[f] / MB:>13.1f}" for f in SMAPS_FIELDS)
                print(f"{i:>8,}  {cells}  {dict(statuses)}", flush=True)
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=6000)
    parser.add_argument("--samples", default="1000,3000,6000", help="comma list of counts")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--work", type=Path, help="work folder (kept; its index reused)")
    parser.add_argument(
        "--trace-from",
        type=int,
        metavar="N",
        help="trace allocations (tracemalloc, much slower) from query N on: what is still "
        "held at a later sample was allocated since N",
    )
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--live",
        action="store_true",
        help="send them to a live server instead and show its workers' smaps_rollup",
    )
    parser.add_argument(
        "--budget-ms", type=float, help="the query budget (default: the server's, 2,000 ms)"
    )
    args = parser.parse_args(argv)
    samples = sorted({int(s) for s in args.samples.split(",")} | {args.queries})
    work = args.work or Path(tempfile.mkdtemp(prefix="searchapp-memprobe-"))
    work.mkdir(parents=True, exist_ok=True)
    index = build_index(work, args.seed)

    rng = random.Random(args.seed)  # the same stream as stress.py's
    texts = [distinct_query(rng, i) for i in range(args.queries)]
    if args.live:
        live(index, work, texts, samples)
        return 0

    from searchapp.analysis import analyze
    from searchapp.web import create_app

    analyze("预热 jieba warm-up", mode="index")
    logging.disable(logging.WARNING)  # budget 503s are expected: counted, not logged
    app_config = {"INDEX_DIR": str(index)}
    if args.budget_ms:
        app_config["QUERY_BUDGET_MS"] = args.budget_ms
    app = create_app(app_config)
    client = app.test_client()
    client.get("/api/search?q=warm+up+%E4%B8%AD%E6%96%87")
    statuses: collections.Counter = collections.Counter()
    first: dict | None = None
    started = time.process_time()
    for i, q in enumerate(texts, 1):
        if i - 1 == args.trace_from:
            tracemalloc.start(8)
        statuses[client.get("/api/search?" + urlencode({"q": q})).status_code] += 1
        if i not in samples:
            continue
        gc.collect()
        now = {
            "rss": rss_bytes(os.getpid()),
            "blocks": sys.getallocatedblocks(),
            "traced": tracemalloc.get_traced_memory()[0],
            "heap": malloc_heap(),
            "caches": cache_sizes(app),
            "containers": container_sizes(roots_of(app)),
            "types": type_counts(),
            "snapshot": tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None,
        }
        report(i, now, first, time.process_time() - started, statuses, args.top)
        if first is None:
            first = now
    return 0


def report(i: int, now: dict, first: dict | None, cpu: float, statuses, top: int) -> None:
    heap = now["heap"] or {}
    print(f"\n=== {i:,} queries ({cpu:.0f} s CPU; statuses {dict(statuses)}) ===")
    line = f"RSS {now['rss'] / MB:.1f} MB; Python blocks {now['blocks']:,}"
    if now["traced"]:
        line += f"; traced {now['traced'] / MB:.1f} MB"
    line += "".join(f"; malloc {k} {v / MB:.1f} MB" for k, v in heap.items())
    print(line)
    if first is not None:
        change = (now["rss"] - first["rss"]) / MB
        traced = (now["traced"] - first["traced"]) / MB
        print(f"  since the first sample: RSS {change:+.1f} MB, traced {traced:+.1f} MB")
    print("caches (entries, bytes):")
    for name, (n, nbytes) in now["caches"].items():
        print(f"  {name:<20} {n:>8,}  {nbytes / MB:>7.1f} MB")
    if first is None:
        return
    grown = [
        (name, first["containers"].get(name, 0), n)
        for name, n in now["containers"].items()
        if n != first["containers"].get(name, 0)
    ]
    grown.sort(key=lambda g: g[1] - g[2])
    print("containers whose size changed since the first sample:")
    for name, was, n in grown[:top]:
        print(f"  {name[:90]:<90} {was:>8,} -> {n:,}")
    print("object types that grew most:")
    growth = now["types"].copy()
    growth.subtract(first["types"])
    for name, n in growth.most_common(top):
        if n > 0:
            print(f"  {name:<30} +{n:,} (now {now['types'][name]:,})")
    if now["snapshot"] is not None:
        print("allocation sites that grew most (since tracing started):")
        diffs = now["snapshot"].statistics("traceback")
        for stat in diffs[:top]:
            frames = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback]
            print(
                f"  {stat.size / MB:+7.2f} MB {stat.count:+8,} blocks  "
                + " < ".join(reversed(frames[-6:]))
            )
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
