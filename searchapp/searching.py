"""Search the index: the one function that the JSON API, the HTML pages and the CLI call.

``search()`` checks the parameters (``params``), takes the process's handle on the index
(``handle``), answers from its cache or runs the fallback policy below under the query's time
budget, and returns the API's dict (``shaping``; the web layer adds the links). Matching,
scoring and facets are done by ``scoring.QueryEvaluator``; this module decides which query to
run: as typed, its spelling correction (``suggestions``), or any of its words.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from whoosh import query
from whoosh.qparser import QueryParserError
from whoosh.reading import TermNotFound

from searchapp import settings
from searchapp.analysis import analyze
from searchapp.budget import QueryTooExpensive, query_budget
from searchapp.handle import INDEX_READ_ERRORS, IndexHandle, OpenIndex
from searchapp.highlighting import HighlightTerms, highlight_terms
from searchapp.params import InvalidParameter, Shape, search_request
from searchapp.querying import parse_user_query, relax_to_any, with_context
from searchapp.results import Page, facet_counts, page_articles, page_passages
from searchapp.shaping import RESULT_FACETS, article_dict, hit_dict
from searchapp.suggestions import suggest_correction


def search(
    index: IndexHandle | Path | str,
    q: str,
    page: int = 1,
    per_page: int = 10,
    group: str = "none",
    sort: str | None = None,
    **filters: str | None,
) -> dict:
    """Search and return the API's response dict (see the README for the shape).

    ``group="article"``: each hit is an article with its best passages; ``"none"``: each hit
    is a passage. ``sort``: relevance (the default with a query), newest (the default without
    one: browsing) or oldest. ``index``: the caller's handle (a folder opens one for this
    call only, see ``IndexHandle.of``).
    """
    started = time.perf_counter()
    q, shape, flt = search_request(q, page, per_page, group, sort, filters)
    handle = IndexHandle.of(index)
    key = (q, shape, flt.key())
    with handle.reading() as opened:
        cached = handle.cached(opened, key)
        if cached is not None:
            return dict(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
        try:
            with query_budget(handle.query_budget_ms / 1000):
                allowed = handle.filter_mask(opened, flt)
                response = _answer(opened, q, shape, allowed)
        except (InvalidParameter, QueryTooExpensive):
            raise
        except (TermNotFound, QueryParserError) as exc:  # the parser let through what cannot run
            raise InvalidParameter(
                "invalid_query", "This query cannot be searched; try it as plain words."
            ) from exc
        except INDEX_READ_ERRORS as exc:
            raise handle.unreadable(exc) from exc
        response["query"] = q
        response.setdefault("showing_results_for", None)
        handle.remember(opened, key, response)
    return dict(response, took_ms=round((time.perf_counter() - started) * 1000, 2))


def _answer(opened: OpenIndex, q: str, shape: Shape, allowed) -> dict:
    """The first of these that finds something: the query with all its words; its spelling
    correction with all its words; any of the query's words.

    A correction is tried before relaxing to any word, so ``Gwadr port`` finds the Gwadar
    port rather than every chunk that mentions a port. A query that found something gets no
    "did you mean": its words are in the archive (``robots`` is not a misspelt ``robot``).
    """

    context = settings.current().heading_weight

    def strict(text: str) -> dict:
        parsed = with_context(parse_user_query(opened.parser, text), context)
        return _execute(opened, parsed, q, shape, allowed)

    def relaxed(text: str, first=None) -> dict | None:
        parsed = relax_to_any(opened.relaxed_parser, text)
        if parsed is None:
            return None
        return dict(_execute(opened, parsed, q, shape, allowed, first), match="any")

    rules = settings.current()
    first = strict(q)
    if (
        q.strip()
        and rules.describe_from_words
        and first["total_passages"] < rules.describe_below  # chunks, grouped or not
        and len(set(analyze(q, mode="query"))) >= rules.describe_from_words
    ):
        # A sentence whose words rarely meet: its few all-word chunks first, then chunks
        # with most of its words (a sentence in the searcher's words seldom matches whole).
        strict_query = with_context(parse_user_query(opened.parser, q), context)
        described = relaxed(q, first=strict_query)
        if described is not None and described["total"]:
            return described
    if first["total"] or not q.strip():
        return first
    correction = suggest_correction(opened, q, allow_cjk=True)
    if correction:
        corrected = strict(correction)
        if corrected["total"]:
            return dict(corrected, suggestion=correction, showing_results_for=correction)
    response = relaxed(q)
    return response if response is not None and response["total"] else first


#: Facets of this many matches or more are kept per build, keyed by a digest of the matches:
#: the next page of the same search, another sort order, or browsing again count the same
#: matches (an empty query's facets over 500,000 chunks took ~60 ms, the digest of its
#: matches 5; 20,000 matches' digest 0.2 ms). Fewer are counted each time.
FACET_CACHE_FROM = 20_000


def _facets(opened: OpenIndex, found, unit: str) -> dict[str, dict[str, int]]:
    """``facet_counts`` of the matches, from the build's facet cache when they are many."""
    if len(found) < FACET_CACHE_FROM:
        return facet_counts(opened.values, found, RESULT_FACETS, unit)
    digest = hashlib.blake2b(found.ids.tobytes(), digest_size=16).digest()
    key = (unit, len(found), digest)
    facets = opened.facets.get(key)
    if facets is None:
        facets = facet_counts(opened.values, found, RESULT_FACETS, unit)
        opened.facets.put(key, facets)
    return {name: dict(counts) for name, counts in facets.items()}  # the caller's own


def _execute(opened: OpenIndex, parsed, q: str, shape: Shape, allowed, first=None) -> dict:
    """Matches and scores from the evaluator, grouped, sorted and paged; stored fields and
    snippets for the page only.

    ``first`` (a query) puts the chunks it matches ahead of the others, in their own order
    (and so their articles, ranked by their best chunk).
    """
    searcher, evaluator, values = opened.searcher, opened.evaluator, opened.values
    found = evaluator.evaluate(parsed, allowed)
    if first is not None:
        found = evaluator.lift(found, evaluator.evaluate(first, allowed))
    offset = (shape.page - 1) * shape.per_page
    browse = isinstance(parsed, query.Every)
    grouped = shape.group == "article"
    if grouped:
        result: Page = page_articles(
            values, found, shape.sort, offset, shape.per_page, browse=browse
        )
    else:
        result = page_passages(evaluator, values, found, shape.sort, offset, shape.per_page)
    terms = highlight_terms(searcher, parsed) if result.rows and not browse else HighlightTerms()
    if grouped:
        hits = [
            article_dict(evaluator.stored_fields, doc, passages, score, matched, terms)
            for (doc, score), passages, matched in zip(
                result.rows, result.passages, result.matched, strict=True
            )
        ]
    else:
        hits = [hit_dict(evaluator.stored_fields(d), s, terms) for d, s in result.rows]
    unit = "articles" if grouped else "passages"
    return {
        "query": q,
        "suggestion": None,
        "total": result.total,
        "total_passages": len(found),
        "page": shape.page,
        "per_page": shape.per_page,
        "group": shape.group,
        "sort": shape.sort,
        "took_ms": 0.0,
        "hits": hits,
        "facets": _facets(opened, found, unit),
        "facets_count": unit,
        "match": "all",
    }
