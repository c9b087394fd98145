"""Indexing: full and incremental runs, atomic swaps, kills, damage and bad sources."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from searchapp.handle import IndexHandle
from searchapp.indexing import (
    IndexingError,
    IndexUnavailable,
    balance_by_size,
    build_index,
    current_build,
)
from searchapp.searching import search
from tests.conftest import FIXTURE_ARTICLES, HOSTILE, SEED, copy_sources


def make_articles(folder: Path, count: int, word: str = "alpha", size: int = 30) -> Path:
    """``count`` generated articles in the seed's shape, each mentioning ``word``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        paragraphs = "\n\n".join(
            f"Paragraph {p} of article {n} mentions {word} and railway number {n * 100 + p}."
            for p in range(size)
        )
        (folder / f"gen-{n:04d}.txt").write_text(
            f"date 2024-01-{n % 28 + 1:02d} Xinhua, Beijing:Generated article {n} {word}\n\n"
            f"Xinhua News Agency reporter Test Writer\n\n{paragraphs}\n\nEditor: Test\n",
            encoding="utf-8",
        )
    return folder


def stats_of(ix) -> dict:
    """The index's stats as a server reports them, without the build id (differs per build)."""
    return {k: v for k, v in IndexHandle(ix).stats().items() if k != "build"}


def test_full_build_stats(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    report = build_index([src], tmp_path / "ix")
    assert report.changed and report.rebuilt
    assert (report.articles, report.chunks) == (1, 61)
    stats = stats_of(tmp_path / "ix")
    assert stats["by_kind"] == {
        "byline": 1,
        "caption": 13,
        "credit": 2,
        "heading": 4,
        "paragraph": 40,
        "title": 1,
    }
    assert stats["by_language"] == {"en": 61}


def test_second_run_with_nothing_changed_reindexes_nothing(tmp_path):
    src = copy_sources(tmp_path / "src", SEED, FIXTURE_ARTICLES)
    build_index([src], tmp_path / "ix")
    before = current_build(tmp_path / "ix")
    report = build_index([src], tmp_path / "ix")
    assert not report.changed and report.indexed == 0
    assert "nothing changed" in report.summary()
    assert current_build(tmp_path / "ix") == before


def test_incremental_changes_and_rebuild_agree(tmp_path):
    src = copy_sources(tmp_path / "src", SEED, FIXTURE_ARTICLES)
    ix = tmp_path / "ix"
    build_index([src], ix)
    # change one article, delete one, add one
    changed = src / "2024-01-15-mixed-bilingual.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nA new paragraph about okapis.\n", encoding="utf-8"
    )
    (src / "2024-05-20-xinhua-en-green-energy.txt").unlink()
    make_articles(src, 1, word="pangolin")
    report = build_index([src], ix)
    assert report.changed and not report.rebuilt
    assert (report.indexed, report.removed) == (2, 1)
    assert search(ix, "okapis")["total"] == 1
    assert search(ix, "pangolin")["total"] > 0
    assert search(ix, "Urumqi")["total"] == 0  # the deleted article is gone
    incremental = stats_of(ix)
    build_index([src], ix, rebuild=True)
    assert stats_of(ix) == incremental


def test_unreadable_changed_file_keeps_its_old_version(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    ix = tmp_path / "ix"
    build_index([src], ix)
    (src / SEED.name).write_bytes(b"\xff\xfe\x00binary")
    report = build_index([src], ix)
    assert report.skipped and "binary" in report.skipped[0][1]
    assert search(ix, "Gwadar")["total"] > 0  # nothing already indexed is lost


def test_bad_files_are_skipped_with_reasons(tmp_path):
    src = copy_sources(tmp_path / "src", SEED, HOSTILE)
    report = build_index([src], tmp_path / "ix")
    reasons = dict(report.skipped)
    assert "binary" in reasons[str(src / "binary.bin.txt")]
    assert "GBK" in reasons[str(src / "gbk-chinese.txt")]
    assert "empty" in reasons[str(src / "empty.txt")]
    warnings = {Path(p).name: w for p, w in report.warnings}
    assert "header" in warnings["no-header.txt"]
    assert search(tmp_path / "ix", "zebracorn")["total"] == 1


def test_missing_source_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IndexingError, match="does not exist"):
        build_index([tmp_path / "nope"], tmp_path / "ix")


