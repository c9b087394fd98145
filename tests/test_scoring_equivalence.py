"""The fast set operations of ``scoring`` return exactly what the plain ones did.

AND, AND NOT, ANDMAYBE and required terms find members by binary search, and large unions add
scores in an array over all documents (``DENSE_UNION``). ``SortingEvaluator`` below is the
evaluator as it was before: every combination by ``intersect1d``/``isin``/``unique``, which
sort both sides. For a sample of queries of every kind both must give the same totals, the same
top 10 (documents and scores, bit for bit) and the same facets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query

from searchapp import scoring
from searchapp.handle import IndexHandle
from searchapp.querying import parse_user_query, relax_to_any, with_context
from searchapp.scoring import Matches, QueryEvaluator


class SortingEvaluator(QueryEvaluator):
    """The reference: set operations by sorting, never the dense union."""

    def _eval(self, q):
        if isinstance(q, query.AndNot):
            positive, negative = self._eval(q.a), self._eval(q.b)
            keep = ~np.isin(positive.ids, negative.ids, assume_unique=True)
            return Matches(positive.ids[keep], positive.scores[keep]).scaled(q.boost)
        if isinstance(q, query.AndMaybe):
            required, optional = self._eval(q.a), self._eval(q.b)
            scores = required.scores.copy()
            _, ia, ib = np.intersect1d(
                required.ids, optional.ids, assume_unique=True, return_indices=True
            )
            scores[ia] += optional.scores[ib]
            return Matches(required.ids, scores).scaled(q.boost)
        if isinstance(q, query.Require):
            scored, required = self._eval(q.a), self._eval(q.b)
            keep = np.isin(scored.ids, required.ids, assume_unique=True)
            return Matches(scored.ids[keep], scored.scores[keep]).scaled(q.boost)
        return super()._eval(q)

    def _and(self, children):
        """Intersect by sorting both lists (``np.intersect1d``), shortest list first."""
        if not children:
            return Matches.empty()
        result, *others = sorted(children, key=len)
        for other in others:
            ids, ia, ib = np.intersect1d(
                result.ids, other.ids, assume_unique=True, return_indices=True
            )
            result = Matches(ids, result.scores[ia] + other.scores[ib])
        return result

    def _or(self, children, scale):
        saved = scoring.DENSE_UNION, scoring.MERGE_TWO
        scoring.DENSE_UNION = scoring.MERGE_TWO = False
        try:
            return super()._or(children, scale)
        finally:
            scoring.DENSE_UNION, scoring.MERGE_TWO = saved


QUERIES = [
    "port",
    "Gwadar port",
    "port OR sea OR china OR railway OR the",
    "port AND sea",
    "port ANDNOT Pakistan",
    "port ANDMAYBE Gwadar",
    "+Gwadar port",
    "port -Pakistan",
    '"Gwadar port"',
    '"China Pakistan"',
    "po*",
    "ch* OR s*",
    "portt~",
    "中国",
    "中老 铁路",
    '"中老铁路"',
    "中国 China 共同体",
    "kind:caption",
    "lang:en port",
    "(Gwadar OR port) AND Pakistan",
    "NOT port",
]


def _compare(opened, parsed) -> None:
    fast = QueryEvaluator(opened.searcher)
    reference = SortingEvaluator(opened.searcher)
    got, want = fast.evaluate(parsed), reference.evaluate(parsed)
    assert len(got) == len(want)
    assert np.array_equal(got.ids, want.ids)
    got_ids, got_scores = fast.top(got, 10)
    want_ids, want_scores = reference.top(want, 10)
    assert got_ids.tolist() == want_ids.tolist()
    assert got_scores.tolist() == want_scores.tolist()


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("q", QUERIES)
def test_fast_paths_match_the_sorting_reference(index_dir, monkeypatch, q, dense):
    opened = IndexHandle(index_dir).open()
    # On the small test index every union is large enough for the dense path; off, the fast
    # evaluator still differs from the reference in its binary-search intersections.
    monkeypatch.setattr(scoring, "DENSE_UNION", dense)
    parsed = parse_user_query(opened.parser, q)
    _compare(opened, parsed)
    _compare(opened, with_context(parsed, 0.5))  # each word in the text or the heading
    relaxed = relax_to_any(opened.relaxed_parser, q)
    if relaxed is not None:
        _compare(opened, relaxed)


def test_queries_find_something(index_dir):
    """The sample is not vacuous: most of its queries match documents."""
    opened = IndexHandle(index_dir).open()
    evaluator = QueryEvaluator(opened.searcher)
    found = [len(evaluator.evaluate(parse_user_query(opened.parser, q))) for q in QUERIES]
    assert sum(1 for n in found if n) >= len(QUERIES) - 4
    assert max(found) > 10


WORDS = st.sampled_from(
    ["Gwadar", "port", "中老", "铁路", "china", "sea", "the", "pakistan", "po*", "railway"]
)
GLUE = st.sampled_from([" ", " OR ", " AND ", " ANDNOT ", " ANDMAYBE ", " -", " +"])


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(st.tuples(GLUE, WORDS), min_size=1, max_size=6))
def test_generated_queries_match_the_sorting_reference(index_dir, words):
    q = "".join(glue + word for glue, word in words).strip()
    opened = IndexHandle(index_dir).open()
    _compare(opened, parse_user_query(opened.parser, q))


PHRASES = [
    '"Gwadar port"',
    '"China Pakistan"',
    '"the port of Gwadar"',
    '"port port"',
    '"Gwadar port"~3',
    '"port Gwadar"~4',
    '"中老铁路"',
    '"中国 共同体"~5',
    '"shared future"',
    '"economic corridor" port',
    '"railway" OR "port city"',
]


def _assert_phrase_paths_agree(opened, q: str, monkeypatch) -> None:
    """The native phrase check and Whoosh's span matcher find the same documents and scores."""
    parsed = parse_user_query(opened.parser, q)
    native = QueryEvaluator(opened.searcher).evaluate(parsed)
    monkeypatch.setattr(scoring, "NATIVE_PHRASES", False)
    spans = QueryEvaluator(opened.searcher).evaluate(parsed)
    assert native.ids.tolist() == spans.ids.tolist()
    assert native.scores.tolist() == spans.scores.tolist()


