"""HTML pages: the search page (works without JavaScript), the article view, OpenSearch, embed.

The search page calls the same ``search()`` as the API, so every result page has a shareable
URL and a JSON twin. Everything is autoescaped by Jinja except the highlighter's output
(``snippet`` and ``chunk.html``), which is escaped text plus our own ``<mark>`` tags.
``static/app.js`` only enhances these pages (search as you type, keyboard navigation,
suggestions); ``/embed.js`` puts a search box on other sites through the JSON API.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from urllib.parse import quote_plus

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from searchapp.article_pages import ARTICLE_PAGE_CHUNKS, get_article
from searchapp.examples import example_queries
from searchapp.params import (
    FILTER_NAMES,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RESULTS_WINDOW,
    InvalidParameter,
    default_group,
)
from searchapp.searching import search
from searchapp.web import CONTENT_SECURITY_POLICY, index_handle
from searchapp.web.api import int_param, search_params
from searchapp.web.i18n import LANGUAGES, current_language, script_strings
from searchapp.web.operations import record_search
from searchapp.web.security import public_base
from searchapp.web.urls import article_links, article_page_url, articles_base, hit_url

pages = Blueprint("pages", __name__)

#: Where in an article a passage was found, in words a reader knows.
KIND_LABELS = {
    "title": _l("Headline"),
    "byline": _l("Byline"),
    "paragraph": _l("Article text"),
    "heading": _l("Section heading"),
    "caption": _l("Photo"),
    "credit": _l("Credits"),
}
LANG_LABELS = {"en": "English", "zh": "中文"}
FILTER_LABELS = {
    "kind": _l("Found in"),
    "lang": _l("Language"),
    "section": _l("Section"),
    "article": _l("Article"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "author": _l("Author"),
    "tag": _l("Tag"),
    "year": _l("Year"),
    "authors": _l("Author"),
    "tags": _l("Tag"),
}
SORT_LABELS = {"relevance": _l("Best match"), "newest": _l("Newest"), "oldest": _l("Oldest")}
#: What the error pages say in a language other than the API's English, by error code.
ERROR_MESSAGES = {
    "invalid_page": _l(
        "The page number is not one of the result pages (1 to %(max)s).", max=MAX_PAGE
    ),
    "invalid_per_page": _l(
        "The number of results per page must be from 1 to %(max)s.", max=MAX_PER_PAGE
    ),
    "invalid_kind": _l("That kind of passage does not exist."),
    "invalid_lang": _l("The language must be en or zh."),
    "invalid_date": _l("Dates must be written as YYYY-MM-DD, the first before the last."),
    "invalid_section": _l("The section name is too long."),
    "invalid_article": _l("The article id is too long."),
    "invalid_author": _l("The author name is too long."),
    "invalid_tag": _l("The tag is too long."),
    "invalid_group": _l("Results are grouped by article or not at all (group=article or none)."),
    "invalid_sort": _l("Results are sorted by best match, newest or oldest."),
    "invalid_query": _l("This query cannot be searched; try it as plain words."),
    "invalid_parameter": _l("The search has a parameter that does not exist."),
    "invalid_encoding": _l("The address is not valid UTF-8."),
    "not_found": _l("There is nothing at this address."),
    "method_not_allowed": _l("This address only answers GET requests."),
    "index_unavailable": _l("The index cannot be read right now. Please try again later."),
    "internal_error": _l("An unexpected error occurred."),
    "query_too_expensive": _l(
        "This query took too long to answer; try fewer or more specific words."
    ),
    "too_many_requests": _l("Too many requests from your address; wait a moment and try again."),
}

#: Facets in the order the sidebar shows them (the year facet sits with the date control),
#: and the filter parameter each one sets.
FACETS = ("lang", "authors", "tags", "kind", "section")
FACET_PARAM = {"authors": "author", "tags": "tag"}
#: Quick date choices: label and days back from today.
DATE_CHOICES = ((_l("Past week"), 7), (_l("Past month"), 31), (_l("Past year"), 366))

#: Where ``/embed.js`` gets its stylesheet: the script sets it as the text of a <style>.
EMBED_CSS_MARKER = '/*@embed-css*/""'
#: Where ``/embed.js`` gets the site's name, language and its strings in every language.
EMBED_SITE_MARKER = "/*@embed-site*/{}"
#: Logo files the site may name, and how they are served.
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
#: Where ``/embed.js`` gets the link setting (``source`` or ``local``).
EMBED_LINKS_MARKER = '/*@links*/"source"'


@pages.app_context_processor
def labels() -> dict:
    """Helpers every template (also the error page rendered by the app) can use."""
    return {
        "kind_label": lambda kind: str(KIND_LABELS.get(kind or "", kind or "")),
        "lang_label": lambda lang: LANG_LABELS.get(lang or "", lang or ""),
        "filter_label": lambda name: str(FILTER_LABELS.get(name, name)),
        "safe_html": Markup,
        "site_name": current_app.config.get("SITE_NAME") or "searchapp",
        "logo_url": url_for("pages.site_logo") if current_app.config.get("LOGO") else None,
        "script_strings": script_strings,
        "articles_base": articles_base,
        "filter_names": FILTER_NAMES,
        "error_message": error_message,
    }


def error_message(code: str, message: str) -> str:
    """The error's own message in English; in other languages, the catalogue's for its code."""
    if current_language() == "en" or code not in ERROR_MESSAGES:
        return message
    return str(ERROR_MESSAGES[code])


@pages.get("/", endpoint="home")
@pages.get("/search")
def search_page():
    """The search page; with ``fragment=1`` only its results area (what app.js swaps in)."""
    q = request.args.get("q", "")
    filters = active_filters()
    result, error, status = None, None, 200
    try:
        params = search_params(default_group=default_group(request.args.get("kind")))
        if q.strip() or filters or request.args.get("sort"):
            result = search(index_handle(), **params)
            record_search(params, result)
    except InvalidParameter as exc:
        params = {"q": q, "page": 1, "per_page": 10}
        error, status = exc, 400
    # The article pages mark the words the results were found with (the corrected ones).
    marked_q = (result or {}).get("showing_results_for") or q
    link = article_links(marked_q)
    context = dict(
        q=q,
        params=params,
        result=result,
        error=error,
        filters=filters,
        facets=facet_links(result) if result else [],
        dates=date_controls(result) if result else None,
        sorts=sort_links(result) if result else [],
        pagination=pagination(result) if result else None,
        hit_url=lambda hit: hit_url(hit, marked_q, link),
        local_url=lambda hit: link(hit["article_id"], hit.get("position")),
        links=current_app.config["LINKS"],
        article_href=lambda article: hit_url(
            {
                "article_id": article["article_id"],
                "source_url": article["source_url"],
                "position": article["passages"][0]["position"] if article["passages"] else None,
            },
            marked_q,
            link,
        ),
        page_url=page_url,
        clear_url=page_url(**dict.fromkeys(FILTER_NAMES), page=None),
        api_url=url_for("api.api_search", **api_args()) if result else None,
        # the search form keeps the chosen order when the words change
        keep_sort=request.args.get("sort") if request.args.get("sort") in SORT_LABELS else None,
    )
    if request.args.get("fragment"):
        return render_template("_results.html", **context), status
    body = render_template(
        "search.html",
        examples=_examples() if result is None and not error else [],
        stats=_stats() if result is None and not error else None,
        **context,
    )
    return body, status


def api_args() -> dict:
    """The page's request as the JSON API's: the same parameters, the page's grouping."""
    args = {k: v for k, v in request.args.items() if v != "" and k != "fragment"}
    args.setdefault("group", default_group(args.get("kind")))
    if args["group"] == "none":
        args.pop("group")
    return args


