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


class ConfigError(ValueError):
    """A setting with a value that cannot be used; the message names the variable."""


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def _env_int(name: str, default: int, low: int = 0, high: int = 1_000_000) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer; got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be from {low} to {high}; got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0; got {raw[:40]!r}")


# --- serving (searchapp serve): see README "Production" for why each default ---


def workers() -> int:
    """``$SEARCHAPP_WORKERS``: gunicorn worker processes (default 2, one per core here)."""
    return _env_int("SEARCHAPP_WORKERS", 2, 1, 64)


def worker_class() -> str:
    """``$SEARCHAPP_WORKER_CLASS``: ``buffered`` (default), ``gthread`` or ``sync``."""
    value = _env("SEARCHAPP_WORKER_CLASS") or "buffered"
    if value not in WORKER_CLASSES:
        raise ConfigError(f"SEARCHAPP_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}")
    return value


#: ``buffered`` reads request heads in the worker's event loop (slow clients hold no thread).
WORKER_CLASSES = ("buffered", "gthread", "sync")


def threads() -> int:
    """``$SEARCHAPP_THREADS``: request threads per worker (default 1: the search code keeps
    one searcher and its caches per process, not made to be shared between threads)."""
    return _env_int("SEARCHAPP_THREADS", 1, 1, 256)


def max_connections() -> int:
    """``$SEARCHAPP_MAX_CONNECTIONS``: open connections per worker, at most (default 1000)."""
    return _env_int("SEARCHAPP_MAX_CONNECTIONS", 1000, 1, 100_000)


def timeout() -> int:
    """``$SEARCHAPP_TIMEOUT``: seconds before a silent worker is killed (default 30)."""
    return _env_int("SEARCHAPP_TIMEOUT", 30, 1, 3600)


def header_timeout() -> int:
    """``$SEARCHAPP_HEADER_TIMEOUT``: seconds a client has to send a request's head (10)."""
    return _env_int("SEARCHAPP_HEADER_TIMEOUT", 10, 1, 3600)


def keepalive() -> int:
    """``$SEARCHAPP_KEEPALIVE``: seconds an idle kept-alive connection stays open (5)."""
    return _env_int("SEARCHAPP_KEEPALIVE", 5, 0, 3600)


def max_requests() -> int:
    """``$SEARCHAPP_MAX_REQUESTS``: a worker is replaced after this many requests (10000)."""
    return _env_int("SEARCHAPP_MAX_REQUESTS", 10_000, 0, 100_000_000)


def max_requests_jitter() -> int:
    """``$SEARCHAPP_MAX_REQUESTS_JITTER``: up to this many more, so workers don't restart
    together (default 1000)."""
    return _env_int("SEARCHAPP_MAX_REQUESTS_JITTER", 1_000, 0, 100_000_000)


def proxies() -> int:
    """``$SEARCHAPP_PROXIES``: reverse proxies in front whose X-Forwarded-* are trusted (0)."""
    return _env_int("SEARCHAPP_PROXIES", 0, 0, 10)


def access_log() -> bool:
    """``$SEARCHAPP_ACCESS_LOG``: an access log line per request on stdout (default 1)."""
    return _env_bool("SEARCHAPP_ACCESS_LOG", True)


def log_format() -> str:
    """``$SEARCHAPP_LOG_FORMAT``: ``text`` (default) or ``json`` (one JSON object a line)."""
    value = (_env("SEARCHAPP_LOG_FORMAT") or "text").lower()
    if value not in ("text", "json"):
        raise ConfigError("SEARCHAPP_LOG_FORMAT must be text or json")
    return value


# --- operations: query log, metrics, admin, readiness ---


def query_log() -> bool:
    """``$SEARCHAPP_QUERY_LOG``: log searches (no IP, no user agent) in the index folder (1)."""
    return _env_bool("SEARCHAPP_QUERY_LOG", True)


def query_log_max_bytes() -> int:
    """``$SEARCHAPP_QUERY_LOG_MAX_BYTES``: size of one query log file before it rotates
    (default 10 MB; 5 rotated files are kept)."""
    return _env_int("SEARCHAPP_QUERY_LOG_MAX_BYTES", 10_000_000, 10_000, 10_000_000_000)


def metrics() -> bool:
    """``$SEARCHAPP_METRICS``: serve Prometheus metrics on /metrics (default 0)."""
    return _env_bool("SEARCHAPP_METRICS", False)


def admin_token() -> str | None:
    """``$SEARCHAPP_ADMIN_TOKEN``: the token of /admin and /metrics; unset: /admin is off."""
    return _env("SEARCHAPP_ADMIN_TOKEN")


def max_index_age() -> int:
    """``$SEARCHAPP_MAX_INDEX_AGE``: /readyz fails for an older index, seconds (0: never)."""
    return _env_int("SEARCHAPP_MAX_INDEX_AGE", 0, 0, 10**9)


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
