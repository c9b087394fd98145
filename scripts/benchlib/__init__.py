"""Helpers for ``scripts/bench.py``: corpus builder, peer engines and load generator
(servers and ``/proc`` readings: ``harness``).

Nothing here imports ``searchapp``: the benchmark drives it only through its CLI and HTTP API.
"""
