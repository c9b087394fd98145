"""Common terms' positions as flat arrays beside a segment, for phrase checks in numpy.

A phrase is checked on the positions of its words in the candidate documents. Whoosh keeps
them inside its posting blocks (zlib, a pickle per block, a pickled list of deltas per
posting): reading them for a common word's candidates cost a phrase query most of its time.
For each term that also has impacts (``whoosh_compat.IMPACT_MIN_POSTINGS`` postings or more)
in a field with positions, the segment writer also writes, in a ``.pos`` sub-file:

    magic "SAPOSv01" | term count | postings | positions | bytes a start | bytes a position
    keys     int64[terms]          the term's postings offset (as the impacts file keys it)
    firsts   int64[terms + 1]      each term's first posting in ``starts``
    starts   uint32[postings + 1]  each posting's first position in ``positions``
    positions uint16/uint32[...]   the positions of each posting, ascending

The postings of a term are in the order of its impacts' document numbers, so a document's
posting is found there. Read in place from the segment's memory map, nothing is decoded.
This module knows the file; ``whoosh_compat`` finds it in a segment and decides which terms
have one, ``scoring`` uses it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np

#: The segment file (inside the compound file) of ``PositionArrays``.
POSITIONS_EXT = ".pos"
_MAGIC = b"SAPOSv01"
_HEADER = 8 + 5 * 8
#: Decoded values kept while a segment is written: most postings hold one position, and a
#: word's single position is encoded to the same bytes in every chunk (a dict lookup instead
#: of an unpickling per posting).
_DECODED_LIMIT = 200_000


class PositionsFormatError(ValueError):
    """A ``.pos`` file this code does not know."""


class PositionsWriter:
    """Collects the positions of a segment's common terms while their postings are written."""

    def __init__(self, decode: Callable[[bytes], list[int]]):
        self._decode = decode
        self._decoded: dict[bytes, list[int]] = {}
        self.keys: list[int] = []
        self.firsts: list[int] = [0]
        self.counts = array("I")
        self.positions = array("I")

    def add(self, key: int, values: Sequence[bytes]) -> None:
        """A term's postings offset and its postings' encoded positions, in document order."""
        decoded = self._decoded
        decode = self._decode
        counts, positions = self.counts, self.positions
        for value in values:
            found = decoded.get(value)
            if found is None:
                found = decode(value)
                if len(decoded) < _DECODED_LIMIT:
                    decoded[value] = found
            counts.append(len(found))
            positions.extend(found)
        self.keys.append(key)
        self.firsts.append(len(counts))

    def write(self, out) -> None:
        """Write the file to ``out`` (a Whoosh segment file) and close it."""
        starts = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.counts, dtype=np.uint32), out=starts[1:])
        if starts[-1] >= 2**32:
            raise PositionsFormatError("more than 2**32 positions in one segment")
        positions = np.frombuffer(self.positions, dtype=np.uint32)
        small = not len(positions) or int(positions.max()) < 2**16
        position_type = "<u2" if small else "<u4"
        header = [len(self.keys), len(self.counts), len(positions), 4, 2 if small else 4]
        out.write(_MAGIC + np.array(header, dtype="<i8").tobytes())
        out.write(np.array(self.keys, dtype="<i8").tobytes())
        out.write(np.array(self.firsts, dtype="<i8").tobytes())
        out.write(starts.astype("<u4").tobytes())
        out.write(positions.astype(position_type).tobytes())
        out.close()


class PositionArrays:
    """A segment's ``.pos`` file, read in place (see the module's docstring)."""

    def __init__(self, buf):
        view = memoryview(buf).cast("B")
        if bytes(view[:8]) != _MAGIC:
            raise PositionsFormatError("unknown positions file")
        terms, postings, count, start_size, position_size = (
            int(n) for n in np.frombuffer(view, dtype="<i8", count=5, offset=8)
        )
        if start_size != 4 or position_size not in (2, 4):
            raise PositionsFormatError("unknown positions file layout")
        at = _HEADER
        self.keys = np.frombuffer(view, dtype="<i8", count=terms, offset=at)
        at += 8 * terms
        self.firsts = np.frombuffer(view, dtype="<i8", count=terms + 1, offset=at)
        at += 8 * (terms + 1)
        self.starts = np.frombuffer(view, dtype="<u4", count=postings + 1, offset=at)
        at += 4 * (postings + 1)
        position_type = "<u2" if position_size == 2 else "<u4"
        self.positions = np.frombuffer(view, dtype=position_type, count=count, offset=at)

    def term(self, key: int) -> tuple[int, int] | None:
        """The term's first and past-last posting in ``starts``, or None when not kept."""
        i = int(self.keys.searchsorted(key))
        if i == len(self.keys) or self.keys[i] != key:
            return None
        return int(self.firsts[i]), int(self.firsts[i + 1])

    def gather(self, postings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions of the given postings (indexes into ``starts``), concatenated, and how
        many each has: a flat gather, no loop over postings."""
        return gather(self.starts, self.positions, postings)


def gather(starts: np.ndarray, positions: np.ndarray, postings: np.ndarray):
    """(positions, counts) of ``postings`` (indexes into ``starts``, each posting's first
    position in ``positions``): their positions concatenated, and how many each has."""
    first = starts[postings].astype(np.int64)
    counts = starts[postings + 1].astype(np.int64) - first
    if not len(counts):
        return np.empty(0, dtype=np.int64), counts
    # each position's index: its posting's start, plus its rank within the posting
    ends = counts.cumsum()
    index = np.arange(ends[-1], dtype=np.int64)
    index += (first - (ends - counts)).repeat(counts)
    return positions[index].astype(np.int64), counts


def positions_in(ids: np.ndarray, first: int, arrays, wanted: np.ndarray):
    """(counts, positions) of a term in each of ``wanted`` (document numbers, sorted) from
    its postings' document numbers ``ids`` and its first posting in ``arrays`` (anything
    with ``gather``: a segment's ``PositionArrays``, a build's combined term file)."""
    where = np.minimum(ids.searchsorted(wanted), len(ids) - 1)
    present = ids[where] == wanted
    found, some = arrays.gather(first + where[present])
    counts = np.zeros(len(wanted), dtype=np.int64)
    counts[present] = some
    return counts, found
