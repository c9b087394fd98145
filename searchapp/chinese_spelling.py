"""Correct a mistyped Chinese word from the index's own words: ``编绎器`` → ``编译器``.

Chinese typos are a right-sounding or right-looking character in the wrong place (a pinyin
input method offers every homophone: ``输如法`` for ``输入法``). jieba cannot find such a word
in its dictionary, so it keeps it whole or cuts it into characters, and nothing matches. A
word of three or more characters that the index does not have is replaced by the index word of
the same length that differs from it in one character (not the first, which keeps the scan to
the words sharing it: about a millisecond), the most frequent when there are several.

Two-character words are left alone: one character away from almost any of them there are
dozens of real words (``输如`` → ``输入``, ``输出``, ``例如``...). The searcher asks for a
correction only when the query found nothing (see ``searching._answer``).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from searchapp.analysis import analyze, has_cjk

#: Shortest word corrected (characters); shorter words have too many neighbours.
MIN_CHARS = 3
#: Candidates looked at per word (words sharing the first character, one edit away).
MAX_CANDIDATES = 200


def correct_chinese(
    reader, run: str, count: Callable[[str], int], fieldname: str = "text"
) -> str | None:
    """``run`` with its unknown words of ``MIN_CHARS``+ characters corrected, or None.

    ``count(word)`` says how many documents hold a word (0 = unknown); it also ranks the
    candidates.
    """
    corrected = run
    for word in dict.fromkeys(analyze(run, mode="query")):
        if len(word) < MIN_CHARS or not has_cjk(word) or count(word):
            continue
        best = _closest(reader, word, count, fieldname)
        if best:
            corrected = corrected.replace(word, best)
    return corrected if corrected != run else None


def _closest(reader, word: str, count: Callable[[str], int], fieldname: str) -> str | None:
    try:
        near = list(islice(reader.terms_within(fieldname, word, 1, prefix=1), MAX_CANDIDATES))
    except (TypeError, ValueError):  # Whoosh fails on some input
        return None
    scored = []
    for term in near:
        text = term if isinstance(term, str) else term.decode("utf-8")
        if len(text) != len(word) or sum(a != b for a, b in zip(text, word, strict=True)) != 1:
            continue
        frequency = count(text)
        if frequency:
            scored.append((frequency, text))
    return max(scored)[1] if scored else None
