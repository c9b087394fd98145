"""The helpers the tests and scripts share (scripts/harness): percentiles, the /proc walker and
the server wrapper's promise to stop everything it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from harness import procs
from harness.server import LiveServer, Server, free_port
from harness.stats import percentile, ranking_metrics

# a parent that forks a child which leaves the process group, then both sleep
ESCAPING_TREE = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    time.sleep(60)
    sys.exit(0)
time.sleep(60)
"""


def test_percentile_is_a_measured_value_by_nearest_rank():
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(samples, p) for p in (0, 20, 50, 90, 100)] == [1.0, 1.0, 3.0, 5.0, 5.0]
    assert percentile([], 99) == 0.0


def test_ranking_metrics_of_a_list_with_its_first_hit_second():
    m = ranking_metrics([False, True, True], n_relevant=2, depth=10)
    assert m["success@1"] == 0.0 and m["success@3"] == m["success@10"] == 1.0
    assert m["mrr@10"] == 0.5 and 0 < m["ndcg@10"] < 1


def test_proc_walker_sees_a_tree_and_its_memory():
    proc = subprocess.Popen([sys.executable, "-c", ESCAPING_TREE], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not procs.children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = procs.children(proc.pid)
        assert proc.pid in procs.descendants(os.getpid())
        assert procs.rss_bytes(child) > 0 and procs.pss_bytes(proc.pid) > 0
        memory = procs.tree_memory(proc.pid)
        assert memory["workers"] == 1 and memory["processes"][1]["pid"] == child
        assert procs.open_files([proc.pid])[0] >= 3
    finally:
        for pid in [*procs.descendants(proc.pid), proc.pid]:
            os.kill(pid, 9)
        proc.wait()


def test_server_stops_its_workers_and_reports_an_early_exit(tmp_path, seed_index):
    server = LiveServer(seed_index, tmp_path / "serve.log", workers=2)
    with server:
        workers = server.worker_pids()
        assert len(workers) == 2 and server.ready_after > 0
    assert server.process.poll() is not None
    deadline = time.monotonic() + 10  # a killed worker is a zombie until init reaps it
    while set(workers) & {pid for pid, _ in procs.proc_stats()} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(workers) & {pid for pid, _ in procs.proc_stats()}
    failing = [sys.executable, "-c", "import sys; print('Error: no such index'); sys.exit(1)"]
    with pytest.raises(RuntimeError, match="exited with 1:\nError: no such index"):
        Server(failing, free_port(), tmp_path / "bad.log", timeout=30)


@pytest.mark.skipif(
    not os.access("/proc/kpagecount", os.R_OK), reason="reads /proc/kpagecount (root)"
)
def test_smaps_breakdown_splits_pss_into_heap_and_index_sub_files(index_dir):
    """harness.smaps: the parts add up to the process's PSS, and while a search's pages are
    mapped they show up under the segment's sub-files (postings, term index ...)."""
    from harness import smaps

    from searchapp.handle import IndexHandle
    from searchapp.searching import search

    handle = IndexHandle(index_dir)
    with handle.reading() as opened:
        search(handle, "Gwadar port OR railway", per_page=20)
        found = smaps.breakdown(os.getpid())
        segment = next(opened.build.glob("*.seg"))
    parts = {ext for ext, _offset, _length in smaps.segment_parts(segment)}
    assert {".pst", ".trm"} <= parts
    assert found["index_kb"] > 0 and found["segments_kb"].get(".trm", 0) > 0
    total = found["anonymous_kb"]["pss"] + found["index_kb"] + sum(found["files_kb"].values())
    assert abs(total - found["pss_kb"]) <= max(64, found["pss_kb"] * 0.02)
    assert found["anonymous_kb"]["pss"] > 0
    text = smaps.format_breakdown(found)
    assert "index segments" in text and ".trm" in text


def test_bench_corpus_slugs_are_unique():
    """Two articles whose slugs were cut to the same 60 characters get two files: the later
    one numbered, every other slug unchanged (so the bench's other corpora stay the same)."""
    from benchlib.corpus import ArticleSpec, unique_slugs

    specs = [ArticleSpec(slug, "src", slug, ["text"]) for slug in ("a", "b", "a", "a-2", "a")]
    slugs = [art.slug for art in unique_slugs(specs)]
    assert slugs == ["a", "b", "a-3", "a-2", "a-4"]
    assert len({ArticleSpec(s, "src", s, []).filename for s in slugs}) == len(slugs)


def test_bench_p50_over_the_queries_both_engines_find():
    """A query one engine finds nothing for (in any run) is left out for both engines."""
    from benchlib.report import both_found_line

    def engine(samples):
        return {"serve": {"latency": {"samples": samples}}}

    ours = [{"q": "a", "ms": 2.0, "hits": 3}, {"q": "b", "ms": 9.0, "hits": 1}]
    ours += [{"q": "c", "ms": 4.0, "hits": 2}, {"q": "a", "ms": 2.0, "hits": 3}]
    theirs = [{"q": "a", "ms": 1.0, "hits": 1}, {"q": "b", "ms": 0.5, "hits": 0}]
    theirs += [{"q": "c", "ms": 3.0, "hits": 5}, {"q": "a", "ms": 1.0, "hits": 2}]
    line = both_found_line({"searchapp": engine(ours), "fts5": engine(theirs)})
    assert line == "2.00/1.00 ms = 2.00x (2 of 3 queries)"
    assert both_found_line({"searchapp": engine(ours)}) == "-"
