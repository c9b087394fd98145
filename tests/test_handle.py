"""The index handle: who owns it, and what several threads sharing one may do."""

from __future__ import annotations

import json
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from searchapp import examples
from searchapp import handle as handles
from searchapp.article_pages import get_article
from searchapp.handle import RELEASE_EVERY, WRITER_ONLY, IndexHandle
from searchapp.searching import search
from searchapp.store import IndexUnavailable, current_build, read_manifest
from searchapp.suggestions import suggest_completions
from searchapp.web import create_app

QUERIES = ["Gwadar", "railway", "中老铁路", "port -Gwadar", "brdge", "合作", "shared future"]
#: More kinds of query (phrases, prefixes, fuzzy, filters, unions) for the comparisons.
SAMPLE = ['"Gwadar port"', "po*", "portt~", "kind:caption", "port OR sea OR china", "中国 China"]


def test_each_app_owns_its_handle_and_a_folder_opens_a_new_one(index_dir):
    one = create_app({"INDEX_DIR": str(index_dir)}).extensions["searchapp.index"]
    two = create_app({"INDEX_DIR": str(index_dir)}).extensions["searchapp.index"]
    assert isinstance(one, IndexHandle) and one is not two
    assert one.open() is not two.open()  # no searcher or cache shared between apps
    assert IndexHandle.of(one) is one
    assert IndexHandle.of(index_dir) is not IndexHandle.of(index_dir)


def test_threads_sharing_one_handle_get_what_one_thread_gets(index_dir):
    """gthread workers share the app's handle between threads: reads take turns
    (``IndexHandle.reading``), and the answers are those of a lone thread."""
    alone = IndexHandle(index_dir)
    expected = {q: search(alone, q, per_page=20)["hits"] for q in QUERIES}
    article_id = expected["Gwadar"][0]["article_id"]
    shared = IndexHandle(index_dir)
    inside = []
    lock_held = []

    def work(i: int):
        q = QUERIES[i % len(QUERIES)]
        with shared.reading():
            inside.append(threading.get_ident())
            lock_held.append(len(inside) == 1)
            inside.remove(threading.get_ident())
        page = search(shared, q, per_page=20, page=1 + i % 2 if i % 5 == 0 else 1)
        get_article(shared, article_id, q="Gwadar")
        suggest_completions(shared, "rail")
        return q, page

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(21)))
    assert all(lock_held)  # one thread at a time inside reading()
    for q, page in results:
        if page["page"] == 1:
            assert page["hits"] == expected[q], q
    assert shared.cache_hits + shared.cache_misses == 21


def test_open_follows_current_without_resolving_it_each_time(tmp_path, index_dir, monkeypatch):
    """``open`` resolves ``index/current`` only when it names another build (swapped, or the
    folder is another copy); a build folder removed under it is still an unavailable index."""
    site = tmp_path / "site"
    site.mkdir()
    first = shutil.copytree(index_dir, tmp_path / "first", symlinks=True)
    second = shutil.copytree(index_dir, tmp_path / "second", symlinks=True)
    (site / "index").symlink_to(first)
    handle = IndexHandle(site / "index")
    opened = handle.open()
    resolved = []
    monkeypatch.setattr(handles, "current_build", lambda d: resolved.append(d) or current_build(d))
    assert handle.open() is opened and handle.open() is opened and not resolved

    (site / "index").unlink()
    (site / "index").symlink_to(second)  # a copy: the same build ids, other folders
    moved = handle.open()
    assert moved is not opened and moved.build.is_relative_to(second) and len(resolved) == 1
    assert handle.open() is moved and len(resolved) == 1

    shutil.rmtree(moved.build)
    with pytest.raises(IndexUnavailable):
        handle.open()


def _mapped_kb(maps) -> int:
    """Resident kB of these memory maps in this process (from /proc/self/smaps): other handles
    of the same build, opened by other tests, map it too."""
    starts = {np.frombuffer(m, dtype=np.uint8).ctypes.data for m in maps}
    total, current = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:
                current = int(head.split("-")[0], 16) in starts
            elif current and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads Linux's /proc")
