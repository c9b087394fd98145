"""The seam around Whoosh's internals: one module, a checked version, no quiet fallbacks."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.matching import ListMatcher

import searchapp
from searchapp import scoring, whoosh_compat
from searchapp.handle import IndexHandle
from searchapp.positions import POSITIONS_EXT
from searchapp.searching import search
from searchapp.term_directory import DIRECTORY_EXT
from searchapp.whoosh_compat import (
    WhooshIncompatible,
    check_version,
    length_column,
    read_postings,
)

PACKAGE = Path(searchapp.__file__).parent


@pytest.mark.parametrize("version", ["2.7.5", "2.7.9", "2.7.5.post1"])
def test_supported_versions_pass(version):
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["2.7.4", "2.8.0", "2.8", "3.0.0", "2.6.9"])
def test_other_versions_fail_loudly(version):
    with pytest.raises(WhooshIncompatible, match=f"{version} is installed"):
        check_version(version)


def test_installed_version_is_supported():
    assert check_version().startswith("2.7.")


def _private_uses(path: Path) -> list[str]:
    """Private names reached from outside: ``import _x`` from Whoosh, ``obj._x`` on anything
    but ``self``, and methods named ``_x`` that override a library's (not our own helpers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("_")]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):
            found.append(f"{ast.unparse(node)} (line {node.lineno})")
    for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
        for method in cls.body:
            if isinstance(method, ast.FunctionDef) and method.name in WHOOSH_PRIVATE_METHODS:
                found.append(f"def {cls.name}.{method.name}")
    return found


WHOOSH_PRIVATE_METHODS = {"_btexts", "_find_prefix", "_cached_reader", "_segments", "_find_first"}


def test_only_the_seam_touches_whoosh_private_names():
    offenders = {
        str(path.relative_to(PACKAGE)): uses
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "whoosh_compat.py" and (uses := _private_uses(path))
    }
    assert offenders == {}
    seam = _private_uses(PACKAGE / "whoosh_compat.py")  # the check finds them where they are
    assert any("_read_ids" in use for use in seam) and "def LimitedExpansion._btexts" in seam


def test_missing_internals_raise_instead_of_zero_lengths():
    with pytest.raises(WhooshIncompatible, match="per-document reader"):
        length_column(object(), "text")
    with pytest.raises(WhooshIncompatible, match="unexpected posting matcher"):
        read_postings(object(), np.int64, np.float64)


def _walk(matcher) -> list[tuple[int, float]]:
    postings = []
    while matcher.is_active():
        postings.append((matcher.id(), matcher.weight()))
        matcher.next()
    return postings


def test_block_reads_equal_a_posting_walk(index_dir):
    reader = IndexHandle(index_dir).open().searcher.reader()
    checked = 0
    for fieldname, btext in reader.all_terms():
        matcher = reader.postings(fieldname, btext)
        ids, weights = read_postings(getattr(matcher, "child", matcher), np.int64, np.float64)
        expected = _walk(reader.postings(fieldname, btext))
        assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == expected
        checked += 1
    assert checked > 1000


def test_inlined_postings_are_read_too():
    ids, weights = read_postings(ListMatcher([1, 5, 9], [1.0, 2.0, 1.5]), np.int64, np.float64)
    assert ids.tolist() == [1, 5, 9] and weights.tolist() == [1.0, 2.0, 1.5]


QUERIES = [
    "Gwadar",
    "gwadar port",
    '"shared future"',
    '"中老铁路"',
    "Gwadar OR Lancang",
    "port -Pakistan",
    "port NOT Pakistan",
    "Gwa*",
    "G*r",
    "Gwadr~",
    "Gwadr~2",
    "kind:caption",
    "kind:caption port",
    "lang:zh",
    "section:governance Paris",
    "中老铁路",
    "中老鐵路",
    "EMU动车组",
    "BRI",
    "United Nations",
    "(Gwadar OR port) AND Pakistan",
    "port ANDMAYBE Gwadar",
    "port ANDNOT Pakistan",
    "+Gwadar port",
    '"unbalanced',
    "((((((((((Gwadar))))))))))",
    "bridge brdge",
    "中国 China 共同体",
]

