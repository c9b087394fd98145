#!/usr/bin/env python3
"""Benchmark searchapp against a naive Whoosh endpoint and SQLite FTS5 on one real corpus.

One run: build a corpus of article files from Debian package descriptions (English and Chinese)
and the Chinese man pages (``--chunks``, default 55,000 chunks, ~25% Chinese), build the three
indexes, then serve each engine in turn over HTTP on 127.0.0.1 and measure latency
percentiles (one client, a fixed mix of 200 queries), requests/s (8 clients), worker memory
and the time to the first answer. For searchapp also a no-change rerun and an incremental run
after editing 1% of the articles. Prints one table with the ratios searchapp/naive and
searchapp/FTS5. Data goes to ``bench-data/`` (git-ignored); results per engine are kept in
``bench-data/results/`` so ``--only`` runs still print all columns (marked ``*``).

No measured request repeats an earlier one (searchapp caches responses; see benchlib.load).
Before each build and each server the run waits for other processes to leave the CPUs alone
(``--wait-idle``) and reports how much CPU they took anyway.

    python scripts/bench.py                      # everything (several minutes)
    python scripts/bench.py --only peers --chunks 5000
    python scripts/bench.py --skip-build --only searchapp --json out.json

To measure a committed searchapp while its working tree changes, export it and point at it:

    mkdir /tmp/sa && git archive HEAD searchapp | tar -x -C /tmp/sa
    git rev-parse --short HEAD > /tmp/sa/REVISION
    python scripts/bench.py --searchapp-src /tmp/sa

``--html`` measures instead how fast real web pages are indexed: Debian's GIMP manual in English
and Chinese (``gimp-help-en``, ``gimp-help-zh-cn``, about 1,400 DocBook pages, fetched with
``apt-get download`` into bench-data/html/), a full build and a no-change rerun, in pages/s.

``--huge`` measures a full build of a corpus where a few articles hold much of the text (the 8
largest Chinese man pages, 45-245 KB, beside 3,000 English package descriptions): CPU time over
wall time says how many cores the parallel build kept busy; the naive build is timed beside it.

The sources: ``apt-get -o Acquire::Languages=en,zh_CN update`` (translation lists, copied into
bench-data/sources/ on first use) and ``apt-get install manpages-zh``; ``--fetch-sources`` runs
both when they are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import corpus, html_corpus, load, queries, report
from benchlib.sources import SourceMissing
from harness import procs
from harness.server import Server, free_port, stop_servers_on_sigterm

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
FIRST_QUERY = "debian"
BUILD_TIMEOUT = 3600
LOAD_POOL = 1000  # distinct queries for the req/s run (same mix of kinds, another seed)
SCALE_SIZES = (50_000, 150_000, 500_000)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes must be numbers like 50000,150000: {text!r}"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("each size must be at least 100 chunks")
    return tuple(sorted(set(sizes)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=55_000, help="corpus size in chunks")
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="reuse the corpus and the indexes in --data (build numbers come from the last run)",
    )
    parser.add_argument("--only", choices=["peers", "searchapp"], help="measure only these")
    parser.add_argument("--json", type=Path, help="write all results to this JSON file")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="work folder")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for req/s")
    parser.add_argument(
        "--load-seconds", type=float, help="req/s run length (default 20 s, 10 s with --scale)"
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="growth curve: build and serve searchapp and FTS5 at each of --sizes chunks",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=SCALE_SIZES,
        help="with --scale: corpus sizes in chunks, comma-separated (default 50000,150000,500000)",
    )
    parser.add_argument(
        "--smaps",
        action="store_true",
        help="also split each searchapp worker's PSS (anonymous, index by sub-file; needs root)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="with --scale: latency runs of each engine, taking turns (pooled; default 3)",
    )
    parser.add_argument("--queries", type=int, default=200, help="size of the query mix")
    parser.add_argument("--seed", type=int, default=5, help="seed for queries and edits")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="before serving each engine, wait up to this long for other processes to go quiet",
    )
    parser.add_argument(
        "--searchapp-src",
        type=Path,
        help="run searchapp from this source tree (e.g. a git worktree) instead of the install",
    )
    parser.add_argument(
        "--fetch-sources",
        action="store_true",
        help="apt-get the missing text sources (translation lists, manpages-zh)",
    )
    parser.add_argument(
        "--huge",
        action="store_true",
        help="only measure a full build of a corpus with a few huge articles (cores used)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="only measure the build rate of a real HTML corpus (the GIMP manual, en + zh_CN)",
    )
    args = parser.parse_args(argv)
    if args.load_seconds is None:
        args.load_seconds = 10.0 if args.scale else 20.0
    if args.chunks < 100:
        parser.error("--chunks must be at least 100")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def run_timed(cmd: list[str], timeout: float = BUILD_TIMEOUT, **kwargs) -> tuple[float, str]:
    """Run a command to completion; (wall seconds, stdout). Raise with its output on failure."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return seconds, done.stdout


