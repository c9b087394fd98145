"""Shape the matches of a query into pages: passages or articles, by relevance or by date.

A reader expects one result per article, with its best passages under it (Pagefind's
sub-results, Meilisearch's ``distinct``, Elasticsearch's ``collapse``). Grouping is done here
over *all* the matching chunks with numpy, before paging, so totals and facets are exact and
no article appears on two pages. Per-document values (article, date, kind, authors, tags...)
are read once per searcher from the fields' posting lists (``FieldValues``), which works for
single- and multi-valued fields alike and needs no schema change.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh.matching.wrappers import FilterMatcher

from searchapp.budget import outside_budget
from searchapp.scoring import FACET_LIMIT, Matches, QueryEvaluator
from searchapp.whoosh_compat import column_bytes, read_postings

GROUPS = ("article", "none")
SORTS = ("relevance", "newest", "oldest")
#: Matching passages shown under an article.
MAX_PASSAGES = 3
#: An article's score: its best passage's, times (1 + GROUP_BONUS * log2(matching passages)).
#: Small on purpose: one excellent passage beats several weak ones. Measured with
#: ``scripts/evaluate.py`` (grouped metrics); see the README's Relevance section.
GROUP_BONUS = 0.05


#: Decoded labels a ``Labels`` keeps (a few hundred KB at most, where all 82,000 section names
#: of a 500,000-chunk archive decoded would take ~7 MB in each worker).
DECODED_LABELS = 4096


class Labels(Sequence[str]):
    """Sorted strings kept as one UTF-8 buffer and their offsets: a field's values (82,000
    section names at 500,000 chunks) in a third of the memory of a list of ``str`` (6.8 ->
    2.5 MB in every worker). A label is decoded when asked for: the facets show a few."""

    def __init__(self, labels: list[str]):
        encoded = [label.encode("utf-8") for label in labels]
        self._data = b"".join(encoded)
        # array, not numpy: an item is a Python int at once (a facet decodes 20-odd labels a
        # request; numpy scalars made each lookup three times slower), 8 bytes each either way
        self._ends = array("q", itertools.accumulate(len(e) for e in encoded))
        #: Labels decoded already (the facets show the same few again and again), emptied
        #: when full: at most ``DECODED_LABELS`` strings beside the buffer.
        self._decoded: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        found = self._decoded.get(index)
        if found is not None:
            return found
        ends = self._ends
        if index < 0:
            index += len(ends)
        if not 0 <= index < len(ends):
            raise IndexError("label index out of range")
        start = ends[index - 1] if index else 0
        found = self._data[start : ends[index]].decode("utf-8")
        if len(self._decoded) >= DECODED_LABELS:
            self._decoded.clear()
        self._decoded[index] = found
        return found

    def index(self, value: str, start: int = 0, stop: int | None = None) -> int:
        """Where ``value`` is (the labels are sorted: a binary search)."""
        stop = len(self) if stop is None else stop
        at = bisect.bisect_left(self, value, start, stop)
        if at < stop and self[at] == value:
            return at
        raise ValueError(f"{value!r} is not a label")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Values:
    """Every (document, value) pair of a field: ``docs[i]`` holds ``labels[codes[i]]``.

    Labels are sorted, so for dates code order is date order.
    """

    docs: np.ndarray
    codes: np.ndarray
    labels: Sequence[str]


#: Document numbers and value codes kept per searcher: 4 bytes each (an archive has far fewer
#: than 2**31 chunks); arithmetic that could overflow them casts to int64 first.
CODE = np.int32
#: Codes per document, narrowest first: a field of a few values (kind, language, year) takes one
#: byte a document, not four (at 500,000 chunks, 2 MB per field and worker instead of 8).
_NARROW_CODES = (np.int8, np.int16, np.int32)
#: Sortable fields' values are read from their columns (False: from their terms' posting
#: lists, the reference the tests compare with).
USE_COLUMNS = True
#: The key of the year facet's values (derived from ``date``; not a schema field).
_YEAR = "__year__"


def _one_per_document(docs: np.ndarray) -> bool:
    """Whether no document number repeats in ``docs`` (a count per document: O(n), where
    ``np.unique`` hashed or sorted them, 0.4 s a field at 500,000 chunks)."""
    return not len(docs) or int(np.bincount(docs).max()) <= 1


def code_type(labels: Sequence[str]) -> type[np.signedinteger]:
    """The narrowest signed type holding a code of each of ``labels`` and -1 (no value)."""
    return next(t for t in _NARROW_CODES if len(labels) <= np.iinfo(t).max)


class FieldValues:
    """Per-document values of indexed fields, read from posting lists, cached per searcher.

    Memory grows with the archive, in every worker: a field with at most one value per document
    (article_id, date, kind, section, lang, the year) is kept as one code per document (-1:
    none), 1 to 4 bytes a document (``code_type``); a field with several (authors, tags) as
    its (document, code) pairs, 8 bytes a pair. (Before: the pairs of every field, a code per
    document beside them twice, all int64: about 130 bytes a document, 65 MB per worker at
    500,000 chunks.)
    """

    def __init__(self, evaluator: QueryEvaluator):
        self.evaluator = evaluator
        self._single: dict[str, tuple[np.ndarray, Sequence[str]]] = {}
        self._pairs: dict[str, Values] = {}
        self._heads: np.ndarray | None = None
        self._lock = threading.RLock()
        self._has: dict[str, bool] = {}
        #: One-valued fields every document has a value of (kind, language): their codes
        #: need no mask of the documents without.
        self._complete: dict[str, bool] = {}

    def has(self, field: str) -> bool:
        """Whether the schema has ``field`` (remembered: Whoosh's check, glob patterns and
        all, took about 2 us, asked six times a request by the facets)."""
        found = self._has.get(field)
        if found is None:
            found = self._has[field] = field in self.evaluator.reader.schema
        return found

    def _load(self, field: str) -> None:
        """Read ``field`` (or the year) once, keeping the smaller of the two forms."""
        with self._lock:
            if field in self._single or field in self._pairs:
                return
            with outside_budget():  # once per searcher: never cut short by one search
                found = self._read_years() if field == _YEAR else self._read(field)
                if _one_per_document(found.docs):
                    codes = np.full(self.evaluator.doc_count, -1, dtype=code_type(found.labels))
                    codes[found.docs] = found.codes
                    self._complete[field] = len(found.docs) == len(codes)
                    self._single[field] = (codes, found.labels)
                else:
                    self._pairs[field] = found

    def values(self, field: str) -> Values:
        """Every (document, value) pair of ``field``, documents in order for one-valued ones."""
        self._load(field)
        with self._lock:
            pairs = self._pairs.get(field)
            if pairs is not None:
                return pairs
            codes, labels = self._single[field]
        docs = np.flatnonzero(codes >= 0).astype(CODE)
        return Values(docs, codes[docs], labels)

    def single(self, field: str) -> tuple[np.ndarray, Sequence[str]]:
        """A code per document (-1: no value) of a one-valued field such as article_id (of a
        field with several values: one of them, made again at each call)."""
        self._load(field)
        with self._lock:
            found = self._single.get(field)
            if found is not None:
                return found
            pairs = self._pairs[field]
        codes = np.full(self.evaluator.doc_count, -1, dtype=code_type(pairs.labels))
        codes[pairs.docs] = pairs.codes
        return codes, pairs.labels

    def _read(self, field: str) -> Values:
        """Every (document, code) pair of ``field``, walking its terms in order.

        A term whose documents are consecutive (an article's chunks are written together, so
        every ``article_id`` and most ``date`` terms) is taken from its term info alone (first
        and last document, count); only the others have their posting lists read.
        """
        if not self.has(field):
            return Values(np.empty(0, CODE), np.empty(0, CODE), [])
        schema_field = self.evaluator.reader.schema[field]
        codes_of: dict[bytes, int] = {}
        doc_parts: list[np.ndarray] = []
        code_parts: list[np.ndarray] = []
        run_starts: list[int] = []
        run_lengths: list[int] = []
        run_codes: list[int] = []
        for reader, offset in self.evaluator.segments:
            if field not in reader.indexed_field_names():
                continue
            per_doc = column_bytes(reader, field) if USE_COLUMNS else None
            if per_doc is not None:  # a sortable field: its column has each document's value
                for value in set(per_doc):  # codes are ranked by label below
                    if value:
                        codes_of.setdefault(value, len(codes_of))
                lookup = {**codes_of, b"": -1}
                codes = np.fromiter(map(lookup.__getitem__, per_doc), CODE, len(per_doc))
                docs = np.flatnonzero(codes >= 0)
                doc_parts.append(docs + offset)
                code_parts.append(codes[docs].astype(np.int64))
                continue
            for btext, info in reader.iter_field(field):
                code = codes_of.setdefault(btext, len(codes_of))
                first, last, count = info.min_id(), info.max_id(), info.doc_frequency()
                if last - first + 1 == count:
                    run_starts.append(first + offset)
                    run_lengths.append(count)
                    run_codes.append(code)
                    continue
                matcher = reader.postings(field, btext)
                if isinstance(matcher, FilterMatcher):
                    matcher = matcher.child
                ids, _weights = read_postings(matcher, np.int64, np.float64)
                doc_parts.append(ids + offset)
                code_parts.append(np.full(len(ids), code, dtype=np.int64))
        if run_lengths:
            lengths = np.array(run_lengths, dtype=np.int64)
            starts = np.repeat(
                np.array(run_starts, dtype=np.int64) - np.cumsum(lengths) + lengths, lengths
            )
            doc_parts.append(np.arange(int(lengths.sum()), dtype=np.int64) + starts)
            code_parts.append(np.repeat(np.array(run_codes, dtype=np.int64), lengths))
        if not doc_parts:
            return Values(np.empty(0, CODE), np.empty(0, CODE), [])
        raw = [schema_field.from_bytes(b) for b in codes_of]
        labels = [r.decode("utf-8") if isinstance(r, bytes) else str(r) for r in raw]
        order = sorted(range(len(labels)), key=labels.__getitem__)
        rank = np.empty(len(labels), dtype=CODE)
        rank[order] = np.arange(len(labels))
        return Values(
            np.concatenate(doc_parts).astype(CODE),
            rank[np.concatenate(code_parts)],
            Labels([labels[i] for i in order]),
        )

    def article_heads(self) -> np.ndarray:
        """Per article code, its live title chunk (-1: none): where article-only metadata
        (image, language) is stored."""
        with self._lock:
            heads = self._heads
        if heads is None:
            articles, labels = self.single("article_id")
            kinds, kind_labels = self.single("kind")
            title = kind_labels.index("title") if "title" in kind_labels else -2
            docs = np.flatnonzero((kinds == title) & self.evaluator.live & (articles >= 0))
            heads = np.full(len(labels), -1, dtype=np.int64)
            heads[articles[docs]] = docs
            with self._lock:
                self._heads = heads
        return heads

    def years(self) -> Values:
        """The year of each document's date, as a field of its own (for the year facet)."""
        return self.values(_YEAR)

    def _read_years(self) -> Values:
        dates = self.values("date")
        years = sorted({d[:4] for d in dates.labels})
        code = {y: i for i, y in enumerate(years)}
        mapping = np.array([code[d[:4]] for d in dates.labels], dtype=CODE)
        codes = mapping[dates.codes] if len(dates.codes) else dates.codes
        return Values(dates.docs, codes, years)

    def complete(self, name: str) -> bool:
        """Whether every document has a value of the facet ``name`` (as ``per_document``
        names it), one each."""
        key = _YEAR if name == "year" else name
        self._load(key)
        return self._complete.get(key, False)

    def per_document(self, name: str) -> tuple[Sequence[str], np.ndarray | None, Values | None]:
        """A facet's (``year`` or a field's) labels, and either its code per document (-1:
        none) when each document has at most one, so counting reads only the matches, or
        its (document, code) pairs."""
        key = _YEAR if name == "year" else name
        self._load(key)
        with self._lock:
            single = self._single.get(key)
            if single is not None:
                return single[1], single[0], None
            pairs = self._pairs[key]
            return pairs.labels, None, pairs