WORDS = st.sampled_from(
    ["Gwadar", "port", "中老", "铁路", "china", "caption", "kind:caption", "lang:en", "sea"]
)
SYNTAX = st.sampled_from(
    ["", "", '"', "(", ")", "*", "~", "~2", "-", "+", " OR ", " AND ", " NOT ", ":", "^2"]
)
QUERY_TEXT = st.lists(st.tuples(SYNTAX, WORDS, SYNTAX), max_size=6).map(
    lambda parts: " ".join(a + w + b for a, w, b in parts)
)


@pytest.fixture()
def no_slow_path(monkeypatch):
    def refuse(self, q):
        raise AssertionError(f"{type(q).__name__} reached Whoosh's slow matcher: {q!r}")

    monkeypatch.setattr(scoring.QueryEvaluator, "_with_whoosh", refuse)


@pytest.mark.parametrize("q", QUERIES)
def test_parser_output_never_takes_the_slow_path(index_dir, no_slow_path, q):
    search(IndexHandle(index_dir), q)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=QUERY_TEXT)
def test_generated_queries_never_take_the_slow_path(index_dir, no_slow_path, q):
    search(IndexHandle(index_dir), q)


def test_slow_path_is_counted_and_logged(index_dir, caplog, monkeypatch):
    from whoosh import query

    monkeypatch.setattr(scoring, "SLOW_PATH", type(scoring.SLOW_PATH)())
    opened = IndexHandle(index_dir).open()
    evaluator = scoring.QueryEvaluator(opened.searcher)
    with caplog.at_level("WARNING", logger="searchapp.scoring"):
        found = evaluator._eval(
            query.Ordered([query.Term("text", "port"), query.Term("text", "gwadar")])
        )
    assert len(found.ids) >= 1
    assert scoring.SLOW_PATH == {"Ordered": 1}
    assert "Ordered is evaluated by Whoosh's matcher (slow path)" in caplog.text


def test_patches_are_installed():
    from whoosh.codec.whoosh3 import W3PerDocReader

    assert W3PerDocReader.doc_field_length is whoosh_compat._doc_field_length


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=300),
    ops=st.lists(
        st.tuples(
            st.sampled_from(["read", "readline", "seek", "seek1", "seek2", "tell"]),
            st.integers(-5, 400),
        ),
        max_size=20,
    ),
)
def test_view_file_reads_like_bytesio(data, ops):
    """The zero-copy file over a segment's memory map answers exactly as BytesIO would."""
    import io

    view, reference = whoosh_compat.ViewFile(memoryview(data)), io.BytesIO(data)
    for op, n in ops:
        if op == "read":
            assert view.read(n) == reference.read(n)
        elif op == "readline":
            assert view.readline(n) == reference.readline(n)
        elif op.startswith("seek"):
            whence = int(op[4:] or 0)
            pos = abs(n) if whence == 0 else n
            base = {0: 0, 1: reference.tell(), 2: len(data)}[whence]
            if base + pos < 0:
                continue
            assert view.seek(pos, whence) == reference.seek(pos, whence)
        assert view.tell() == reference.tell()
    assert list(whoosh_compat.ViewFile(data)) == list(io.BytesIO(data))


def test_pickles_load_from_a_view_file_as_from_bytesio():
    """``pickle.load`` prefetches through ``ViewFile.peek`` (posting block headers): the same
    objects, and the file left where BytesIO leaves it, with fewer calls into Python."""
    import io
    import pickle

    objects = [(128, 4567, 1.5, True, 12, 200), ("x" * 300, [1, 2]), None, b"\x00" * 70_000, 7]
    data = b"".join(pickle.dumps(o, protocol) for o in objects for protocol in (2, 5)) + b"end"
    view, reference = whoosh_compat.ViewFile(data), io.BytesIO(data)
    assert bytes(view.peek(4)) == data[:4] and view.tell() == 0
    for _ in range(len(objects) * 2):
        assert pickle.load(view) == pickle.load(reference)
        assert view.tell() == reference.tell()
    assert view.read() == reference.read() == b"end"

    reads = []

    class Counting(whoosh_compat.ViewFile):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    counting = Counting(pickle.dumps(objects[0], 5) * 10)
    for _ in range(10):
        assert pickle.load(counting) == objects[0]
    assert len(reads) <= 10


