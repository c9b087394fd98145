"""A real server under load, rebuilds, kills and damage: the short form of scripts/stress.py.

Two versions of a corpus, A and B, differ in known ways (``stresslib.corpus``). Every request
of the mix is asked of a quiet server on A and on B; under load, each answer must equal one of
the two (``/healthz`` stats, marker and stable-word counts included): never a failure, a mix
of the two, or an empty index. The full-length run is ``python scripts/stress.py``.
"""

from __future__ import annotations

import shutil

import pytest
from harness.server import LiveServer
from stresslib import corpus, faults, mix
from stresslib.load import get_json, load_during_loop, rebuild_and_watch, run_index

from searchapp.indexing import build_index

SEED = 11


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> corpus.CorpusVersions:
    folder = tmp_path_factory.mktemp("stress-corpus")
    # over 64 articles: full builds run in several processes (indexing.PARALLEL_MIN_ARTICLES)
    return corpus.make_versions(folder, generated=60, markers=8, paragraphs=3, seed=SEED)


@pytest.fixture(scope="module")
def states(tmp_path_factory, versions) -> dict[str, dict]:
    """What a clean index of each version holds (stats, document count, query totals)."""
    found = {}
    for name in ("A", "B"):
        index = tmp_path_factory.mktemp(f"reference-{name}") / "index"
        build_index([versions.source(name)], index)
        found[name] = faults.index_state(index)
    assert found["A"]["totals"][corpus.MARKER] == 0
    assert found["B"]["totals"][corpus.MARKER] == versions.markers
    assert found["A"]["totals"][corpus.STABLE] == found["B"]["totals"][corpus.STABLE] > 0
    assert found["A"]["stats"]["articles"] != found["B"]["stats"]["articles"]
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory, versions):
    """``searchapp serve --workers 2`` on an index of version A."""
    index = tmp_path_factory.mktemp("served") / "index"
    build_index([versions.a], index)
    server = LiveServer(index, workers=2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live(served, versions, states):
    """The request pool, its answers on A and on B, and the live A -> B rebuild between."""
    pool = mix.build_pool(versions.a, size=150, seed=SEED)
    references = {"A": mix.capture(served.port, pool)}
    swap = rebuild_and_watch(served, versions.b, states["B"]["stats"])
    references["B"] = mix.capture(served.port, pool)
    return pool, references, swap


def test_serve_answers_within_five_seconds_of_starting(served):
    assert served.ready_after < 5.0


def test_rebuild_under_a_running_server_is_seen_without_restart(served, live, versions):
    _, references, swap = live
    assert swap.returncode == 0
    assert swap.seen_after is not None and swap.seen_after < 10
    assert swap.same_processes  # neither the master nor a worker was restarted
    status, body = get_json(served.port, f"/api/search?q={corpus.MARKER}")
    assert status == 200 and body["total"] == versions.markers
    marker = f"/api/search?q={corpus.MARKER}"
    assert references["A"][marker] != references["B"][marker]


def test_load_during_a_rebuild_loop_fails_nothing_and_mixes_nothing(served, live, versions):
    pool, references, _ = live
    sources = {"A": versions.a, "B": versions.b}
    result, runs = load_during_loop(
        served.port, pool, references, served.index_dir, sources, clients=16, seconds=5
    )
    assert [r.returncode for r in runs] == [0] * len(runs) and len(runs) >= 2, runs
    assert result.failed == 0, result.describe_failures()
    assert result.mismatched == 0, result.describe_failures()  # never a mix, never empty
    assert result.versions.get("A", 0) > 0 and result.versions.get("B", 0) > 0
    assert len(result.builds_seen) >= 2
    assert result.invariant_checks > 0 and result.bad_inputs > 0


def test_worker_killed_under_load_is_replaced(served, live):
    pool, references, _ = live
    outcome = faults.kill_workers_under_load(
        served, pool, references, kills=1, clients=4, seconds=4, seed=SEED
    )
    kill = outcome.kills[0]
    assert kill.replaced_after is not None, "the killed worker was not replaced"
    # The buffered worker (like gunicorn's gthread) keeps the kept-alive connections it
    # accepted, reading the next request of each while its one thread answers another: a
    # SIGKILL loses the request in flight on each connection it held (a sync worker would lose
    # one, but any idle or slow client would then hold it whole; README "Production"). The
    # held connections are counted from /proc just before the kill; never more than that.
    bound = kill.bound if kill.held is not None else 4  # without /proc: the 4 clients
    assert kill.failed <= bound, (kill.held, outcome.load.describe_failures())
    assert outcome.failed_outside_kills == 0, outcome.load.describe_failures()
    assert outcome.load.mismatched == 0, outcome.load.describe_failures()
    assert len(served.worker_pids()) == 2
    assert get_json(served.port, "/healthz")[0] == 200


def test_indexer_killed_at_random_moments_leaves_old_or_new_index(tmp_path, versions, states):
    outcome = faults.indexer_kills(
        tmp_path / "index", {"A": versions.a, "B": versions.b}, states, count=3, seed=SEED
    )
    assert not outcome.bad, outcome.bad
    assert all(t.next_ok for t in outcome.trials)


def test_damaged_index_is_refused_clearly_and_rebuild_repairs_it(tmp_path, versions, states):
    case = faults.damaged_index(tmp_path / "index", versions.a, states["A"], how="half")
    for outcome in (case.serve, case.search):
        assert outcome.returncode not in (0, None), outcome.output
        assert "rebuild" in outcome.output and "damaged" in outcome.output, outcome.output
        assert "Traceback" not in outcome.output, outcome.output
    assert case.repair_ok and case.repaired_state_ok


@pytest.mark.parametrize("changed", [False, True], ids=["unchanged", "changed"])
def test_incremental_run_on_a_damaged_index_repairs_it(tmp_path, versions, states, changed):
    """Not only ``--rebuild``: a plain run must notice the damage and rebuild everything."""
    source = tmp_path / "src"
    shutil.copytree(versions.a, source)
    index = tmp_path / "index"
    build_index([source], index)
    faults.damage(index, "half")
    if changed:
        article = source / "gen-0003.txt"
        text = article.read_text(encoding="utf-8")
        article.write_text(text + "\nOne more line.\n", encoding="utf-8")
    code, _, output = run_index(source, index, rebuild=False)
    assert code == 0, output
    state = faults.index_state(index)
    assert "error" not in state, state
    if not changed:
        assert state == states["A"]
