"""Freed heap memory goes back to the system (``searchapp.heap``), as a worker relies on."""

from __future__ import annotations

import os
import platform

import pytest

from searchapp import heap


def _anonymous_kb() -> int:
    with open("/proc/self/smaps_rollup", encoding="utf-8") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    raise AssertionError("no Anonymous line")


@pytest.mark.skipif(
    not os.path.exists("/proc/self/smaps_rollup") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc_trim, read from Linux's /proc",
)
def test_trim_returns_freed_heap_pages():
    """Blocks of 1-4 KB (beyond Python's small-object allocator, below glibc's mmap threshold)
    freed under one still in use stay resident until trimmed."""
    blocks = [bytes(1000 + i % 3000) for i in range(40_000)]  # about 100 MB
    keep = bytes(2000)  # allocated last: pins the top of the heap
    del blocks
    before = _anonymous_kb()
    assert heap.trim()
    assert before - _anonymous_kb() > 40_000  # kB: most of the 100 MB went back
    assert keep
