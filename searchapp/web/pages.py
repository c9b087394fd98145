"""HTML pages: the search page (works without JavaScript), the article view, OpenSearch, embed.

The search page calls the same ``search()`` as the API, so every result page has a shareable
URL and a JSON twin. Everything is autoescaped by Jinja except the highlighter's output
(``snippet`` and ``chunk.html``), which is escaped text plus our own ``<mark>`` tags.
``static/app.js`` only enhances these pages (search as you type, keyboard navigation,
suggestions); ``/embed.js`` puts a search box on other sites through the JSON API.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from searchapp.searching import (
    MAX_PAGE,
    MAX_RESULTS_WINDOW,
    InvalidParameter,
    article_page_of,
    get_article,
    index_stats,
    search,
)
from searchapp.web import CONTENT_SECURITY_POLICY, index_handle
from searchapp.web.api import FILTER_PARAMS, int_param, search_params
from searchapp.web.security import public_base

pages = Blueprint("pages", __name__)

KIND_LABELS = {
    "title": "Title",
    "byline": "Byline",
    "paragraph": "Paragraph",
    "heading": "Heading",
    "caption": "Photo caption",
    "credit": "Credits",
}
LANG_LABELS = {"en": "English", "zh": "中文"}
FILTER_LABELS = {
    "kind": "Kind",
    "lang": "Language",
    "section": "Section",
    "article": "Article",
    "date_from": "From",
    "date_to": "To",
}
#: Facets in the order the sidebar shows them.
FACETS = ("kind", "lang", "section")
EXAMPLE_QUERIES = ("Gwadar", "中老铁路", "community with a shared future", "wind power", "香蕉")

#: Where ``/embed.js`` gets its stylesheet: the script sets it as the text of a <style>.
EMBED_CSS_MARKER = '/*@embed-css*/""'
#: Where ``/embed.js`` gets the link setting (``source`` or ``local``).
EMBED_LINKS_MARKER = '/*@links*/"source"'


@pages.app_context_processor
def labels() -> dict:
    """Helpers every template (also the error page rendered by the app) can use."""
    return {
        "kind_label": lambda kind: KIND_LABELS.get(kind or "", kind or ""),
        "lang_label": lambda lang: LANG_LABELS.get(lang or "", lang or ""),
        "filter_label": lambda name: FILTER_LABELS.get(name, name),
        "safe_html": Markup,
    }


@pages.get("/", endpoint="home")
@pages.get("/search")
def search_page():
    q = request.args.get("q", "")
    filters = active_filters()
    result, error, status = None, None, 200
    try:
        params = search_params()
        if q.strip() or filters:
            result = search(index_handle(), **params)
    except InvalidParameter as exc:
        params = {"q": q, "page": 1, "per_page": 10}
        error, status = exc, 400
    # The article pages mark the words the results were found with (the corrected ones).
    marked_q = (result or {}).get("showing_results_for") or q
    body = render_template(
        "search.html",
        q=q,
        params=params,
        result=result,
        error=error,
        filters=filters,
        facets=facet_links(result) if result else [],
        pagination=pagination(result) if result else None,
        hit_url=lambda hit: hit_url(hit, marked_q),
        local_url=lambda hit: article_url(hit["article_id"], marked_q, hit.get("position")),
        links=current_app.config["LINKS"],
        page_url=page_url,
        api_url=url_for("api.api_search", **request.args) if result else None,
        examples=EXAMPLE_QUERIES,
        stats=_stats() if result is None and not error else None,
        client_config={
            "kinds": KIND_LABELS,
            "langs": LANG_LABELS,
            "filters": FILTER_LABELS,
            "links": current_app.config["LINKS"],
        },
    )
    return body, status


@pages.get("/articles/<path:article_id>")
def article_page(article_id: str):
    q = request.args.get("q", "")
    page = int_param("page", 1, 1, 1000)
    try:
        article = get_article(index_handle(), article_id, q=q, page=page)
    except InvalidParameter as exc:
        abort(404, exc.message)
    if article is None:
        abort(404, f"No article with id {article_id[:100]!r}.")
    chunks = article["chunks"]
    lang = chunks[0]["lang"] if chunks else "en"
    marks = sum(chunk["html"].count("<mark>") for chunk in chunks)
    return render_template(
        "article.html",
        article=article,
        q=q,
        lang=lang,
        marks=marks,
        has_title=bool(chunks) and chunks[0]["kind"] == "title",
        body_chunks=[c for c in chunks if c["kind"] != "title"],
        api_url=url_for("api.api_article", article_id=article_id, q=q or None),
        page_links=_article_page_links(article, q),
        back_url=url_for("pages.search_page", q=q) if q.strip() else None,
    )


def _article_page_links(article: dict, q: str) -> list[tuple[int, str | None]]:
    """(number, URL or None for the current page) of each page of a long article."""
    if article["pages"] <= 1:
        return []
    return [
        (
            n,
            None
            if n == article["page"]
            else url_for(
                "pages.article_page",
                article_id=article["id"],
                q=q or None,
                page=n if n > 1 else None,
            ),
        )
        for n in range(1, article["pages"] + 1)
    ]


@pages.get("/opensearch.xml")
def opensearch():
    body = render_template("opensearch.xml", base=public_base())
    return Response(body, mimetype="application/opensearchdescription+xml")


@pages.get("/embed.js")
def embed_js():
    response = Response(embed_script(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@pages.get("/embed-demo")
def embed_demo():
    response = Response(
        render_template(
            "embed_demo.html",
            base=public_base(),
            embed_src=url_for("pages.embed_js"),
            style_hash=embed_style_hash(),
        ),
        mimetype="text/html",
    )
    # The widget styles itself with a <style> element; allow exactly that one by its hash.
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' '{embed_style_hash()}'"
    )
    return response


def _read_static(name: str) -> str:
    with current_app.open_resource(f"static/{name}") as file:
        return file.read().decode("utf-8")


@functools.cache
def _embed_parts(static_folder: str) -> tuple[str, str]:
    css = _read_static("embed.css")
    script = _read_static("embed.js")
    if EMBED_CSS_MARKER not in script:
        raise RuntimeError(f"static/embed.js lacks the marker {EMBED_CSS_MARKER}")
    return script.replace(EMBED_CSS_MARKER, json.dumps(css), 1), css


def embed_script() -> str:
    """static/embed.js with static/embed.css inlined (one request gives the whole widget)."""
    script = _embed_parts(current_app.static_folder or "")[0]
    return script.replace(EMBED_LINKS_MARKER, json.dumps(current_app.config["LINKS"]), 1)


def embed_style_hash() -> str:
    """The CSP hash source of the widget's <style> text."""
    css = _embed_parts(current_app.static_folder or "")[1]
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()