@dataclass
class Page:
    """One page of results: the documents to show, and for articles their passages."""

    total: int
    #: Passages (group=none): (docnum, score) in order. Articles: (best docnum, score).
    rows: list[tuple[int, float]]
    #: Articles only: per row, [(docnum, score), ...] of its best passages, and their count.
    passages: list[list[tuple[int, float]]]
    matched: list[int]


def _date_keys(date_codes: np.ndarray, newest: bool) -> np.ndarray:
    """Sort keys for ascending order: newest or oldest first, undated last either way."""
    big = np.iinfo(np.int64).max
    date_codes = date_codes.astype(np.int64)
    if newest:
        return np.where(date_codes < 0, big, -date_codes)
    return np.where(date_codes < 0, big, date_codes)


def page_passages(
    evaluator: QueryEvaluator,
    values: FieldValues,
    found: Matches,
    sort: str,
    offset: int,
    limit: int,
) -> Page:
    """Passages, best first or by their article's date."""
    if sort == "relevance":
        ids, scores = evaluator.top(found, offset + limit)
    else:
        dates, _ = values.single("date")
        keys = _date_keys(dates[found.ids], sort == "newest")
        order = np.lexsort((found.ids, -found.scores, keys))[: offset + limit]
        ids, scores = found.ids[order], found.scores[order]
    rows = list(zip(ids[offset:].tolist(), scores[offset:].tolist(), strict=True))
    return Page(total=len(found), rows=rows, passages=[], matched=[])