def test_stored_fields_are_whooshs(index_dir, tmp_path):
    """Every document's stored fields as Whoosh's own ``stored_fields`` gives them (keys in
    the same order), also when the schema has dynamic fields."""
    from whoosh import fields as whoosh_fields
    from whoosh import index as whoosh_index

    opened = IndexHandle(index_dir).open()
    readers = [r for r, _ in opened.searcher.reader().leaf_readers()]
    for reader in readers:
        for docnum in range(reader.doc_count_all()):
            mine, theirs = (
                reader.stored_fields(docnum),
                whoosh_compat.whoosh_stored_fields(reader, docnum),
            )
            assert list(mine.items()) == list(theirs.items())
    assert sum(r.doc_count_all() for r in readers) > 20

    schema = whoosh_fields.Schema(id=whoosh_fields.ID(stored=True))
    schema.add("*_s", whoosh_fields.STORED, glob=True)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        writer.add_document(id="a", note_s="kept", **{"x_s": 1})
    with ix.reader() as reader:
        assert reader.stored_fields(0) == {"id": "a", "note_s": "kept", "x_s": 1}
        assert reader.stored_fields(0) == whoosh_compat.whoosh_stored_fields(reader, 0)


def test_stored_fields_read_through_the_stored_column(index_dir):
    """The index's segments are read by ``StoredColumn``, not Whoosh's readers."""
    opened = IndexHandle(index_dir).open()
    for reader, _ in opened.searcher.reader().leaf_readers():
        reader.stored_fields(0)
        assert isinstance(reader.__dict__[whoosh_compat._STORED_ATTR], whoosh_compat.StoredColumn)


def test_stored_fields_of_odd_documents_are_whooshs(tmp_path):
    """No stored fields, an empty value, a field removed from the schema, documents in
    separate segments: the same dicts as Whoosh's own ``stored_fields``."""
    from whoosh import fields as whoosh_fields
    from whoosh import index as whoosh_index

    schema = whoosh_fields.Schema(
        id=whoosh_fields.ID(stored=True),
        note=whoosh_fields.STORED,
        body=whoosh_fields.TEXT,
    )
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        writer.add_document(id="a", note="kept")
        writer.add_document(body="nothing stored")
        writer.add_document(id="", note=None)
    with ix.writer() as writer:
        writer.add_document(id="b", note={"nested": [1, 2]})
    with ix.writer() as writer:
        writer.remove_field("note")
    ix = whoosh_index.open_dir(str(tmp_path))
    with ix.reader() as reader:
        seen = []
        for segment, _base in reader.leaf_readers():
            for docnum in range(segment.doc_count_all()):
                mine = segment.stored_fields(docnum)
                assert list(mine.items()) == list(
                    whoosh_compat.whoosh_stored_fields(segment, docnum).items()
                )
                seen.append(mine)
    assert {"id": "a"} in seen and {} in seen and {"id": "b"} in seen


