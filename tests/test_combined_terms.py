"""A build's combined term file (``searchapp.combined_terms``) gives each term the postings
its segments give together, searches answer the same with and without it, an incremental
build writes its own (the previous build's stays as it was), and a file that does not fit the
segments is left alone."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from whoosh import index as whoosh_index

from searchapp import combined_terms, scoring, term_directory
from searchapp.combined_terms import (
    COMBINED_FILE,
    CombinedFormatError,
    CombinedTerms,
    write_combined,
)
from searchapp.handle import IndexHandle
from searchapp.indexing import build_index
from searchapp.positions import positions_in
from searchapp.searching import search
from searchapp.store import current_build
from searchapp.term_directory import UNKNOWN, TermDirectory, TermDirectoryWriter, term_key
from searchapp.whoosh_compat import kept_positions

LARGE_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "large-sample"
QUERIES = ["command line", "lib*", "package manager", '"free software"', "pakage managr"]
QUERIES += ["中国", "文件", "數據", "debian -python", "kind:caption", "the", "中华人民共和国"]
QUERIES += ['"command line"', '"the system"', "软件包管理", '"package manager" debian']
QUERIES += ['"package descriptions"', '"conversion of WordPerfect documents"']  # the added file


@pytest.fixture(scope="module", params=["kept", "written again"])
def two_builds(request, tmp_path_factory) -> tuple[Path, Path, Path]:
    """The large sample built on two processes (two segments), then updated with one file
    removed (deleted documents) and one added (a segment more): (index folder, first build,
    second build). The update keeps the first build's combined file (its new segment read
    on its own), or (``UNCOVERED_SHARE`` 0) writes its own for its three segments."""
    share = combined_terms.UNCOVERED_SHARE if request.param == "kept" else 0.0
    saved, combined_terms.UNCOVERED_SHARE = combined_terms.UNCOVERED_SHARE, share
    request.addfinalizer(lambda: setattr(combined_terms, "UNCOVERED_SHARE", saved))
    sources = tmp_path_factory.mktemp("ctr-sources")
    for path in sorted(LARGE_SAMPLE.glob("*.txt")):
        shutil.copy(path, sources / path.name)
    index = tmp_path_factory.mktemp("ctr-index")
    build_index([sources], index, procs=2)
    first = current_build(index)
    removed = sorted(sources.glob("*.txt"))[0]
    text = removed.read_text(encoding="utf-8")
    removed.unlink()
    (sources / "added-later.txt").write_text(text.replace("the", "a"), encoding="utf-8")
    build_index([sources], index)
    return index, first, current_build(index)


def _answers(index: Path) -> list[dict]:
    handle = IndexHandle(index)
    return [
        {**search(handle, q, group=g), "took_ms": 0} for q in QUERIES for g in ("none", "article")
    ]


def test_every_term_has_its_segments_postings_together(two_builds):
    index, _first, _second = two_builds
    with IndexHandle(index).reading() as opened:
        evaluator = opened.evaluator
        assert len(evaluator.segments) >= 2 and opened.searcher.reader().has_deletions()
        combined = evaluator.combined
        assert combined is not None and combined.covered >= 2
        covered = evaluator.segments[: combined.covered]
        checked = 0
        for field in opened.searcher.reader().indexed_field_names():
            for btext in opened.searcher.reader().lexicon(field):
                key = term_key(field, btext)
                ids, weights, count = [], [], 0
                for (_reader, offset), impacts, directory in zip(
                    covered, evaluator.impacts, evaluator.directories, strict=False
                ):
                    found = directory.postings(key, impacts, np.int64, np.float64)
                    if found is not None:
                        count += found[0]
                        ids.append(found[1] + offset)
                        weights.append(found[2])
                got = combined.postings(key, np.int64, np.float64)
                if not count:  # only in the update's segment
                    assert got is None
                    continue
                assert got is not None and got is not UNKNOWN, (field, btext)
                assert got[0] == count
                assert np.array_equal(got[1], np.concatenate(ids))
                assert np.array_equal(got[2], np.concatenate(weights))
                checked += 1
            assert combined.postings(term_key(field, b"zzyzzogeton"), np.int64, float) is None
        assert checked > 20_000


def test_kept_positions_are_the_segments_positions(two_builds):
    """Every term whose positions the file keeps: in each of its documents, the positions its
    segment's position arrays give."""
    index = two_builds[0]
    with IndexHandle(index).reading() as opened:
        evaluator, combined = opened.evaluator, opened.evaluator.combined
        reader = opened.searcher.reader()
        checked = 0
        for field in ("text", "cjk"):
            for btext in reader.lexicon(field):
                located = combined.locate(term_key(field, btext))
                if located is None or located is UNKNOWN or located[2] < 0:
                    continue
                count, start, first = located
                ids = combined.read(start, count, np.int64, np.float64)[0]
                got = positions_in(ids, first, combined, ids)
                counts, positions = [], []
                for (segment, offset), impacts, arrays, directory in zip(
                    evaluator.segments[: combined.covered],
                    evaluator.impacts,
                    evaluator.position_arrays,
                    evaluator.directories,
                    strict=False,
                ):
                    local = ids[(ids >= offset) & (ids < offset + segment.doc_count_all())]
                    in_segment = directory.locate(term_key(field, btext))
                    if in_segment is None:
                        continue
                    found = kept_positions(impacts, arrays, in_segment, local - offset)
                    counts.append(found[0])
                    positions.append(found[1])
                assert np.array_equal(got[0], np.concatenate(counts)), btext
                assert np.array_equal(got[1], np.concatenate(positions)), btext
                checked += 1
        assert checked > 100


