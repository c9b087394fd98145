"""HTML pages: the search page (works without JavaScript), the article view, OpenSearch, embed.

The search page calls the same ``search()`` as the API, so every result page has a shareable
URL and a JSON twin. Everything is autoescaped by Jinja except the highlighter's output, which
is escaped text plus our own ``<mark>`` tags.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from searchapp.searching import InvalidParameter, get_article, search
from searchapp.web import index_handle
from searchapp.web.api import FILTER_PARAMS, search_params

pages = Blueprint("pages", __name__)


@pages.get("/")
@pages.get("/search")
def search_page():
    q = request.args.get("q", "")
    has_filters = any(request.args.get(name) for name in FILTER_PARAMS)
    result, error = None, None
    try:
        params = search_params()
        if q.strip() or has_filters:
            result = search(index_handle(), **params)
    except InvalidParameter as exc:
        params = {"q": q, "page": 1, "per_page": 10}
        error = exc.message
    status = 400 if error else 200
    return (
        render_template(
            "search.html",
            q=q,
            params=params,
            result=result,
            error=error,
            mark=Markup,
            page_url=page_url,
            api_url=url_for("api.api_search", **request.args),
        ),
        status,
    )


@pages.get("/articles/<path:article_id>")
def article_page(article_id: str):
    q = request.args.get("q", "")
    article = get_article(index_handle(), article_id, q=q)
    if article is None:
        abort(404, f"No article with id {article_id[:100]!r}.")
    return render_template("article.html", article=article, q=q, mark=Markup)


@pages.get("/opensearch.xml")
def opensearch():
    base = request.host_url.rstrip("/")
    body = render_template("opensearch.xml", base=base)
    return Response(body, mimetype="application/opensearchdescription+xml")


@pages.get("/embed.js")
def embed_js():
    response = pages_static("embed.js", "application/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@pages.get("/embed-demo")
def embed_demo():
    return render_template("embed_demo.html", base=request.host_url.rstrip("/"))


def pages_static(name: str, mimetype: str) -> Response:
    from flask import current_app

    return (
        current_app.send_static_file(name)
        if mimetype is None
        else Response(current_app.open_resource(f"static/{name}").read(), mimetype=mimetype)
    )


def page_url(**changes) -> str:
    """The current search URL with some parameters changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if v != ""}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    if "page" in args and str(args["page"]) == "1":
        args.pop("page")
    return url_for("pages.search_page") + ("?" + urlencode(args) if args else "")