def test_stored_fields_are_written_uncompressed(tmp_path, monkeypatch):
    """New segments keep each document's stored fields pickled in ``PLAIN_STORED`` (Whoosh's
    ``_stored`` column stays, empty); a segment written before, with Whoosh's compressed
    column, is read as before, beside them and after a merge into a new segment."""
    from whoosh import fields as whoosh_fields
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3PerDocWriter

    schema = whoosh_fields.Schema(
        id=whoosh_fields.ID(stored=True), body=whoosh_fields.TEXT(stored=True)
    )
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with monkeypatch.context() as patched:  # the segment of an index built before
        patched.setattr(W3PerDocWriter, "finish_doc", whoosh_compat.whoosh_finish_doc)
        with ix.writer() as writer:
            writer.add_document(id="old", body="written compressed " * 20)
            writer.add_document(body=None)
    with ix.writer() as writer:
        writer.add_document(id="new", body="written plain " * 20)
        writer.add_document(id="odd", body="ünïcode 港口")

    def segments() -> list[tuple[bool, list[dict]]]:
        with whoosh_index.open_dir(str(tmp_path)).reader() as reader:
            found = []
            for segment, _base in reader.leaf_readers():
                docs = [segment.stored_fields(n) for n in range(segment.doc_count_all())]
                column = segment.__dict__[whoosh_compat._STORED_ATTR]
                assert isinstance(column, whoosh_compat.StoredColumn)
                perdoc = segment._perdoc
                plain = perdoc.has_column(whoosh_compat.PLAIN_STORED)
                assert column._compressed is not plain
                theirs = [whoosh_compat.whoosh_stored_fields(segment, n) for n in range(len(docs))]
                assert docs == theirs
                found.append((plain, docs))
            return found

    old_doc = {"id": "old", "body": "written compressed " * 20}
    new_docs = [{"id": "new", "body": "written plain " * 20}, {"id": "odd", "body": "ünïcode 港口"}]
    assert sorted(segments(), key=lambda s: s[0]) == [
        (False, [old_doc, {}]),
        (True, new_docs),
    ]
    with ix.writer() as writer:
        writer.delete_by_term("id", "new")
        writer.optimize = True
    ((plain, docs),) = segments()  # merged: written anew, plain
    assert plain and old_doc in docs and new_docs[1] in docs and new_docs[0] not in docs
    with whoosh_index.open_dir(str(tmp_path)).reader() as reader:
        ((segment, _base),) = reader.leaf_readers()
        empty = segment._perdoc._cached_reader("_stored", whoosh_compat.STORED_COLUMN)
        assert all(not empty[n] for n in range(segment.doc_count_all()))


def test_opened_segments_are_read_in_place(index_dir):
    """Opening an index does not copy its compound segment into the process (BytesIO did)."""
    opened = IndexHandle(index_dir).open()
    reader = opened.searcher.leaf_searchers()[0][0].reader()
    postings = reader._terms._postfile  # the postings sub-file of the segment
    assert isinstance(postings.file, whoosh_compat.ViewFile)
    assert search(IndexHandle(index_dir), "Gwadar port")["total"] > 0


def _write_segment(folder: Path, docs: list[dict], term_pool: bool) -> dict:
    """Write ``docs`` as one uncompound segment; what a reader sees of it: every term's
    statistics and postings (id, weight, encoded value), and the bytes of the other files."""
    from whoosh import index as whoosh_index

    from searchapp.schema import build_schema

    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = ix.writer(compound=False)
    if term_pool:
        whoosh_compat.use_term_pool(writer)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    seen: dict = {}
    with whoosh_index.open_dir(str(folder)).reader() as reader:
        for term in reader.all_terms():
            info = reader.term_info(*term)
            matcher = reader.postings(*term)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length())
            seen[term] = (stats, info.max_weight(), info.min_id(), info.max_id(), postings)
    ix.close()
    for path in folder.iterdir():
        skipped = (".trm", ".pst", ".toc", ".seg", whoosh_compat.IMPACTS_EXT, POSITIONS_EXT)
        skipped += (DIRECTORY_EXT,)  # searchapp's own, beside Whoosh's
        if path.suffix not in skipped and "LOCK" not in path.name:
            seen[path.name.split(".", 1)[1]] = path.read_bytes()
    return seen


def _corpus_documents(corpus_dir: Path) -> list[dict]:
    from searchapp.indexing import chunk_documents
    from searchapp.sources import read_source, walk_sources

    docs = []
    for source in sorted(walk_sources([corpus_dir]).files.values(), key=lambda f: f.key):
        for article in read_source(source).articles:
            docs.extend(chunk_documents(article))
    return docs


