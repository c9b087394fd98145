"""Caches with two bounds: entries and bytes, so no stream of distinct requests grows memory.

A cache bounded only by entries grows with the size of what it holds (a 900-character query
costs as much as a hundred short ones); a cache bounded only by the bytes of its values
grows with entries that cost "nothing" (a missing term, an empty answer). ``BoundedCache``
counts both, with ``approx_size`` estimating what the keys and values really take.
"""

from __future__ import annotations

import marshal
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

#: What a dict slot, its key tuple and the bookkeeping cost per entry (measured: ~150-250 B).
ENTRY_OVERHEAD = 200


#: Types with no parts to follow: their ``sys.getsizeof`` is their size.
_LEAVES = frozenset({str, int, float, bool, bytes, type(None)})


def approx_size(obj: Any, _depth: int = 0) -> int:
    """Bytes ``obj`` takes, following tuples, lists, dicts and numpy arrays (4 levels deep).

    Leaves (strings, numbers) are sized inline rather than by a call each: a response of 10
    hits holds hundreds of them, and this runs for every response the cache keeps.
    """
    kind = type(obj)
    if kind in _LEAVES:
        return _getsizeof(obj)
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int):  # numpy arrays: the buffer, plus the header
        return nbytes + 112
    size = _getsizeof(obj)
    if _depth >= 4:
        return size
    depth = _depth + 1
    if isinstance(obj, tuple | list | set | frozenset):
        for item in obj:
            size += _getsizeof(item) if type(item) in _LEAVES else approx_size(item, depth)
        return size
    if isinstance(obj, dict):
        for key, value in obj.items():
            size += _getsizeof(key) if type(key) in _LEAVES else approx_size(key, depth)
            size += _getsizeof(value) if type(value) in _LEAVES else approx_size(value, depth)
        return size
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return size + approx_size(vars(obj), depth)
    return size


_getsizeof = sys.getsizeof

#: Bytes in memory per byte of a value's ``marshal`` form, for the responses ``marshal_size``
#: estimates: 2.3-3.9 (median 3.0) over the 400 responses of the 150,000-chunk bench,
#: measured with ``tracemalloc``; a small response is mostly dicts and keys, so a fixed part
#: is added (tests/test_caches.py keeps the estimate above what responses take).
MARSHAL_FACTOR = 4
MARSHAL_BASE = 2048


def marshal_size(key: Hashable, value: Any) -> int:
    """An entry's bytes from the length of its value's ``marshal`` form: one C call where
    ``approx_size`` walks a response in Python (15 against 59 us for one of 10 hits, a few
    percent of answering it). For JSON-like values (dicts, lists, strings, numbers); anything
    marshal cannot write is sized by ``approx_size``."""
    try:
        size = MARSHAL_FACTOR * len(marshal.dumps(value)) + MARSHAL_BASE
    except ValueError:
        size = approx_size(value)
    return approx_size(key) + size + ENTRY_OVERHEAD


class BoundedCache:
    """A thread-safe LRU mapping holding at most ``max_entries`` and about ``max_bytes``.

    ``sizeof(key, value)`` says what an entry costs (default: ``approx_size`` of both plus
    ENTRY_OVERHEAD). A value costing more than a quarter of ``max_bytes`` is not kept: one huge
    answer should not flush everything else.
    """

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        sizeof: Callable[[Hashable, Any], int] | None = None,
    ):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof or (lambda k, v: approx_size(k) + approx_size(v) + ENTRY_OVERHEAD)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """The estimated bytes of everything held."""
        return self._bytes

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return default
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any) -> None:
        size = self._sizeof(key, value)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._items and (
                len(self._items) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
