"""Liveness and readiness facts about the index, cheap enough for every probe."""

from __future__ import annotations

import time
from datetime import datetime


def build_created(manifest: dict) -> float | None:
    """When a build was made (Unix time), from its manifest; None if it does not say."""
    try:
        return datetime.strptime(manifest["created"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def build_age(manifest: dict, now: float | None = None) -> float | None:
    """Seconds since the build was made."""
    created = build_created(manifest)
    if created is None:
        return None
    return max(0.0, (time.time() if now is None else now) - created)