def test_term_pool_writes_the_same_segment(tmp_path, corpus_dir):
    """The grouped pool, its add_document and block writer give the same terms, statistics,
    postings, stored fields and columns as Whoosh's writer: on the test corpus, and on
    generated documents whose common words fill several 128-posting blocks, with boosts,
    repeats and empty fields. (The postings file is a little smaller: a single position is
    encoded once, and pickle writes a repeated value as a reference.)"""
    import random

    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "港口", "瓜达尔", "port", "ship", "road", "sea"]
    generated = [
        {
            "id": f"g{n}",
            "article_id": f"a{n % 7}",
            "kind": rng.choice(["title", "paragraph", "caption"]),
            "lang": "en",
            "text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 30))),
            "cjk": "港口瓜达尔" if n % 3 else "",
            "heading": "Port" if n % 5 else "",
            "_text_boost": rng.choice([1.0, 1.0, 2.5]),
        }
        for n in range(700)
    ]
    for name, docs in (("corpus", _corpus_documents(corpus_dir)), ("generated", generated)):
        whoosh_pool = _write_segment(tmp_path / f"{name}-whoosh", docs, term_pool=False)
        term_pool = _write_segment(tmp_path / f"{name}-grouped", docs, term_pool=True)
        assert len(whoosh_pool) > 20 and "_stored.col" in whoosh_pool
        assert term_pool == whoosh_pool, name


def test_small_blocks_are_written_uncompressed(tmp_path):
    """A term of a posting or two is stored as its pickle (zlib would not shrink it, and
    costs a compressor's set-up per term); a longer block is still compressed. Both read back
    through Whoosh's own matcher, which follows each block's compression flag."""
    from whoosh import index as whoosh_index

    from searchapp.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = ix.writer()
    whoosh_compat.use_term_pool(writer)
    for n in range(100):
        writer.add_document(id=f"d{n}", article_id="a", lang="en", text=f"common rare{n:03d}x")
    writer.commit()
    with whoosh_index.open_dir(str(tmp_path)).reader() as reader:
        flags = {}
        for word in ("common", "rare007x", "rare099x"):
            matcher = reader.postings("text", word)
            assert list(matcher.all_ids()) == (
                list(range(100)) if word == "common" else [int(word[4:7])]
            )
            flags[word] = reader.postings("text", word)._compression
    assert flags == {"common": 3, "rare007x": 0, "rare099x": 0}
    ix.close()


def test_term_pool_only_replaces_an_empty_pool(tmp_path):
    from whoosh import index as whoosh_index

    from searchapp.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = ix.writer()
    writer.add_document(id="x", text="port")
    with pytest.raises(WhooshIncompatible, match="already holds postings"):
        whoosh_compat.use_term_pool(writer)
    writer.cancel()


def test_length_bytes_read_whole_equal_the_column_walk(index_dir):
    """The length bytes sliced from the column equal Whoosh's column read document by
    document, for every field with lengths (and zeros for a field without)."""
    from searchapp.handle import IndexHandle

    evaluator = IndexHandle(index_dir).open().evaluator
    for reader, _offset in evaluator.segments:
        count = reader.doc_count_all()
        for field in ("text", "cjk", "heading", "id"):
            column = length_column(reader, field)
            walked = (
                np.fromiter(column, dtype=np.uint8, count=count)
                if column is not None
                else np.zeros(count, np.uint8)
            )
            found = whoosh_compat.length_bytes(reader, field)
            assert found.tolist() == walked.tolist(), field
            assert field == "id" or found.any()


def _segment_positions(
    folder: Path, docs: list[dict], term_pool: bool, merged: bool = False
) -> tuple[dict, dict, int]:
    """Write ``docs`` as one segment (``merged``: as three, then merged into one by a writer
    with a term pool); every term's positions in each document as Whoosh's matcher decodes
    them, and as :func:`whoosh_compat.term_positions` reads them."""
    from whoosh import index as whoosh_index

    from searchapp.schema import build_schema

    ix = whoosh_index.create_in(str(folder), build_schema())
    for part in (docs[0::3], docs[1::3], docs[2::3]) if merged else (docs,):
        writer = ix.writer(compound=merged)  # a segment's files read in place, or read whole
        if term_pool:
            whoosh_compat.use_term_pool(writer)
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    if merged:
        writer = ix.writer()
        whoosh_compat.use_term_pool(writer)
        writer.commit(optimize=True)  # the segments' postings go through the term pool
    decoded, read = {}, {}
    with whoosh_index.open_dir(str(folder)).reader() as reader:
        [(segment, _offset)] = reader.leaf_readers()
        impacts = whoosh_compat.Impacts.of(segment)
        arrays = whoosh_compat.position_arrays(segment)
        everything = np.arange(segment.doc_count_all(), dtype=np.int64)
        for field, btext in segment.all_terms():
            if field not in ("text", "cjk", "heading"):
                continue
            matcher = segment.postings(field, btext)
            decoded[field, btext] = {
                doc: positions for doc, positions in matcher.items_as("positions")
            }
            counts, positions = whoosh_compat.term_positions(
                segment, field, btext, everything, impacts, arrays
            )
            parts = np.split(positions, np.cumsum(counts)[:-1])
            read[field, btext] = {
                int(doc): part.tolist()
                for doc, part in zip(everything, parts, strict=True)
                if len(part)
            }
        kept = 0 if arrays is None else len(arrays.keys)
    ix.close()
    return decoded, read, kept


