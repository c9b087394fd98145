"""The segments' term directories (``searchapp.term_directory``) give each term's postings as
Whoosh's term index and blocks give them, and searches answer the same with and without them;
terms sharing a hash, a damaged file or a segment without one go to Whoosh's term index."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from searchapp import scoring, term_directory, whoosh_compat
from searchapp.handle import IndexHandle
from searchapp.indexing import build_index
from searchapp.searching import search
from searchapp.term_directory import (
    UNKNOWN,
    DirectoryFormatError,
    TermDirectory,
    TermDirectoryWriter,
    term_key,
)
from searchapp.whoosh_compat import term_postings

LARGE_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "large-sample"
QUERIES = ["command line", "lib*", "package manager", '"free software"', "pakage managr"]
QUERIES += ["中国", "文件", "數據", "sytem~", "debian -python", "kind:caption", "the"]
QUERIES += ['"command line"', '"the system"', "中华人民共和国", "软件包管理"]


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory) -> Path:
    """The large sample built on two processes (two segments), then one file removed
    (deleted documents)."""
    sources = tmp_path_factory.mktemp("tdr-sources")
    for path in sorted(LARGE_SAMPLE.glob("*.txt")):
        shutil.copy(path, sources / path.name)
    index = tmp_path_factory.mktemp("tdr-index")
    build_index([sources], index, procs=2)
    sorted(sources.glob("*.txt"))[0].unlink()
    build_index([sources], index)
    return index


def _answers(index: Path) -> list[dict]:
    handle = IndexHandle(index)
    return [
        {**search(handle, q, group=g), "took_ms": 0} for q in QUERIES for g in ("none", "article")
    ]


def test_every_terms_postings_are_whooshs(updated_index):
    """Each term of each field of each segment: the same document frequency, document numbers
    and weights as Whoosh's own term lookup and block decoding; a term a segment lacks: None."""
    with IndexHandle(updated_index).reading() as opened:
        evaluator = opened.evaluator
        reader = opened.searcher.reader()
        assert len(evaluator.segments) >= 2 and reader.has_deletions()
        assert all(d is not None for d in evaluator.directories)
        checked = 0
        for (segment, _offset), impacts, directory in zip(
            evaluator.segments, evaluator.impacts, evaluator.directories, strict=True
        ):
            for field in segment.indexed_field_names():
                for btext in segment.lexicon(field):
                    want = term_postings(segment, field, btext, None, np.uint32, np.float64)
                    got = directory.postings(term_key(field, btext), impacts, np.uint32, np.float64)
                    assert got is not None and got is not UNKNOWN, (field, btext)
                    assert got[0] == want[0]
                    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])
                    checked += 1
                for absent in (b"zzyzzogeton", b"\x00", b""):
                    assert (
                        directory.postings(term_key(field, absent), impacts, np.uint32, float)
                        is None
                    )
        assert checked > 40_000


def test_searches_answer_the_same_without_the_directories(updated_index, monkeypatch):
    """Also phrases (English, and Chinese words' bigrams), whose common words' positions
    are found through the directory without a term-index lookup."""
    kept = []
    original = scoring.kept_positions

    def counted(*args):
        found = original(*args)
        kept.append(found is not None)
        return found

    monkeypatch.setattr(scoring, "kept_positions", counted)
    got = _answers(updated_index)
    assert sum(a["total"] for a in got) > 1000 and any(kept)
    monkeypatch.setattr(scoring, "USE_TERM_DIRECTORY", False)
    kept.clear()
    assert _answers(updated_index) == got and not kept


class _Kept(io.BytesIO):
    def close(self):  # the writer closes its file: keep the bytes readable
        self.kept = self.getvalue()


def _directory(entries, key=term_key) -> TermDirectory:
    saved = term_directory.term_key
    term_directory.term_key = key
    try:
        writer = TermDirectoryWriter()
        for field, btext, docs in entries:
            writer.add(field, btext, docs, [1.0 + d for d in docs], None, 64 * len(btext))
        out = _Kept()
        writer.write(out)
    finally:
        term_directory.term_key = saved
    return TermDirectory(out.kept)