def test_searches_answer_the_same_without_the_combined_file(two_builds, monkeypatch):
    index = two_builds[0]
    read = []
    original = CombinedTerms.postings

    def counted(self, *args):
        read.append(1)
        return original(self, *args)

    monkeypatch.setattr(CombinedTerms, "postings", counted)
    phrases = []
    original_gather = CombinedTerms.gather

    def counted_gather(self, postings):
        phrases.append(1)
        return original_gather(self, postings)

    monkeypatch.setattr(CombinedTerms, "gather", counted_gather)
    by_segment = []
    original_by_segment = scoring.QueryEvaluator._positions_by_segment

    def counted_by_segment(self, fieldname, btext, key, docs, first):
        by_segment.append(first)
        return original_by_segment(self, fieldname, btext, key, docs, first)

    monkeypatch.setattr(scoring.QueryEvaluator, "_positions_by_segment", counted_by_segment)
    got = _answers(index)
    # phrases on the file's positions, and words it does not keep read segment by segment
    assert sum(a["total"] for a in got) > 1000 and read and any(phrases) and by_segment
    # the update's segment after the file's, when the update kept it: read on its own
    assert any(by_segment) is (combined_terms.UNCOVERED_SHARE > 0)
    monkeypatch.setattr(scoring, "USE_COMBINED_TERMS", False)
    read.clear()
    phrases.clear()
    assert _answers(index) == got and not read and not any(phrases)


def test_an_update_keeps_the_file_or_writes_its_own(two_builds):
    """The update's folder starts with hard links to the previous build's files: it keeps
    that file (written for its first two segments; its new one is read on its own), or it
    writes a new one, for its three segments, and the previous build's reads as it did."""
    index, first, second = two_builds
    old, new = first / COMBINED_FILE, second / COMBINED_FILE
    kept = combined_terms.UNCOVERED_SHARE > 0
    assert (old.stat().st_ino == new.stat().st_ino) is kept
    for build in (first, second):
        with whoosh_index.open_dir(str(build)).searcher() as searcher:
            segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
            found = CombinedTerms(build / COMBINED_FILE, segments)
            assert len(found.hashes) > 10_000
            assert found.covered == (2 if build == first or kept else 3) <= len(segments)
    with IndexHandle(index).reading() as opened:
        assert len(opened.evaluator.segments) == 3


def test_a_file_for_other_segments_or_damaged_is_ignored(two_builds, tmp_path, caplog):
    index, _first, second = two_builds
    want = _answers(index)
    copy = tmp_path / "copy"
    shutil.copytree(index, copy, symlinks=True)
    build = current_build(copy)
    data = (second / COMBINED_FILE).read_bytes()
    at = data.index(b'[["')  # the first segment's id in the header: another segment's
    (build / COMBINED_FILE).unlink()
    (build / COMBINED_FILE).write_bytes(data[: at + 3] + b"X" + data[at + 4 :])
    with IndexHandle(copy).reading() as opened:
        assert opened.evaluator.combined is None
    assert "written for other segments" in caplog.text
    assert _answers(copy) == want
    (build / COMBINED_FILE).write_bytes(data[:-3])
    with IndexHandle(copy).reading() as opened:
        assert opened.evaluator.combined is None
    assert "of the wrong size" in caplog.text
    (build / COMBINED_FILE).write_bytes(b"SACTRv00" + data[8:])
    with IndexHandle(copy).reading() as opened:
        assert opened.evaluator.combined is None
    assert _answers(copy) == want


def test_one_segment_has_no_file(tmp_path):
    build_index([LARGE_SAMPLE], tmp_path / "ix", procs=1)
    build = current_build(tmp_path / "ix")
    assert not (build / COMBINED_FILE).exists()
    with IndexHandle(tmp_path / "ix").reading() as opened:
        assert opened.evaluator.combined is None


# --- the writer on made-up segments: order, offsets, terms sharing a hash ---


class _Kept(io.BytesIO):
    def close(self):  # the writer closes its file: keep the bytes readable
        self.kept = self.getvalue()