def size_mb(path: Path) -> float:
    """Bytes under ``path`` (following symlinks to the folder itself), in MB."""
    real = Path(os.path.realpath(path))
    if real.is_file():
        return round(real.stat().st_size / 1e6, 1)
    total = sum(f.stat().st_size for f in real.rglob("*") if f.is_file())
    return round(total / 1e6, 1)


def searchapp_cmd(src: Path | None = None) -> list[str]:
    """How to run the searchapp CLI (from ``src`` when given, see :func:`searchapp_env`)."""
    if src is not None:
        # -P: not the working directory first on sys.path (the server runs in this checkout,
        # whose own searchapp would otherwise win over ``src``)
        return [sys.executable, "-P", "-c", "from searchapp.cli import main; main()"]
    beside = Path(sys.executable).parent / "searchapp"  # skips pyenv's shim
    exe = str(beside) if beside.exists() else shutil.which("searchapp")
    if exe:
        return [exe]
    return [sys.executable, "-c", "from searchapp.cli import main; main()"]


def searchapp_env(src: Path | None) -> dict[str, str]:
    """Environment that makes ``src`` (a source tree, e.g. a git worktree) win over the install."""
    if src is None:
        return {}
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}


def interpreter() -> str:
    """The Python both engines' servers run on: its build matters as much as a code change
    (a PGO-built CPython answered searchapp's queries a sixth faster than a plain one)."""
    return f"Python {platform.python_version()} ({sys.executable})"


def searchapp_revision(src: Path | None) -> str:
    """Which searchapp is measured: the git commit of its tree, ``+dirty`` if changed."""
    tree = src or ROOT
    try:
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain", "--", "searchapp"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if head.returncode != 0:
        stamp = tree / "REVISION"  # e.g. written next to a `git archive` export
        if stamp.exists():
            return f"{stamp.read_text(encoding='utf-8').strip()} (exported to {tree})"
        return f"source tree {tree} (not a git checkout)"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def results_path(data: Path, engine: str) -> Path:
    """Where one engine's last results are kept."""
    return data / "results" / f"{engine}.json"