def page_articles(
    values: FieldValues,
    found: Matches,
    sort: str,
    offset: int,
    limit: int,
    browse: bool = False,
) -> Page:
    """Articles ranked by their best passage (plus a small bonus for more of them) or date.

    Every matching chunk is grouped before paging, so ``total`` counts articles exactly and
    each article is on one page only. ``browse`` (an empty query): the passage shown is the
    article's first paragraph rather than its "best" one, as every passage scores the same.
    """
    articles, _labels = values.single("article_id")
    art = articles[found.ids]
    n = int(art.max()) + 1 if len(art) else 0
    counts = np.bincount(art, minlength=n) if n else np.zeros(0, np.int64)
    present = np.flatnonzero(counts)
    total = len(present)
    if not total or offset >= total:
        return Page(total=total, rows=[], passages=[], matched=[])
    best = np.full(n, -np.inf)
    np.maximum.at(best, art, found.scores)
    score = best[present] * (1 + GROUP_BONUS * np.log2(counts[present]))
    if sort == "relevance":
        order = np.lexsort((present, -score))
    else:
        dates, _ = values.single("date")
        article_date = np.full(n, -1, dtype=np.int64)
        article_date[art] = dates[found.ids]
        keys = _date_keys(article_date[present], sort == "newest")
        order = np.lexsort((present, -score, keys))
    chosen = present[order[offset : offset + limit]]
    chosen_scores = score[order[offset : offset + limit]]

    # The passages of the chosen articles only, best first (ties: earlier chunk first).
    keep = np.isin(art, chosen)
    ids, scores, arts = found.ids[keep], found.scores[keep], art[keep]
    kinds, kind_labels = values.single("kind")
    if browse:
        paragraph = kind_labels.index("paragraph") if "paragraph" in kind_labels else -2
        rank = np.where(kinds[ids] == paragraph, 0.0, 1.0)  # first paragraph, else first chunk
        passage_order = np.lexsort((ids, rank))
    else:
        # The headline is the result's own title (marked there): not repeated as a passage.
        title = kind_labels.index("title") if "title" in kind_labels else -2
        passage_order = np.lexsort((ids, -scores))
        passage_order = passage_order[kinds[ids[passage_order]] != title]
    by_article: dict[int, list[tuple[int, float]]] = {int(a): [] for a in chosen}
    shown = 1 if browse else MAX_PASSAGES
    for i in passage_order.tolist():
        group = by_article[int(arts[i])]
        if len(group) < shown:
            group.append((int(ids[i]), float(scores[i])))
    rows, passages = [], []
    # Where each article's metadata is read: its title chunk, else its first matching chunk.
    first_doc = dict(zip(arts[::-1].tolist(), ids[::-1].tolist(), strict=True))
    heads = values.article_heads()
    for a, s in zip(chosen.tolist(), chosen_scores.tolist(), strict=True):
        head = int(heads[a])
        rows.append((head if head >= 0 else first_doc[a], s if math.isfinite(s) else 0.0))
        passages.append(by_article[a])
    return Page(total=total, rows=rows, passages=passages, matched=counts[chosen].tolist())


