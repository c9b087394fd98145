"""The index handle: who owns it, and what several threads sharing one may do."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from searchapp import handle as handles
from searchapp.article_pages import get_article
from searchapp.handle import IndexHandle
from searchapp.searching import search
from searchapp.store import IndexUnavailable, current_build
from searchapp.suggestions import suggest_completions
from searchapp.web import create_app

QUERIES = ["Gwadar", "railway", "中老铁路", "port -Gwadar", "brdge", "合作", "shared future"]


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
