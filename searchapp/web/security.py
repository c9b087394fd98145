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
    host of the request, with the path the app is mounted under (``SCRIPT_NAME``)."""
    return current_app.config.get("BASE_URL") or request.url_root.rstrip("/")


def init_hosts(app: Flask) -> None:
    """Check BASE_URL, restrict hosts unless a base URL makes them irrelevant, and keep
    redirects relative (a ``Location`` built from the Host header is made a path)."""
    app.config["BASE_URL"] = base_url(app.config.get("BASE_URL") or "")
    if app.config.get("TRUSTED_HOSTS") is None and not app.config["BASE_URL"]:
        app.config["TRUSTED_HOSTS"] = list(LOCAL_HOSTS)

    @app.after_request
    def relative_redirects(response: Response) -> Response:
        location = response.headers.get("Location")
        if location and 300 <= response.status_code < 400:
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
