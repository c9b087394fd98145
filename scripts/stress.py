#!/usr/bin/env python3
"""Stress searchapp: load, rebuilds under load, SIGKILLs, a damaged index, hostile input.

One run, on 127.0.0.1 only, in a temporary folder:

1. Two versions of a corpus (``stresslib.corpus``: generated articles + the bundled article +
   the fixture articles; B adds marker articles, edits one and deletes one) and an index of A
   served by ``searchapp serve --workers 2``. Every request of the pool is asked once on A and,
   after a live rebuild to B (which must show without a restart), once on B: the references.
2. Load: ``--clients`` concurrent clients for ``--duration`` seconds over the mix; zero failed
   requests and every answer equal to the reference.
3. The same load while ``searchapp index --rebuild`` runs in a loop, alternately from A and
   B, on the served index: zero failed requests and every answer exactly A's or B's
   (``/healthz`` stats, marker and stable-word counts included), never a mix, never empty.
4. A gunicorn worker SIGKILLed under load (``--worker-kills`` times): replaced, and no failed
   request but the one the killed worker was answering. Then the load again while incremental
   runs (no ``--rebuild``) alternate between A and B: no failure, and totals, facets and stats
   exactly A's or B's (scores may drift: Whoosh counts deleted documents until a merge).
5. ``searchapp index`` (``--rebuild`` or incremental after the sources changed) SIGKILLed at
   ``--kills`` random moments (seeded): the index stays readable and equal to the old or the
   new content, and the next run completes.
6. Attacks (``stresslib.attacks``), against a bare ``searchapp serve`` (default settings) of
   the corpus plus a folder of hostile files: indexing them (padded caption lines, 100,000
   tiny blocks, links out of the folder) within 60 s, links never served; normal requests each
   answered within 1 s while 50 idle and 50 slowloris connections are held; query bombs
   (ranges, ``[TO`` x 330, long fuzzy terms, regex-like wildcards, stored fields...) each
   under 1 s of server CPU, no 5xx but a budget 503; no server path in any answer. Then, on
   a server that never recycles its workers, many distinct hostile queries (64 words, 900
   Chinese characters, fuzzy/prefix/phrase mixes, unknown terms) with the workers' PSS
   sampled every 1,000: within 15% of the sample after 5,000 to the end.
7. A ``*.seg`` file of ``index/current`` truncated: ``serve`` and ``search`` exit non-zero with
   a message that says to rebuild (no traceback); ``index --rebuild`` repairs it.

Prints one summary table; exits 1 if any check failed.

    python scripts/stress.py              # full length (about 5 minutes on 2 cores)
    python scripts/stress.py --short      # about a minute
    python scripts/stress.py --duration 20 --kills 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness.procs import open_files
from harness.server import LiveServer, stop_servers_on_sigterm
from stresslib import attacks, corpus, faults, mix, report
from stresslib.load import Load, load_during_loop, rebuild_and_watch, run_index

FULL = {
    "duration": 60.0,
    "clients": 32,
    "generated": 300,
    "markers": 30,
    "pool": 1200,
    "kills": 20,
    "worker_kills": 3,
    "damage": ("half", "100 bytes", "empty"),
    "attack_queries": 20_000,
}
SHORT = {
    "duration": 5.0,
    "clients": 32,
    "generated": 60,
    "markers": 12,
    "pool": 300,
    "kills": 3,
    "worker_kills": 1,
    "damage": ("half",),
    "attack_queries": 2_000,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--duration", type=float, help="seconds of each load phase [60; 5]")
    parser.add_argument("--clients", type=int, help="concurrent clients [32]")
    parser.add_argument("--kills", type=int, help="indexer SIGKILLs [20; 3]")
    parser.add_argument("--worker-kills", type=int, help="worker SIGKILLs under load [3; 1]")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument("--seed", type=int, default=6, help="seed of corpus, mix and kills [6]")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--attacks-only",
        type=int,
        metavar="N",
        help="only the attacks section, with N distinct queries (0: none), on a small "
        "generated corpus",
    )
    args = parser.parse_args(argv)
    settings = dict(SHORT if args.short else FULL)
    for name in ("duration", "clients", "kills", "worker_kills"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if not 1 <= settings["duration"] <= 3600:
        parser.error("--duration must be between 1 and 3600 seconds")
    if not 1 <= settings["clients"] <= 256:
        parser.error("--clients must be between 1 and 256")
    if not 0 <= settings["kills"] <= 500 or not 0 <= settings["worker_kills"] <= 50:
        parser.error("--kills must be 0-500 and --worker-kills 0-50")
    args.settings = settings
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, work: Path) -> report.Report:
    s = args.settings
    out = report.Report(
        started=dt.datetime.now(dt.UTC),
        mode="short" if args.short else "full",
        settings=s,
        seed=args.seed,
        workers=args.workers,
    )
    versions = corpus.make_versions(
        work / "corpus", generated=s["generated"], markers=s["markers"], seed=args.seed
    )
    sources = {"A": versions.a, "B": versions.b}

    log("references: a clean index of each version ...")
    states = {}
    for name in ("A", "B"):
        code, _, output = run_index(sources[name], work / f"reference-{name}", rebuild=True)
        if code != 0:
            raise RuntimeError(f"indexing version {name} failed:\n{output}")
        states[name] = faults.index_state(work / f"reference-{name}")
    out.states = states
    pool = mix.build_pool(versions.a, s["pool"], seed=args.seed)
    out.pool = len(pool)

    served = work / "served-index"
    code, _, output = run_index(versions.a, served, rebuild=True)
    if code != 0:
        raise RuntimeError(f"indexing failed:\n{output}")
    log(f"serving {served} with {args.workers} workers ...")
    with LiveServer(served, work / "serve.log", workers=args.workers) as srv:
        out.ready_after = srv.ready_after
        references = {"A": mix.capture(srv.port, pool)}
        out.live_swap = rebuild_and_watch(srv, versions.b, states["B"]["stats"])
        references["B"] = mix.capture(srv.port, pool)
        out.references = references

        log(f"load: {s['clients']} clients for {s['duration']:.0f} s ...")
        # no rebuild runs now: every answer must be B's
        out.load = Load(
            srv.port, pool, {"B": references["B"]}, s["clients"], s["duration"], seed=args.seed
        ).run()

        def under_index_loop(seconds: float, seed: int, rebuild: bool = True):
            """The load while ``searchapp index`` runs in a loop on the served index."""
            return load_during_loop(
                srv.port, pool, references, served, sources, s["clients"], seconds, seed, rebuild
            )

        log(f"load with a rebuild loop for {s['duration']:.0f} s ...")
        fds_before = open_files(srv.worker_pids())
        out.rebuild_load, out.rebuilds = under_index_loop(s["duration"], args.seed + 1)
        out.fds = (fds_before, open_files(srv.worker_pids()))

        if s["worker_kills"]:
            seconds = max(3.0, min(s["duration"], 30.0))
            log(f"{s['worker_kills']} worker SIGKILL(s) under load for {seconds:.0f} s ...")
            now = out.rebuilds[-1].version if out.rebuilds else "B"
            out.worker_kills = faults.kill_workers_under_load(
                srv,
                pool,
                {now: references[now]},
                kills=s["worker_kills"],
                clients=s["clients"],
                seconds=seconds,
                seed=args.seed,
                workers=args.workers,
            )

        seconds = max(3.0, min(s["duration"], 30.0))
        log(f"load with an incremental-update loop for {seconds:.0f} s ...")
        out.incremental_load, out.incremental_runs = under_index_loop(
            seconds, args.seed + 2, rebuild=False
        )
        out.server_log = srv.log_path.read_text(encoding="utf-8", errors="replace")

    out.attacks = attacks.run(work, [versions.a], s["attack_queries"], seed=args.seed, log=log)

    if s["kills"]:
        log(f"{s['kills']} indexer SIGKILLs ...")
        out.kills = faults.indexer_kills(
            work / "killed-index", sources, states, count=s["kills"], seed=args.seed, log=log
        )
    for how in s["damage"]:
        log(f"damaged index ({how}) ...")
        out.damage.append(
            faults.damaged_index(
                work / f"damaged-{how.replace(' ', '-')}", versions.a, states["A"], how
            )
        )
    out.finished = dt.datetime.now(dt.UTC)
    return out


def run_attacks_only(args: argparse.Namespace, work: Path) -> int:
    """The attacks section alone, on a small generated corpus and the hostile files."""
    started = time.monotonic()
    try:
        versions = corpus.make_versions(work / "corpus", generated=60, markers=4, seed=args.seed)
        result = attacks.run(work, [versions.a], args.attacks_only, seed=args.seed, log=log)
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    print(attacks.table(result))
    print(f"attacks: {time.monotonic() - started:.0f} s; " + ("PASS" if result.passed else "FAIL"))
    return 0 if result.passed else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_servers_on_sigterm()
    work = args.work or Path(tempfile.mkdtemp(prefix="searchapp-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.attacks_only is not None:
        return run_attacks_only(args, work)
    started = time.monotonic()
    try:
        result = run(args, work)
    finally:
        if args.keep or args.work:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.monotonic() - started
    print(result.table())
    if result.attacks is not None and result.attacks.memory is not None:
        print("\nworkers' memory (PSS) during the distinct queries:")
        print(result.attacks.memory.curve())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