def test_unwritable_index_folder_is_a_clear_error(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    # /proc refuses new folders even to root, like a read-only file system
    with pytest.raises(IndexingError, match="cannot create index folder"):
        build_index([src], Path("/proc/searchapp-test-index"))


def test_no_index_is_reported_clearly(tmp_path):
    with pytest.raises(IndexUnavailable, match="searchapp index"):
        search(tmp_path / "empty-index", "x")


def test_searcher_follows_a_swap_without_reopening_the_handle(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    ix = tmp_path / "ix"
    build_index([src], ix)
    handle = IndexHandle(ix)
    assert search(handle, "wombat")["total"] == 0
    make_articles(src, 1, word="wombat")
    build_index([src], ix)
    assert search(handle, "wombat")["total"] > 0


def test_damaged_index_is_reported_and_rebuild_repairs_it(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    ix = tmp_path / "ix"
    build_index([src], ix)
    build = current_build(ix)
    for segment in build.glob("*.seg"):
        segment.write_bytes(segment.read_bytes()[:100])
    with pytest.raises(IndexUnavailable, match="rebuild"):
        search(IndexHandle(ix), "Gwadar")
    build_index([src], ix, rebuild=True)
    assert search(IndexHandle(ix), "Gwadar")["total"] == 2


def test_stale_temporary_builds_are_removed(tmp_path):
    src = copy_sources(tmp_path / "src", SEED)
    ix = tmp_path / "ix"
    build_index([src], ix)
    stray = ix / "builds" / "20200101T000000-1-000000.tmp"
    stray.mkdir()
    stray_link = ix / ".current.99999.tmp"  # left by a run killed while repointing current
    stray_link.symlink_to("builds/gone")
    build_index([src], ix, rebuild=True)
    assert not stray.exists()
    assert not stray_link.is_symlink()
    assert len(list((ix / "builds").iterdir())) <= 2


def _run_cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "searchapp.cli", *args], capture_output=True, text=True, **kwargs
    )


def test_sigkill_during_rebuild_leaves_old_index_searchable(tmp_path):
    src = make_articles(tmp_path / "src", 300, word="alpha")
    ix = tmp_path / "ix"
    build_index([src], ix)
    old_build = current_build(ix)
    expected = search(IndexHandle(ix), "alpha")["total"]
    assert expected == 300 * 31  # each title and its 30 paragraphs
    command = [
        sys.executable,
        "-m",
        "searchapp.cli",
        "index",
        "--source",
        str(src),
        "--index",
        str(ix),
        "--rebuild",
        "--quiet",
    ]
    started = time.monotonic()
    assert subprocess.run(command, capture_output=True).returncode == 0
    duration = time.monotonic() - started
    timed = current_build(ix)
    killed_mid_build = 0
    for fraction in (0.3, 0.5, 0.7):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = current_build(ix)
        killed_mid_build += now == timed
        # The index is the old build or a complete new one, and answers in full.
        assert search(IndexHandle(ix), "alpha")["total"] == expected
        timed = now
    assert killed_mid_build >= 2, "the rebuilds finished before they were killed"
    done = _run_cli("index", "--source", str(src), "--index", str(ix), "--rebuild", "--quiet")
    assert done.returncode == 0, done.stderr
    assert current_build(ix) not in (old_build, None)
    assert not list((ix / "builds").glob("*.tmp"))
    assert search(IndexHandle(ix), "alpha")["total"] == expected


def test_concurrent_run_is_refused_clearly(tmp_path):
    import fcntl

    src = copy_sources(tmp_path / "src", SEED)
    ix = tmp_path / "ix"
    build_index([src], ix)
    with open(ix / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexingError, match="another indexing run"):
            build_index([src], ix, rebuild=True)


def test_two_source_folders_with_same_article_id(tmp_path):
    a = copy_sources(tmp_path / "a", SEED)
    b = copy_sources(tmp_path / "b", SEED)
    report = build_index([a, b], tmp_path / "ix")
    assert report.articles == 1 and "same article id" in report.skipped[0][1]
    shutil.rmtree(b)


def test_parallel_full_build_equals_single_process_build(tmp_path):
    src = make_articles(tmp_path / "src", 80, word="gamma", size=5)
    copy_sources(src, SEED, FIXTURE_ARTICLES)
    build_index([src], tmp_path / "one", procs=1)
    report = build_index([src], tmp_path / "two", procs=2)
    assert report.articles == 84
    assert len(list(current_build(tmp_path / "two").glob("*.seg"))) == 2
    assert_same_answers(tmp_path / "one", tmp_path / "two")


def assert_same_answers(one: Path, other: Path) -> None:
    """Two indexes of the same articles: same stats, and for each query the same totals, hits
    with their scores, and facets."""
    assert stats_of(one) == stats_of(other)
    for q in ("gamma railway", "Gwadar", "中老铁路", '"shared future"', "gam*"):
        a, b = search(one, q), search(other, q)
        assert a["total"] == b["total"] > 0
        assert [(h["id"], h["score"]) for h in a["hits"]] == [
            (h["id"], h["score"]) for h in b["hits"]
        ]
        assert a["facets"] == b["facets"]


def test_a_full_pool_starts_a_new_segment_with_the_same_results(tmp_path, monkeypatch):
    """Past SEGMENT_POOL_BYTES of postings a writer writes its segment and starts another
    (memory stays bounded on any archive): same documents, same scores and facets."""
    from searchapp import indexing

    src = make_articles(tmp_path / "src", 80, word="gamma", size=5)
    copy_sources(src, SEED, FIXTURE_ARTICLES)
    build_index([src], tmp_path / "one", procs=2)
    monkeypatch.setattr(indexing, "SEGMENT_POOL_BYTES", 200_000)
    build_index([src], tmp_path / "many", procs=2)
    assert len(list(current_build(tmp_path / "many").glob("*.seg"))) > 4
    assert_same_answers(tmp_path / "one", tmp_path / "many")


def test_incremental_update_shares_files_but_never_changes_the_previous_build(tmp_path):
    src = copy_sources(tmp_path / "src", SEED, FIXTURE_ARTICLES)
    ix = tmp_path / "ix"
    build_index([src], ix)
    old = current_build(ix)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    (src / "2024-01-15-mixed-bilingual.txt").unlink()
    make_articles(src, 3, word="numbat")
    build_index([src], ix)
    new = current_build(ix)
    assert new != old
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    shared = [p for p in new.iterdir() if (old / p.name).exists() and p.suffix == ".seg"]
    assert shared and all(p.stat().st_ino == (old / p.name).stat().st_ino for p in shared)
    assert search(IndexHandle(ix), "numbat")["total"] > 0
    assert search(IndexHandle(ix), "bananas")["total"] == 0


def test_parallel_build_balances_bytes_not_article_counts():
    smalls = [f"small{i:03}" for i in range(100)]
    sizes = {"huge1": 200_000, "huge2": 200_000, **dict.fromkeys(smalls, 3_000)}
    ids = ["huge1", "huge2", *smalls]  # by count: both huge ones in the first half
    parts = balance_by_size(ids, sizes, 2)
    loads = [sum(sizes[a] for a in part) for part in parts]
    assert [a for part in parts for a in part] == ids  # consecutive runs, each id once
    assert max(loads) / sum(loads) < 0.6  # by count, the first half carried 0.78 of the bytes
    assert balance_by_size(["a"], {"a": 1}, 4) == [["a"]]
    assert balance_by_size(["a", "b", "c"], {}, 2) == [["a", "b"], ["c"]]
    assert balance_by_size([], {}, 2) == []
