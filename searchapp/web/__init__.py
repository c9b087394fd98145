"""The Flask app: JSON API (``api.py``), HTML pages (``pages.py``), one error shape.

``create_app(config)`` takes the index folder and settings from ``config`` (tests pass a
temporary folder), never opens the index at import time, and sends security headers on every
response. The web layer never touches Whoosh: it calls ``searchapp.searching`` and the
other read-side modules with the app's own ``IndexHandle`` (``index_handle()``), made here
and kept in ``app.extensions``: each app (each test's, each gunicorn worker's copy of the
preloaded one) has its own searcher and caches.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, jsonify, render_template, request, templating
from flask_cors import CORS
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.exceptions import HTTPException, SecurityError

from searchapp import config as defaults
from searchapp.budget import RETRY_AFTER_SECONDS, QueryTooExpensive
from searchapp.handle import IndexHandle
from searchapp.params import InvalidParameter
from searchapp.store import IndexUnavailable
from searchapp.web import i18n, security
from searchapp.web.args import SearchRequest
from searchapp.web.json_output import OrjsonProvider
from searchapp.web.ratelimit import init_rate_limit

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)

#: Sent with every response, unless the view set them itself.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
#: Sent with every HTML page too.
HTML_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "SAMEORIGIN"),
)


class PageEnvironment(templating.Environment):
    """Jinja's environment, reading ``hit.title`` from a dict without raising first.

    Jinja tries ``getattr(hit, "title")``, catches the AttributeError, then ``hit["title"]``:
    the templates read hundreds of dict keys a results page, each through an exception. Here a
    dict's key that is not also a dict attribute (``items``, ``get``, ...) is read at once; for
    anything else, Jinja decides as before, so every template reads what it read."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the effective settings (``searchapp.config``), then ``config``.

    ``config`` holds Flask keys named after the settings: INDEX_DIR, CORS_ORIGINS (``*`` or a
    comma list), LINKS (``source``: results link to an article's original URL when it has
    one; ``local``: to this app's article page), QUERY_BUDGET_MS, BASE_URL, TRUSTED_HOSTS,
    RATE_LIMIT (see the README's Hardening), SITE_NAME, LOGO, LANGUAGE, EXAMPLES,
    TEMPLATE_DIR, ... (tests pass a few; ``serve`` passes them all, options included).

    A setting that cannot be used raises ``security.ConfigurationError`` (or the config
    file's ``ConfigError``) here, at start-up.
    """
    app = Flask(__name__)
    app.jinja_environment = PageEnvironment
    app.request_class = SearchRequest
    app.json = OrjsonProvider(app)
    # The settings file beside the index folder this app serves (or the one named elsewhere).
    index_dir = (config or {}).get("INDEX_DIR")
    app.config.update(defaults.load({"index_dir": index_dir}).app_config())
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.config.update(config or {})
    if app.config["LINKS"] not in defaults.LINK_TARGETS:
        raise ValueError(f"LINKS must be 'source' or 'local'; got {app.config['LINKS']!r}")
    if app.config.get("TEMPLATE_DIR"):
        # The site's own templates first, the built-in ones for whatever it does not override.
        app.jinja_loader = ChoiceLoader(
            [FileSystemLoader(str(app.config["TEMPLATE_DIR"])), app.jinja_loader]
        )
    i18n.init_app(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["searchapp.index"] = IndexHandle(
        Path(app.config["INDEX_DIR"]), query_budget_ms=app.config["QUERY_BUDGET_MS"]
    )
    security.init_hosts(app)
    security.hide_server_software()
    init_rate_limit(app)

    CORS(
        app,
        resources={
            r"/api/*": {"origins": security.cors_origins(app.config["CORS_ORIGINS"])},
            r"/embed.js": {"origins": "*"},
        },
        supports_credentials=False,
        send_wildcard=True,
        methods=["GET", "HEAD", "OPTIONS"],
        max_age=600,
    )
    security.replay_cors_without_origin(app)

    from searchapp.web import operations
    from searchapp.web.api import api
    from searchapp.web.pages import pages

    app.register_blueprint(api)
    app.register_blueprint(pages)
    operations.install(app)
    _register_error_handlers(app)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        wanted = SECURITY_HEADERS + (HTML_HEADERS if response.mimetype == "text/html" else ())
        # the names there, lowercased once: werkzeug's ``in`` and ``headers[name] =`` each
        # scan and lowercase every header (~3 us a header for each response)
        present = {name.lower() for name, _value in headers.items()}
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response

    return app


def index_handle() -> IndexHandle:
    """The app's index handle (one per app and process; it follows rebuilds by itself)."""
    from flask import current_app

    return current_app.extensions["searchapp.index"]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz", "/metrics")


def error_response(status: int, code: str, message: str):
    """The one error shape: JSON ``{"error": {"code", "message"}}`` for the API, HTML for pages."""
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
        response.status_code = status
        return response
    try:
        body = render_template("error.html", status=status, code=code, message=message)
    except Exception:  # the error page itself failed: say so plainly, log why
        log.exception("the error page could not be rendered")
        return Response(f"{status} {message}\n", status=status, mimetype="text/plain"), status
    return body, status


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidParameter)
    def invalid_parameter(exc: InvalidParameter):
        return error_response(400, exc.code, exc.message)

    @app.errorhandler(IndexUnavailable)
    def index_unavailable(exc: IndexUnavailable):
        # The message names the index folder: it goes to the log, never to the client.
        log.error("index unavailable: %s", exc)
        return error_response(
            503, "index_unavailable", "The search index cannot be read right now; try later."
        )

    @app.errorhandler(QueryTooExpensive)
    def too_expensive(exc: QueryTooExpensive):
        log.warning("query over budget on %s: %s", request.path, exc)
        response = app.make_response(
            error_response(
                503,
                "query_too_expensive",
                "This query took too long to answer; try fewer or more specific words.",
            )
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(SecurityError)
    def untrusted_host(exc: SecurityError):
        # No URL can be built for an untrusted host, so no page template: a bare answer.
        message = "This server does not answer to that host name."
        if wants_json():
            return error_response(400, "untrusted_host", message)
        body = f"<!doctype html><title>400 Bad Request</title><p>{message}</p>"
        return body, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(UnicodeDecodeError)
    def undecodable(exc: UnicodeDecodeError):
        return error_response(400, "invalid_encoding", "The request is not valid UTF-8.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response = _with_allow(response, exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "internal_error", "An unexpected error occurred.")


def _with_allow(response, methods):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {"Allow": ", ".join(methods)}
    response.headers["Allow"] = ", ".join(methods)
    return response