@pytest.mark.parametrize(
    ("term_pool", "merged"), [(True, False), (False, False), (True, True), (False, True)]
)
def test_position_arrays_hold_the_decoded_positions(tmp_path, monkeypatch, term_pool, merged):
    """Every common term's positions, read from the ``.pos`` arrays, are the ones Whoosh's
    matcher decodes (terms of several 128-posting blocks, repeats, Chinese bigrams), also in
    a segment merged from others; a segment written by Whoosh's own writer has no arrays and
    is decoded."""
    import random

    monkeypatch.setattr(whoosh_compat, "IMPACT_MIN_POSTINGS", 3)
    rng = random.Random(5)
    words = ["alpha", "beta", "gamma", "port", "ship", "road", "sea"] + [f"w{n}" for n in range(40)]
    docs = [
        {
            "id": f"g{n}",
            "text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 60))),
            "cjk": "港口瓜达尔港口" if n % 3 else "",
            "heading": "Port of call" if n % 5 else "",
        }
        for n in range(400)
    ]
    decoded, read, kept = _segment_positions(tmp_path, docs, term_pool, merged)
    assert read == decoded
    assert kept > 40 if term_pool or merged else kept == 0


def _term_info_fields(info) -> tuple:
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
        info.is_inlined(),
        info._offset if not info.is_inlined() else None,
        info._length if not info.is_inlined() else None,
    )


def test_direct_term_lookups_equal_whooshs(index_dir):
    """Every term of every field of every segment, and terms that are not there (other
    fields, other bytes, a field the schema lacks), found as Whoosh's reader finds them."""
    opened = IndexHandle(index_dir).open()
    checked = 0
    for reader, _offset in opened.evaluator.segments:
        for fieldname, btext in reader.all_terms():
            found = whoosh_compat._direct_term_info(reader, fieldname, btext)
            assert _term_info_fields(found) == _term_info_fields(
                reader.term_info(fieldname, btext)
            ), (fieldname, btext)
            checked += 1
            for other in (btext + b"x", b"zz" + btext):
                if (fieldname, other) not in reader:
                    assert whoosh_compat._direct_term_info(reader, fieldname, other) is None
        assert whoosh_compat._direct_term_info(reader, "no_such_field", b"port") is None
    assert checked > 1000


def test_term_lookups_fall_back_on_an_unknown_layout(index_dir, monkeypatch):
    opened = IndexHandle(index_dir).open()
    reader = opened.evaluator.segments[0][0]
    monkeypatch.setattr(whoosh_compat, "md5_hash", lambda key: 0)  # another hash function
    found = whoosh_compat._direct_term_info(reader, "text", b"port")
    assert found is whoosh_compat._UNKNOWN_LAYOUT
    assert whoosh_compat.term_info(reader, "text", b"port").doc_frequency() > 0


