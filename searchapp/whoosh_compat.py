"""The one module that touches Whoosh's private names, for the releases it was checked against.

searchapp reads posting blocks and length columns straight from whoosh-reloaded 2.7's
internals (numpy scoring), joins segments written by separate processes (parallel builds),
bounds query expansions, and patches two per-posting hot spots of the writer. None of these
names is an API: another release may rename them, and a quiet fallback would change scores with
no error (every field length 0). So the installed version is checked at import, the names are
checked to exist, and every accessor raises ``WhooshIncompatible`` rather than degrade.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import TOC, FileIndex
from whoosh.matching import ListMatcher
from whoosh.query.terms import MultiTerm
from whoosh.util.numeric import byte_to_length

from searchapp import budget

#: whoosh-reloaded releases whose internals this module was checked against: [low, high).
SUPPORTED = ((2, 7, 5), (2, 8))
DISTRIBUTION = "whoosh-reloaded"


class WhooshIncompatible(RuntimeError):
    """The installed Whoosh is not one whose private names searchapp knows."""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])


def check_version(version: str | None = None) -> str:
    """The installed whoosh-reloaded version; raises ``WhooshIncompatible`` outside SUPPORTED."""
    if version is None:
        try:
            version = metadata.version(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            raise WhooshIncompatible(
                f"{DISTRIBUTION} is not installed (another Whoosh fork is?): "
                f"pip install '{DISTRIBUTION}>=2.7.5,<2.8'"
            ) from None
    low, high = SUPPORTED
    if not low <= _version_tuple(version) < high:
        raise WhooshIncompatible(
            f"searchapp uses private parts of {DISTRIBUTION} checked on >=2.7.5,<2.8; "
            f"{version} is installed: pip install '{DISTRIBUTION}>=2.7.5,<2.8'"
        )
    return version


_REQUIRED = [
    (W3LeafMatcher, ("_read_ids", "_read_weights", "_next_block")),
    (W3PerDocReader, ("_cached_reader", "doc_field_length")),
    (FileIndex, ("_segments",)),
    (MultiTerm, ("_btexts",)),
    (query.Wildcard, ("_find_prefix",)),
    (BufferFile, ("get", "subset", "get_array")),
]


def _check_names() -> None:
    missing = [
        f"{cls.__name__}.{n}" for cls, names in _REQUIRED for n in names if not hasattr(cls, n)
    ]
    if missing:
        raise WhooshIncompatible(f"{DISTRIBUTION} lacks {', '.join(missing)}")


# -- query expansion -----------------------------------------------------------------------


class LimitedExpansion:
    """Mixin for Whoosh's prefix, wildcard and fuzzy queries: expansions worked out once per
    reader and passed through ``limit_expansions`` (which subclasses define).

    Within one search (``budget.memo()``), equal queries share their expansion: the strict,
    corrected and relaxed passes parse the query again, and a fuzzy term's automaton is the
    costly part (Whoosh builds it before the first term is read).
    """

    def prepare_expansion(self) -> None:
        """Called before expanding: clamp the query's own settings here."""

    def limit_expansions(self, reader, btexts: Iterable[bytes]) -> list[bytes]:
        raise NotImplementedError

    def _btexts(self, ixreader):
        cached = getattr(self, "_limited_expansions", None)
        if cached is None or cached[0] is not ixreader:
            self.prepare_expansion()
            memo = budget.memo()
            key = (
                "expansion",
                id(ixreader),
                type(self).__name__,
                self.fieldname,
                self.text,
                getattr(self, "maxdist", None),
                getattr(self, "prefixlength", None),
            )
            terms = memo.get(key) if memo is not None else None
            if terms is None:
                terms = self.limit_expansions(ixreader, super()._btexts(ixreader))
                if memo is not None:
                    memo[key] = terms
            cached = (ixreader, terms)
            self._limited_expansions = cached
        return cached[1]


def expansions(q: MultiTerm, reader) -> list[bytes]:
    """The index terms a prefix, wildcard or fuzzy query stands for."""
    return list(q._btexts(reader))


def is_null_query(q) -> bool:
    """True for Whoosh's ``NullQuery`` (a query that matches nothing)."""
    return isinstance(q, query.qcore._NullQuery)


def wildcard_has_literal_prefix(fieldname: str, text: str) -> bool:
    """True when a wildcard starts with literal characters (so it scans part of the terms)."""
    return bool(query.Wildcard(fieldname, text)._find_prefix(text))


# -- reading postings and lengths ----------------------------------------------------------


