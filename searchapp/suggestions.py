"""Suggestions from the index's own vocabulary: "did you mean" and autocomplete.

Both read the ``spell`` field (folded, unstemmed words) and rank words by the number of live
articles holding them, so an incremental update gives the same suggestions as a clean build.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from itertools import islice
from pathlib import Path

from whoosh import query
from whoosh.support.levenshtein import damerau_levenshtein

from searchapp import vocabulary
from searchapp.analysis import analyze, fold_text, has_cjk
from searchapp.budget import check
from searchapp.chinese_spelling import correct_chinese
from searchapp.handle import IndexHandle, OpenIndex
from searchapp.querying import OPERATOR_WORDS, terms_within

_WORD_RE = re.compile(r"(?<![\w:*~\"])([^\W\d_][\w'’‘]*)(?![\w:*~])")
_OPERATORS = OPERATOR_WORDS | {"TO"}
#: A correction must be this similar to the typed word (difflib's ratio), besides being within
#: the edit distance: ``brdge`` may become ``bridge`` (0.91) but never ``budget`` (0.73).
MIN_SIMILARITY = 0.8
#: The longest query corrected, and the longest prefix completed.
MAX_CHARS = 200
#: Words with the prefix ranked by frequency when the build has no vocabulary file.
MAX_COMPLETION_SCAN = 2000


def _live_count(opened: OpenIndex, word) -> int:
    """Articles whose live (not deleted) chunks hold ``word`` in the spelling vocabulary.

    Whoosh's own counts include documents deleted by incremental updates until segments merge,
    so suggestions would differ from those of a clean build of the same articles.
    """
    return len(opened.evaluator.evaluate(query.Term("spell", word)))


def _text_count(opened: OpenIndex, word: str) -> int:
    """Live chunks whose text holds ``word`` (a Chinese word: jieba's, as indexed)."""
    return len(opened.evaluator.evaluate(query.Term("text", word)))


def _closest_word(opened: OpenIndex, folded: str) -> str | None:
    """The most frequent vocabulary word nearest to ``folded``: one edit away if any, else two
    (words of five letters or more only), sharing its first letter and ``MIN_SIMILARITY``.

    One scan of the vocabulary at the larger distance; the candidates' own distances decide.
    """
    reader = opened.searcher.reader()
    most = 2 if len(folded) >= 5 else 1
    words = terms_within(reader, "spell", folded, most, prefix=1)[:200]
    close = [
        (damerau_levenshtein(folded, w), -_live_count(opened, w), w)
        for w in words
        if w != folded and SequenceMatcher(None, folded, w).ratio() >= MIN_SIMILARITY
    ]
    best = min((c for c in close if c[1] < 0), default=None)
    return best[2] if best else None


def suggest_correction(opened: OpenIndex, q: str, allow_cjk: bool = False) -> str | None:
    """A "did you mean" query: misspelt words replaced by the index's own words, or None.

    Only words absent from the vocabulary are corrected, to a close word (``_closest_word``).
    Chinese corrections are mostly nonsense, so they are offered only with ``allow_cjk``.
    The caller holds ``opened`` for reading (``IndexHandle.reading``).
    """
    if not q or len(q) > MAX_CHARS:
        return None
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        check()
        word = match.group(1)
        if word in _OPERATORS or (has_cjk(word) and not allow_cjk):
            return word
        if has_cjk(word):  # a mistyped character: see searchapp/chinese_spelling.py
            reader = opened.searcher.reader()
            fixed = correct_chinese(reader, word, lambda w: _text_count(opened, w))
            changed = changed or fixed is not None
            return fixed or word
        tokens = analyze(word, mode="query", stem=False)
        if len(tokens) != 1 or len(tokens[0]) < 4 or has_cjk(tokens[0]):
            return word
        if opened.parser.synonyms.queries(word):
            return word
        folded = tokens[0]
        if _live_count(opened, folded):
            return word
        best = _closest_word(opened, folded)
        if best:
            changed = True
            return best
        return word

    corrected = _WORD_RE.sub(replace, q)
    return corrected if changed else None


def suggest_completions(index: IndexHandle | Path | str, prefix: str, limit: int = 8) -> list[str]:
    """Autocomplete: the query with its last word completed from the vocabulary, by frequency.

    The most frequent words with the prefix (from the build's vocabulary file: all of them;
    walking the reader, of the first MAX_COMPLETION_SCAN), then ranked by live counts."""
    prefix = " ".join(prefix.split())[:MAX_CHARS]
    if not prefix:
        return []
    head, _, last = prefix.rpartition(" ")
    folded = fold_text(last)
    if not folded or not re.match(r"\w", folded):
        return []
    with IndexHandle.of(index).reading() as opened:
        reader = opened.searcher.reader()
        words_of = vocabulary.of(reader, "spell")
        if words_of is not None:
            lo, hi = words_of.prefix_range(folded.encode("utf-8"))
            candidates = [words_of.word(i) for i in words_of.by_frequency(lo, hi, limit * 4)]
        else:
            candidates = list(islice(reader.expand_prefix("spell", folded), MAX_COMPLETION_SCAN))
            # Most frequent first (deleted documents still count in Whoosh's frequencies).
            candidates.sort(key=lambda b: -reader.doc_frequency("spell", b))
        # Ranked by live counts: a clean build of the same articles gives the same.
        scored = [(-_live_count(opened, b), b) for b in candidates[: limit * 4]]
    words = [b.decode("utf-8") if isinstance(b, bytes) else b for c, b in sorted(scored) if c < 0]
    return [(head + " " + w).strip() for w in words[:limit]]
