"""Exact sets of matching documents, for totals and facet counts, by set algebra.

Whoosh counts matches and facets by visiting every matching document through its matcher
tree in pure Python (with ``groupedby``, every query pays for scoring all matches too). Here a
query is turned into Python sets instead: a term's posting list is read a block at a time, and
AND/OR/NOT become set intersection, union and difference, which run in C. Only queries that
need positions (phrases) are checked through Whoosh's matcher, and only among the documents
that hold all their words. Facet values come from columns loaded once per searcher.
"""

from __future__ import annotations

from collections import Counter

from whoosh import query
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import terms as term_queries


class DocSets:
    """Match sets and facet columns for one searcher (rebuilt when the searcher is)."""

    def __init__(self, searcher, facet_fields: tuple[str, ...]):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.facet_fields = facet_fields
        self._columns: dict[str, list] = {}
        self._all: set[int] | None = None

    def all_docs(self) -> set[int]:
        """Every live (not deleted) document."""
        if self._all is None:
            docs: set[int] = set()
            for reader, offset in self.segments:
                deleted = reader.deleted_docs_set if reader.has_deletions() else ()
                docs.update(d + offset for d in range(reader.doc_count_all()) if d not in deleted)
            self._all = docs
        return self._all

    def term(self, fieldname: str, text) -> set[int]:
        """The live documents whose ``fieldname`` holds ``text``."""
        field = self.reader.schema[fieldname] if fieldname in self.reader.schema else None
        if field is None:
            return set()
        btext = text if isinstance(text, bytes) else field.to_bytes(text)
        docs: set[int] = set()
        for reader, offset in self.segments:
            if (fieldname, btext) not in reader:
                continue
            matcher = reader.postings(fieldname, btext)
            if isinstance(matcher, FilterMatcher):
                matcher = matcher.child
            ids = _leaf_ids(matcher)
            if reader.has_deletions():
                deleted = reader.deleted_docs_set
                ids = [i for i in ids if i not in deleted]
            docs.update(ids if not offset else (i + offset for i in ids))
        return docs

    def matching(self, q: query.Query) -> set[int]:
        """The exact set of live documents ``q`` matches."""
        if isinstance(q, query.qcore._NullQuery):
            return set()
        if isinstance(q, query.Every):
            return set(self.all_docs())
        if isinstance(q, query.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, query.And):
            sets = sorted((self.matching(c) for c in q.subqueries), key=len)
            return set.intersection(*sets) if sets else set()
        if isinstance(q, query.Or | query.DisjunctionMax):
            out: set[int] = set()
            for child in q.subqueries:
                out |= self.matching(child)
            return out
        if isinstance(q, query.AndNot):
            return self.matching(q.a) - self.matching(q.b)
        if isinstance(q, query.AndMaybe):
            return self.matching(q.a)
        if isinstance(q, query.Require):
            return self.matching(q.a) & self.matching(q.b)
        if isinstance(q, query.Not):
            return self.all_docs() - self.matching(q.query)
        if isinstance(q, term_queries.MultiTerm):
            out = set()
            for btext in q._btexts(self.reader):
                out |= self.term(q.field(), btext)
            return out
        if isinstance(q, query.Phrase):
            candidates = sorted((self.term(q.fieldname, w) for w in q.words), key=len)
            if not candidates or not candidates[0]:
                return set()
            if not set.intersection(*candidates):
                return set()
        if isinstance(q, query.WrappingQuery):
            return self.matching(q.child)
        # Anything needing positions: let Whoosh's matcher decide.
        return set(q.matcher(self.searcher).all_ids())

    def column(self, fieldname: str) -> list:
        """Values of a sortable field, indexed by document number."""
        if fieldname not in self._columns:
            values: list = []
            for reader, _offset in self.segments:
                if reader.has_column(fieldname):
                    values.extend(reader.column_reader(fieldname))
                else:
                    values.extend([None] * reader.doc_count_all())
            self._columns[fieldname] = values
        return self._columns[fieldname]

    def facet_counts(self, docs: set[int]) -> dict[str, dict[str, int]]:
        """``{field: {value: count}}`` over ``docs``, most frequent first, blanks left out."""
        facets = {}
        for name in self.facet_fields:
            column = self.column(name)
            counts = Counter(map(column.__getitem__, docs))
            cleaned = {_text(k): v for k, v in counts.items() if k not in (None, "", b"")}
            facets[name] = dict(sorted(cleaned.items(), key=lambda kv: (-kv[1], kv[0])))
        return facets


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _leaf_ids(matcher) -> list[int]:
    """All ids of a posting list, a block at a time (no per-document Python calls)."""
    if not hasattr(matcher, "_next_block") or not hasattr(matcher, "_read_ids"):
        return list(matcher.all_ids())
    ids: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        ids.extend(matcher._ids[matcher._i :])
        matcher._i = matcher._blocklength  # consumed this block
        matcher._next_block()
    return ids
