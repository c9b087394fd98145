"""The caches' size estimate: fast, and the same as following every part by a call each."""

from __future__ import annotations

import pickle
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchapp.caches import ENTRY_OVERHEAD, BoundedCache, approx_size, marshal_size
from searchapp.searching import search


def _reference_size(obj, depth: int = 0) -> int:
    """approx_size as first written: one recursive call per part, leaves included."""
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes + 112
    size = sys.getsizeof(obj)
    if depth >= 4:
        return size
    if isinstance(obj, tuple | list | set | frozenset):
        return size + sum(_reference_size(item, depth + 1) for item in obj)
    if isinstance(obj, dict):
        return size + sum(
            _reference_size(k, depth + 1) + _reference_size(v, depth + 1) for k, v in obj.items()
        )
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return size + _reference_size(vars(obj), depth + 1)
    return size


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.binary()
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=5),
    ),
    max_leaves=40,
)


@given(VALUES)
def test_approx_size_equals_the_reference(value):
    assert approx_size(value) == _reference_size(value)


def test_approx_size_follows_arrays_and_objects():
    class Holder:
        def __init__(self):
            self.ids = np.arange(100)
            self.name = "x" * 50

    for value in (np.zeros(10), {"a": np.ones(4)}, Holder(), [Holder(), ("deep", [[[[1]]]])]):
        assert approx_size(value) == _reference_size(value)
    assert approx_size(np.zeros(1000)) >= 8000


def test_bounded_cache_keeps_its_byte_bound():
    cache = BoundedCache(max_entries=100, max_bytes=10_000)
    for n in range(50):
        cache.put(n, "x" * 1000)
    assert cache.nbytes <= 10_000 and 0 < len(cache) < 50
    assert cache.get(49) == "x" * 1000 and cache.get(0) is None


def _traced_bytes(value) -> int:
    """What a fresh copy of ``value`` allocates (a response is built anew for each query)."""
    data = pickle.dumps(value)
    tracemalloc.start()
    try:
        copy = pickle.loads(data)
        traced, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del copy
    return traced


@pytest.mark.parametrize("group", ["none", "article"])
def test_marshal_size_bounds_what_responses_take(index_dir, group):
    """The response cache's estimate is above what a response really holds (so its byte
    bound holds) and within 2.5x of it (so it keeps a useful number of answers)."""
    queries = ["Gwadar port", "铁路", "China Pakistan", "photo", "railway", "green energy"]
    for q in queries:
        response = search(index_dir, q, group=group, per_page=20)
        assert response["hits"], q
        traced = _traced_bytes(response)
        estimate = marshal_size(None, response) - approx_size(None) - ENTRY_OVERHEAD
        assert traced <= estimate <= 2.5 * traced, (q, traced, estimate)


def test_marshal_size_falls_back_for_what_marshal_cannot_write():
    value = {"ids": np.arange(1000)}
    assert marshal_size("k", value) >= 8000