def _reads_of(index_dir) -> tuple[dict, dict, dict]:
    """Every term's info, every document's stored fields and every kept term's impacts, as
    a freshly opened index reads them."""
    opened = IndexHandle(index_dir).open()
    infos, stored, impacts = {}, {}, {}
    for n, ((reader, _offset), kept) in enumerate(
        zip(opened.evaluator.segments, opened.evaluator.impacts, strict=True)
    ):
        for fieldname, btext in reader.all_terms():
            info = whoosh_compat._direct_term_info(reader, fieldname, btext)
            infos[n, fieldname, btext] = _term_info_fields(info)
            found = kept.postings(info, np.int64, np.float64) if kept is not None else None
            if found is not None:
                impacts[n, fieldname, btext] = (found[0].tolist(), found[1].tolist())
        for docnum in range(reader.doc_count_all()):
            stored[n, docnum] = reader.stored_fields(docnum)
    return infos, stored, impacts


def test_small_reads_by_pread_equal_those_through_the_memory_map(tmp_path, monkeypatch):
    """Term lookups (also when a term's info is longer than the first read), stored fields
    and impacts read with ``os.pread`` equal those read through the segment's memory map."""
    from searchapp.config import BUNDLED_CORPUS
    from searchapp.indexing import build_index

    monkeypatch.setattr(whoosh_compat, "IMPACT_MIN_POSTINGS", 3)  # impacts for many terms
    index_dir = tmp_path / "index"
    build_index([BUNDLED_CORPUS], index_dir)
    opened = IndexHandle(index_dir).open()
    for reader, _offset in opened.evaluator.segments:
        reader.stored_fields(0)
        whoosh_compat._direct_term_info(reader, "text", b"port")
        assert reader.__dict__[whoosh_compat._STORED_ATTR]._fd is not None
        assert reader.__dict__[whoosh_compat._TERMS_SOURCE] is not None
    assert any(kept is not None and kept._fd is not None for kept in opened.evaluator.impacts)

    by_pread = _reads_of(index_dir)
    monkeypatch.setattr(whoosh_compat, "_INFO_GUESS", 0)  # every info read in a second pread
    assert _reads_of(index_dir) == by_pread
    monkeypatch.setattr(whoosh_compat, "USE_PREAD", False)
    by_map = _reads_of(index_dir)
    assert by_map == by_pread
    assert len(by_map[0]) > 1000 and len(by_map[1]) > 20 and len(by_map[2]) > 100


def test_the_segment_file_read_by_pread_is_closed_with_its_reader(index_dir):
    import gc

    opened = IndexHandle(index_dir).open()
    reader = opened.evaluator.segments[0][0]
    reader.stored_fields(0)
    fd = reader.__dict__[whoosh_compat._STORED_ATTR]._fd
    os.fstat(fd)  # open
    opened.searcher.close()
    del opened, reader
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)


@pytest.mark.parametrize("term_pool", [True, False])
def test_posting_lists_read_in_one_pread_equal_the_matchers(tmp_path, monkeypatch, term_pool):
    """Every term's postings decoded from one ``os.pread`` of its bytes equal those Whoosh's
    matcher walks: one block or several (a term in 400 documents), compressed or not,
    written by the term pool or by Whoosh's own writer."""
    import random

    from whoosh import index as whoosh_index

    from searchapp.schema import build_schema

    monkeypatch.setattr(whoosh_compat, "IMPACT_MIN_POSTINGS", 10**9)  # none as arrays
    rng = random.Random(3)
    words = ["port", "ship", "sea"] + [f"w{n}" for n in range(300)]
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = ix.writer(compound=True)
    if term_pool:
        whoosh_compat.use_term_pool(writer)
    for n in range(400):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 80)))
        writer.add_document(id=f"d{n}", text=text, cjk="港口瓜达尔" if n % 2 else "")
    writer.commit()
    checked = multi_block = 0
    with whoosh_index.open_dir(str(tmp_path)).reader() as reader:
        [(segment, _offset)] = reader.leaf_readers()
        source = whoosh_compat._postings_source(segment)
        assert source is not None
        for fieldname, btext in segment.all_terms():
            info = segment.term_info(fieldname, btext)
            if info.is_inlined():
                continue
            got = whoosh_compat._pread_postings(source, info, np.int64, np.float64)
            want = _walk(segment.postings(fieldname, btext))
            assert list(zip(got[0].tolist(), got[1].tolist(), strict=True)) == want
            checked += 1
            multi_block += len(want) > 128
    assert checked > 100 and multi_block >= 3