@pages.get("/articles/<path:article_id>")
def article_page(article_id: str):
    q = request.args.get("q", "")
    page = int_param("page", 1, 1, MAX_PAGE)
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
            None if n == article["page"] else article_page_url(article["id"], q, n),
        )
        for n in range(1, article["pages"] + 1)
    ]


@pages.get("/opensearch.xml")
def opensearch():
    logo = Path(current_app.config.get("LOGO") or "")
    body = render_template(
        "opensearch.xml",
        base=public_base(),
        examples=_examples()[:1],
        logo_type=LOGO_TYPES.get(logo.suffix.lower(), ""),
    )
    return Response(body, mimetype="application/opensearchdescription+xml")


@pages.get("/site-logo")
def site_logo():
    """The logo named by the config (``site.logo``), or 404."""
    path = current_app.config.get("LOGO")
    if not path or Path(path).suffix.lower() not in LOGO_TYPES or not Path(path).is_file():
        abort(404, gettext("This site has no logo."))
    response = send_file(Path(path).absolute(), mimetype=LOGO_TYPES[Path(path).suffix.lower()])
    # An SVG opened on its own is a document: it may draw, never run scripts.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@pages.get("/embed.js")
def embed_js():
    response = Response(embed_script(), mimetype="text/javascript")
    response.headers["Vary"] = "Accept-Encoding"
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