@pytest.mark.parametrize("q", PHRASES)
def test_phrases_on_read_positions_match_whooshs_span_matcher(index_dir, monkeypatch, q):
    """Phrases checked on positions read for their candidates only (NATIVE_PHRASES) find the
    same documents with the same scores as Whoosh's span matcher."""
    opened = IndexHandle(index_dir).open()
    _assert_phrase_paths_agree(opened, q, monkeypatch)


@pytest.mark.parametrize("slop", [1, 2, 3, 6])
def test_phrases_with_slop_match_whooshs_span_matcher(index_dir, monkeypatch, slop):
    opened = IndexHandle(index_dir).open()
    word_lists = (
        ["gwadar", "port"],
        ["photo", "xinhua"],
        ["china", "cooper"],
        ["的", "铁路"],
        ["photo", "news", "agenc"],
        ["china", "china"],
    )
    for words in word_lists:
        phrase = query.Phrase("text", words, slop=slop)
        native = QueryEvaluator(opened.searcher).evaluate(phrase)
        with monkeypatch.context() as patched:
            patched.setattr(scoring, "NATIVE_PHRASES", False)
            spans = QueryEvaluator(opened.searcher).evaluate(phrase)
        assert native.ids.tolist() == spans.ids.tolist(), (words, slop)