def test_terms_sharing_a_hash_are_left_to_whoosh():
    def colliding(field, btext):
        hashed, check = term_key(field, btext)
        return (7, check) if btext.startswith(b"a") else (hashed, check)

    found = _directory(
        [("text", b"apple", [1, 5]), ("text", b"avocado", [2]), ("text", b"pear", [3, 4, 9])],
        colliding,
    )
    assert found.postings(colliding("text", b"apple"), None, np.uint32, float) is UNKNOWN
    assert found.postings(colliding("text", b"avocado"), None, np.uint32, float) is UNKNOWN
    count, ids, weights = found.postings(term_key("text", b"pear"), None, np.uint32, float)
    assert (count, ids.tolist(), weights.tolist()) == (3, [3, 4, 9], [4.0, 5.0, 10.0])
    assert found.locate(term_key("text", b"pear")) == (3, 8 * (2 + 1), 64 * 4)  # after 3 postings
    # the right hash with the wrong check: another term, not this one
    hashed, check = term_key("text", b"pear")
    assert found.postings((hashed, check ^ 1), None, np.uint32, float) is None
    assert found.postings(term_key("title", b"pear"), None, np.uint32, float) is None


def test_searches_with_colliding_hashes_answer_the_same(tmp_path, monkeypatch):
    """Every term starting with "c" filed under one hash when written: those are looked up in
    Whoosh's term index, the others in the directory; the answers are the same."""
    build_index([LARGE_SAMPLE], tmp_path / "plain", procs=1)
    want = _answers(tmp_path / "plain")

    def colliding(field, btext):
        hashed, check = term_key(field, btext)
        return (7, check) if btext.startswith(b"c") else (hashed, check)

    monkeypatch.setattr(term_directory, "term_key", colliding)
    monkeypatch.setattr(scoring, "term_key", colliding)
    build_index([LARGE_SAMPLE], tmp_path / "colliding", procs=1)
    with IndexHandle(tmp_path / "colliding").reading() as opened:
        (directory,) = opened.evaluator.directories
        ambiguous = directory.postings(colliding("text", b"command"), None, np.uint32, float)
        assert ambiguous is UNKNOWN
    assert _answers(tmp_path / "colliding") == want


def test_a_damaged_directory_is_ignored(tmp_path, monkeypatch, caplog):
    build_index([LARGE_SAMPLE], tmp_path / "ix", procs=1)
    want = _answers(tmp_path / "ix")
    original = whoosh_compat._segment_file

    def truncated(segment_reader, ext):
        found = original(segment_reader, ext)
        return bytes(found)[:-5] if ext == term_directory.DIRECTORY_EXT else found

    monkeypatch.setattr(whoosh_compat, "_segment_file", truncated)
    with IndexHandle(tmp_path / "ix").reading() as opened:
        assert opened.evaluator.directories == [None]
    assert "ignoring the term directory" in caplog.text
    assert _answers(tmp_path / "ix") == want
    with pytest.raises(DirectoryFormatError):
        TermDirectory(b"SATDRv01" + bytes(16))  # an older layout: not read


def test_a_file_cut_short_under_a_search_is_an_unreadable_index(tmp_path, monkeypatch):
    """A segment file that ends before a term's record or postings (truncated, replaced
    under the server) is an unreadable index: a 503 that says so, not a 500."""
    import os

    from searchapp.pread import pread_exact
    from searchapp.web import create_app
    from tests.conftest import assert_error_shape

    short_file = tmp_path / "short"
    short_file.write_bytes(b"four")
    fd = os.open(short_file, os.O_RDONLY)
    try:
        assert pread_exact(fd, 4, 0) == b"four"
        with pytest.raises(EOFError):
            pread_exact(fd, 10, 0)
    finally:
        os.close(fd)
    build_index([LARGE_SAMPLE], tmp_path / "ix", procs=1)
    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}).test_client()
    assert client.get("/api/search?q=package").status_code == 200
    whole = os.pread

    def cut_short(fd, size, at):  # records (24 bytes) whole, postings cut: numpy's read
        found = whole(fd, size, at)
        return found if size <= 24 else found[: size // 2]

    monkeypatch.setattr(os, "pread", cut_short)
    assert_error_shape(client.get("/api/search?q=manager"), 503, "index_unavailable")
