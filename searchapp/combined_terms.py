"""Every term of a build's segments in one directory, with its postings from all of them: a
word is looked up and read once per field, not once per segment.

A parallel build writes one segment per process, and a search read each of its words in each
segment: a hash search, a record, two posting reads and the joining of the parts, twice.
Reading a word's postings was most of what a new query cost above a repeated one; the same
search on one combined list took ~9% less CPU at 150,000 chunks (two segments, the bench's
new queries, in-process). Whoosh's segments stay as they are (merging them took longer than
the whole parallel build); this file is written beside them, in the build's folder, once
the build's segments are final (``indexing``), and read by ``scoring`` for those segments.

    magic "SACTRv02" | header bytes | terms | postings | positions | bytes a position
    header   JSON: the segments covered, in order: [[segment id, documents], ...]
    hashes   int64[terms]              ``term_directory.term_key``'s hash, ascending
    records  (int64, uint32, uint32, int64)[terms]
             the term's first posting, how many (of all segments), the key's check, and
             its first posting in ``starts`` (-1: its positions are not kept here)
    ids      uint32[postings]          document numbers in the whole index, ascending per term
    weights  float32[postings]
    starts   uint32[postings + 1]      each posting's first position in ``positions``
    positions uint16/uint32[...]       the positions of each posting, ascending

A term's positions are kept when every segment has them in its position arrays (its common
terms': ``searchapp.positions``); phrases then check a word's positions in all segments at
once, from this file's memory map, read in place.

An update's new segments come after those of the file (``CombinedTerms.covered``), read one
by one, until they hold a tenth of the documents and the file is written again.

A hash the segments file under two different terms (or one marked ambiguous in a segment) is
marked ambiguous here too: the segments' own directories answer for it.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import weakref
from pathlib import Path

import numpy as np

from searchapp.positions import gather
from searchapp.pread import pread_exact
from searchapp.term_directory import UNKNOWN

log = logging.getLogger(__name__)

#: The file in a build's folder.
COMBINED_FILE = "terms.bin"
_MAGIC = b"SACTRv02"
_HEADER = struct.Struct("<8sqqqqq")
_RECORD = struct.Struct("<qIIq")
_RECORD_TYPE = np.dtype(
    [("start", "<i8"), ("count", "<u4"), ("check", "<u4"), ("positions", "<i8")]
)
#: A record's count when the segments' directories must answer (see the module docstring).
_AMBIGUOUS = 0xFFFFFFFF


class CombinedFormatError(ValueError):
    """A combined term file this code does not know, or one of other segments."""


def segment_list(segments) -> list[list]:
    """``[[segment id, documents], ...]`` of a searcher's ``(reader, offset)`` pairs: what a
    combined file must have been written for."""
    return [[reader.segment().segment_id(), reader.doc_count_all()] for reader, _ in segments]


def write_combined(path: Path, segments, directories, impacts, arrays=None) -> bool:
    """Write the combined file of ``segments`` (a searcher's ``(reader, offset)`` pairs) from
    their term directories, impacts and position arrays (``arrays``: None, or one per
    segment, None where it has none), through a new file (an incremental build's folder
    starts with hard links to the previous build's files). False, writing nothing, when a
    segment has no directory or impacts (written by Whoosh's own writer), or there is one
    segment (nothing to combine)."""
    if len(segments) < 2 or any(d is None for d in directories) or any(i is None for i in impacts):
        return False
    arrays = list(arrays) if arrays is not None else [None] * len(segments)
    records = [d.records() for d in directories]
    hashes = np.unique(np.concatenate([d.hashes for d in directories]))
    counts = np.zeros(len(hashes), dtype=np.int64)
    checks = np.zeros(len(hashes), dtype=np.uint32)
    seen = np.zeros(len(hashes), dtype=bool)
    ambiguous = np.zeros(len(hashes), dtype=bool)
    positioned = np.full(len(hashes), all(a is not None for a in arrays))
    where, in_arrays = [], []
    for directory, kept, kept_arrays in zip(directories, records, arrays, strict=True):
        at = hashes.searchsorted(directory.hashes)
        where.append(at)
        ambiguous[at[kept["count"] == _AMBIGUOUS]] = True
        differs = seen[at] & (checks[at] != kept["check"])
        ambiguous[at[differs]] = True
        checks[at] = np.where(seen[at], checks[at], kept["check"])
        seen[at] = True
        counts[at] += np.where(kept["count"] == _AMBIGUOUS, 0, kept["count"])
        found = _in_arrays(kept, kept_arrays)
        in_arrays.append(found)
        positioned[at[found < 0]] = False
    counts[ambiguous] = 0
    positioned &= ~ambiguous
    starts = np.zeros(len(hashes) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    total = int(starts[-1])
    out_ids = np.empty(total, dtype="<u4")
    out_weights = np.empty(total, dtype="<f4")
    position_counts = np.zeros(total, dtype=np.int64)
    moves = []  # per segment: (combined posting, the segment's posting in its position arrays)
    filled = starts[:-1].copy()  # where each term's next segment's postings go
    for (reader, offset), directory, kept, at, impact, kept_arrays, found in zip(
        segments, directories, records, where, impacts, arrays, in_arrays, strict=True
    ):
        if offset + reader.doc_count_all() >= 2**32:
            raise CombinedFormatError("more than 2**32 documents")
        use = ~ambiguous[at]
        ids, weights = _all_postings(directory, kept[use], impact)
        n = kept["count"][use].astype(np.int64)
        first = filled[at[use]]
        rank = np.arange(len(ids), dtype=np.int64) - np.repeat(_firsts(n), n)
        dest = np.repeat(first, n) + rank
        out_ids[dest] = ids + np.uint32(offset)
        out_weights[dest] = weights
        filled[at[use]] += n
        with_positions = np.repeat(positioned[at[use]], n)
        if with_positions.any():
            source = (np.repeat(found[use], n) + rank)[with_positions]
            dest = dest[with_positions]
            position_counts[dest] = (
                kept_arrays.starts[source + 1].astype(np.int64) - (kept_arrays.starts[source])
            )
            moves.append((kept_arrays, dest, source))
    position_starts = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(position_counts, out=position_starts[1:])
    if position_starts[-1] >= 2**32:
        raise CombinedFormatError("more than 2**32 positions")
    positions = np.empty(int(position_starts[-1]), dtype=np.uint32)
    for kept_arrays, dest, source in moves:
        n = position_counts[dest]
        rank = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(_firsts(n), n)
        from_at = np.repeat(kept_arrays.starts[source].astype(np.int64), n) + rank
        positions[np.repeat(position_starts[dest], n) + rank] = kept_arrays.positions[from_at]
    small = not len(positions) or int(positions.max()) < 2**16
    table = np.empty(len(hashes), dtype=_RECORD_TYPE)
    table["start"] = starts[:-1]
    table["count"] = np.where(ambiguous, _AMBIGUOUS, counts)
    table["check"] = checks
    table["positions"] = np.where(positioned, starts[:-1], -1)
    header = json.dumps(segment_list(segments)).encode("utf-8")
    header += b" " * (-len(header) % 8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(
            _HEADER.pack(_MAGIC, len(header), len(hashes), total, len(positions), 2 if small else 4)
        )
        out.write(header)
        out.write(hashes.astype("<i8").tobytes())
        out.write(table.tobytes())
        out.write(out_ids.tobytes())
        out.write(out_weights.tobytes())
        out.write(position_starts.astype("<u4").tobytes())
        out.write(positions.astype("<u2" if small else "<u4").tobytes())
    os.replace(tmp, path)
    return True


def _in_arrays(records: np.ndarray, arrays) -> np.ndarray:
    """Each term's first posting in a segment's position arrays (-1: not kept there)."""
    found = np.full(len(records), -1, dtype=np.int64)
    if arrays is None or not len(arrays.keys):
        return found
    common = records["start"] < 0  # the arrays keep only terms kept in the impacts
    i = np.minimum(arrays.keys.searchsorted(records["offset"]), len(arrays.keys) - 1)
    same = common & (arrays.keys[i] == records["offset"]) & (records["count"] != _AMBIGUOUS)
    same &= (arrays.firsts[i + 1] - arrays.firsts[i]) == records["count"]
    found[same] = arrays.firsts[i[same]]
    return found


#: An update keeps the combined file of the build before it while the segments it adds (read
#: one by one after the file's) hold at most this share of the documents; past it, or when
#: the file's segments changed (merged), the file is written again for all of them (about
#: 1 s for 100,000 chunks: most of a small update's time).
UNCOVERED_SHARE = 0.1


def keeps_up(path: Path, segments) -> bool:
    """Whether the combined file at ``path`` (a previous build's, linked into an update's
    folder) can stay: written for the first of ``segments``, the others few."""
    try:
        combined = CombinedTerms(path, segments)
    except (OSError, ValueError, EOFError):
        return False
    total = sum(reader.doc_count_all() for reader, _offset in segments)
    return total - combined.docs_end <= UNCOVERED_SHARE * total


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
    memory (8 bytes a term), records and postings read with ``os.pread``, positions read in
    place from a memory map of the file (``maps``, released as the segments' are)."""

    def __init__(self, path: Path, segments):
        fd = os.open(path, os.O_RDONLY)
        self._closer = weakref.finalize(self, os.close, fd)
        self.maps: list[mmap.mmap] = []
        try:
            size = os.fstat(fd).st_size
            magic, header_size, terms, postings, positions, position_size = _HEADER.unpack(
                pread_exact(fd, _HEADER.size, 0)
            )
            if magic != _MAGIC or min(header_size, terms, postings, positions) < 0:
                raise CombinedFormatError("unknown combined term file")
            if position_size not in (2, 4):
                raise CombinedFormatError("unknown combined term file layout")
            self._hashes_at = _HEADER.size + header_size
            self._records_at = self._hashes_at + 8 * terms
            self._ids_at = self._records_at + _RECORD.size * terms
            self._weights_at = self._ids_at + 4 * postings
            starts_at = self._weights_at + 4 * postings
            positions_at = starts_at + 4 * (postings + 1)
            if size != positions_at + position_size * positions:
                raise CombinedFormatError("combined term file of the wrong size")
            covered = json.loads(pread_exact(fd, header_size, _HEADER.size))
            if len(covered) < 2 or covered != segment_list(segments[: len(covered)]):
                raise CombinedFormatError("written for other segments")
            #: The first ``covered`` segments are in this file, the documents before ``docs_end``
            self.covered = len(covered)
            self.docs_end = segments[self.covered - 1][1] + covered[-1][1]
            self.hashes = np.frombuffer(
                pread_exact(fd, 8 * terms, self._hashes_at), dtype="<i8"
            ).copy()
            mapped = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
            self.maps.append(mapped)
            self.starts = np.frombuffer(mapped, "<u4", postings + 1, starts_at)
            position_type = "<u2" if position_size == 2 else "<u4"
            self.positions = np.frombuffer(mapped, position_type, positions, positions_at)
        except (OSError, ValueError, EOFError):
            self._closer()
            raise
        self._fd = fd

    @classmethod
    def of(cls, build: Path, segments) -> CombinedTerms | None:
        """The build's combined file if it has one for ``segments`` or their first ones (an
        update's new segments after them are read one by one), else None (a warning when
        there is a file this code cannot use: the segments' directories answer)."""
        path = Path(build) / COMBINED_FILE
        if len(segments) < 2 or not path.exists():
            return None
        try:
            return cls(path, segments)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("ignoring %s: %s", path, exc)
            return None

    def locate(self, key: tuple[int, int]):
        """(count, start, positions) of the term filed under ``key`` (``term_key``): how many
        postings, where they are, where its positions are (-1: not kept here). None when no
        segment has the term, ``UNKNOWN`` when the segments must answer."""
        hashed, check = key
        hashes = self.hashes
        i = int(hashes.searchsorted(hashed))
        if i == len(hashes) or int(hashes[i]) != hashed:
            return None
        start, count, kept_check, positions = _RECORD.unpack(
            pread_exact(self._fd, _RECORD.size, self._records_at + i * _RECORD.size)
        )
        if count == _AMBIGUOUS:
            return UNKNOWN
        if kept_check != check:
            return None
        return count, start, positions

    def postings(self, key: tuple[int, int], ids_dtype, weights_dtype):
        """(document frequency, ids, weights) of the term filed under ``key`` over all the
        segments, None when none has it, ``UNKNOWN`` when the segments must answer."""
        found = self.locate(key)
        if found is None or found is UNKNOWN:
            return found
        count, start, _positions = found
        return count, *self.read(start, count, ids_dtype, weights_dtype)

    def read(self, start: int, count: int, ids_dtype, weights_dtype):
        """(ids, weights) of the ``count`` postings from the ``start``-th."""
        ids = np.frombuffer(pread_exact(self._fd, 4 * count, self._ids_at + 4 * start), "<u4")
        weights = np.frombuffer(
            pread_exact(self._fd, 4 * count, self._weights_at + 4 * start), "<f4"
        )
        return ids.astype(ids_dtype), weights.astype(weights_dtype)

    def gather(self, postings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``positions.gather`` of this file's postings (indexes of all its postings)."""
        return gather(self.starts, self.positions, postings)