def facet_counts(
    values: FieldValues,
    found: Matches,
    fields: tuple[str, ...],
    unit: str,
) -> dict[str, dict[str, int]]:
    """``{field: {value: count}}`` over the matches, counting ``unit`` ("articles" or
    "passages"); most frequent first, except ``year``: newest first.

    A field with at most one value per document is counted from its code per document over
    the matches only; a multi-valued one (authors, tags) over its (document, value) pairs.
    Either way the cost no longer grows with the archive when a query matches little.
    """
    in_found = None
    articles, article_labels = values.single("article_id") if unit == "articles" else (None, ())
    facets: dict[str, dict[str, int]] = {}
    for name in fields:
        if name != "year" and not values.has(name):
            continue
        labels, by_doc, pairs = values.per_document(name)
        if not labels:
            facets[name] = {}
            continue
        if by_doc is not None and articles is None and len(labels) <= SMALL_FACET:
            complete = values.complete(name)
            ranked = _ranked_small(by_doc[found.ids], len(labels), name == "year", complete)
            facets[name] = _labelled(ranked, labels)
            continue
        if by_doc is not None:
            codes = by_doc[found.ids]
            if values.complete(name):
                docs = found.ids if articles is not None else None
            else:
                has = codes >= 0
                codes = codes[has]
                docs = found.ids[has] if articles is not None else None
        else:
            if in_found is None:
                in_found = np.zeros(values.evaluator.doc_count, dtype=bool)
                in_found[found.ids] = True
            keep = in_found[pairs.docs]
            codes = pairs.codes[keep]
            docs = pairs.docs[keep] if articles is not None else None
        n_labels = len(labels)
        if len(codes) <= FEW_MATCHES:
            ranked = _ranked_few(codes, None if docs is None else articles[docs], name == "year")
        else:
            if articles is not None:
                codes = per_article_codes(articles[docs], codes, n_labels, len(article_labels))
            present, counts = code_counts(codes, n_labels)
            if name == "year":  # newest first
                order = np.arange(len(present))[::-1]
            else:
                order = most_frequent(present, counts, n_labels)
            ranked = zip(present[order].tolist(), counts[order].tolist(), strict=True)
        facets[name] = _labelled(ranked, labels)
    return facets


