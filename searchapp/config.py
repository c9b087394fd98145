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


#: Where result links point when an article has a URL: ``source`` (the original page) or
#: ``local`` (this app's article page, which keeps a "read the original" link).
LINK_TARGETS = ("source", "local")


def links_setting() -> str:
    """``$SEARCHAPP_LINKS``: ``source`` (default) or ``local``."""
    value = (os.environ.get("SEARCHAPP_LINKS") or "source").strip().lower()
    if value not in LINK_TARGETS:
        raise ValueError(f"SEARCHAPP_LINKS must be 'source' or 'local'; got {value!r}")
    return value
