"""Every term of a segment found by a hash of its text, with its postings: one binary search in
numpy where Whoosh's term index takes a probe in Python, and a rare term's postings read as
two small arrays instead of an unpickled (maybe zlib-compressed) block.

A search reads each of its words in two or three fields of each segment, and a word no worker
has read yet cost ~80 us at 150,000 chunks (two segments): the term-index probe ~37 us, the
postings ~26 us. Those first reads were most of what a search costs above one whose words were
already read (``scripts/profile_requests.py``), and every search of new words pays them.

The segment writer writes, in a ``.tdr`` sub-file:

    magic "SATDRv02" | terms (int64) | bytes of small postings (int64)
    hashes   int64[terms]              the first 8 bytes of blake2b(field, NUL, term), ascending
    records  (int64, uint32, uint32, int64)[terms]
             where the postings start, how many, the digest's next 4 bytes (a check), and
             where Whoosh's postings file has them (what the positions file keys terms by)
    small    for each term of fewer than ``whoosh_compat.IMPACT_MIN_POSTINGS`` postings:
             its document numbers (uint32), then its weights (float32); ``start`` is a byte
             offset here. A term with more has them in the segment's impacts file, and
             ``start`` is -1 - its first posting there.

Two terms of a segment with one hash (never seen: 400,000 terms against 2**64) are both marked
unknown, and looked up in Whoosh's term index. This module knows the file; ``whoosh_compat``
finds it in a segment, ``scoring`` uses it.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from array import array
from collections.abc import Sequence

import numpy as np

from searchapp.pread import pread_exact

#: The segment file (inside the compound file) of ``TermDirectory``.
DIRECTORY_EXT = ".tdr"
_MAGIC = b"SATDRv02"
_HEADER = struct.Struct("<8sqq")
_RECORD = struct.Struct("<qIIq")
_RECORD_TYPE = np.dtype([("start", "<i8"), ("count", "<u4"), ("check", "<u4"), ("offset", "<i8")])
#: A record's count when two terms share its hash: look the term up in Whoosh's term index.
_AMBIGUOUS = 0xFFFFFFFF
#: What ``TermDirectory.postings`` gives for a term it cannot answer for.
UNKNOWN = object()


class DirectoryFormatError(ValueError):
    """A ``.tdr`` file this code does not know."""


def term_key(fieldname: str, btext: bytes) -> tuple[int, int]:
    """The (hash, check) a term is filed under: 12 bytes of blake2b over field and text."""
    digest = hashlib.blake2b(fieldname.encode("utf-8") + b"\0" + btext, digest_size=12).digest()
    return _KEY.unpack(digest)


_KEY = struct.Struct("<qI")  # signed: numpy compares a Python int with int64 in C


class TermDirectoryWriter:
    """Collects each term of a segment while its postings are written."""

    def __init__(self):
        self.hashes = array("q")
        self.starts = array("q")
        self.counts = array("I")
        self.checks = array("I")
        self.offsets = array("q")
        self.small = bytearray()

    def add(
        self,
        fieldname: str,
        btext: bytes,
        docs: Sequence[int],
        weights: Sequence[float],
        impacts_start: int | None,
        offset: int,
    ) -> None:
        """A term and its postings; ``impacts_start``: its first posting in the impacts file,
        None when it is not there (its postings are kept here); ``offset``: where its
        postings start in Whoosh's postings file."""
        hashed, check = term_key(fieldname, btext)
        self.hashes.append(hashed)
        self.checks.append(check)
        self.offsets.append(offset)
        self.counts.append(len(docs))
        if impacts_start is None:
            self.starts.append(len(self.small))
            self.small += array("I", docs).tobytes()
            self.small += array("f", weights).tobytes()
        else:
            self.starts.append(-1 - impacts_start)

    def write(self, out) -> None:
        """Write the file to ``out`` (a Whoosh segment file) and close it."""
        hashes = np.frombuffer(self.hashes, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        records = np.empty(len(hashes), dtype=_RECORD_TYPE)
        records["start"] = np.frombuffer(self.starts, dtype=np.int64)[order]
        records["count"] = np.frombuffer(self.counts, dtype=np.uint32)[order]
        records["check"] = np.frombuffer(self.checks, dtype=np.uint32)[order]
        records["offset"] = np.frombuffer(self.offsets, dtype=np.int64)[order]
        hashes = hashes[order]
        if len(hashes) > 1:
            shared = np.zeros(len(hashes), dtype=bool)
            same = hashes[1:] == hashes[:-1]
            shared[1:] |= same
            shared[:-1] |= same
            records["count"][shared] = _AMBIGUOUS
        if sys.byteorder != "little":  # ``small`` holds the arrays' native bytes
            raise DirectoryFormatError("the small postings are written little-endian only")
        out.write(_HEADER.pack(_MAGIC, len(hashes), len(self.small)))
        out.write(hashes.astype("<i8").tobytes())
        out.write(records.tobytes())
        out.write(bytes(self.small))
        out.close()


class TermDirectory:
    """A segment's ``.tdr`` file (see the module's docstring): its hashes in private memory
    (8 bytes a term, searched by every lookup), the rest read with ``os.pread`` when the
    segment is a file (``source``), else from ``buf``."""

    def __init__(self, buf, source: tuple[int, int] | None = None):
        view = memoryview(buf).cast("B")
        if len(view) < _HEADER.size:
            raise DirectoryFormatError("truncated term directory")
        magic, terms, small = _HEADER.unpack_from(view, 0)
        if magic != _MAGIC or terms < 0 or small < 0:
            raise DirectoryFormatError("unknown term directory")
        self._records_at = _HEADER.size + 8 * terms
        self._small_at = self._records_at + _RECORD.size * terms
        self._small_size = small
        if len(view) != self._small_at + small:
            raise DirectoryFormatError("term directory of the wrong size")
        self.hashes = np.frombuffer(view, dtype="<i8", count=terms, offset=_HEADER.size).copy()
        self._view = view if source is None else None
        self._fd, self._base = source if source is not None else (None, 0)

    def __len__(self) -> int:
        return len(self.hashes)

    def _read(self, position: int, size: int):
        if self._fd is not None:
            return pread_exact(self._fd, size, self._base + position)
        found = self._view[position : position + size]
        if len(found) != size:
            raise EOFError("term directory truncated")
        return found

    def records(self) -> np.ndarray:
        """Every term's record (start, count, check, offset), in the order of ``hashes``."""
        data = self._read(self._records_at, _RECORD.size * len(self))
        return np.frombuffer(data, dtype=_RECORD_TYPE)

    def small_postings(self) -> bytes:
        """The postings of the terms kept here (each: its ids, then its weights; a record's
        ``start`` is its byte offset in them)."""
        return bytes(self._read(self._small_at, self._small_size))

    def locate(self, key: tuple[int, int]):
        """(count, start, offset) of the term filed under ``key`` (``term_key``): how many
        postings, where they are (``start`` < 0: -1 - its first posting in the impacts
        file), where Whoosh's postings file has them. None when the segment lacks the term,
        ``UNKNOWN`` when this file cannot tell (ask Whoosh)."""
        hashed, check = key
        hashes = self.hashes
        i = int(hashes.searchsorted(hashed))
        if i == len(hashes) or int(hashes[i]) != hashed:
            return None
        start, count, kept_check, offset = _RECORD.unpack(
            self._read(self._records_at + i * _RECORD.size, _RECORD.size)
        )
        if count == _AMBIGUOUS:
            return UNKNOWN
        if kept_check != check:
            return None
        return count, start, offset

    def postings(self, key: tuple[int, int], impacts, ids_dtype, weights_dtype):
        """(document frequency, ids, weights) of the term filed under ``key`` (``term_key``),
        None when the segment lacks it, ``UNKNOWN`` when this file cannot tell (ask Whoosh).
        ``impacts``: the segment's ``whoosh_compat.Impacts``, where common terms' postings are."""
        found = self.locate(key)
        if found is None or found is UNKNOWN:
            return found
        count, start, _offset = found
        if start < 0:
            if impacts is None:
                return UNKNOWN
            found = impacts.read(-1 - start, count, ids_dtype, weights_dtype)
        else:
            data = self._read(self._small_at + start, 8 * count)
            found = (
                np.frombuffer(data, "<u4", count).astype(ids_dtype),
                np.frombuffer(data, "<f4", count, 4 * count).astype(weights_dtype),
            )
        return count, found[0], found[1]