def _embed_parts() -> tuple[str, str]:
    """(script, css), made once per app: the CSS, site name and strings inlined."""
    cached = current_app.extensions.get("searchapp.embed")
    if cached is None:
        css = _read_static("embed.css")
        script = _read_static("embed.js")
        for marker in (EMBED_CSS_MARKER, EMBED_SITE_MARKER, EMBED_LINKS_MARKER):
            if marker not in script:
                raise RuntimeError(f"static/embed.js lacks the marker {marker}")
        site = {
            "name": current_app.config.get("SITE_NAME") or "searchapp",
            "logo": bool(current_app.config.get("LOGO")),
            "language": current_app.config.get("LANGUAGE") or "en",
            "article_page_chunks": ARTICLE_PAGE_CHUNKS,
            "strings": {lang: embed_strings(lang) for lang in LANGUAGES},
        }
        script = script.replace(EMBED_CSS_MARKER, json.dumps(css), 1)
        script = script.replace(EMBED_SITE_MARKER, json.dumps(site, ensure_ascii=False), 1)
        script = script.replace(EMBED_LINKS_MARKER, json.dumps(current_app.config["LINKS"]), 1)
        cached = current_app.extensions["searchapp.embed"] = (script, css)
    return cached


def embed_strings(language: str) -> dict:
    """The widget's strings and labels in one language."""
    with force_locale(language):
        strings = script_strings()
        strings["kinds"] = {k: str(v) for k, v in KIND_LABELS.items()}
        strings["langs"] = LANG_LABELS
        return strings


def embed_script() -> str:
    """static/embed.js with static/embed.css and the site's settings inlined (one request)."""
    return _embed_parts()[0]


def embed_style_hash() -> str:
    """The CSP hash source of the widget's <style> text."""
    css = _embed_parts()[1]
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()


def _examples() -> list[str]:
    """The config's example queries, or names the index itself answers."""
    configured = current_app.config.get("EXAMPLES") or []
    if configured:
        return list(configured)
    try:
        return example_queries(index_handle())
    except Exception:  # the home page works without examples; searching reports the problem
        return []


def _stats() -> dict | None:
    try:
        return index_handle().stats()
    except Exception:  # the home page works without numbers; searching reports the problem
        return None


def active_filters() -> list[dict]:
    """The filters in the URL, each with a label and the URL that removes it."""
    found = []
    for name in FILTER_NAMES:
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
    return str(labels.get(value, value))


