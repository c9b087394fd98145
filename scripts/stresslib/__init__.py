"""Helpers for ``scripts/stress.py`` and ``tests/test_live.py``: corpus versions, request mix,
load generator and the faults (rebuild loop, SIGKILLs, a damaged index); the server process
is ``harness.server``.

searchapp is driven through its CLI and HTTP API; only the checks of an index after a kill
read it in-process (``searchapp.searching`` with a fresh handle), to see exactly what a new
reader would see.
"""