def test_phrase_sample_is_not_vacuous(index_dir):
    opened = IndexHandle(index_dir).open()
    evaluator = QueryEvaluator(opened.searcher)
    found = [len(evaluator.evaluate(parse_user_query(opened.parser, q))) for q in PHRASES]
    assert sum(1 for n in found if n) >= 6
    by_slop = [
        len(evaluator.evaluate(query.Phrase("text", ["china", "cooper"], slop=s)))
        for s in (1, 3, 6)
    ]
    assert by_slop[0] < by_slop[1] < by_slop[2]


@pytest.fixture(scope="module")
def impacts_index(tmp_path_factory, corpus_dir):
    """The test corpus built with every term of 2+ postings in the impacts file, then
    updated once (a second segment, the first one's deletions)."""
    import shutil

    from searchapp import whoosh_compat
    from searchapp.indexing import build_index

    saved = whoosh_compat.IMPACT_MIN_POSTINGS
    whoosh_compat.IMPACT_MIN_POSTINGS = 2
    try:
        root = tmp_path_factory.mktemp("impacts")
        src = shutil.copytree(corpus_dir, root / "src")
        build_index([src], root / "index")
        first = sorted(src.glob("*.txt"))[0]
        first.write_text(first.read_text("utf-8") + "\n\nGwadar port, once more.\n", "utf-8")
        build_index([src], root / "index")
    finally:
        whoosh_compat.IMPACT_MIN_POSTINGS = saved
    return root / "index"


@pytest.mark.parametrize("q", PHRASES)
def test_phrases_over_deleted_documents_match_whooshs_span_matcher(impacts_index, monkeypatch, q):
    """Positions are read from the term's own postings, without the reader's deletions filter
    (the candidates are live documents already): the same documents and scores as Whoosh's
    span matcher, which filters them, on an index whose first segment has deletions."""
    opened = IndexHandle(impacts_index).open()
    assert opened.searcher.reader().has_deletions()
    _assert_phrase_paths_agree(opened, q, monkeypatch)


@pytest.mark.parametrize("q", QUERIES + PHRASES)
def test_impacts_give_the_decoded_postings(impacts_index, monkeypatch, q):
    """Postings read as arrays from the impacts file score exactly as those decoded from
    Whoosh's blocks: same documents, same scores, bit for bit."""
    from searchapp import whoosh_compat

    monkeypatch.setattr(whoosh_compat, "IMPACT_MIN_POSTINGS", 2)
    opened = IndexHandle(impacts_index).open()
    parsed = parse_user_query(opened.parser, q)
    fast = QueryEvaluator(opened.searcher)
    assert len(fast.segments) == 2 and all(i is not None for i in fast.impacts)
    assert sum(len(i.keys) for i in fast.impacts) > 100
    got = fast.evaluate(parsed)
    monkeypatch.setattr(scoring, "USE_IMPACTS", False)
    want = QueryEvaluator(opened.searcher).evaluate(parsed)
    assert got.ids.tolist() == want.ids.tolist()
    assert got.scores.tolist() == want.scores.tolist()


def test_phrases_over_many_blocks_match_whooshs_span_matcher(tmp_path, monkeypatch):
    """Words in hundreds of chunks (several 128-posting blocks, some skipped undecoded)."""
    from searchapp.indexing import build_index
    from tests.test_indexing import make_articles

    src = make_articles(tmp_path / "src", 60, word="gamma", size=6)
    build_index([src], tmp_path / "index")
    opened = IndexHandle(tmp_path / "index").open()
    phrases = [
        query.Phrase("text", ["mention", "gamma"]),
        query.Phrase("text", ["gamma", "railway"], slop=2),
        query.Phrase("text", ["paragraph", "5"]),
        query.Phrase("text", ["articl", "59", "mention"]),
        query.Phrase("text", ["railway", "number", "5905"]),
    ]
    sizes = []
    for phrase in phrases:
        native = QueryEvaluator(opened.searcher).evaluate(phrase)
        with monkeypatch.context() as patched:
            patched.setattr(scoring, "NATIVE_PHRASES", False)
            spans = QueryEvaluator(opened.searcher).evaluate(phrase)
        assert native.ids.tolist() == spans.ids.tolist(), phrase
        sizes.append(len(native))
    assert sizes[0] > 300 and sizes[1] > 300 and 0 < sizes[2] < 100 and sizes[4] == 1


