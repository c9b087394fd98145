"""Snippets and full-text highlighting: escaped text with only our own ``<mark>`` tags.

Only the page of hits is highlighted, by re-reading its texts cheaply: Latin-script words are
tokenised and stemmed as the index does (without jieba), and Chinese is matched as substrings
of the folded text, so a Chinese match is marked whatever jieba made of it. The index stores no
character offsets: they made builds about 13% slower and the index much larger, and walking
their posting lists cost more per query than re-reading ten short texts.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from whoosh import query
from whoosh.query.terms import MultiTerm

from searchapp import vocabulary
from searchapp.analysis import fold, has_cjk, word_spans
from searchapp.whoosh_compat import expansions

SNIPPET_CHARS = 220
HIGHLIGHT_FIELDS = ("text", "cjk")


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping character spans."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def escape(text: str) -> str:
    """``text`` as HTML, as ``markupsafe.escape`` gives it (``&#34;`` and ``&#39;`` for
    quotes; ``tests/test_highlighting.py`` compares), without making a ``Markup`` and turning
    it back into a ``str`` for each piece of every snippet."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    return (
        text.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace('"', "&#34;")
    )


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped as HTML, with each span wrapped in ``<mark>``."""
    return _mark_merged(text, merge_spans(spans))


def _mark_merged(text: str, merged: list[tuple[int, int]]) -> str:
    """``mark`` of spans already merged (sorted, apart): ``snippet`` merges them once.
    Only text with a character to escape has its pieces escaped (one chunk in ten)."""
    out: list[str] = []
    at = 0
    for start, end in merged:
        start, end = max(start, at), min(end, len(text))
        if start < end:
            out += (text[at:start], "<mark>", text[start:end], "</mark>")
            at = end
    out.append(text[at:])
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        out[::2] = [escape(piece) for piece in out[::2]]  # the text, not the tags between
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], maxchars: int = SNIPPET_CHARS) -> str:
    """The window of ``text`` around the densest group of matches, highlighted."""
    spans = merge_spans(spans)
    if len(text) <= maxchars:
        return _mark_merged(text, spans)
    if not spans:
        return _clip(text, 0, maxchars, [])
    best_start, best_count = spans[0][0], 0
    ends = [end for _, end in spans]  # increasing: merged spans are sorted and apart
    for i, (start, _) in enumerate(spans[:200]):
        # how many of the 50 spans from i end by start + maxchars
        count = bisect_right(ends, start + maxchars, i, min(i + 50, len(ends))) - i
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, best_start - maxchars // 5)
    return _clip(text, begin, begin + maxchars, spans)


def _clip(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> str:
    end = min(len(text), end)
    if end - begin < len(text) and end < len(text):
        space = text.rfind(" ", begin + (end - begin) // 2, end)
        end = space if space > 0 else end
    if begin > 0:
        space = text.find(" ", begin, begin + 20)
        begin = space + 1 if space >= 0 else begin
    window = [
        (max(s, begin) - begin, min(e, end) - begin) for s, e in spans if e > begin and s < end
    ]
    body = _mark_merged(text[begin:end], window)
    return ("… " if begin > 0 else "") + body + (" …" if end < len(text) else "")


#: Above this many query terms (wide prefix expansions), only the most frequent are marked.
MAX_HIGHLIGHT_TERMS = 24


@dataclass(frozen=True)
class HighlightTerms:
    """What to mark: stemmed Latin-script words and folded Chinese strings."""

    words: frozenset[str] = frozenset()
    chinese: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.chinese)


def highlight_terms(searcher, parsed) -> HighlightTerms:
    """The words and Chinese strings of a parsed query (prefixes and fuzzy terms expanded)."""
    reader = searcher.reader()
    found: list[tuple[str, str]] = []
    try:
        for leaf in parsed.leaves():
            if isinstance(leaf, MultiTerm):
                field = leaf.field()
                if field in HIGHLIGHT_FIELDS:
                    expanded = [(field, b.decode("utf-8")) for b in expansions(leaf, reader)]
                    if len(expanded) > MAX_HIGHLIGHT_TERMS:
                        expanded = _most_frequent(reader, field, expanded)
                    found.extend(expanded)
            elif isinstance(leaf, query.Phrase) and leaf.fieldname == "cjk":
                found.append(("cjk", _join_bigrams(leaf.words)))
            else:
                found.extend(
                    (field, text if isinstance(text, str) else text.decode("utf-8"))
                    for field, text in leaf.terms(phrases=True)
                    if field in HIGHLIGHT_FIELDS
                )
    except Exception:  # an odd query shape; snippets without marks are still snippets
        return HighlightTerms()
    words = frozenset(t for f, t in found if f == "text" and not has_cjk(t))
    chinese = tuple(sorted({t for _f, t in found if has_cjk(t)}, key=len, reverse=True))
    return HighlightTerms(words, chinese)


def _most_frequent(reader, field: str, terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ``MAX_HIGHLIGHT_TERMS`` most frequent of ``(field, text)`` terms (equal ones in
    their order): frequencies from the build's vocabulary file when it has the field (one
    slice of it for all), else a term lookup per segment."""
    words_of = vocabulary.of(reader, field)
    if words_of is None:
        frequencies = [reader.doc_frequency(*term) for term in terms]
    else:
        frequencies = words_of.frequencies_of([text.encode("utf-8") for _f, text in terms])
    order = sorted(range(len(terms)), key=lambda i: -frequencies[i])  # stable
    return [terms[i] for i in order[:MAX_HIGHLIGHT_TERMS]]


def _join_bigrams(grams) -> str:
    """``["中老", "老铁", "铁路"]`` -> ``"中老铁路"``."""
    grams = list(grams)
    return grams[0] + "".join(g[-1:] for g in grams[1:]) if grams else ""


def term_spans(text: str, terms: HighlightTerms) -> list[tuple[int, int]]:
    """Character spans of ``text`` holding the query's words or Chinese strings."""
    spans = word_spans(text, terms.words) if terms.words else []
    if terms.chinese and has_cjk(text):
        folded, offsets = fold(text)
        for needle in terms.chinese:
            at = folded.find(needle)
            while at >= 0:
                end = at + len(needle)
                if offsets is None:
                    spans.append((at, end))
                else:
                    spans.append((offsets[at], offsets[end - 1] + 1))
                at = folded.find(needle, end)
    return spans
