"""Give the memory a worker freed back to the system (glibc's ``malloc_trim``).

glibc keeps what a process frees for its next allocations instead of returning it: after a
worker parsed the build's manifest (megabytes of Python objects, dropped at once) or a search
made and dropped arrays sized by the archive (a score per document for a common word), those
pages stay resident and private to that worker, counted in its PSS for good. ``trim()`` hands
the free pages back; it costs about 0.1 ms, so the handle calls it after opening a build and
then once every ``handle.TRIM_EVERY`` reads, not after each. Elsewhere than glibc it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None


def trim() -> bool:
    """Return free heap pages to the system; False where there is no ``malloc_trim``."""
    function = _malloc_trim()
    if function is None:
        return False
    function(0)
    return True
