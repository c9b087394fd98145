"""Helpers for ``scripts/bench.py``: corpus builder, peer engines, servers and load generator.

Nothing here imports ``searchapp``: the benchmark drives it only through its CLI and HTTP API.
"""
