"""The build's vocabulary files (``searchapp.vocabulary``) give what walking Whoosh's reader
gives: the same words and frequencies, the same prefix ranges, the same corrections, prefix
expansions and typo answers; completions rank the whole prefix range. A damaged file is
ignored, and an incremental build writes new files without touching the previous build's."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from rapidfuzz.distance import OSA
from whoosh.support.levenshtein import damerau_levenshtein

from searchapp import querying, suggestions, vocabulary, whoosh_compat
from searchapp.handle import IndexHandle
from searchapp.indexing import build_index
from searchapp.querying import BoundedPrefix, terms_within
from searchapp.searching import search
from searchapp.store import current_build
from searchapp.vocabulary import Vocabulary, VocabularyError
from searchapp.whoosh_compat import expansions, field_frequencies

LARGE_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "large-sample"


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory) -> Path:
    """The large sample built on two processes (two segments), then updated: one file
    removed (deleted documents), one changed (a third segment)."""
    sources = tmp_path_factory.mktemp("vocab-sources")
    for path in sorted(LARGE_SAMPLE.glob("*.txt")):
        shutil.copy(path, sources / path.name)
    index = tmp_path_factory.mktemp("vocab-index")
    build_index([sources], index, procs=2)
    files = sorted(sources.glob("*.txt"))
    files[0].unlink()
    files[1].write_text(files[1].read_text(encoding="utf-8") + "\n\nZyzzogeton quuxword.\n")
    build_index([sources], index)
    return index


@pytest.fixture
def opened(updated_index):
    handle = IndexHandle(updated_index)
    with handle.reading() as found:
        yield found


def _reference_words(reader, field):
    return [(b, reader.doc_frequency(field, b)) for b in reader.lexicon(field)]


@pytest.mark.parametrize("field", vocabulary.VOCABULARY_FIELDS)
def test_files_hold_the_readers_words_and_frequencies(opened, field):
    reader = opened.searcher.reader()
    assert len(reader.leaf_readers()) >= 2 and reader.has_deletions()
    kept = vocabulary.of(reader, field)
    assert kept is not None
    expected = _reference_words(reader, field)
    assert len(kept) == len(expected) > 1000
    assert kept.words(0, len(kept)) == [w for w, _f in expected]
    assert kept.frequencies.tolist() == [f for _w, f in expected]
    assert kept.lengths.tolist() == [len(w.decode("utf-8")) for w, _f in expected]
    for word, frequency in expected[::97]:
        assert kept.frequency(word) == frequency
        assert kept.frequency(word + b"\x00") == kept.frequency(word[:-1] + b"\x00") == 0


def test_frequencies_of_many_words_are_each_words_frequency(opened):
    """``frequencies_of`` (one slice for words close together, else one search a word) gives
    ``frequency`` of each: a prefix's range, words spread out, missing words, repeats."""
    kept = vocabulary.of(opened.searcher.reader(), "text")
    rng = random.Random(3)
    words = kept.words(0, len(kept))
    lo, hi = kept.prefix_range(b"co")
    samples = [
        words[lo:hi],
        rng.sample(words[lo:hi], min(40, hi - lo)),
        rng.sample(words, 50),
        [words[5], b"co\x00nope", words[5], b"zzzzzz", b""],
        [],
    ]
    for sample in samples:
        assert kept.frequencies_of(sample) == [kept.frequency(w) for w in sample]


def test_prefix_highlights_keep_the_most_frequent_expansions(opened):
    """A prefix of many words marks the ``MAX_HIGHLIGHT_TERMS`` most frequent (ties in
    word order): as sorting every expansion by its frequency did."""
    from searchapp import highlighting

    reader = opened.searcher.reader()
    kept = vocabulary.of(reader, "text")
    lo, hi = kept.prefix_range(b"co")
    assert hi - lo > highlighting.MAX_HIGHLIGHT_TERMS
    terms = [("text", w.decode("utf-8")) for w in kept.words(lo, hi)]
    want = sorted(terms, key=lambda t: -kept.frequency(t[1].encode("utf-8")))
    want = want[: highlighting.MAX_HIGHLIGHT_TERMS]
    assert highlighting._most_frequent(reader, "text", terms) == want
    by_reader = sorted(terms, key=lambda t: -reader.doc_frequency(*t))
    assert want == by_reader[: highlighting.MAX_HIGHLIGHT_TERMS]