def facet_links(result: dict) -> list[dict]:
    """Each facet with its values: count, whether active, and the link that toggles it."""
    facets = []
    unit = result.get("facets_count", "passages")
    for name in FACETS:
        counts = result.get("facets", {}).get(name) or {}
        param = FACET_PARAM.get(name, name)
        current = request.args.get(param, "")
        values = []
        for value, count in counts.items():
            active = value == current
            values.append(
                {
                    "value": value,
                    "shown": value_label(name, value),
                    "count": count,
                    "active": active,
                    "url": page_url(**{param: None if active else value, "page": None}),
                }
            )
        if values:
            facets.append(
                {"name": name, "label": FILTER_LABELS[name], "options": values, "unit": unit}
            )
    return facets


def date_controls(result: dict) -> dict:
    """The date range form's values, quick choices (past week ...) and the year facet."""
    today = dt.date.today()
    date_from = request.args.get("date_from", "")
    date_to = request.args.get("date_to", "")
    quick = []
    for label, days in DATE_CHOICES:
        start = (today - dt.timedelta(days=days)).isoformat()
        active = date_from == start and not date_to
        quick.append(
            {
                "label": label,
                "active": active,
                "url": page_url(date_from=None if active else start, date_to=None, page=None),
            }
        )
    years = []
    for year, count in (result.get("facets", {}).get("year") or {}).items():
        start, end = f"{year}-01-01", f"{year}-12-31"
        active = date_from == start and date_to == end
        years.append(
            {
                "value": year,
                "shown": year,
                "count": count,
                "active": active,
                "url": page_url(
                    date_from=None if active else start,
                    date_to=None if active else end,
                    page=None,
                ),
            }
        )
    return {
        "date_from": date_from,
        "date_to": date_to,
        "quick": quick,
        "years": years,
        "unit": result.get("facets_count", "passages"),
        "any_url": page_url(date_from=None, date_to=None, page=None)
        if date_from or date_to
        else None,
        # The form sends every other parameter of the page along, as hidden fields.
        "keep": [
            (k, v)
            for k, v in request.args.items()
            if v and k not in ("date_from", "date_to", "page", "fragment")
        ],
    }


def sort_links(result: dict) -> list[dict]:
    """The sort choices as links; best match only when there is a query to match."""
    browse = not (result.get("query") or "").strip()
    return [
        {
            "value": value,
            "label": label,
            "active": result.get("sort") == value,
            "url": page_url(sort=None if value == "relevance" else value, page=None)
            if not browse
            else page_url(sort=value, page=None),
        }
        for value, label in SORT_LABELS.items()
        if not (browse and value == "relevance")
    ]


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


def page_url(**changes) -> str:
    """The current search URL with some parameters changed (None removes one)."""
    path, current = _page_state()
    args = dict(current)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = (value, _query_pair(key, value))
    if "page" in args and str(args["page"][0]) == "1":
        args.pop("page")
    return path + ("?" + "&".join(pair for _value, pair in args.values()) if args else "")


def _query_pair(key: str, value: object) -> str:
    """``key=value`` as ``urlencode`` writes it."""
    return quote_plus(str(key)) + "=" + quote_plus(str(value))


def _page_state() -> tuple[str, dict[str, tuple[str, str]]]:
    """The search page's path (``url_for("pages.search_page", hl=None)``) and the request's
    parameters (empty ones and ``fragment`` left out), each with its ``key=value``, made once
    per request: a results page links to itself with changed parameters about 35 times
    (facets, dates, sorts, pages), each a ``url_for`` and a ``urlencode`` of every parameter
    (about 8% of the page's CPU). The same links (``tests/test_pages.py``)."""
    made = request.environ.get(_PAGE_STATE)
    if made is None:
        current = {
            k: (v, _query_pair(k, v))
            for k, v in request.args.items()
            if v != "" and k != "fragment"
        }
        made = (url_for("pages.search_page", hl=None), current)
        request.environ[_PAGE_STATE] = made
    return made


#: Where a request keeps its ``_page_state`` (the request's own, never shared).
_PAGE_STATE = "searchapp.page_state"