def _segment(name: str, docs: int, terms: dict[bytes, list[int]], key, positions=None):
    """A made-up segment (reader, directory, impacts, position arrays): terms of 3+ postings
    in its impacts; ``positions``: those of some of them, a list per posting."""
    positions = positions or {}
    writer = TermDirectoryWriter()
    ids, weights = [], []
    kept_keys, firsts, starts, flat = [], [0], [0], []
    saved, term_directory.term_key = term_directory.term_key, key
    try:
        for number, (btext, postings) in enumerate(terms.items()):
            big = len(postings) >= 3
            start = len(ids) if big else None
            if big:
                ids += postings
                weights += [1.0 + d for d in postings]
            offset = 100 * (number + 1)
            writer.add("text", btext, postings, [1.0 + d for d in postings], start, offset)
            if btext in positions:
                kept_keys.append(offset)
                for each in positions[btext]:
                    flat += each
                    starts.append(len(flat))
                firsts.append(len(starts) - 1)
        out = _Kept()
        writer.write(out)
    finally:
        term_directory.term_key = saved
    impacts = SimpleNamespace(
        ids=np.array(ids, dtype="<u4"), weights=np.array(weights, dtype="<f4")
    )
    arrays = SimpleNamespace(
        keys=np.array(kept_keys, dtype=np.int64),
        firsts=np.array(firsts, dtype=np.int64),
        starts=np.array(starts, dtype=np.uint32),
        positions=np.array(flat, dtype=np.uint16),
    )
    segment = SimpleNamespace(segment_id=lambda: name)
    reader = SimpleNamespace(segment=lambda: segment, doc_count_all=lambda: docs)
    return reader, TermDirectory(out.kept), impacts, arrays


def test_the_writer_joins_segments_and_marks_shared_hashes(tmp_path):
    def key(field, btext):
        hashed, check = term_key(field, btext)
        return (7, check) if btext.startswith(b"c") else (hashed, check)

    a = _segment(
        "A",
        10,
        {b"apple": [1, 2, 5, 9], b"pear": [3], b"cherry": [4], b"fig": [0, 1, 2]},
        key,
        {b"apple": [[0], [3, 4], [1], [2]], b"fig": [[5], [6], [7]]},
    )
    b = _segment(
        "B",
        6,
        {b"apple": [0, 2, 4], b"pear": [1, 2, 3], b"cress": [5], b"fig": [1, 3, 5]},
        key,
        {b"apple": [[7], [8, 9], [1]], b"pear": [[2], [0], [4]]},  # no fig
    )
    segments = [(a[0], 0), (b[0], 10)]
    path = tmp_path / COMBINED_FILE
    assert write_combined(path, segments, [a[1], b[1]], [a[2], b[2]], [a[3], b[3]])
    found = CombinedTerms(path, segments)

    def got(btext):
        result = found.postings(key("text", btext), np.int64, np.float64)
        return result if result in (None, UNKNOWN) else (result[0], *map(list, result[1:]))

    assert got(b"apple") == (7, [1, 2, 5, 9, 10, 12, 14], [2.0, 3.0, 6.0, 10.0, 1.0, 3.0, 5.0])
    assert got(b"pear") == (4, [3, 11, 12, 13], [4.0, 2.0, 3.0, 4.0])
    # "cherry" in A and "cress" in B share a hash with different checks: the segments answer
    assert got(b"cherry") is UNKNOWN and got(b"cress") is UNKNOWN
    assert got(b"plum") is None
    hashed, check = key("text", b"pear")
    assert found.postings((hashed, check ^ 1), np.int64, float) is None  # another term
    # positions: apple's of both segments, in document order; pear's and fig's are not
    # kept in every segment holding them: not kept here
    count, start, first = found.locate(key("text", b"apple"))
    ids = found.read(start, count, np.int64, np.float64)[0]
    counts, positions = positions_in(ids, first, found, np.array([2, 3, 9, 10, 12, 14]))
    assert counts.tolist() == [2, 0, 1, 1, 2, 1]
    assert positions.tolist() == [3, 4, 2, 7, 8, 9, 1]
    assert found.locate(key("text", b"pear"))[2] == -1
    assert found.locate(key("text", b"fig"))[2] == -1
    # written for A and B: not for B and A, nor for A alone
    with pytest.raises(CombinedFormatError):
        CombinedTerms(path, [(b[0], 0), (a[0], 6)])
    assert CombinedTerms.of(tmp_path, [(a[0], 0)]) is None
    assert not write_combined(tmp_path / "one", [(a[0], 0)], [a[1]], [a[2]])
    assert not write_combined(tmp_path / "none", segments, [a[1], None], [a[2], b[2]])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert write_combined(path, segments, [a[1], b[1]], [a[2], b[2]], [a[3], b[3]])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # the same bytes again
    # without position arrays: the postings, no positions
    assert write_combined(path, segments, [a[1], b[1]], [a[2], b[2]])
    assert CombinedTerms(path, segments).locate(key("text", b"apple"))[2] == -1