#: Phrases for the position arrays: 2-4 English words, slop, a repeated word, common words
#: next to words in one chunk only (never in the arrays), Chinese words of 3 to 6 characters
#: (phrases of bigrams on ``cjk``), and phrases among other clauses.
ARRAY_PHRASES = [
    '"Gwadar port"',
    '"the port of Gwadar"',
    '"Xinhua News Agency reporter"',
    '"clean energy"',
    '"wind turbines turn"',
    '"pale spring sky"',
    '"bla bla"',
    '"bla bla bla"',
    '"port port"',
    '"bla port"~3',
    '"Gwadar port"~3',
    '"port Gwadar"~4',
    '"news reporter"~3',
    '"energy Xinjiang"~6',
    '"sweet melons"',
    '"Uygur Autonomous Region"',
    '"the country largest"~2',
    "中老铁路",
    '"中老铁路"',
    "新华社记者",
    "命运共同体",
    "国际旅客列车",
    "动车组列车",
    "开通运营两周年",
    '"铁路 铁路"',
    '"中国 共同体"~5',
    '"economic corridor" port',
    '"railway" OR "port city"',
    '"clean energy" OR 中老铁路',
]

#: An article of repeated words, English and Chinese, added to the test corpus.
REPEATS = """date 2024-02-02 Xinhua, Beijing:Bla bla at the port

Xinhua News Agency reporter Test Writer

Bla bla bla, said the port manager of Gwadar port, port port, bla.

Port bla bla port: the Gwadar port bla bla railway.

中老铁路 铁路 铁路，新华社记者 新华社记者说，命运共同体 国际旅客列车 动车组列车。

Editor: Test
"""


@pytest.fixture(scope="module")
def positions_index(tmp_path_factory, corpus_dir):
    """The test corpus and an article of repeated words, built with every term of 2+
    postings in the position arrays, then updated once: the article edited (a second
    segment; the first segment keeps its old chunks, deleted)."""
    import shutil

    from searchapp import whoosh_compat
    from searchapp.indexing import build_index

    saved = whoosh_compat.IMPACT_MIN_POSTINGS
    whoosh_compat.IMPACT_MIN_POSTINGS = 2
    try:
        root = tmp_path_factory.mktemp("positions")
        src = shutil.copytree(corpus_dir, root / "src")
        extra = src / "2024-02-02-bla-bla.txt"
        extra.write_text(REPEATS, "utf-8")
        build_index([src], root / "index")
        extra.write_text(REPEATS.replace("Editor", "Bla bla port, once more.\n\nEditor"), "utf-8")
        build_index([src], root / "index")
    finally:
        whoosh_compat.IMPACT_MIN_POSTINGS = saved
    return root / "index"


def _phrase_results(opened, parsed, evaluator_options: dict, monkeypatch) -> tuple:
    """(total, ids, scores) of a parsed query with the given ``scoring`` switches."""
    with monkeypatch.context() as patched:
        for name, value in evaluator_options.items():
            patched.setattr(scoring, name, value)
        found = QueryEvaluator(opened.searcher).evaluate(parsed)
    return len(found), found.ids.tolist(), found.scores.tolist()


@pytest.fixture()
def gathered(monkeypatch):
    """How many word lookups were answered from the position arrays (a segment's, or the
    build's combined term file's)."""
    from searchapp.combined_terms import CombinedTerms
    from searchapp.positions import PositionArrays

    counted = {"gathers": 0}
    for kind in (PositionArrays, CombinedTerms):
        original = kind.gather

        def gather(self, postings, original=original):
            counted["gathers"] += 1
            return original(self, postings)

        monkeypatch.setattr(kind, "gather", gather)
    return counted