def test_index_pages_are_released_every_few_reads(index_dir):
    """The pages searches touch in the memory-mapped segments are released when every
    RELEASE_EVERY-th outermost read ends (a worker's PSS would otherwise count every page it
    ever read); in between they stay mapped, so the next reads do not fault them in again.
    (Small reads are made with ``os.pread`` and map nothing; a searcher's set-up, a
    wildcard's expansion and a phrase's positions read through the map.)"""
    handle = IndexHandle(index_dir)
    with handle.reading() as opened:  # read 1, with nested reads inside
        search(handle, "Gwadar port OR railway", per_page=20)
        get_article(handle, search(handle, "Gwadar")["hits"][0]["article_id"])
        assert opened.maps  # the segments' maps are known
        assert _mapped_kb(opened.maps) > 0  # still reading: the pages are there
    for n in range(2, RELEASE_EVERY + 1):
        assert _mapped_kb(opened.maps) > 0, n  # kept between releases
        search(handle, "中老铁路" if n % 2 else "green energy")
    assert _mapped_kb(opened.maps) == 0
    search(handle, "ener*y")  # the term index walked for the expansion, through the map
    assert _mapped_kb(opened.maps) > 0


def test_results_are_the_same_with_pages_released_or_kept(index_dir, monkeypatch):
    """Releasing the mapped pages after each read changes no answer: the same hits (scores,
    snippets), totals and facets as a handle that keeps them, query after query."""
    released = IndexHandle(index_dir)
    answers = [search(released, q, per_page=10) for q in QUERIES + SAMPLE]
    monkeypatch.setattr(handles, "release_pages", lambda maps: None)
    kept = IndexHandle(index_dir)
    assert sum(1 for a in answers if a["total"]) >= len(answers) - 3  # not vacuous
    for q, want in zip(QUERIES + SAMPLE, answers, strict=True):
        got = search(kept, q, per_page=10)
        for key in ("hits", "total", "total_passages", "facets", "match", "suggestion"):
            assert got[key] == want[key], (q, key)


def test_the_handle_keeps_no_per_article_records(index_dir):
    """The manifest's records per source file and per article (for incremental builds) stay
    on disk; the handle keeps the build's numbers, and the examples still read the titles."""
    handle = IndexHandle(index_dir)
    opened = handle.open()
    on_disk = read_manifest(opened.build)
    assert on_disk["articles"] and on_disk["files"]
    assert not set(WRITER_ONLY) & set(opened.manifest)
    assert handle.stats()["chunks"] == on_disk["stats"]["chunks"]
    titles, _texts = examples._texts(handle)
    assert titles == [a.get("title") or "" for a in on_disk["articles"].values()]
    assert any(titles)


def test_examples_read_at_most_max_docs_titles_spread_over_the_archive(index_dir, monkeypatch):
    handle = IndexHandle(index_dir)
    every = [a.get("title") or "" for a in read_manifest(handle.open().build)["articles"].values()]
    assert len(every) >= 4
    monkeypatch.setattr(examples, "MAX_DOCS", 2)
    titles, _texts = examples._texts(handle)
    assert titles == every[:: -(-len(every) // 2)] and len(titles) == 2
    assert titles[0] == every[0] and titles[1] in every[len(every) // 2 :]


def test_manifests_are_read_as_json_reads_them(tmp_path):
    """The manifest as written, NaN included; a cut one is an unreadable index."""
    build = tmp_path / "b"
    build.mkdir()
    data = {"a": [1, 2.5, "é中", None, True], "stats": {"chunks": 3}}
    (build / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))
    assert read_manifest(build) == data
    (build / "manifest.json").write_text('{"x": NaN}')
    assert str(read_manifest(build)["x"]) == "nan"
    (build / "manifest.json").write_text('{"x": ')
    with pytest.raises(IndexUnavailable, match="no readable manifest"):
        read_manifest(build)


def test_a_response_is_cached_the_second_time_it_is_asked(index_dir, monkeypatch):
    """The first request for an answer is not cached (most are asked once), the second is,
    the third comes from the cache; only the last SEEN_KEYS distinct requests are remembered."""
    monkeypatch.setattr(handles, "SEEN_KEYS", 3)
    handle = IndexHandle(index_dir)
    opened = handle.open()
    first = search(handle, "Gwadar port")
    assert len(opened.results) == 0 and handle.cache_hits == 0
    assert search(handle, "Gwadar port")["hits"] == first["hits"]
    assert len(opened.results) == 1 and handle.cache_hits == 0
    assert search(handle, "Gwadar port")["hits"] == first["hits"]
    assert handle.cache_hits == 1
    for q in ("railway", "green energy", "China", "port"):  # push "Gwadar" out of the seen
        search(handle, q)
    assert len(handle._seen) == 3 and len(opened.results) == 1
    search(handle, "railway")  # four distinct requests ago: forgotten, so not cached
    assert len(opened.results) == 1
    search(handle, "port")  # the one before: cached
    assert len(opened.results) == 2
