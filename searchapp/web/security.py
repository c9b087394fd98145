"""What the app trusts about a request: its Host header, its Origin, and what it says it runs.

- Host: links other sites copy (``/opensearch.xml``, the ``/embed-demo`` snippet) and
  redirects must not follow a forged ``Host``. With a public base URL configured
  (``BASE_URL`` / ``$SEARCHAPP_BASE_URL``) every absolute link is built from it; otherwise
  Flask's ``TRUSTED_HOSTS`` answers other hosts with 400. Redirects are always relative.
- Origin: CORS allowlist entries are exact origins, or ``https://*.partner.org`` wildcards
  compiled to an anchored pattern (one or more DNS labels in place of ``*``). Anything else
  that looks like a regular expression is refused at start-up: flask-cors would treat it as
  an unanchored regex, and ``https://*.partner.org`` would allow ``https://xpartner.org.evil``.
- Server: responses do not name the server software.
"""

from __future__ import annotations

import importlib
import re
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, current_app, request

#: Hosts trusted when nothing is configured: local use (the browser, the test suite).
LOCAL_HOSTS = ["localhost", "127.0.0.1"]
#: What responses say they are served by (instead of ``gunicorn``).
SERVER_NAME = "searchapp"

_ORIGIN_RE = re.compile(
    r"(?P<scheme>https?)://(?P<wild>\*\.)?(?P<host>[A-Za-z0-9.-]+)(?P<port>:\d+)?"
)
_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"


class ConfigurationError(ValueError):
    """A setting that cannot be used; the message names it and says what is accepted."""


def cors_origins(value: str) -> str | list[str | re.Pattern]:
    """``*``, or the allowlist: exact origins and anchored patterns for ``*.domain`` entries."""
    if value.strip() == "*":
        return "*"
    allowed: list[str | re.Pattern] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        match = _ORIGIN_RE.fullmatch(entry)
        if match is None:
            raise ConfigurationError(
                f"CORS origin {entry!r} is not an origin like https://example.org, "
                "https://example.org:8443 or https://*.example.org (a wildcard only as the "
                "first label; no other pattern characters)"
            )
        if not match["wild"]:
            allowed.append(entry)
            continue
        pattern = (
            r"\A"
            + re.escape(match["scheme"] + "://")
            + _LABEL
            + re.escape(match["host"] + (match["port"] or ""))
            + r"\Z"
        )
        allowed.append(re.compile(pattern, re.IGNORECASE))
    return allowed


#: Paths whose Flask-CORS headers for a request without CORS headers are kept (the API's
#: few, article pages'; emptied when full).
CORS_REPLAYED_PATHS = 256
#: What a browser sends for CORS; a request with any of them is always left to Flask-CORS.
_CORS_REQUEST_KEYS = (
    "HTTP_ORIGIN",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS",
    "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK",
)


def replay_cors_without_origin(app: Flask) -> None:
    """Answer Flask-CORS's after-request step from memory for a GET that carries no CORS
    header (no ``Origin``: a server, a same-origin page, a crawler).

    For such a request its headers depend only on the path's CORS rule, yet Flask-CORS works
    them out anew each time: ~40 us of a ~1.5 ms search at 150,000 chunks. It still decides
    each path once, and every request with an ``Origin`` or a preflight
    (``tests/test_security.py`` compares the two)."""
    from flask_cors.core import FLASK_CORS_EVALUATED

    funcs = app.after_request_funcs.get(None, [])
    at = next(
        (i for i, f in enumerate(funcs) if getattr(f, "__name__", "") == "cors_after_request"), None
    )
    if at is None:
        return
    evaluate = funcs[at]
    decided: dict[str, list[tuple[str, str]]] = {}

    def replayed_cors_after_request(response: Response) -> Response:
        environ = request.environ
        headers = response.headers
        if (
            environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or any(key in environ for key in _CORS_REQUEST_KEYS)
            or hasattr(response, FLASK_CORS_EVALUATED)
            or "Access-Control-Allow-Origin" in headers
        ):
            return evaluate(response)
        path = request.path
        added = decided.get(path)
        if added is None:
            before = len(headers)
            response = evaluate(response)
            added = list(response.headers.items())[before:]  # Flask-CORS only appends
            if len(decided) >= CORS_REPLAYED_PATHS:
                decided.clear()
            decided[path] = added
            return response
        for name, value in added:
            headers.add(name, value)
        return response

    funcs[at] = replayed_cors_after_request


def base_url(value: str) -> str:
    """The public base URL without its trailing slash (``""`` when not set), checked."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"base URL {value!r} must be like https://search.example.org (http or https, "
            "a host, optionally a path; no query)"
        )
    return value


def public_base() -> str:
    """Where this site lives, for absolute links: the configured base URL or the (trusted)
    host of the request, with the path the app is mounted under (``SCRIPT_NAME``, which
    ProxyFix sets from X-Forwarded-Prefix behind a trusted proxy)."""
    return current_app.config.get("BASE_URL") or request.url_root.rstrip("/")


def init_hosts(app: Flask) -> None:
    """Check BASE_URL, restrict hosts unless a base URL makes them irrelevant, and keep
    redirects relative (a ``Location`` built from the Host header is made a path)."""
    app.config["BASE_URL"] = base_url(app.config.get("BASE_URL") or "")
    if app.config.get("TRUSTED_HOSTS") is None and not app.config["BASE_URL"]:
        app.config["TRUSTED_HOSTS"] = list(LOCAL_HOSTS)

    @app.after_request
    def relative_redirects(response: Response) -> Response:
        if not 300 <= response.status_code < 400:  # before a scan of every header
            return response
        location = response.headers.get("Location")
        if location:
            parts = urlsplit(location)
            if parts.scheme in ("http", "https") and parts.netloc == request.host:
                response.headers["Location"] = urlunsplit(
                    ("", "", parts.path or "/", parts.query, parts.fragment)
                )
        return response


def hide_server_software() -> None:
    """Make gunicorn send ``Server: searchapp`` instead of its name (and so its version)."""
    try:
        wsgi = importlib.import_module("gunicorn.http.wsgi")
    except ImportError:  # not served by gunicorn: nothing to hide
        return
    wsgi.SERVER = SERVER_NAME
