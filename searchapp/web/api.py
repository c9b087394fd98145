"""The JSON API: a contract other sites build on. Its shape is pinned by tests/test_api.py."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from searchapp.article_pages import get_article
from searchapp.params import FILTER_NAMES, MAX_PAGE, MAX_PER_PAGE, InvalidParameter
from searchapp.searching import search
from searchapp.suggestions import suggest_completions
from searchapp.web import index_handle
from searchapp.web.openapi import openapi_spec
from searchapp.web.operations import record_search
from searchapp.web.urls import with_urls

api = Blueprint("api", __name__)
#: Completions the API gives at most (``/api/suggest?limit=``).
MAX_SUGGESTIONS = 20


def int_param(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], or InvalidParameter (400)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidParameter(
            f"invalid_{name}", f"{name} must be an integer from {low} to {high}; got {raw[:50]!r}"
        ) from None
    if not low <= value <= high:
        raise InvalidParameter(
            f"invalid_{name}", f"{name} must be an integer from {low} to {high}; got {value}"
        )
    return value


def search_params(default_group: str = "none") -> dict:
    """The validated search parameters of the current request (shared with the HTML page).

    ``group`` defaults to ``none`` here (the API's shape before grouping existed) and to the
    article view on the page; ``sort`` to relevance with a query, newest without.
    """
    args = request.args  # web.args.QueryArgs: a missing key costs no exception
    params = {
        "q": args.get("q", ""),
        "page": int_param("page", 1, 1, MAX_PAGE),
        "per_page": int_param("per_page", 10, 1, MAX_PER_PAGE),
        "group": args.get("group") or default_group,
        "sort": args.get("sort") or None,
    }
    for name in FILTER_NAMES:
        value = args.get(name)
        if value not in (None, ""):
            params[name] = value
    return params


@api.get("/api/search")
def api_search():
    params = search_params()
    result = search(index_handle(), **params)
    record_search(params, result)
    return jsonify(with_urls(result))


@api.get("/api/suggest")
def api_suggest():
    q = request.args.get("q", "")
    limit = int_param("limit", 8, 1, MAX_SUGGESTIONS)
    return jsonify([q, suggest_completions(index_handle(), q, limit=limit)])


@api.get("/api/articles/<path:article_id>")
def api_article(article_id: str):
    page = int_param("page", 1, 1, MAX_PAGE)
    article = get_article(index_handle(), article_id, q=request.args.get("q", ""), page=page)
    if article is None:
        return _not_found(article_id)
    return jsonify(article)


@api.get("/api/openapi.json")
def api_openapi():
    return jsonify(openapi_spec())


@api.get("/healthz")
def healthz():
    stats = index_handle().stats()
    return jsonify({"status": "ok", **stats})


def _not_found(article_id: str):
    from searchapp.web import error_response

    return error_response(404, "not_found", f"no article with id {article_id[:100]!r}")
