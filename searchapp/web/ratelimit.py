"""A per-client request limit (off by default): 429 with Retry-After past it.

Clients are told apart by ``request.remote_addr``. Behind a proxy that is the proxy's address
unless the app trusts the proxy's ``X-Forwarded-For`` (``ProxyFix`` with the configured number
of proxies rewrites ``remote_addr``); a forwarded address from anyone else is never used, so a
client cannot pick its own key.

Flask-Limiter counts in memory (``memory://``), per worker process: with N workers a client
gets up to N times the limit. nginx's ``limit_req`` in front (``deploy/nginx.conf``) is the
shared limit; this one protects a server run without a proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, request

from searchapp.web.security import ConfigurationError

if TYPE_CHECKING:
    from flask_limiter import Limiter

#: Paths never limited: health checks come from monitors and proxies.
EXEMPT_PATHS = ("/healthz",)


def check_rate_limit(value: str) -> str:
    """``value`` if Flask-Limiter understands it (``60/minute``, ``10/second;300/hour``)."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigurationError(
            f"rate limit {value!r} must be like 60/minute or 10/second;300/hour"
        ) from None
    return value


def _exempt() -> bool:
    return request.path in EXEMPT_PATHS or request.path.startswith("/static/")


def init_rate_limit(app: Flask) -> Limiter | None:
    """Limit requests per client address when ``RATE_LIMIT`` is set; None when it is not."""
    limit = (app.config.get("RATE_LIMIT") or "").strip()
    if not limit:
        return None
    # Imported only when used: Flask-Limiter takes a third of a second to import.
    from flask_limiter import Limiter
    from flask_limiter.errors import RateLimitExceeded

    limiter = Limiter(
        key_func=lambda: request.remote_addr or "unknown",
        app=app,
        # One budget per client across all routes (default limits would count per route).
        application_limits=[check_rate_limit(limit)],
        application_limits_exempt_when=_exempt,
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=True,
    )
    app.extensions["searchapp.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(exc: RateLimitExceeded):
        from searchapp.web import error_response

        # Flask-Limiter adds Retry-After (and X-RateLimit-*) to this response.
        return error_response(
            429,
            "too_many_requests",
            f"Too many requests from your address (at most {exc.description}); "
            "wait a moment and try again.",
        )

    return limiter
