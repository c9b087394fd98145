"""Every link to an article, built here and only here, with ``url_for``.

So links carry the path the app is mounted under (``/search/articles/...`` behind a proxy
that serves it there), the article page that shows a passage (``?page=N``), the passage's
anchor (``#chunk-N``) and, on the pages, the query whose terms the article page marks. The
search functions return no links; the API gets its ``url`` fields from ``with_urls``.
``static/embed.js`` builds the same links on other sites by itself (it stands alone there).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import current_app, request, url_for
from werkzeug.routing import PathConverter

from searchapp.article_pages import article_page_of


def article_url(
    article_id: str, q: str = "", position: int | None = None, *, keep_hl: bool = True
) -> str:
    """An article page, carrying the query so its terms are marked, at one chunk's anchor
    (on the page of a long article that shows that chunk). ``keep_hl=False``: without the
    reader's interface language (the API's links)."""
    page = article_page_of(position) if position is not None else 1
    url = _article_page(article_id, q, page, keep_hl)
    return url if position is None else f"{url}#chunk-{position}"


def _article_page(article_id: str, q: str, page: int, keep_hl: bool) -> str:
    return url_for(
        "pages.article_page",
        article_id=article_id,
        q=q.strip() or None,
        page=page if page > 1 else None,
        **({} if keep_hl else {"hl": None}),
    )


def article_page_url(article_id: str, q: str = "", page: int = 1) -> str:
    """One page of a long article."""
    return url_for(
        "pages.article_page", article_id=article_id, q=q or None, page=page if page > 1 else None
    )


def articles_base() -> str:
    """The URL prefix of article pages (``/articles/``, or ``/search/articles/`` when mounted
    under ``/search``), for the scripts."""
    return _placeholder_article_url()[:-1]


def _placeholder_article_url() -> str:
    """The API's link to an article whose id is ``_``: the prefix every article link shares."""
    return url_for("pages.article_page", article_id="_", hl=None)


def hit_url(hit: dict, q: str = "", link: Callable[..., str] | None = None) -> str:
    """Where a result links: the original page when the setting says so and there is one.
    ``link``: ``article_links(q)`` of the response, when there are many hits."""
    if current_app.config["LINKS"] == "source" and hit.get("source_url"):
        return hit["source_url"]
    if link is not None:
        return link(hit["article_id"], hit.get("position"))
    return article_url(hit["article_id"], q, hit.get("position"))


def with_urls(response: dict) -> dict:
    """A search response with the ``url`` of each hit (and each passage of an article hit):
    this app's article page, without the query (the API's links). A new dict: the search's
    own may be cached."""
    link = article_links(keep_hl=False)
    hits = []
    for hit in response["hits"]:
        article_id = hit["article_id"]
        if "passages" in hit:
            passages = [{**p, "url": link(article_id, p["position"])} for p in hit["passages"]]
            hits.append({**hit, "url": link(article_id), "passages": passages})
        else:
            hits.append({**hit, "url": link(article_id, hit["position"])})
    return {**response, "hits": hits}


def article_links(q: str = "", *, keep_hl: bool = True) -> Callable[..., str]:
    """``article_url(article_id, q, position, keep_hl=keep_hl)`` for the many links of one
    response or page.

    ``url_for`` (the route's rules, the mount path, the URL defaults, the query string) runs
    once per article page number, for a placeholder id, and each id is quoted by the route's
    own converter, which is what ``url_for`` does with it (``tests/test_api.py`` and
    ``tests/test_pages.py`` compare the two). A ``url_for`` per link took about 7% of the CPU
    of a 10-hit API request and 6% of a results page (``scripts/profile_requests.py``).
    """
    quote = _id_quoter()
    made: dict[int, tuple[str, str] | None] = {}
    if not keep_hl and not q.strip():  # the API's links: the same for every request
        made = _api_link_parts()

    def link(article_id: str, position: int | None = None) -> str:
        page = article_page_of(position) if position is not None else 1
        parts = made.get(page, False)
        if parts is False:
            parts = made[page] = _around_id(q, page, keep_hl)
        if parts is None:  # the placeholder is not where the id goes: build each link whole
            return article_url(article_id, q, position, keep_hl=keep_hl)
        url = parts[0] + quote(article_id) + parts[1]
        return url if position is None else f"{url}#chunk-{position}"

    return link


#: What ``werkzeug``'s path converter leaves as it is: ``quote``'s letters, digits and
#: ``_.-~``, and the converter's safe characters (``tests/test_api.py`` compares).
_AS_IS = re.compile(r"[A-Za-z0-9_.\-~!$&'()*+,/:;=@]*")


def _id_quoter() -> Callable[[str], str]:
    """The article route's converter's ``to_url``, which for werkzeug's path converter
    returns an id of plain characters without quoting it (most ids: ``quote`` was about 2 us
    a link, ten or more links a response)."""
    converter = current_app.url_map.converters["path"]
    to_url = converter(current_app.url_map).to_url
    if converter is not PathConverter:
        return to_url
    return lambda article_id: article_id if _AS_IS.fullmatch(article_id) else to_url(article_id)


#: Article page numbers whose API link parts are kept per mount path (an article of 2,000
#: pages is rare; past it each response builds its own, as the pages do).
MAX_KEPT_PAGES = 2048


def _api_link_parts() -> dict[int, tuple[str, str] | None]:
    """The parts of the API's links (no query, no ``hl``) by article page number, kept per
    app and mount path: they depend on nothing else, and three ``url_for`` calls a response
    (its hits on three pages of their articles) were 3% of an uncached search's CPU."""
    kept = current_app.extensions.setdefault("searchapp.api_link_parts", {})
    parts = kept.get(request.script_root)
    if parts is None or len(parts) > MAX_KEPT_PAGES:
        parts = kept[request.script_root] = {}
    return parts


def _around_id(q: str, page: int, keep_hl: bool) -> tuple[str, str] | None:
    """What comes before and after the id in the link to page ``page`` of an article whose
    id is ``_`` (None if its path does not end with the placeholder)."""
    path, mark, query = _article_page("_", q, page, keep_hl).partition("?")
    if not path.endswith("/_"):
        return None
    return path[:-1], mark + query