def test_term_frequencies_are_read_as_whoosh_reads_them(opened, monkeypatch):
    """The term index read in place gives each field's terms and frequencies as Whoosh's
    ``iter_field`` does, in every segment (one written by the parallel build, one by an
    update), and for a field a segment lacks; so does the fallback walk."""
    reader = opened.searcher.reader()
    fields = [*reader.schema.names(), "no_such_field"]

    def walked(leaf, field):
        if field not in leaf.indexed_field_names():
            return []
        return [(t, i.doc_frequency()) for t, i in leaf.iter_field(field)]

    def read(leaf, field):
        words, frequencies = field_frequencies(leaf, field)
        return list(zip(words, frequencies.tolist(), strict=True))

    for leaf, _offset in reader.leaf_readers():
        for field in fields:
            assert read(leaf, field) == walked(leaf, field), field
    monkeypatch.setattr(whoosh_compat, "USE_DIRECT_LOOKUP", False)
    leaf = reader.leaf_readers()[0][0]
    for field in ("text", "no_such_field"):
        assert read(leaf, field) == walked(leaf, field)


def test_prefix_ranges_are_the_readers_expansions(opened):
    reader = opened.searcher.reader()
    kept = vocabulary.of(reader, "text")
    words = kept.words(0, len(kept))
    prefixes = {w[:n] for w in words[::37] for n in (1, 2, 3)} | {
        b"",
        b"zzzz",
        b"\xe4",
        "中".encode(),
    }
    for prefix in sorted(prefixes):
        lo, hi = kept.prefix_range(prefix)
        assert kept.words(lo, hi) == list(reader.expand_prefix("text", prefix)), prefix


def test_corrections_and_fuzzy_candidates_match_the_readers(opened, monkeypatch):
    reader = opened.searcher.reader()
    kept = vocabulary.of(reader, "spell")
    rng = random.Random(7)
    typos = []
    for word in rng.sample(kept.words(0, len(kept)), 150):
        text = word.decode("utf-8")
        if len(text) > 2:
            i = rng.randrange(len(text) - 1)
            typos.append(text[:i] + text[i + 1] + text[i] + text[i + 2 :])  # a transposition
            typos.append(text[:i] + text[i + 1 :])  # a letter left out
    cases = [(t, d, p) for t in typos for d, p in ((1, 1), (2, 1), (2, 0), (1, 3))]
    got = [terms_within(reader, "spell", t, d, p) for t, d, p in cases]
    monkeypatch.setattr(vocabulary, "USE_VOCABULARY", False)
    expected = [terms_within(reader, "spell", t, d, p) for t, d, p in cases]
    assert got == expected
    assert sum(map(len, got)) > 100


def test_a_huge_prefix_range_is_narrowed_the_same_way(opened, monkeypatch):
    reader = opened.searcher.reader()
    monkeypatch.setattr(querying, "MAX_VOCABULARY_SCAN", 40)
    cases = ["comand", "pakage", "librry", "sytem", "x"]
    got = [terms_within(reader, "text", t, 2, 1) for t in cases]
    monkeypatch.setattr(vocabulary, "USE_VOCABULARY", False)
    assert got == [terms_within(reader, "text", t, 2, 1) for t in cases]


@pytest.mark.parametrize(("most", "scan"), [(64, 5000), (3, 5000), (3, 20)])
def test_prefix_expansions_match_the_readers(opened, monkeypatch, most, scan):
    """The same terms, in the same order, ranked by frequency (ties in word order), and cut
    at MAX_EXPANSION_SCAN words as the walk cuts them."""
    reader = opened.searcher.reader()
    monkeypatch.setattr(querying, "MAX_EXPANSIONS", most)
    monkeypatch.setattr(querying, "MAX_EXPANSION_SCAN", scan)
    prefixes = ["c", "co", "con", "lib", "x", "pa", "zz", "中", "數"]
    got = [expansions(BoundedPrefix("text", p), reader) for p in prefixes]
    monkeypatch.setattr(vocabulary, "USE_VOCABULARY", False)
    assert got == [expansions(BoundedPrefix("text", p), reader) for p in prefixes]
    assert any(len(g) == most for g in got)