@pytest.mark.parametrize("q", ARRAY_PHRASES)
def test_position_arrays_give_the_decoded_phrases(positions_index, monkeypatch, q):
    """Phrases checked on positions gathered from the ``.pos`` arrays find the same
    documents, scores and totals as on positions decoded from Whoosh's blocks, and as
    Whoosh's span matcher: on an index of two segments (an incremental build after an edit,
    the first segment with deletions) whose every term of 2+ postings has arrays."""
    opened = IndexHandle(positions_index).open()
    evaluator = QueryEvaluator(opened.searcher)
    assert len(evaluator.segments) == 2 and all(evaluator.position_arrays)
    assert opened.searcher.reader().has_deletions()
    parsed = parse_user_query(opened.parser, q)
    arrays = _phrase_results(opened, parsed, {}, monkeypatch)
    decoded = _phrase_results(opened, parsed, {"USE_POSITION_ARRAYS": False}, monkeypatch)
    spans = _phrase_results(opened, parsed, {"NATIVE_PHRASES": False}, monkeypatch)
    assert arrays == decoded
    assert arrays == spans


def test_array_phrase_sample_is_not_vacuous(positions_index, gathered):
    """Most of the sample matches, and most of its phrases read words from the arrays."""
    opened = IndexHandle(positions_index).open()
    found, read = [], []
    for q in ARRAY_PHRASES:
        before = gathered["gathers"]
        evaluator = QueryEvaluator(opened.searcher)
        found.append(len(evaluator.evaluate(parse_user_query(opened.parser, q))))
        read.append(gathered["gathers"] - before)
    assert sum(1 for n in found if n) >= len(ARRAY_PHRASES) - 3, found
    assert max(found) > 10
    assert sum(1 for n in read if n) >= len(ARRAY_PHRASES) - 4, read


@pytest.mark.parametrize("slop", [1, 2, 3, 6, 40])
def test_position_arrays_with_slop_match_whooshs_span_matcher(positions_index, monkeypatch, slop):
    opened = IndexHandle(positions_index).open()
    word_lists = (
        ("text", ["gwadar", "port"]),
        ("text", ["photo", "xinhua"]),
        ("text", ["china", "cooper"]),
        ("text", ["photo", "news", "agenc"]),
        ("text", ["china", "china"]),
        ("text", ["xinhua", "news", "agenc", "report"]),
        ("cjk", ["中老", "老铁", "铁路"]),
        ("cjk", ["铁路", "中老"]),
        ("text", ["bla", "bla"]),
        ("text", ["port", "bla", "bla", "port"]),
        ("cjk", ["新华", "华社", "社记", "记者", "新华"]),
    )
    for field, words in word_lists:
        phrase = query.Phrase(field, words, slop=slop)
        arrays = _phrase_results(opened, phrase, {}, monkeypatch)
        decoded = _phrase_results(opened, phrase, {"USE_POSITION_ARRAYS": False}, monkeypatch)
        spans = _phrase_results(opened, phrase, {"NATIVE_PHRASES": False}, monkeypatch)
        assert arrays == decoded == spans, (words, slop)


def test_an_index_without_position_arrays_is_searched_as_before(tmp_path, corpus_dir, monkeypatch):
    """A segment written before the arrays (no ``.pos`` file) reads its positions from
    Whoosh's blocks: the same phrases as Whoosh's span matcher."""
    from searchapp import whoosh_compat
    from searchapp.indexing import build_index

    with monkeypatch.context() as patched:
        patched.setattr(whoosh_compat, "IMPACT_MIN_POSTINGS", 2)
        patched.setattr(whoosh_compat, "POSITIONS_EXT", ".old")  # written, never looked for
        build_index([corpus_dir], tmp_path / "index")
    opened = IndexHandle(tmp_path / "index").open()
    evaluator = QueryEvaluator(opened.searcher)
    assert all(evaluator.impacts) and not any(evaluator.position_arrays)
    for q in ARRAY_PHRASES:
        parsed = parse_user_query(opened.parser, q)
        arrays = _phrase_results(opened, parsed, {}, monkeypatch)
        spans = _phrase_results(opened, parsed, {"NATIVE_PHRASES": False}, monkeypatch)
        assert arrays == spans, q