def _stats() -> dict | None:
    try:
        return index_stats(index_handle())
    except Exception:  # the home page works without numbers; searching reports the problem
        return None


def active_filters() -> list[dict]:
    """The filters in the URL, each with a label and the URL that removes it."""
    found = []
    for name in FILTER_PARAMS:
        value = request.args.get(name, "")
        if value:
            shown = value_label(name, value)
            found.append(
                {
                    "name": name,
                    "value": value,
                    "label": FILTER_LABELS.get(name, name),
                    "shown": shown,
                    "remove_url": page_url(**{name: None, "page": None}),
                }
            )
    return found


def value_label(name: str, value: str) -> str:
    """How a filter or facet value is shown: kinds and languages by name, others as they are."""
    labels = {"kind": KIND_LABELS, "lang": LANG_LABELS}.get(name, {})
    return labels.get(value, value)


def facet_links(result: dict) -> list[dict]:
    """Each facet with its values: count, whether active, and the link that toggles it."""
    facets = []
    for name in FACETS:
        counts = result.get("facets", {}).get(name) or {}
        current = request.args.get(name, "")
        values = []
        for value, count in counts.items():
            active = value == current
            shown = value_label(name, value)
            values.append(
                {
                    "value": value,
                    "shown": shown,
                    "count": count,
                    "active": active,
                    "url": page_url(**{name: None if active else value, "page": None}),
                }
            )
        if values:
            facets.append({"name": name, "label": FILTER_LABELS[name], "options": values})
    return facets


def pagination(result: dict) -> dict | None:
    """Previous/next and a window of page numbers (None marks a gap), or None for one page."""
    page, per_page, total = result["page"], result["per_page"], result["total"]
    last = min(-(-total // per_page), MAX_PAGE, MAX_RESULTS_WINDOW // per_page)
    if last <= 1 and page == 1:
        return None
    shown = {1, last, *range(page - 2, page + 3)}
    numbers: list[int | None] = []
    for number in sorted(n for n in shown if 1 <= n <= last):
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return {
        "page": page,
        "last": last,
        "prev": page_url(page=page - 1) if page > 1 else None,
        "next": page_url(page=page + 1) if page < last else None,
        "numbers": [(n, page_url(page=n) if n else None) for n in numbers],
        "first_url": page_url(page=None),
    }


def article_url(article_id: str, q: str = "", position: int | None = None) -> str:
    """An article page, carrying the query so its terms are marked, at one chunk's anchor
    (on the page of a long article that shows that chunk)."""
    page = article_page_of(position) if position is not None else 1
    url = url_for(
        "pages.article_page",
        article_id=article_id,
        q=q.strip() or None,
        page=page if page > 1 else None,
    )
    return url if position is None else f"{url}#chunk-{position}"


def hit_url(hit: dict, q: str = "") -> str:
    """Where a result links: the original page when the setting says so and there is one."""
    if current_app.config["LINKS"] == "source" and hit.get("source_url"):
        return hit["source_url"]
    return article_url(hit["article_id"], q, hit.get("position"))


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
