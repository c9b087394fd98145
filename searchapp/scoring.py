"""Evaluate a parsed query with numpy: the exact matches and their BM25F scores.

Whoosh scores and counts by walking a tree of matchers one document at a time in pure Python
(about 4 µs per matching document, so a common word in a large archive costs tens of
milliseconds, and counting facets visits every match again). Here each term's posting list is
read a block at a time into arrays, scored with the same BM25F formula Whoosh uses, and
AND/OR/NOT become sorted-array intersections, unions and differences. Phrases are checked
on the positions of their words in the documents holding all of them, gathered from a
segment's position arrays (common words) or decoded from Whoosh's blocks. Top hits come
from ``argpartition``; facets are counted over the matches by ``results.facet_counts``.

Only what the query parser produces is handled natively; any other query type falls back to
Whoosh's own matcher, so results are always complete.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import query
from whoosh.query import terms as term_queries

from searchapp import settings
from searchapp.budget import check, checked, outside_budget
from searchapp.caches import ENTRY_OVERHEAD, BoundedCache
from searchapp.combined_terms import CombinedTerms
from searchapp.positions import positions_in
from searchapp.term_directory import UNKNOWN, term_key
from searchapp.whoosh_compat import (
    BYTE_TO_LENGTH,
    Impacts,
    expansions,
    is_null_query,
    kept_positions,
    length_bytes,
    position_arrays,
    term_directory,
    term_info,
    term_positions,
    term_postings,
)

log = logging.getLogger(__name__)

#: Query types evaluated by Whoosh's own matcher since start-up (see ``_with_whoosh``).
SLOW_PATH: Counter[str] = Counter()

#: Values per facet in a response (most frequent first); sections can number thousands.
FACET_LIMIT = 20
#: Decoded posting lists kept per searcher (bytes, and entries): the words of instant search
#: repeat. Terms the index lacks are not kept (they are cheap to look up again, and a stream of
#: distinct made-up words would otherwise fill the cache with entries "costing" nothing).
#: 16 MB: a miss costs a decode from the memory-mapped segment (shared page cache), not a disk
#: read, while every cached byte is private to its worker (16 bytes a posting: a word in a
#: third of 500,000 chunks takes 2.7 MB). 32 MB filled at 500,000 chunks (21 MB at 150,000)
#: and cost no measurable CPU less than 16 over the bench's 1,400 queries
#: (``scripts/bench.py``'s mixes, in-process): the words of distinct queries seldom repeat.
TERM_CACHE_BYTES = 16 * 1024 * 1024
TERM_CACHE_ENTRIES = 20_000
#: Phrases are checked on the positions read here; False: by Whoosh's span matcher (the
#: reference the tests compare with).
NATIVE_PHRASES = True
#: Common terms' postings are read as arrays from the segment's impacts file when it has one
#: (False: always decoded from Whoosh's blocks, the reference the tests compare with).
USE_IMPACTS = True
#: Terms are found in the segment's term directory (``searchapp/term_directory.py``) when it
#: has one (False: in Whoosh's term index, the reference the tests compare with).
USE_TERM_DIRECTORY = True
#: Terms are read from the build's combined term file (``searchapp/combined_terms.py``), one
#: list for all segments, when it has one (False: segment by segment, the reference the tests
#: compare with).
USE_COMBINED_TERMS = True
#: Phrases read common words' positions from a segment's position arrays when it has them
#: (False: always decoded from Whoosh's blocks, the reference the tests compare with).
USE_POSITION_ARRAYS = True
#: A union of two lists (a word in the text or the heading) merges them by binary search
#: (False: the general union, the reference tests/test_scoring_equivalence.py compares with).
MERGE_TWO = True
#: Unions of many postings add scores in an array over all documents instead of sorting
#: (same results; off only to compare the two in tests/test_scoring_equivalence.py).
DENSE_UNION = True

#: Term infos kept per searcher, by segment, field and term (None for a term a segment lacks):
#: a phrase reads its words' positions right after their postings, and looked each word up
#: again in each segment (5% of a phrase query's CPU). Emptied when full: a few hundred bytes
#: an entry.
TERM_INFO_ENTRIES = 4096
_MISSING = object()

_IDS = np.int64
_SCORES = np.float64


@dataclass
class Matches:
    """Matching documents (sorted, unique) and their scores."""

    ids: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Matches:
        return cls(np.empty(0, _IDS), np.empty(0, _SCORES))

    def __len__(self) -> int:
        return len(self.ids)

    def scaled(self, boost: float) -> Matches:
        return self if boost == 1.0 else Matches(self.ids, self.scores * boost)


class QueryEvaluator:
    """Matches and scores for one searcher (made again when the index is reopened)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.impacts = [Impacts.of(reader) for reader, _offset in self.segments]
        self.position_arrays = [position_arrays(reader) for reader, _offset in self.segments]
        self.directories = [
            term_directory(reader) if USE_TERM_DIRECTORY else None
            for reader, _offset in self.segments
        ]
        self._firsts = [offset for _reader, offset in self.segments]
        folder = getattr(getattr(getattr(searcher, "_ix", None), "storage", None), "folder", None)
        self.combined = CombinedTerms.of(Path(folder), self.segments) if folder else None
        self.doc_count = searcher.doc_count_all()
        self.settings = settings.current()  # cached scores depend on them: fixed per searcher
        self.live = np.ones(self.doc_count, dtype=bool)
        for reader, offset in self.segments:
            if reader.has_deletions():
                for docnum in reader.deleted_docs_set:
                    self.live[docnum + offset] = False
        self._lengths: dict[str, np.ndarray] = {}
        self._avg_length: dict[str, float] = {}
        self._norms: dict[str, np.ndarray] = {}
        self.terms_cache = BoundedCache(TERM_CACHE_ENTRIES, TERM_CACHE_BYTES, _term_entry_size)
        self._infos: dict[tuple[int, str, bytes], object] = {}

    # -- evaluation -------------------------------------------------------------------

    def evaluate(self, q: query.Query, allowed: np.ndarray | None = None) -> Matches:
        """Live documents matching ``q`` (and ``allowed``, a boolean mask), with scores."""
        found = self._eval(q)
        keep = self.live[found.ids]
        if allowed is not None:
            keep &= allowed[found.ids]
        if keep.all():
            return found
        return Matches(found.ids[keep], found.scores[keep])

    def mask(self, q: query.Query) -> np.ndarray:
        """A boolean mask over all documents of those ``q`` matches (for filters)."""
        mask = np.zeros(self.doc_count, dtype=bool)
        mask[self._eval(q).ids] = True
        return mask & self.live

    def lift(self, found: Matches, ahead: Matches) -> Matches:
        """``found`` with the documents of ``ahead`` ranked before all others (by their
        ``ahead`` scores); the set of documents is ``found``'s."""
        _, ia, ib = np.intersect1d(found.ids, ahead.ids, assume_unique=True, return_indices=True)
        if not len(ia):
            return found
        scores = found.scores.copy()
        scores[ia] = ahead.scores[ib] + (scores.max() - ahead.scores[ib].min() + 1.0)
        return Matches(found.ids, scores)

    def top(self, found: Matches, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best (docnums, scores), best first; ties go to the earlier document."""
        ids, scores = found.ids, found.scores
        if len(found) > k:
            # Keep every document tied with the k-th score, so pages never overlap.
            kth = -np.partition(-scores, k - 1)[k - 1]
            keep = scores >= kth
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]
        return ids[order], scores[order]

    def _eval(self, q: query.Query) -> Matches:
        check()
        if is_null_query(q):
            return Matches.empty()
        if isinstance(q, query.Term):
            return self.term(q.fieldname, q.text).scaled(q.boost)
        if isinstance(q, query.Every):
            ids = np.flatnonzero(self.live).astype(_IDS)
            return Matches(ids, np.full(len(ids), q.boost, dtype=_SCORES))
        if isinstance(q, query.And):
            return self._and([self._eval(c) for c in q.subqueries]).scaled(q.boost)
        if isinstance(q, query.Or | query.DisjunctionMax):
            children = [self._eval(c) for c in q.subqueries]
            return self._or(children, getattr(q, "scale", None)).scaled(q.boost)
        if isinstance(q, query.AndNot):
            positive, negative = self._eval(q.a), self._eval(q.b)
            keep = ~_members(positive.ids, negative.ids)[0]
            return Matches(positive.ids[keep], positive.scores[keep]).scaled(q.boost)
        if isinstance(q, query.AndMaybe):
            required, optional = self._eval(q.a), self._eval(q.b)
            scores = required.scores.copy()
            hit, where = _members(required.ids, optional.ids)
            scores[hit] += optional.scores[where[hit]]
            return Matches(required.ids, scores).scaled(q.boost)
        if isinstance(q, query.Require):
            scored, required = self._eval(q.a), self._eval(q.b)
            keep = _members(scored.ids, required.ids)[0]
            return Matches(scored.ids[keep], scored.scores[keep]).scaled(q.boost)
        if isinstance(q, query.Not):
            excluded = self._eval(q.query)
            ids = np.setdiff1d(np.arange(self.doc_count, dtype=_IDS), excluded.ids)
            return Matches(ids, np.zeros(len(ids), dtype=_SCORES))
        if isinstance(q, term_queries.MultiTerm):
            field = q.field()
            children = [self.term(field, btext) for btext in expansions(q, self.reader)]
            return self._or(children, None).scaled(q.boost)
        if isinstance(q, query.Phrase):
            return self._phrase(q)
        return self._with_whoosh(q)

    def term(self, fieldname: str, text) -> Matches:
        """A term's documents and BM25F scores (cached: decoding postings is the slow part)."""
        if fieldname not in self.reader.schema:
            return Matches.empty()
        field = self.reader.schema[fieldname]
        btext = text if isinstance(text, bytes) else field.to_bytes(text)
        key = (fieldname, btext)
        cached = self.terms_cache.get(key)
        if cached is not None:
            return cached
        found = self._read_term(field, fieldname, btext)
        if len(found):
            self.terms_cache.put(key, found)
        return found

    def _read_term(self, field, fieldname: str, btext: bytes) -> Matches:
        """Read a term's posting list (of the segments the combined file covers at once, of
        the others segment by segment) and score it with BM25F."""
        id_blocks: list[np.ndarray] = []
        weight_blocks: list[np.ndarray] = []
        doc_freq = 0
        key = None
        first = 0  # the first segment read on its own
        if self.combined is not None and USE_COMBINED_TERMS and USE_TERM_DIRECTORY and USE_IMPACTS:
            key = term_key(fieldname, btext)
            found = self.combined.postings(key, _IDS, _SCORES)
            if found is not UNKNOWN:
                first = self.combined.covered
                if found is not None:
                    doc_freq, ids, weights = found
                    if first == len(self.segments):
                        return self._scored(field, fieldname, doc_freq, ids, weights)
                    id_blocks.append(ids)
                    weight_blocks.append(weights)
        for number in range(first, len(self.segments)):
            reader, offset = self.segments[number]
            impacts, directory = self.impacts[number], self.directories[number]
            # deleted documents are in the postings: they are dropped once, at the end
            found = UNKNOWN
            if directory is not None and USE_IMPACTS:
                if key is None:
                    key = term_key(fieldname, btext)
                found = directory.postings(key, impacts, _IDS, _SCORES)
            if found is UNKNOWN:
                info = self.term_info(number, fieldname, btext)
                found = term_postings(
                    reader, fieldname, btext, impacts if USE_IMPACTS else None, _IDS, _SCORES, info
                )
            if found is None:
                continue
            doc_freq += found[0]
            ids, weights = found[1], found[2]
            id_blocks.append(ids + offset if offset else ids)
            weight_blocks.append(weights)
        if not id_blocks:
            return Matches.empty()
        ids = np.concatenate(id_blocks) if len(id_blocks) > 1 else id_blocks[0]
        weights = np.concatenate(weight_blocks) if len(weight_blocks) > 1 else weight_blocks[0]
        return self._scored(field, fieldname, doc_freq, ids, weights)

    def _scored(
        self, field, fieldname: str, doc_freq: int, ids: np.ndarray, weights: np.ndarray
    ) -> Matches:
        """A term's postings (of all segments, deleted documents too) scored with BM25F."""
        if not field.scorable:
            return Matches(ids, np.ones(len(ids), dtype=_SCORES))
        idf = math.log(self.doc_count / (doc_freq + 1)) + 1
        norm = self.length_norms(fieldname)[self.length_codes(fieldname)[ids]]
        k1 = self.settings.bm25_k1
        scores = idf * (weights * (k1 + 1)) / (weights + norm)
        return Matches(ids, scores)

    def term_info(self, segment: int, fieldname: str, btext: bytes):
        """The ``TermInfo`` of a term in segment number ``segment`` (None: not there), kept."""
        key = (segment, fieldname, btext)
        found = self._infos.get(key, _MISSING)
        if found is _MISSING:
            if len(self._infos) >= TERM_INFO_ENTRIES:
                self._infos.clear()
            found = self._infos[key] = term_info(self.segments[segment][0], fieldname, btext)
        return found

    def _and(self, children: list[Matches]) -> Matches:
        if not children:
            return Matches.empty()
        children.sort(key=len)
        result = children[0]
        for other in children[1:]:
            if not len(result):
                break
            hit, where = _members(result.ids, other.ids)
            result = Matches(result.ids[hit], result.scores[hit] + other.scores[where[hit]])
        return result

    def _or(self, children: list[Matches], scale: float | None) -> Matches:
        children = [c for c in children if len(c)]
        if not children:
            return Matches.empty()
        if len(children) == 1 and not scale:
            return children[0]
        if len(children) == 2 and not scale and MERGE_TWO:
            return _union_of_two(children[0], children[1])
        all_ids = np.concatenate([c.ids for c in children])
        all_scores = np.concatenate([c.scores for c in children])
        dense = DENSE_UNION and len(all_ids) * 8 >= self.doc_count
        if dense:
            # Many postings: add them up in one array over all documents, O(n + documents),
            # instead of sorting them, O(n log n). Same sums, added in the same order.
            counts = np.bincount(all_ids, minlength=self.doc_count)
            ids = counts.nonzero()[0]
            scores = np.bincount(all_ids, weights=all_scores, minlength=self.doc_count)[ids]
            matched = counts[ids]
            slots, size = all_ids, self.doc_count
        else:
            ids, inverse = np.unique(all_ids, return_inverse=True)
            scores = np.bincount(inverse, weights=all_scores, minlength=len(ids))
            matched = np.bincount(inverse, minlength=len(ids)) if scale else None
            slots, size = inverse, len(ids)
        if scale and self.settings.coverage_power:
            # IDF-weighted coverage: one rare word must not beat three common ones.
            weight = np.array([c.scores.max() for c in children])
            per_posting = np.repeat(weight, [len(c) for c in children])
            covered = np.bincount(slots, weights=per_posting, minlength=size)
            covered = covered[ids] if dense else covered
            scores = scores * (covered / weight.sum()) ** self.settings.coverage_power
        elif scale:
            # Whoosh's coordination bonus (CoordMatcher): favour documents matching more parts.
            count = len(children)
            if count != scale:
                scores = (scores + (matched - 1) / (count - scale) ** 2) * ((count - 1) / count)
        return Matches(ids.astype(_IDS), scores)

    def _phrase(self, q: query.Phrase) -> Matches:
        words = [self.term(q.fieldname, w) for w in q.words]
        candidates = self._and(list(words))
        if not len(candidates):
            return Matches.empty()
        if len(q.words) == 1:
            return candidates.scaled(q.boost)
        if NATIVE_PHRASES:
            keep = self._in_sequence(q, candidates.ids, words)
            return Matches(candidates.ids[keep], candidates.scores[keep]).scaled(q.boost)
        # Positions decide; Whoosh's phrase matcher only visits documents with all the words.
        matcher = q.matcher(self.searcher)
        active = matcher.is_active()
        found = np.fromiter(checked(matcher.all_ids()), dtype=_IDS) if active else None
        if found is None or not len(found):
            return Matches.empty()
        keep = np.isin(candidates.ids, found, assume_unique=True)
        return Matches(candidates.ids[keep], candidates.scores[keep]).scaled(q.boost)

    def _in_sequence(self, q: query.Phrase, docs: np.ndarray, words: list[Matches]) -> np.ndarray:
        """Which of ``docs`` (holding every word of the phrase) have the words in order, each
        1 to ``q.slop`` positions after the one before: Whoosh's ``SpanNear2(ordered=True,
        mindist=1)``, which its ``Phrase`` matcher uses, on positions read for ``docs`` only.
        A word whose positions the build's combined term file keeps is read there, for all
        segments at once (``words``: each word's matches, whose document numbers are its
        postings there); another segment by segment (``_positions_by_segment``)."""
        combined = self.combined
        if not (USE_COMBINED_TERMS and USE_POSITION_ARRAYS and USE_TERM_DIRECTORY and USE_IMPACTS):
            combined = None
        field = self.reader.schema[q.fieldname]
        btexts = [field.to_bytes(word) for word in q.words]
        keys: dict[bytes, np.ndarray] = {}  # a repeated word is read once
        for btext, matches in zip(btexts, words, strict=True):
            check()
            if btext in keys:
                continue
            key = term_key(q.fieldname, btext)
            located = combined.locate(key) if combined is not None else None
            if located is None or located is UNKNOWN or located[2] < 0:
                found = self._positions_by_segment(q.fieldname, btext, key, docs, 0)
            else:
                count, start, first = located
                ids = matches.ids[: matches.ids.searchsorted(combined.docs_end)]
                if len(ids) != count:  # not the term's postings as read (cannot be): read them
                    ids = combined.read(start, count, _IDS, _SCORES)[0]
                split = docs.searchsorted(combined.docs_end)
                found = positions_in(ids, first, combined, docs[:split])
                if split < len(docs):  # an update's segments after the file's
                    more = self._positions_by_segment(
                        q.fieldname, btext, key, docs[split:], combined.covered
                    )
                    found = tuple(map(np.concatenate, zip(found, more, strict=True)))
            keys[btext] = _position_keys(*found)
        ends = keys[btexts[0]]
        for btext in btexts[1:]:
            ends = _following(ends, keys[btext], q.slop)
        keep = np.zeros(len(docs), dtype=bool)
        keep[ends >> _DOC_SHIFT] = True  # a candidate twice: set twice
        return keep

    def _positions_by_segment(
        self, fieldname: str, btext: bytes, key: tuple[int, int], docs: np.ndarray, first: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(counts, positions) of a term in each of ``docs`` (of the whole index, sorted, in
        segment ``first`` or after), read segment by segment: from a segment's position
        arrays when it keeps the term there, else decoded from Whoosh's blocks."""
        counts = np.zeros(len(docs), dtype=np.int64)
        parts: list[np.ndarray] = []
        for number in range(first, len(self.segments)):
            reader, offset = self.segments[number]
            impacts, arrays = self.impacts[number], self.position_arrays[number]
            lo, hi = docs.searchsorted([offset, offset + reader.doc_count_all()])
            if lo == hi:
                continue
            local = docs[lo:hi] - offset
            found = None
            if not USE_POSITION_ARRAYS:
                arrays = None
            directory = self.directories[number] if USE_IMPACTS and arrays is not None else None
            if directory is not None:  # a common word: no term-index lookup
                located = directory.locate(key)
                if located is None:
                    continue
                if located is not UNKNOWN:
                    found = kept_positions(impacts, arrays, located, local)
            if found is None:
                info = self.term_info(number, fieldname, btext)
                found = term_positions(reader, fieldname, btext, local, impacts, arrays, info)
            if found is None:
                continue
            counts[lo:hi] = found[0]
            parts.append(found[1])
        return counts, np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def _with_whoosh(self, q: query.Query) -> Matches:
        """Any query type not handled above: complete but slow (one Python call per match),
        so it is counted and logged: the parser's own output never comes here (a test)."""
        kind = type(q).__name__
        SLOW_PATH[kind] += 1
        if SLOW_PATH[kind] == 1:
            log.warning("query type %s is evaluated by Whoosh's matcher (slow path)", kind)
        matcher = q.matcher(self.searcher)
        ids: list[int] = []
        scores: list[float] = []
        while matcher.is_active():
            if len(ids) % 256 == 0:
                check()
            ids.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        order = np.argsort(np.array(ids, dtype=_IDS), kind="stable")
        return Matches(np.array(ids, dtype=_IDS)[order], np.array(scores, dtype=_SCORES)[order])

    # -- per-document data ------------------------------------------------------------

    def stored_fields(self, docnum: int) -> dict:
        """``searcher.stored_fields(docnum)`` from its segment's reader, found by one bisect:
        without the searcher's, the multi-reader's and its two lookups' calls in between
        (~1.5 of a hit's ~7 us). A new dict each call."""
        at = bisect.bisect_right(self._firsts, docnum) - 1
        reader, offset = self.segments[at]
        return reader.stored_fields(docnum - offset)

    def length_codes(self, fieldname: str) -> np.ndarray:
        """Each document's length of ``fieldname`` as Whoosh stores it (one byte, lossy; read
        once per searcher): a worker holds one byte per document and field, not eight."""
        codes = self._lengths.get(fieldname)
        if codes is None:
            with outside_budget():  # once per searcher: never cut short by one search
                codes = self._length_codes(fieldname)
            self._lengths[fieldname] = codes
        return codes

    def length_norms(self, fieldname: str) -> np.ndarray:
        """BM25's length normalisation ``k1 * ((1 - b) + b * length / average)`` for each of
        the 256 length bytes: a term's documents look theirs up, where each term computed it
        over its documents' lengths (four array operations a term; the same float64 operations
        on the same values, so the same scores, bit for bit)."""
        norms = self._norms.get(fieldname)
        if norms is None:
            k1, b = self.settings.bm25_k1, self.settings.bm25_b
            norms = k1 * ((1 - b) + b * BYTE_TO_LENGTH / self.avg_length(fieldname))
            self._norms[fieldname] = norms
        return norms

    def _length_codes(self, fieldname: str) -> np.ndarray:
        parts = [length_bytes(reader, fieldname) for reader, _offset in self.segments]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)

    def avg_length(self, fieldname: str) -> float:
        if fieldname not in self._avg_length:
            self._avg_length[fieldname] = self.searcher.avg_field_length(fieldname) or 1.0
        return self._avg_length[fieldname]


def _members(ids: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted unique ``ids``: which are in sorted unique ``other``, and where.

    A binary search of each of ``ids`` in ``other``: O(len(ids) log len(other)), where
    ``intersect1d``/``isin`` sort both together (AND puts the shortest list first, so this is
    much cheaper when one word is common). ``where[hit]`` indexes ``other``.
    """
    if not len(other):
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.intp)
    where = other.searchsorted(ids)
    where[where == len(other)] = 0
    return other[where] == ids, where


#: A position key is (candidate's rank << _DOC_SHIFT) + position: one sorted int64 array per
#: word, so "this word one to slop positions after that one, in the same document" is one
#: binary search. Positions are below 2**32 (the arrays store them as uint32 at most).
_DOC_SHIFT = 32


def _position_keys(counts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sorted keys of a word's positions in the candidates (``counts[i]`` of them in the
    i-th candidate, ``positions`` concatenated in candidate order)."""
    ranks = np.arange(len(counts), dtype=np.int64).repeat(counts)
    keys = (ranks << _DOC_SHIFT) + positions
    return np.sort(keys)


def _following(ends: np.ndarray, later: np.ndarray, slop: int) -> np.ndarray:
    """The keys of ``later`` 1 to ``slop`` positions after one of ``ends`` (both sorted), in
    the same document: the nearest end before each is the one to test, whatever the slop.

    A key's end in the candidate before is never within reach: its position would be over
    2**32 - slop."""
    before = ends.searchsorted(later) - 1
    nearest = ends[np.maximum(before, 0)] if len(ends) else np.zeros(len(later), np.int64)
    return later[(before >= 0) & (later - nearest <= min(slop, 2**31))]


def _union_of_two(first: Matches, second: Matches) -> Matches:
    """The union of two sorted matches, a document in both scoring the sum of its two scores:
    the smaller list is found in the larger by binary search and the rest inserted in place
    (O(n + m log n)), where a union of any number sorts them all together (``np.unique``, an
    argsort). A word is searched in the text and in the section heading (``with_context``), so
    nearly every query word is such a union of two. Same documents, same sums (a sum of two
    floats does not depend on their order)."""
    big, small = (first, second) if len(first) >= len(second) else (second, first)
    where = big.ids.searchsorted(small.ids)
    inside = where < len(big.ids)
    inside[inside] = big.ids[where[inside]] == small.ids[inside]
    scores = big.scores.copy()
    scores[where[inside]] += small.scores[inside]
    if inside.all():
        return Matches(big.ids, scores)
    outside = ~inside
    # each new document goes before the big list's document at ``where``, after the new ones
    # before it: its place in the union (what np.insert does, without its argument handling)
    placed = where[outside] + np.arange(int(outside.sum()))
    kept = np.ones(len(big.ids) + len(placed), dtype=bool)
    kept[placed] = False
    ids = np.empty(len(kept), dtype=big.ids.dtype)
    ids[kept] = big.ids
    ids[placed] = small.ids[outside]
    merged = np.empty(len(kept), dtype=scores.dtype)
    merged[kept] = scores
    merged[placed] = small.scores[outside]
    return Matches(ids, merged)


def _term_entry_size(key: tuple[str, bytes], found: Matches) -> int:
    """What a cached posting list costs: its arrays, its key and the bookkeeping."""
    return found.ids.nbytes + found.scores.nbytes + len(key[0]) + len(key[1]) + ENTRY_OVERHEAD + 300
