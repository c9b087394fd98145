"""Positional reads of index files that must return every byte asked for.

``os.pread`` returns fewer bytes at the end of a file: a truncated or half-replaced index
file. numpy would then raise ``ValueError`` (a 500 for the request); ``EOFError`` is what the
index handle knows as an unreadable index (``handle.INDEX_READ_ERRORS``: a 503 that says so).
"""

from __future__ import annotations

import os


def pread_exact(fd: int, size: int, at: int) -> bytes:
    """``size`` bytes of the file ``fd`` from offset ``at``; EOFError when it ends first."""
    data = os.pread(fd, size, at)
    if len(data) != size:
        raise EOFError(f"index file ends {size - len(data)} bytes early")
    return data
