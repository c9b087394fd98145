"""Where things are: defaults, overridden by environment variables, overridden by options."""

from __future__ import annotations

import os
from pathlib import Path

#: The bundled corpus: the Xinhua feature of 2022-09-26 on China's diplomacy.
BUNDLED_CORPUS = Path(__file__).parent / "corpus"


def default_source_dir() -> Path:
    """``$SEARCHAPP_SOURCE``, or the bundled corpus."""
    return Path(os.environ.get("SEARCHAPP_SOURCE") or BUNDLED_CORPUS)


def default_index_dir() -> Path:
    """``$SEARCHAPP_INDEX``, or ``./index`` in the current folder."""
    return Path(os.environ.get("SEARCHAPP_INDEX") or "index")


def cors_origins() -> str:
    """``$SEARCHAPP_CORS_ORIGINS``: comma-separated origins allowed to call the API, or ``*``."""
    return os.environ.get("SEARCHAPP_CORS_ORIGINS", "*")


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"${name} must be a number; got {raw!r}") from None
    if value < 0:
        raise ValueError(f"${name} must not be negative; got {raw!r}")
    return value


def query_budget_ms() -> float:
    """``$SEARCHAPP_QUERY_BUDGET_MS``: the longest one search may take (0: no limit)."""
    from searchapp.budget import DEFAULT_BUDGET_MS

    return _env_number("SEARCHAPP_QUERY_BUDGET_MS", DEFAULT_BUDGET_MS)


def base_url() -> str:
    """``$SEARCHAPP_BASE_URL``: the public address of the site (for absolute links), or ``""``."""
    return os.environ.get("SEARCHAPP_BASE_URL", "").strip()


def trusted_hosts() -> list[str]:
    """``$SEARCHAPP_TRUSTED_HOSTS``: comma-separated host names the server answers to."""
    raw = os.environ.get("SEARCHAPP_TRUSTED_HOSTS", "")
    return [host.strip() for host in raw.split(",") if host.strip()]


def rate_limit() -> str:
    """``$SEARCHAPP_RATE_LIMIT``: requests per client, like ``60/minute`` (``""``: no limit)."""
    return os.environ.get("SEARCHAPP_RATE_LIMIT", "").strip()


#: Where result links point when an article has a URL: ``source`` (the original page) or
#: ``local`` (this app's article page, which keeps a "read the original" link).
LINK_TARGETS = ("source", "local")


def links_setting() -> str:
    """``$SEARCHAPP_LINKS``: ``source`` (default) or ``local``."""
    value = (os.environ.get("SEARCHAPP_LINKS") or "source").strip().lower()
    if value not in LINK_TARGETS:
        raise ValueError(f"SEARCHAPP_LINKS must be 'source' or 'local'; got {value!r}")
    return value
