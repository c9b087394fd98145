"""Snippets and full-text highlighting: escaped text with only our own ``<mark>`` tags.

Snippets use the character offsets stored in the index for the terms a hit matched (no
re-analysis of the text, which is what makes Whoosh's default highlighter slow), for both the
word field and the Chinese bigram field, so a Chinese match is marked however jieba segmented
the query.
"""

from __future__ import annotations

from markupsafe import escape
from whoosh.query.terms import MultiTerm

from searchapp.analysis import bigram_analyzer, text_analyzer

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


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped as HTML, with each span wrapped in ``<mark>``."""
    out: list[str] = []
    at = 0
    for start, end in merge_spans(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        out.append(str(escape(text[at:start])))
        out.append("<mark>" + str(escape(text[start:end])) + "</mark>")
        at = end
    out.append(str(escape(text[at:])))
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], maxchars: int = SNIPPET_CHARS) -> str:
    """The window of ``text`` around the densest group of matches, highlighted."""
    spans = merge_spans(spans)
    if len(text) <= maxchars:
        return mark(text, spans)
    if not spans:
        return _clip(text, 0, maxchars, [])
    best_start, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans[:200]):
        count = sum(1 for s, e in spans[i : i + 50] if e <= start + maxchars)
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
    body = mark(text[begin:end], window)
    return ("… " if begin > 0 else "") + body + (" …" if end < len(text) else "")


#: Above this many query terms (wide prefix expansions), only the most frequent are marked.
MAX_HIGHLIGHT_TERMS = 24


def highlight_terms(searcher, parsed) -> list[tuple[str, bytes]]:
    """The (field, term) pairs of a parsed query worth marking: words and Chinese bigrams.

    (Whoosh's ``existing_terms`` silently drops the bigram phrase terms, so this walks the
    query's leaves itself, expanding prefix and fuzzy terms the way the search did.)
    """
    reader = searcher.reader()
    schema = reader.schema
    terms: set[tuple[str, bytes]] = set()
    try:
        for leaf in parsed.leaves():
            if isinstance(leaf, MultiTerm):
                if leaf.field() in HIGHLIGHT_FIELDS:
                    terms.update((leaf.field(), b) for b in leaf._btexts(reader))
                continue
            for fieldname, text in leaf.terms(phrases=True):
                if fieldname in HIGHLIGHT_FIELDS:
                    btext = text if isinstance(text, bytes) else schema[fieldname].to_bytes(text)
                    if (fieldname, btext) in reader:
                        terms.add((fieldname, btext))
    except Exception:  # an odd query shape; snippets without marks are still snippets
        return []
    ordered = sorted(terms)
    if len(ordered) > MAX_HIGHLIGHT_TERMS:
        ordered.sort(key=lambda t: -reader.doc_frequency(*t))
        ordered = ordered[:MAX_HIGHLIGHT_TERMS]
    return ordered


def hit_spans(searcher, docnums: list[int], terms) -> dict[int, list[tuple[int, int]]]:
    """Character spans per document for the query terms it holds, from stored offsets.

    One posting-list walk per term covers all the hits (documents visited in order).
    """
    spans: dict[int, list[tuple[int, int]]] = {d: [] for d in docnums}
    ordered = sorted(docnums)
    for fieldname, btext in terms:
        try:
            matcher = searcher.postings(fieldname, btext)
        except Exception:  # a term without postings: nothing to mark
            continue
        for docnum in ordered:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                spans[docnum].extend((s, e) for _pos, s, e in matcher.value_as("characters"))
    return spans


def query_term_spans(text: str, words: set[str], grams: set[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` whose analysed tokens are among the query's words or bigrams.

    Used where there are no postings to read (the article page), so it re-analyses the text.
    """
    spans: list[tuple[int, int]] = []
    if words:
        for token in text_analyzer()(text, chars=True, mode="index"):
            if token.text in words:
                spans.append((token.startchar, token.endchar))
    if grams:
        for token in bigram_analyzer()(text, chars=True):
            if token.text in grams:
                spans.append((token.startchar, token.endchar))
    return spans