def read_postings(matcher, ids_dtype, weights_dtype) -> tuple[np.ndarray, np.ndarray]:
    """(ids, weights) of a whole posting list, decoded a block at a time.

    A term in one document has its posting inlined in the term info (a ``ListMatcher``):
    walked one posting at a time, which for one posting is as fast.
    """
    if isinstance(matcher, ListMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=ids_dtype), np.array(weights, dtype=weights_dtype)
    if not isinstance(matcher, W3LeafMatcher):
        raise WhooshIncompatible(f"unexpected posting matcher {type(matcher).__name__}")
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    while matcher.is_active():
        budget.check()  # a long posting list is where a query's time goes
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        start = matcher._i
        id_parts.append(np.asarray(matcher._ids[start:], dtype=ids_dtype))
        weight_parts.append(np.asarray(matcher._weights[start:], dtype=weights_dtype))
        matcher._i = matcher._blocklength
        matcher._next_block()
    if not id_parts:
        return np.empty(0, ids_dtype), np.empty(0, weights_dtype)
    return np.concatenate(id_parts), np.concatenate(weight_parts)


def length_column(segment_reader, fieldname: str):
    """The column of one-byte field lengths of a segment, or None for a field without lengths."""
    try:
        perdoc = segment_reader._perdoc
    except AttributeError:
        raise WhooshIncompatible(
            f"{type(segment_reader).__name__} has no per-document reader"
        ) from None
    return perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)


#: Field length of each length byte, as Whoosh decodes it (0 for none).
BYTE_TO_LENGTH = np.array([byte_to_length(i) if i else 0 for i in range(256)], dtype=np.float64)


# -- joining segments written by separate processes ---------------------------------------


def join_segments(target: Path, schema, part_dirs: list[Path]) -> None:
    """Move each part index's segment files into ``target`` and write one table of contents."""
    segments = []
    for part_dir in part_dirs:
        part_ix = whoosh_index.open_dir(str(part_dir))
        part_segments = part_ix._segments()
        part_ix.close()
        for segment in part_segments:
            prefix = segment.segment_id() + "."
            for name in [n for n in part_dir.iterdir() if n.name.startswith(prefix)]:
                name.rename(target / name.name)
        segments.extend(part_segments)
    TOC(schema, segments, 1).write(FileStorage(str(target)), "MAIN")


# -- patches to the writer's per-posting hot spots -----------------------------------------


def _cached_reader(self, fieldname, column):
    """Cache the absence of a length column too (the original asks the file system again for
    every posting of a field without lengths: a stat() per posting, ~10% of a build)."""
    try:
        return self._readers[fieldname]
    except KeyError:
        pass
    reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
    self._readers[fieldname] = reader
    return reader


_LENGTHS_ATTR = "_searchapp_lengths"
_DECODED_LENGTHS = [byte_to_length(b) if b else None for b in range(256)]


def _doc_field_length(self, docnum, fieldname, default=0):
    """Read each length column once into a list (the original reads and decodes one byte per
    call, once per posting while a segment is written: ~9% of a build). Same answers."""
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    cache = self.__dict__.setdefault(_LENGTHS_ATTR, {})
    lengths = cache.get(fieldname)
    if lengths is None:
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        lengths = default if reader is None else [_DECODED_LENGTHS[b] for b in reader]
        cache[fieldname] = lengths
    if not isinstance(lengths, list):
        return lengths
    return lengths[docnum]


# -- reading compound segments without copying them ---------------------------------------


class ViewFile:
    """A read-only, seekable file over a buffer (a slice of the segment's memory map).

    Whoosh's ``BufferFile`` wraps each sub-file of a compound segment in ``BytesIO(buffer)``,
    which copies the whole sub-file into the process's private memory when the index is opened:
    the postings, the term index and the columns, 70 MB per worker at 55,000 chunks and growing
    with the archive. This reads the memory map in place: pages come from the page cache, are
    loaded when touched and shared by every worker (and every process that opens the index).
    """

    def __init__(self, buf):
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(len(self._view), start + size)
        self._pos = max(start, end)
        return self._view[start:end].tobytes()

    def readinto(self, target) -> int:
        data = self.read(len(memoryview(target).cast("B")))
        memoryview(target).cast("B")[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = (
            len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        )
        end = self._pos
        while end < limit:
            chunk = self._view[end : min(limit, end + 4096)].tobytes()
            found = chunk.find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end += len(chunk)
        return self.read(end - self._pos)

    def __iter__(self):
        while line := self.readline():
            yield line

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        if base + pos < 0:
            raise ValueError("negative seek position")
        self._pos = base + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._view.release()


def _buffer_file_init(self, buf, name=None, onclose=None):
    """``BufferFile.__init__`` reading ``buf`` in place (see :class:`ViewFile`)."""
    self._buf = buf
    self._name = name
    self.file = ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


check_version()
_check_names()
BufferFile.__init__ = _buffer_file_init
W3PerDocReader._cached_reader = _cached_reader
W3PerDocReader.doc_field_length = _doc_field_length