PHRASE_WORDS = {
    "text": ["bla", "port", "gwadar", "the", "china", "xinhua", "news", "agenc", "report", "sea"],
    "cjk": ["中老", "老铁", "铁路", "新华", "华社", "社记", "记者", "命运", "共同", "同体"],
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(sorted(PHRASE_WORDS)),
    picks=st.lists(st.integers(0, 9), min_size=2, max_size=4),
    slop=st.integers(1, 5),
)
def test_generated_phrases_on_arrays_match_the_decoded_ones(positions_index, field, picks, slop):
    """Phrases of 2-4 words drawn from common and rare ones, repeats included, any slop."""
    opened = IndexHandle(positions_index).open()
    phrase = query.Phrase(field, [PHRASE_WORDS[field][i] for i in picks], slop=slop)
    with pytest.MonkeyPatch.context() as patched:
        arrays = _phrase_results(opened, phrase, {}, patched)
        decoded = _phrase_results(opened, phrase, {"USE_POSITION_ARRAYS": False}, patched)
        spans = _phrase_results(opened, phrase, {"NATIVE_PHRASES": False}, patched)
    assert arrays == decoded == spans


SORTED_IDS = st.lists(st.integers(0, 400), max_size=120, unique=True).map(sorted)


@given(SORTED_IDS, SORTED_IDS, st.randoms(use_true_random=False))
@settings(max_examples=300, deadline=None)
def test_union_of_two_equals_the_general_union(first_ids, second_ids, rng):
    """``_union_of_two`` (binary search and insert) gives the documents and sums of the
    general union (sort and add), bit for bit, whichever list is longer."""

    def matches(ids):
        scores = [rng.uniform(0.01, 30.0) for _ in ids]
        return scoring.Matches(np.array(ids, dtype=np.int64), np.array(scores))

    first, second = matches(first_ids), matches(second_ids)
    got = scoring._union_of_two(first, second)
    all_ids = np.concatenate([first.ids, second.ids])
    ids, inverse = np.unique(all_ids, return_inverse=True)
    sums = np.bincount(inverse, weights=np.concatenate([first.scores, second.scores]))
    assert got.ids.tolist() == ids.tolist()
    assert got.scores.tolist() == sums.tolist()


def test_term_infos_kept_per_searcher_are_the_segments_own(impacts_index, monkeypatch):
    """The evaluator's kept term infos (postings, then a phrase's positions) are what each
    segment's term index gives, a term a segment lacks included, and never more than
    TERM_INFO_ENTRIES are kept; phrases answer the same with one kept at a time."""
    from searchapp.whoosh_compat import term_info

    monkeypatch.setattr(scoring, "USE_TERM_DIRECTORY", False)  # it finds them without infos
    opened = IndexHandle(impacts_index).open()
    evaluator = opened.evaluator

    def found(which, q):
        matches = which.evaluate(parse_user_query(opened.parser, q))
        return matches.ids.tolist(), matches.scores.tolist()

    kept = [found(evaluator, q) for q in PHRASES]
    assert len(evaluator._infos) > len(PHRASES)
    for (segment, field, btext), info in evaluator._infos.items():
        direct = term_info(evaluator.segments[segment][0], field, btext)
        assert (info is None) == (direct is None)
        if info is not None:
            assert info.doc_frequency() == direct.doc_frequency()
            assert info.is_inlined() or info._offset == direct._offset
    monkeypatch.setattr(scoring, "TERM_INFO_ENTRIES", 1)
    fresh = QueryEvaluator(opened.searcher)
    assert [found(fresh, q) for q in PHRASES] == kept
    assert len(fresh._infos) <= 1