def _labelled(ranked: Iterable[tuple[int, int]], labels: Sequence[str]) -> dict[str, int]:
    """``{label: count}`` of the first ``FACET_LIMIT`` ranked ``(code, count)`` whose label
    is not empty, in their order."""
    out: dict[str, int] = {}
    for code, count in ranked:
        if len(out) >= FACET_LIMIT:
            break
        label = labels[code]  # decoded once (a Labels lookup is a slice and a decode)
        if label:
            out[label] = count
    return out


#: A one-valued field of at most this many values (kind, language, year) counts passages by
#: ``np.bincount`` over all its values and ranks them in Python: ~6 us a field where the
#: general path's sorting and ranking in numpy took ~13 (a dozen calls on a handful of codes).
SMALL_FACET = 256


def _ranked_small(
    codes: np.ndarray, n_labels: int, newest_first: bool, complete: bool
) -> list[tuple[int, int]]:
    """``(code, count)`` of a one-valued field of few labels over the matches' ``codes`` (-1:
    no value, unless ``complete``), ranked as the array path ranks them: by count then code,
    or by code descending (years)."""
    if complete:
        counts = np.bincount(codes, minlength=n_labels).tolist()
    else:
        counts = np.bincount(np.add(codes, 1, dtype=np.intp), minlength=n_labels + 1)
        counts = counts[1:].tolist()
    present = [(code, count) for code, count in enumerate(counts) if count]
    if newest_first:
        present.reverse()
    else:
        present.sort(key=_by_count_then_code)
    return present


def _by_count_then_code(item: tuple[int, int]) -> tuple[int, int]:
    """Sort key of a ``(code, count)``: the most frequent first, ties by code."""
    return -item[1], item[0]


