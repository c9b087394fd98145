"""Every term of a build's segments in one directory, with its postings from all of them: a
word is looked up and read once per field, not once per segment.

A parallel build writes one segment per process, and a search read each of its words in each
segment: a hash search, a record, two posting reads and the joining of the parts, twice.
Reading a word's postings was most of what a new query cost above a repeated one; the same
search on one combined list took ~9% less CPU at 150,000 chunks (two segments, the bench's
new queries, in-process). Whoosh's segments stay as they are (merging them took longer than
the whole parallel build); this file is written beside them, in the build's folder, once
the build's segments are final (``indexing``), and read by ``scoring`` for those segments.

    magic "SACTRv01" | header bytes | terms | postings      (int64 each)
    header   JSON: the segments covered, in order: [[segment id, documents], ...]
    hashes   int64[terms]              ``term_directory.term_key``'s hash, ascending
    records  (int64, uint32, uint32)[terms]
             the term's first posting, how many (of all segments), the key's check
    ids      uint32[postings]          document numbers in the whole index, ascending per term
    weights  float32[postings]

A hash the segments file under two different terms (or one marked ambiguous in a segment) is
marked ambiguous here too: the segments' own directories answer for it.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import weakref
from pathlib import Path

import numpy as np

from searchapp.pread import pread_exact
from searchapp.term_directory import UNKNOWN

log = logging.getLogger(__name__)

#: The file in a build's folder.
COMBINED_FILE = "terms.bin"
_MAGIC = b"SACTRv01"
_HEADER = struct.Struct("<8sqqq")
_RECORD = struct.Struct("<qII")
_RECORD_TYPE = np.dtype([("start", "<i8"), ("count", "<u4"), ("check", "<u4")])
#: A record's count when the segments' directories must answer (see the module docstring).
_AMBIGUOUS = 0xFFFFFFFF


class CombinedFormatError(ValueError):
    """A combined term file this code does not know, or one of other segments."""


def segment_list(segments) -> list[list]:
    """``[[segment id, documents], ...]`` of a searcher's ``(reader, offset)`` pairs: what a
    combined file must have been written for."""
    return [[reader.segment().segment_id(), reader.doc_count_all()] for reader, _ in segments]


def write_combined(path: Path, segments, directories, impacts) -> bool:
    """Write the combined file of ``segments`` (a searcher's ``(reader, offset)`` pairs) from
    their term directories and impacts, through a new file (an incremental build's folder
    starts with hard links to the previous build's files). False, writing nothing, when a
    segment has no directory or impacts (written by Whoosh's own writer), or there is one
    segment (nothing to combine)."""
    if len(segments) < 2 or any(d is None for d in directories) or any(i is None for i in impacts):
        return False
    records = [d.records() for d in directories]
    hashes = np.unique(np.concatenate([d.hashes for d in directories]))
    counts = np.zeros(len(hashes), dtype=np.int64)
    checks = np.zeros(len(hashes), dtype=np.uint32)
    seen = np.zeros(len(hashes), dtype=bool)
    ambiguous = np.zeros(len(hashes), dtype=bool)
    where = []
    for directory, kept in zip(directories, records, strict=True):
        at = hashes.searchsorted(directory.hashes)
        where.append(at)
        ambiguous[at[kept["count"] == _AMBIGUOUS]] = True
        differs = seen[at] & (checks[at] != kept["check"])
        ambiguous[at[differs]] = True
        checks[at] = np.where(seen[at], checks[at], kept["check"])
        seen[at] = True
        counts[at] += np.where(kept["count"] == _AMBIGUOUS, 0, kept["count"])
    counts[ambiguous] = 0
    starts = np.zeros(len(hashes) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    total = int(starts[-1])
    out_ids = np.empty(total, dtype="<u4")
    out_weights = np.empty(total, dtype="<f4")
    filled = starts[:-1].copy()  # where each term's next segment's postings go
    for (reader, offset), directory, kept, at, impact in zip(
        segments, directories, records, where, impacts, strict=True
    ):
        if offset + reader.doc_count_all() >= 2**32:
            raise CombinedFormatError("more than 2**32 documents")
        use = ~ambiguous[at]
        ids, weights = _all_postings(directory, kept[use], impact)
        n = kept["count"][use].astype(np.int64)
        first = filled[at[use]]
        dest = np.repeat(first - _firsts(n), n) + np.arange(len(ids), dtype=np.int64)
        out_ids[dest] = ids + np.uint32(offset)
        out_weights[dest] = weights
        filled[at[use]] += n
    table = np.empty(len(hashes), dtype=_RECORD_TYPE)
    table["start"] = starts[:-1]
    table["count"] = np.where(ambiguous, _AMBIGUOUS, counts)
    table["check"] = checks
    header = json.dumps(segment_list(segments)).encode("utf-8")
    header += b" " * (-len(header) % 8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(_HEADER.pack(_MAGIC, len(header), len(hashes), total))
        out.write(header)
        out.write(hashes.astype("<i8").tobytes())
        out.write(table.tobytes())
        out.write(out_ids.tobytes())
        out.write(out_weights.tobytes())
    os.replace(tmp, path)
    return True


def _firsts(counts: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of ``counts`` starts."""
    firsts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=firsts[1:])
    return firsts


def _all_postings(directory, records: np.ndarray, impacts) -> tuple[np.ndarray, np.ndarray]:
    """(ids, weights) of the terms of ``records`` (a segment's), one term after another."""
    counts = records["count"].astype(np.int64)
    rank = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(_firsts(counts), counts)
    starts = records["start"]
    in_impacts = np.repeat(starts < 0, counts)
    ids = np.empty(len(rank), dtype=np.uint32)
    weights = np.empty(len(rank), dtype=np.float32)
    # common terms: in the impacts file, from their first posting there
    at = np.repeat(-1 - starts, counts)[in_impacts] + rank[in_impacts]
    ids[in_impacts] = impacts.ids[at]
    weights[in_impacts] = impacts.weights[at]
    # the others: in the directory, their ids then their weights from a byte offset
    small = directory.small_postings()
    words = np.frombuffer(small, dtype="<u4")
    floats = np.frombuffer(small, dtype="<f4")
    rare = ~in_impacts
    at = (np.repeat(starts // 4, counts) + rank)[rare]
    ids[rare] = words[at]
    weights[rare] = floats[at + np.repeat(counts, counts)[rare]]
    return ids, weights


class CombinedTerms:
    """A build's combined term file (see the module's docstring): its hashes in private
    memory (8 bytes a term), records and postings read with ``os.pread``."""

    def __init__(self, path: Path, segments):
        fd = os.open(path, os.O_RDONLY)
        self._closer = weakref.finalize(self, os.close, fd)
        try:
            size = os.fstat(fd).st_size
            magic, header_size, terms, postings = _HEADER.unpack(pread_exact(fd, _HEADER.size, 0))
            if magic != _MAGIC or min(header_size, terms, postings) < 0:
                raise CombinedFormatError("unknown combined term file")
            self._hashes_at = _HEADER.size + header_size
            self._records_at = self._hashes_at + 8 * terms
            self._ids_at = self._records_at + _RECORD.size * terms
            self._weights_at = self._ids_at + 4 * postings
            if size != self._weights_at + 4 * postings:
                raise CombinedFormatError("combined term file of the wrong size")
            covered = json.loads(pread_exact(fd, header_size, _HEADER.size))
            if covered != segment_list(segments):
                raise CombinedFormatError("written for other segments")
            self.hashes = np.frombuffer(
                pread_exact(fd, 8 * terms, self._hashes_at), dtype="<i8"
            ).copy()
        except (OSError, ValueError, EOFError):
            self._closer()
            raise
        self._fd = fd

    @classmethod
    def of(cls, build: Path, segments) -> CombinedTerms | None:
        """The build's combined file if it has one for ``segments``, else None (a warning
        when there is a file this code cannot use: the segments' directories answer)."""
        path = Path(build) / COMBINED_FILE
        if len(segments) < 2 or not path.exists():
            return None
        try:
            return cls(path, segments)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("ignoring %s: %s", path, exc)
            return None

    def postings(self, key: tuple[int, int], ids_dtype, weights_dtype):
        """(document frequency, ids, weights) of the term filed under ``key`` over all the
        segments, None when none has it, ``UNKNOWN`` when the segments must answer."""
        hashed, check = key
        hashes = self.hashes
        i = int(hashes.searchsorted(hashed))
        if i == len(hashes) or int(hashes[i]) != hashed:
            return None
        start, count, kept_check = _RECORD.unpack(
            pread_exact(self._fd, _RECORD.size, self._records_at + i * _RECORD.size)
        )
        if count == _AMBIGUOUS:
            return UNKNOWN
        if kept_check != check:
            return None
        ids = np.frombuffer(pread_exact(self._fd, 4 * count, self._ids_at + 4 * start), "<u4")
        weights = np.frombuffer(
            pread_exact(self._fd, 4 * count, self._weights_at + 4 * start), "<f4"
        )
        return count, ids.astype(ids_dtype), weights.astype(weights_dtype)