def save_results(data: Path, engine: str, result: dict) -> None:
    """Keep an engine's results for later ``--only``/``--skip-build`` runs."""
    path = results_path(data, engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


def load_results(data: Path, engine: str) -> dict | None:
    """An engine's results from an earlier run, if any."""
    try:
        return json.loads(results_path(data, engine).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def wait_quiet(args: argparse.Namespace) -> None:
    """Wait (bounded by --wait-idle) until other processes leave the CPUs alone."""
    if args.wait_idle > 0:
        busy = procs.wait_for_quiet(timeout=args.wait_idle)
        if busy >= 0.25:
            print(f"  warning: other processes use {busy:.2f} CPU cores; numbers will suffer")


# --- building ----------------------------------------------------------------------------


def ensure_corpus(args: argparse.Namespace) -> dict:
    """Build the corpus, or reuse it with --skip-build."""
    manifest_path = args.data / "manifest.json"
    if args.skip_build and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("target_chunks") != args.chunks:
            print(f"note: reusing the corpus of {manifest['chunks']} chunks (--skip-build)")
        return manifest
    print(f"building a corpus of ~{args.chunks:,} chunks in {args.data}/corpus ...", flush=True)
    start = time.perf_counter()
    manifest = corpus.build_corpus(args.data, args.chunks, fetch=args.fetch_sources)
    print(
        f"  {manifest['articles']:,} articles, {manifest['chunks']:,} chunks "
        f"({manifest['zh_share']:.0%} Chinese), {manifest['bytes'] / 1e6:.1f} MB "
        f"in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return manifest


def peer_index(data: Path, engine: str) -> Path:
    """The peer's index folder (naive) or database file (fts5)."""
    return data / ("index-naive" if engine == "naive" else "fts5.sqlite")


def build_peer(args: argparse.Namespace, engine: str, cached: dict | None) -> dict:
    """Build a peer index in a subprocess; timing includes start-up and imports."""
    out = peer_index(args.data, engine)
    if args.skip_build and out.exists() and cached and cached.get("build"):
        return {**cached["build"], "cached": True}
    wait_quiet(args)
    print(f"building the {report.LABELS[engine]} index ...", flush=True)
    chunks = str(args.data / "chunks.jsonl")
    cmd = [sys.executable, "-m", "benchlib.peers", engine, chunks, str(out)]
    before = procs.cpu_snapshot()
    seconds, stdout = run_timed(cmd, cwd=SCRIPTS)
    other = procs.other_cpu(before, procs.cpu_snapshot())
    inner = json.loads(stdout.strip().splitlines()[-1])
    build = {
        "chunks": inner["docs"],
        "build_s": round(seconds, 2),
        "chunks_per_s": round(inner["docs"] / seconds, 1),
        "index_mb": size_mb(out),
        "build_other_cpu_cores": other,
    }
    print(f"  {build}", flush=True)
    return build


def _summary_chunks(summary: str) -> int | None:
    match = re.search(r"([\d,]+)\s+chunks", summary)
    return int(match.group(1).replace(",", "")) if match else None


def build_searchapp(
    args: argparse.Namespace, manifest: dict, cached: dict | None, full_only: bool = False
) -> dict:
    """Full build, no-change rerun and incremental run (unless ``full_only``) of ``searchapp
    index``."""
    index = args.data / "index-searchapp"
    source = args.data / "corpus"
    base = [*searchapp_cmd(args.searchapp_src), "index", "--source", str(source)]
    base += ["--index", str(index)]
    env = {**os.environ, **searchapp_env(args.searchapp_src)}
    build: dict = {}
    if args.skip_build and index.exists() and cached and cached.get("build"):
        build = {
            k: cached["build"][k]
            for k in ("chunks", "build_s", "chunks_per_s", "full_summary", "build_other_cpu_cores")
            if k in cached["build"]
        }
        build["cached_full_build"] = True
    else:
        wait_quiet(args)
        print("building the searchapp index (full) ...", flush=True)
        before = procs.cpu_snapshot()
        seconds, stdout = run_timed([*base, "--rebuild"], env=env)
        other = procs.other_cpu(before, procs.cpu_snapshot())
        summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
        chunks = _summary_chunks(summary) or manifest["chunks"]
        build = {
            "chunks": chunks,
            "build_s": round(seconds, 2),
            "chunks_per_s": round(chunks / seconds, 1),
            "full_summary": summary,
            "build_other_cpu_cores": other,
        }
        print(f"  {seconds:.1f} s: {summary}", flush=True)
    if full_only:
        current = index / "current"
        build["index_mb"] = size_mb(current if current.exists() else index)
        return build
    seconds, stdout = run_timed(base, env=env)
    build["rerun_s"] = round(seconds, 2)
    build["rerun_summary"] = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    print(f"  no-change rerun {seconds:.2f} s: {build['rerun_summary']}", flush=True)
    edited = corpus.edit_articles(source, 0.01, seed=args.seed)
    seconds, stdout = run_timed(base, env=env)
    build["incremental_s"] = round(seconds, 2)
    build["incremental_edited"] = len(edited)
    build["incremental_summary"] = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    print(
        f"  incremental ({len(edited)} articles edited) {seconds:.2f} s: "
        f"{build['incremental_summary']}",
        flush=True,
    )
    current = index / "current"  # searchapp keeps builds/ and serves the one this points to
    build["index_mb"] = size_mb(current if current.exists() else index)
    build["disk_mb"] = size_mb(index)
    return build


# --- serving -----------------------------------------------------------------------------


def server_cmd(args: argparse.Namespace, engine: str, port: int) -> tuple[list[str], dict]:
    """The command line and extra environment that serve one engine."""
    if engine == "searchapp":
        cmd = [
            *searchapp_cmd(args.searchapp_src),
            "serve",
            "--index",
            str(args.data / "index-searchapp"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        return cmd, searchapp_env(args.searchapp_src)
    factory = "create_naive_app()" if engine == "naive" else "create_fts5_app()"
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--pythonpath",
        str(SCRIPTS),
        "--timeout",
        "120",
        f"benchlib.peer_apps:{factory}",
    ]
    return cmd, {"BENCH_PEER_INDEX": str(peer_index(args.data, engine))}


def measure_server(
    args: argparse.Namespace,
    engine: str,
    mixes: dict[str, list[dict]],
    inspect: Callable[[Server], dict] | None = None,
) -> dict:
    """Serve one engine, measure start-up, latency, req/s and memory; always stop it.
    ``inspect(server)``, if given, runs after the memory reading, before the stop: its dict is
    kept as ``result["inspect"]`` (``pss_breakdown.py`` reads each worker's smaps there)."""
    result: dict = {}
    with start_server(args, engine, f"serve-{engine}.log") as server:
        port = server.port
        result["first_answer_s"] = round(server.ready_after, 2)
        warm = load.warm_up(port, mixes["warm"], clients=args.clients)
        result["warmup_s"] = warm["seconds"]
        cpu_before = procs.cpu_snapshot(server.process.pid)
        result["latency"] = load.latency_run(port, mixes["latency"])
        result["throughput"] = load.throughput_run(
            port, mixes["load"], clients=args.clients, seconds=args.load_seconds
        )
        result["other_cpu_cores"] = procs.other_cpu(
            cpu_before, procs.cpu_snapshot(server.process.pid)
        )
        result["memory"] = procs.tree_memory(server.process.pid)
        if inspect is not None:
            result["inspect"] = inspect(server)
    lat, thr = result["latency"], result["throughput"]
    print(
        f"  first answer {result['first_answer_s']} s; p50/p95/p99 {lat['p50_ms']}/"
        f"{lat['p95_ms']}/{lat['p99_ms']} ms; {thr['rps']} req/s "
        f"(load generator used {thr['client_cpu_share']:.0%} of a core); "
        f"worker RSS {result['memory']['worker_rss_mb']} MB, "
        f"PSS {result['memory']['worker_pss_mb']} MB; errors "
        f"{lat['errors'] + thr['errors']}; other processes used "
        f"{result['other_cpu_cores']} cores meanwhile",
        flush=True,
    )
    return result


def start_server(args: argparse.Namespace, engine: str, log_name: str) -> Server:
    """``engine`` served on a free port once other processes are quiet, ready when it has
    answered a first search (stopped by leaving the ``with`` block)."""
    port = free_port()
    cmd, env = server_cmd(args, engine, port)
    wait_quiet(args)
    print(f"serving {report.LABELS[engine]} on 127.0.0.1:{port} ...", flush=True)
    log = args.data / "logs" / log_name
    first = load.search_path(FIRST_QUERY)
    return Server(cmd, port, log, env=env, cwd=ROOT, ready_path=first, timeout=180, name=engine)


def latency_round(args: argparse.Namespace, engine: str, mixes: dict[str, list[dict]]) -> dict:
    """One more latency run of ``engine``: a fresh server, warmed up as in ``measure_server``
    (its caches as cold for the measured queries), then the latency queries; stopped."""
    with start_server(args, engine, f"serve-{engine}-round.log") as server:
        load.warm_up(server.port, mixes["warm"], clients=args.clients)
        return load.latency_run(server.port, mixes["latency"])


def alternate_latency_rounds(
    args: argparse.Namespace, engines: dict[str, dict], mixes: dict[str, list[dict]]
) -> None:
    """``--rounds``: more latency runs, the engines taking turns (the one that went second goes
    first next time), so a machine whose speed drifts by a fifth within minutes (this one)
    weighs on both alike; each engine's latency becomes all its runs' samples pooled."""
    names = list(engines)
    runs = {name: [engines[name]["serve"]["latency"]] for name in names}
    for number in range(1, args.rounds):
        order = names[::-1] if number % 2 else names
        for name in order:
            print(f"latency round {number + 1} of {args.rounds}: {name} ...", flush=True)
            runs[name].append(latency_round(args, name, mixes))
    for name in names:
        engines[name]["serve"]["latency"] = load.pooled_latency(runs[name])


def smaps_of_workers(server: Server) -> dict:
    """Each worker's PSS split by ``harness.smaps`` (printed too), for ``--smaps``."""
    from harness import smaps

    found = {}
    for pid in server.worker_pids():
        found[pid] = smaps.breakdown(pid)
        print(smaps.format_breakdown(found[pid]), flush=True)
    return found


def _inspector(args: argparse.Namespace, engine: str) -> Callable[[Server], dict] | None:
    return smaps_of_workers if args.smaps and engine == "searchapp" else None


def make_mixes(args: argparse.Namespace, chunks: list[dict]) -> dict[str, list[dict]]:
    """The measured, warm-up and req/s query mixes (disjoint), saved to queries.json."""
    mix = queries.make_queries(chunks, args.queries, args.seed)
    measured = {q["q"] for q in mix}
    mixes = {
        "latency": mix,
        "warm": [
            q
            for q in queries.make_queries(chunks, args.queries, args.seed + 1)
            if q["q"] not in measured
        ],
        "load": queries.make_queries(chunks, LOAD_POOL, args.seed + 2),
    }
    (args.data / "queries.json").write_text(
        json.dumps(mixes, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return mixes


def bench_html(args: argparse.Namespace) -> int:
    """Index the GIMP manual's pages (full build, then a no-change rerun); print pages/s."""
    try:
        folders = html_corpus.ensure_html(args.data)
    except html_corpus.HtmlMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pages = html_corpus.count_pages(folders)
    index = args.data / "html-index"
    cmd = searchapp_cmd(args.searchapp_src) + ["index", "--index", str(index), "-q"]
    for folder in folders:
        cmd += ["--source", str(folder)]
    wait_quiet(args)
    env = {**os.environ, **searchapp_env(args.searchapp_src)}
    build, out = run_timed(cmd + ["--rebuild"], env=env)
    rerun, _ = run_timed(cmd, env=env)
    chunks = _summary_chunks(out) or 0
    packages = ", ".join(html_corpus.PACKAGES)
    print(f"HTML corpus: {pages:,} pages ({packages})")
    print(f"  full build        {build:7.1f} s   {pages / build:6.1f} pages/s   {chunks:,} chunks")
    print(f"  no-change rerun   {rerun:7.2f} s")
    print(f"  index size        {size_mb(index / 'current'):7.1f} MB")
    print(f"  {out.strip()}")
    return 0


# --- a few huge articles -----------------------------------------------------------------

#: The largest Chinese man pages (100-300 KB each) beside this many English packages.
HUGE_PAGES = 8
HUGE_PACKAGES = 3000


def _timed_cpu(cmd: list[str], **kwargs) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and every process it waited for, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, stdout = run_timed(cmd, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, stdout


def bench_huge(args: argparse.Namespace) -> int:
    """Full builds of a corpus where a few articles hold much of the text: does the parallel
    build keep both cores busy (CPU time / wall time), and how does it compare to the naive
    single-writer build?"""
    from benchlib import sources

    data = args.data / "huge"
    try:
        sources.ensure_manpages(install=args.fetch_sources)
        paths = sources.cache_sources(args.data / "sources", fetch=args.fetch_sources)
    except SourceMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pages = [corpus.manpage_article(p) for p in sources.load_manpages("zh_CN")]
    pages.sort(key=lambda a: (-len(a.render().encode("utf-8")), a.slug))
    huge = pages[:HUGE_PAGES]
    packages = sorted(sources.load_packages(paths, "en"), key=lambda p: p.name)[:HUGE_PACKAGES]
    articles = sorted(huge + corpus.package_articles(packages, "en"), key=lambda a: a.filename)
    manifest = corpus.write_corpus(articles, data)
    huge_bytes = sum(len(a.render().encode("utf-8")) for a in huge)
    wait_quiet(args)
    env = {**os.environ, **searchapp_env(args.searchapp_src)}
    cmd = [*searchapp_cmd(args.searchapp_src), "index", "--source", str(data / "corpus")]
    wall, cpu, out = _timed_cpu([*cmd, "--index", str(data / "index"), "--rebuild"], env=env)
    wait_quiet(args)
    naive = [sys.executable, "-m", "benchlib.peers", "naive", str(data / "chunks.jsonl")]
    naive_wall, naive_cpu, _ = _timed_cpu([*naive, str(data / "index-naive")], cwd=SCRIPTS)
    print(
        f"corpus: {manifest['articles']:,} articles, {manifest['chunks']:,} chunks, "
        f"{manifest['bytes'] / 1e6:.1f} MB; the {len(huge)} largest Chinese man pages hold "
        f"{huge_bytes / manifest['bytes']:.0%} of it ({huge_bytes / len(huge) / 1e3:.0f} KB each)"
    )
    print(f"  searchapp full build  {wall:7.1f} s   CPU {cpu:7.1f} s   cores used {cpu / wall:.2f}")
    print(
        f"  naive Whoosh build    {naive_wall:7.1f} s   CPU {naive_cpu:7.1f} s   "
        f"cores used {naive_cpu / naive_wall:.2f}"
    )
    print(f"  searchapp/naive       {wall / naive_wall:.2f}x")
    print(f"  {out.strip()}")
    return 0


# --- growth curve ------------------------------------------------------------------------


def scale_point(args: argparse.Namespace, size: int) -> dict:
    """Corpus, builds and both servers at one size; the naive build only at the smallest."""
    point = argparse.Namespace(**vars(args))
    point.data = args.data / "scale" / str(size)
    point.data.mkdir(parents=True, exist_ok=True)
    print(f"\n=== {size:,} chunks ===", flush=True)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    manifest = corpus.build_corpus(
        point.data, size, fetch=args.fetch_sources, sources_dir=args.data / "sources"
    )
    mixes = make_mixes(point, corpus.load_chunks(point.data))
    stages["corpus and queries"] = time.perf_counter() - start
    print(
        f"  corpus: {manifest['articles']:,} articles, {manifest['chunks']:,} chunks "
        f"({manifest['zh_share']:.0%} Chinese), {manifest['bytes'] / 1e6:.1f} MB "
        f"in {stages['corpus and queries']:.0f} s (with the query mixes)",
        flush=True,
    )
    result: dict = {"size": size, "corpus": manifest, "engines": {}, "stages_s": stages}
    for engine in ("searchapp", "fts5"):
        start = time.perf_counter()
        if engine == "searchapp":
            build = build_searchapp(point, manifest, None, full_only=True)
        else:
            build = build_peer(point, engine, None)
        stages[f"{engine} build"] = time.perf_counter() - start
        start = time.perf_counter()
        serve = measure_server(point, engine, mixes, inspect=_inspector(args, engine))
        stages[f"{engine} serve"] = time.perf_counter() - start
        result["engines"][engine] = {"build": build, "serve": serve}
    if args.rounds > 1:
        start = time.perf_counter()
        alternate_latency_rounds(point, result["engines"], mixes)
        stages["latency rounds"] = time.perf_counter() - start
    if size == min(args.sizes):
        start = time.perf_counter()
        result["naive_build"] = build_peer(point, "naive", None)
        stages["naive build"] = time.perf_counter() - start
    print(
        "  stages: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in stages.items()),
        flush=True,
    )
    return result


def run_scale(args: argparse.Namespace) -> int:
    """``--scale``: the growth curve over ``--sizes``, printed as one table."""
    started = time.perf_counter()
    points = []
    revision = searchapp_revision(args.searchapp_src)
    try:
        for size in args.sizes:
            points.append(scale_point(args, size))
            if args.json:  # after each size, so a long run that is stopped keeps its points
                payload = {
                    "settings": vars(args),
                    "revision": revision,
                    "python": interpreter(),
                    "points": points,
                }
                args.json.write_text(
                    json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                    encoding="utf-8",
                )
    except SourceMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    minutes = (time.perf_counter() - started) / 60
    print()
    print(
        f"growth curve: searchapp revision {revision}; "
        f"{args.queries} queries; {args.workers} workers; {args.clients} clients for req/s; "
        f"{os.cpu_count()} CPUs; {minutes:.1f} minutes; {interpreter()}"
    )
    print(report.scale_table(points, args.clients))
    if args.rounds > 1:
        print(
            f"\nlatency: {args.rounds} runs of each engine taking turns, percentiles of all their"
            " samples; p50 of each run, searchapp/FTS5:"
        )
        for point in points:
            print(f"  {point['corpus']['chunks']:,} chunks: {report.rounds_line(point['engines'])}")
    print("\np50 over the queries both engines find something for, searchapp/FTS5:")
    for point in points:
        print(f"  {point['corpus']['chunks']:,} chunks: {report.both_found_line(point['engines'])}")
    for point in points:  # what makes up each p50: a kind's queries can be cheap by finding nothing
        print(f"\n{point['corpus']['chunks']:,} chunks, by query kind:")
        print(report.kind_table(point["engines"]))
    if args.json:
        print(f"\nresults written to {args.json}")
    return 0


# --- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    stop_servers_on_sigterm()
    args.data = args.data.resolve()
    if args.searchapp_src:
        args.searchapp_src = args.searchapp_src.resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    if args.html:
        return bench_html(args)
    if args.huge:
        return bench_huge(args)
    if args.scale:
        return run_scale(args)
    try:
        manifest = ensure_corpus(args)
    except SourceMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    chunks = corpus.load_chunks(args.data)
    mixes = make_mixes(args, chunks)
    mix = mixes["latency"]
    engines = {"peers": ["naive", "fts5"], "searchapp": ["searchapp"]}.get(
        args.only or "", ["searchapp", "naive", "fts5"]
    )
    results: dict = {}
    for engine in report.ENGINES:
        cached = load_results(args.data, engine)
        if engine not in engines:
            if cached:
                results[engine] = {**cached, "cached": True}
            continue
        if engine == "searchapp":
            build = build_searchapp(args, manifest, cached)
        else:
            build = build_peer(args, engine, cached)
        serve = measure_server(args, engine, mixes, inspect=_inspector(args, engine))
        results[engine] = {"build": build, "serve": serve}
        if engine == "searchapp":
            results[engine]["revision"] = searchapp_revision(args.searchapp_src)
        save_results(args.data, engine, results[engine])

    print()
    print(
        f"corpus: {manifest['articles']:,} articles, {manifest['chunks']:,} chunks, "
        f"{manifest['zh_share']:.0%} Chinese, {manifest['bytes'] / 1e6:.1f} MB; "
        f"{len(mix)} queries; {args.workers} workers; {os.cpu_count()} CPUs"
    )
    if "searchapp" in results:
        print(f"searchapp revision: {results['searchapp'].get('revision', 'unknown')}")
    print(report.table(results, args.clients, len(mix)))
    if any(r.get("cached") for r in results.values()):
        print("* from an earlier run (bench-data/results/)")
    print("ratios: time, size and memory below 1 favour searchapp; req/s and chunks/s above 1")
    print()
    print(report.kind_table(results))
    if args.json:
        payload = {"corpus": manifest, "settings": vars(args), "queries": mixes, "engines": results}
        args.json.write_text(
            json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