#: Distinct (article, value) pairs are marked in an array of every pair up to this many pairs
#: (one byte each), when the matches number at least a sixteenth of them.
DENSE_PAIRS = 1 << 23


def per_article_codes(
    articles: np.ndarray, codes: np.ndarray, n_labels: int, n_articles: int
) -> np.ndarray:
    """The code of each distinct (article, code) pair of the matches, in the order of
    ``np.unique(articles * n_labels + codes) % n_labels`` (what was done before: a hash or
    sort of every match, 22 ms a field for an empty query over 500,000 chunks).

    A pair equal to the one before it is dropped first: an article's chunks are consecutive
    document numbers, and so are the chunks of one of its sections. Then the pairs are marked
    in an array of every (article, code) when the matches fill a good part of it, else sorted.
    """
    if len(codes) > 1:
        change = np.empty(len(codes), dtype=bool)
        change[0] = True
        np.not_equal(codes[1:], codes[:-1], out=change[1:])
        change[1:] |= articles[1:] != articles[:-1]
        articles, codes = articles[change], codes[change]
    # int64: article codes times labels can pass 2**31 on a large archive
    keys = articles.astype(np.int64) * n_labels + codes
    pairs = n_articles * n_labels
    if pairs <= DENSE_PAIRS and len(keys) * 16 >= pairs:
        seen = np.zeros(pairs, dtype=bool)
        seen[keys] = True
        return seen.nonzero()[0] % n_labels
    return np.unique(keys) % n_labels


#: Up to this many codes a field's facet is counted in Python: numpy's sort, argsort and
#: their calls cost more than the counting for a query that matches little (150,000 chunks,
#: the bench's queries: ~120 us for the six fields at ten matches, mostly fixed cost).
FEW_MATCHES = 64


def _ranked_few(codes: np.ndarray, articles: np.ndarray | None, newest_first: bool) -> list:
    """``(code, count)`` of a few codes, as the array path ranks them: by count then code,
    or by code descending (years); per article when ``articles`` is given."""
    if articles is None:
        counted = Counter(codes.tolist())
    else:
        pairs = set(zip(articles.tolist(), codes.tolist(), strict=True))
        counted = Counter(code for _, code in pairs)
    if newest_first:
        return sorted(counted.items(), reverse=True)
    return sorted(counted.items(), key=_by_count_then_code)


def _sorted_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_counts=True)`` by the same sort, in six array operations
    (numpy's general function makes about a dozen calls: 14.7 against 11.1 us for 126
    codes)."""
    ordered = np.sort(codes)
    n = len(ordered)
    starts = np.empty(n + 1, dtype=bool)
    starts[0] = starts[n] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:n])
    at = np.flatnonzero(starts)
    return ordered[at[:-1]], np.diff(at)


def most_frequent(present: np.ndarray, counts: np.ndarray, n_labels: int) -> np.ndarray:
    """Positions of the FACET_LIMIT + 1 most frequent codes (one label may be empty and
    skipped), most frequent first, ties by code: the head of
    ``np.lexsort((present, -counts))``, without sorting every present code (a common word
    matches thousands of sections)."""
    key = present.astype(np.int64) - counts.astype(np.int64) * n_labels  # unique per code
    wanted = FACET_LIMIT + 1
    if len(key) > wanted:
        head = key.argpartition(wanted)[:wanted]
        return head[key[head].argsort()]
    return key.argsort()


def code_counts(codes: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``codes`` (each in [0, n_labels)), ascending, and how often each
    occurs.

    Codes fewer than half the labels (a word's matches over 38,000 sections at 150,000
    chunks) are sorted (``np.unique``); more are counted into an array of every label
    (``np.bincount``), which costs the labels' number whatever the matches (an array of 38,000
    counts and a scan of it: 60 us for 100 codes, where sorting them takes 6; sorting stays
    cheaper up to about 25,000 codes: 5,000 take 24 us sorted, 98 counted). Same answers
    (tests/test_results.py).
    """
    if len(codes) * 2 < n_labels:
        return _sorted_counts(codes)
    counts = np.bincount(codes, minlength=n_labels)
    present = counts.nonzero()[0]
    return present, counts[present]