def test_searches_answer_the_same_with_or_without_the_files(updated_index, monkeypatch):
    queries = ["comand line", "lib*", "co* pa*", "pakage managr", "Zyzzogetn", "sytem~", "中*"]
    queries += ["中", "文", "數", "c*", "s*"]  # a lone character: the bigrams it starts

    def answers():
        handle = IndexHandle(updated_index)
        return [{**search(handle, q), "took_ms": 0} for q in queries]

    got = answers()
    monkeypatch.setattr(vocabulary, "USE_VOCABULARY", False)
    assert got == answers()
    assert any(a["suggestion"] for a in got)


def test_completions_rank_the_whole_prefix_range(updated_index, monkeypatch):
    """The most frequent words with the prefix, wherever they are in the range, then by live
    count: what the walk gives when it ranks the whole range (it ranked its first
    MAX_COMPLETION_SCAN words only, and missed frequent words past them)."""
    prefixes = ["c", "l", "pa", "sys", "x", "中", "zzzz"]
    got = [suggestions.suggest_completions(updated_index, p) for p in prefixes]
    assert sum(map(len, got)) > 30
    monkeypatch.setattr(vocabulary, "USE_VOCABULARY", False)
    monkeypatch.setattr(suggestions, "MAX_COMPLETION_SCAN", 10**9)
    assert got == [suggestions.suggest_completions(updated_index, p) for p in prefixes]
    monkeypatch.setattr(suggestions, "MAX_COMPLETION_SCAN", 50)
    cut = [suggestions.suggest_completions(updated_index, p) for p in prefixes]
    assert cut != got


def test_osa_distance_is_whooshs(monkeypatch):
    """rapidfuzz's optimal string alignment equals Whoosh's ``damerau_levenshtein``, exact and
    under a limit (letters from a small alphabet, so transpositions and repeats abound)."""
    rng = random.Random(11)
    for _ in range(20_000):
        a = "".join(rng.choice("abcé中") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("abcé中") for _ in range(rng.randint(0, 9)))
        assert OSA.distance(a, b) == damerau_levenshtein(a, b), (a, b)
        for limit in (1, 2):
            within = damerau_levenshtein(a, b, limit=limit) <= limit
            assert (OSA.distance(a, b, score_cutoff=limit) <= limit) == within, (a, b, limit)


def test_a_damaged_file_is_ignored(tmp_path, caplog):
    build_index([LARGE_SAMPLE], tmp_path / "ix", procs=1)
    build = current_build(tmp_path / "ix")
    path = build / vocabulary.file_name("text")
    before = {**search(IndexHandle(tmp_path / "ix"), "lib* pakage"), "took_ms": 0}
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(VocabularyError):
        Vocabulary.read(path)
    handle = IndexHandle(tmp_path / "ix")
    with handle.reading() as opened:
        assert vocabulary.of(opened.searcher.reader(), "text") is None
        assert vocabulary.of(opened.searcher.reader(), "spell") is not None
    assert "vocabulary of text not used" in caplog.text
    assert {**search(handle, "lib* pakage"), "took_ms": 0} == before


def test_an_update_writes_new_files_and_leaves_the_previous_builds(tmp_path):
    sources = tmp_path / "src"
    sources.mkdir()
    files = sorted(LARGE_SAMPLE.glob("*.txt"))[:20]
    for path in files:
        shutil.copy(path, sources / path.name)
    build_index([sources], tmp_path / "ix")
    first = current_build(tmp_path / "ix")
    saved = {f: (first / vocabulary.file_name(f)).read_bytes() for f in ("spell", "text")}
    (sources / "2030-01-01-new.txt").write_text(
        "date 2030-01-01 Xinhua, Beijing:A new arrival\n\nThe quuxolotl arrives today.\n",
        encoding="utf-8",
    )
    build_index([sources], tmp_path / "ix")
    second = current_build(tmp_path / "ix")
    assert second != first
    for field, data in saved.items():
        assert (first / vocabulary.file_name(field)).read_bytes() == data
    words = Vocabulary.read(second / vocabulary.file_name("spell"))
    lo, hi = words.prefix_range(b"quuxolotl")
    assert words.words(lo, hi) == [b"quuxolotl"]
