"""What running searchapp for real adds to the app: proxies, the query log, clicks, metrics,
readiness, the admin report and fingerprinted static URLs.

``install(app)`` wires it all from the app's config (keys PROXIES, QUERY_LOG,
QUERY_LOG_MAX_BYTES, METRICS, ADMIN_TOKEN, MAX_INDEX_AGE); each part is off or harmless when
its setting is. The views never touch Whoosh: they read the index handle and the query log.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from searchapp.ops.health import build_age
from searchapp.ops.querylog import QueryLog
from searchapp.ops.report import build_report, parse_since
from searchapp.params import MAX_FILTER_CHARS, MAX_PAGE, MAX_RESULTS_WINDOW, InvalidParameter
from searchapp.querying import MAX_QUERY_CHARS

operations = Blueprint("operations", __name__)

#: Longest click report body accepted (bytes).
MAX_CLICK_BYTES = 2048
#: Static files get a year of caching: their URLs change with their content (``?v=``).
STATIC_MAX_AGE = 365 * 24 * 3600


def install(app: Flask) -> None:
    """Add the operational parts to ``app`` according to its config."""
    proxies = int(app.config.get("PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    if app.config.get("QUERY_LOG"):
        app.extensions["searchapp.query_log"] = QueryLog(
            app.config["INDEX_DIR"], max_bytes=int(app.config["QUERY_LOG_MAX_BYTES"])
        )
    if app.config.get("METRICS"):
        _install_metrics(app)
    app.url_defaults(_static_version)
    app.after_request(_static_cache)
    app.register_blueprint(operations)


# --- static files: ?v=<hash of the file> so they can be cached for a year ---


@functools.lru_cache(maxsize=256)
def _file_version(path: str, mtime_ns: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def static_version(filename: str) -> str | None:
    """The fingerprint of a static file (its content's hash), or None if it does not exist."""
    folder = current_app.static_folder
    if not folder:
        return None
    path = Path(folder) / filename
    try:
        return _file_version(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def _static_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def _static_cache(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == static_version(filename):
            response.cache_control.no_cache = None  # Flask's default for static files
            response.cache_control.public = True
            response.cache_control.max_age = STATIC_MAX_AGE
            response.cache_control.immutable = True
    return response


# --- searches: the query log and metrics, called by the API and the search page ---


def record_search(params: dict, result: dict, seconds: float | None = None) -> None:
    """Log and count one answered search (``params`` as ``api.search_params`` gives them),
    once its response is sent (``after_response``)."""
    q = params.get("q", "")
    query_log = current_app.extensions.get("searchapp.query_log")
    metered = current_app.config.get("METRICS")
    if query_log is None and not metered:
        return

    def record() -> None:
        if query_log is not None:
            shown = ("q", "page", "per_page", "sort", "group")  # how results show, not filters
            filters = {k: v for k, v in params.items() if k not in shown}
            query_log.search(q, filters, params.get("sort"), params.get("page", 1), result)
        if metered:
            from searchapp.ops import metrics

            took = seconds if seconds is not None else (result.get("took_ms") or 0) / 1000
            metrics.observe_search(q, took, result.get("total", 0))

    after_response(record)


def after_response(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current request's response has been sent, or now outside
    a request (a script's app context, the CLI).

    gunicorn closes a response after writing its last byte, and ``Response.call_on_close``
    callbacks run then: the client has its answer while the worker writes the query log line
    and counts metrics (~40 us of a search's CPU, before it was answered). The request's
    context is gone by then: ``callback`` takes what it needs with it. An error in it is
    logged, never raised into the server.
    """
    if not has_request_context():
        callback()
        return

    def guarded() -> None:
        try:
            callback()
        except Exception:
            logging.getLogger(__name__).exception("after the response")

    @after_this_request
    def attach(response: Response) -> Response:
        response.call_on_close(guarded)
        return response


@operations.post("/api/click")
def api_click():
    """A reader followed a result: ``{"q": str, "article": str, "rank": int, "page": int}``.

    Sent by the page with ``navigator.sendBeacon`` (any content type, no cookies). Answers
    204; 404 when the query log is off.
    """
    query_log = current_app.extensions.get("searchapp.query_log")
    if query_log is None:
        abort(404)
    if (request.content_length or 0) > MAX_CLICK_BYTES:
        raise InvalidParameter(
            "invalid_click", f"a click report is at most {MAX_CLICK_BYTES} bytes"
        )
    raw = request.get_data(cache=False)[: MAX_CLICK_BYTES + 1]
    try:
        data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_CLICK_BYTES else None
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise InvalidParameter("invalid_click", "send a JSON object: q, article, rank, page")
    q, article = data.get("q"), data.get("article")
    rank, page = data.get("rank"), data.get("page", 1)
    if not isinstance(q, str) or not q.strip() or len(q) > MAX_QUERY_CHARS:
        raise InvalidParameter(
            "invalid_click", f"q must be the query, 1 to {MAX_QUERY_CHARS} characters"
        )
    if not isinstance(article, str) or not 0 < len(article) <= MAX_FILTER_CHARS:
        raise InvalidParameter("invalid_click", "article must be an article id")
    for name, value, high in (("rank", rank, MAX_RESULTS_WINDOW), ("page", page, MAX_PAGE)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            raise InvalidParameter("invalid_click", f"{name} must be an integer from 1 to {high}")
    query_log.click(q, article, rank, page)
    return "", 204


# --- health ---


@operations.get("/readyz")
def readyz():
    """200 when an index opens and is not older than MAX_INDEX_AGE seconds; 503 otherwise."""
    from searchapp.web import index_handle

    try:
        manifest = index_handle().open().manifest
    except Exception as exc:  # IndexUnavailable, or anything else that stops serving
        current_app.logger.warning("not ready: %s", exc)
        return _not_ready("no index can be opened")
    age = build_age(manifest)
    limit = int(current_app.config.get("MAX_INDEX_AGE") or 0)
    if limit and (age is None or age > limit):
        return _not_ready(f"the index is older than {limit} s")
    return jsonify({"status": "ready", "build": manifest.get("build"), "age_seconds": age})


def _not_ready(reason: str):
    response = jsonify({"status": "not_ready", "reason": reason})
    response.status_code = 503
    response.headers["Retry-After"] = "10"
    return response


# --- the admin token, for /admin and /metrics ---


def _token_given() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if request.method == "POST":
        return request.form.get("token", "")
    return None


def check_token() -> str | None:
    """None when the request carries the admin token; else why not (``missing``/``wrong``)."""
    expected = current_app.config.get("ADMIN_TOKEN") or ""
    given = _token_given()
    if given is None or given == "":
        return "missing"
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return "wrong"
    return None


@operations.route("/admin", methods=["GET", "POST"])
def admin():
    """The query report with searches per day; 404 unless ADMIN_TOKEN is set."""
    if not current_app.config.get("ADMIN_TOKEN"):
        abort(404)
    problem = check_token()
    if problem is not None:
        status = 401 if problem == "missing" else 403
        response = Response(
            render_template("admin_login.html", wrong=problem == "wrong"), status=status
        )
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="searchapp admin"'
        return _private(response)
    since_text = request.values.get("since", "30d")
    try:
        since = parse_since(since_text)
    except ValueError as exc:
        raise InvalidParameter("invalid_since", str(exc)) from None
    report = build_report(current_app.config["INDEX_DIR"], since=since)
    body = render_template(
        "admin.html",
        report=report,
        totals=report["_totals"],
        since=since_text,
        chart=day_chart(report["_totals"]["per_day"]),
    )
    return _private(Response(body))


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def day_chart(per_day: dict[str, int], width: int = 720, height: int = 160) -> dict:
    """Bars for an inline SVG (attributes only: the CSP allows no inline styles)."""
    days = list(per_day.items())[-60:]
    top = max((n for _, n in days), default=0) or 1
    step = width / max(len(days), 1)
    bars = []
    for i, (day, count) in enumerate(days):
        h = round(count / top * (height - 20), 1)
        bars.append(
            {
                "x": round(i * step + 1, 1),
                "y": round(height - h, 1),
                "w": round(max(step - 2, 1), 1),
                "h": h,
                "day": day,
                "count": count,
            }
        )
    return {"width": width, "height": height, "bars": bars, "top": top}


# --- metrics ---


def _install_metrics(app: Flask) -> None:
    from searchapp.ops import metrics

    cache_counter = metrics.CacheCounter()

    @app.before_request
    def _start_timer():
        g.searchapp_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("searchapp_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.observe_request(
                route, request.method, response.status_code, time.perf_counter() - started
            )
        cache_counter.update(app.extensions["searchapp.index"])
        metrics.update_worker_memory()
        return response


@operations.get("/metrics")
def metrics_view():
    """Prometheus metrics; 404 unless METRICS is on; the admin token when one is set."""
    if not current_app.config.get("METRICS"):
        abort(404)
    if current_app.config.get("ADMIN_TOKEN"):
        problem = check_token()
        if problem is not None:
            from searchapp.web import error_response

            if problem == "missing":
                response = error_response(401, "unauthorized", "Send the admin token.")
                response.headers["WWW-Authenticate"] = 'Bearer realm="searchapp metrics"'
                return response
            return error_response(403, "forbidden", "That token is not the admin token.")
    from searchapp.ops import metrics
    from searchapp.web import index_handle

    body, content_type = metrics.exposition(index_handle())
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
