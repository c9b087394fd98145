"""The ``.pos`` file: what the writer collects is what the reader gathers, in both layouts."""

from __future__ import annotations

import io
import pickle
import struct

import numpy as np
import pytest

from searchapp.positions import PositionArrays, PositionsFormatError, PositionsWriter


def _encode(positions: list[int]) -> bytes:
    """Whoosh's ``Positions.encode``: the count, then the pickled deltas."""
    deltas = [b - a for a, b in zip([0, *positions], positions, strict=False)]
    return struct.pack("!I", len(deltas)) + pickle.dumps(deltas, 2)


def _decode(value: bytes) -> list[int]:
    positions, at = [], 0
    for delta in pickle.loads(value[4:]):
        at += delta
        positions.append(at)
    return positions


class _Out(io.BytesIO):
    def close(self) -> None:
        self.kept = self.getvalue()
        super().close()


def _round_trip(terms: dict[int, list[list[int]]]) -> PositionArrays:
    writer = PositionsWriter(_decode)
    for key, postings in terms.items():
        writer.add(key, [_encode(p) for p in postings])
    out = _Out()
    writer.write(out)
    return PositionArrays(out.kept)


@pytest.mark.parametrize("high", [9, 70_000])
def test_gathered_positions_are_the_written_ones(high):
    """Small positions are stored as uint16, larger ones as uint32: both read back."""
    terms = {
        10: [[0, 3, 4], [1], [2, high]],
        25: [[5], [5], [0, 1, 2, 3]],
        40: [[high - 1]],
    }
    arrays = _round_trip(terms)
    assert arrays.positions.dtype.itemsize == (2 if high < 2**16 else 4)
    assert arrays.term(11) is None and arrays.term(99) is None
    for key, postings in terms.items():
        first, end = arrays.term(key)
        assert end - first == len(postings)
        picks = np.array([2, 0, 2], dtype=np.int64) % len(postings)
        found, counts = arrays.gather(first + picks)
        want = [p for i in picks.tolist() for p in postings[i]]
        assert found.tolist() == want
        assert counts.tolist() == [len(postings[i]) for i in picks.tolist()]
    found, counts = arrays.gather(np.empty(0, dtype=np.int64))
    assert len(found) == 0 and len(counts) == 0


def test_an_empty_file_reads_as_no_terms():
    arrays = _round_trip({})
    assert arrays.term(0) is None and len(arrays.positions) == 0


def test_an_unknown_file_is_refused():
    with pytest.raises(PositionsFormatError):
        PositionArrays(b"SAPOSv99" + bytes(40))
