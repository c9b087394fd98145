"""The OpenAPI 3 description of the JSON API, served at ``/api/openapi.json``."""

from __future__ import annotations

from searchapp.articles import KINDS
from searchapp.params import (
    FILTER_NAMES,
    LANGS,
    MAX_FILTER_CHARS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RESULTS_WINDOW,
)
from searchapp.querying import (
    MAX_EXPANDING_TERMS,
    MAX_EXPANSIONS,
    MAX_FUZZY_CHARS,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
)
from searchapp.results import GROUPS, SORTS
from searchapp.shaping import HIT_KEYS, PASSAGE_KEYS

#: The article keys of a grouped result (``shaping.article_dict`` plus the web layer's url).
ARTICLE_KEYS = (
    "article_id",
    "title",
    "title_snippet",
    "date",
    "lang",
    "authors",
    "tags",
    "source_url",
    "image",
    "url",
    "score",
    "matched_passages",
    "passages",
)

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_responses(*statuses: int) -> dict:
    text = {
        400: "Bad parameter",
        404: "Not found",
        503: "Index unavailable, or the query ran past its time budget (with Retry-After)",
    }
    return {
        str(s): {"description": text[s], "content": {"application/json": {"schema": _ERROR}}}
        for s in statuses
    }


_TEXT = {"type": "string", "maxLength": MAX_FILTER_CHARS}
_DATE = {"type": "string", "format": "date"}
#: Each filter parameter (``params.FILTER_NAMES``): its description and schema.
FILTER_DOCS = {
    "kind": ("Only chunks of this kind", {"type": "string", "enum": list(KINDS)}),
    "section": ("Only chunks under this exact section heading", _TEXT),
    "article": ("Only chunks of this article id", _TEXT),
    "lang": ("Only chunks in this language", {"type": "string", "enum": list(LANGS)}),
    "date_from": ("Articles dated on or after (YYYY-MM-DD)", _DATE),
    "date_to": ("Articles dated on or before (YYYY-MM-DD)", _DATE),
    "author": ("Only articles by this author (exact name)", _TEXT),
    "tag": ("Only articles with this tag (exact)", _TEXT),
}


def openapi_spec() -> dict:
    """The spec, with the service's bounds filled in from the modules that enforce them."""
    nullable_str = {"type": ["string", "null"]}
    hit = {
        "type": "object",
        "required": list(HIT_KEYS),
        "properties": {
            "id": {"type": "string"},
            "article_id": {"type": "string"},
            "article_title": {"type": "string"},
            "date": {**nullable_str, "description": "Article date, YYYY-MM-DD"},
            "lang": {"type": "string", "enum": list(LANGS)},
            "kind": {"type": "string", "enum": list(KINDS)},
            "section": {**nullable_str, "description": "Heading the chunk falls under"},
            "position": {"type": "integer", "minimum": 0},
            "score": {"type": "number"},
            "text": {"type": "string", "description": "Full chunk text (plain text)"},
            "snippet": {
                "type": "string",
                "description": "HTML: escaped text, matched terms wrapped in <mark></mark>",
            },
            "url": {
                "type": "string",
                "description": "/articles/<article_id>[?page=N]#chunk-<position>",
            },
            "source_url": {
                **nullable_str,
                "description": "The article's canonical URL (the original page), or null",
            },
            "photographer": nullable_str,
            "photo_date": nullable_str,
        },
    }
    passage = {
        "type": "object",
        "description": "A matching passage of an article (group=article)",
        "required": list(PASSAGE_KEYS),
        "properties": {k: hit["properties"][k] for k in hit["required"] if k != "text"},
    }
    article = {
        "type": "object",
        "description": "An article with its best matching passages (group=article)",
        "required": list(ARTICLE_KEYS),
        "properties": {
            "article_id": {"type": "string"},
            "title": {"type": "string", "description": "The headline (plain text)"},
            "title_snippet": {
                "type": "string",
                "description": "The headline as HTML: escaped text, matched terms in <mark>",
            },
            "date": {**nullable_str, "description": "Article date, YYYY-MM-DD"},
            "lang": {"type": "string", "enum": list(LANGS)},
            "authors": {"type": "array", "items": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "source_url": {**nullable_str, "description": "The original article, if known"},
            "image": {**nullable_str, "description": "The article's image URL, if known"},
            "url": {"type": "string", "description": "/articles/<article_id>"},
            "score": {
                "type": "number",
                "description": "The best passage's score with a small bonus for more matching "
                "passages",
            },
            "matched_passages": {
                "type": "integer",
                "minimum": 1,
                "description": "How many of the article's passages matched",
            },
            "passages": {
                "type": "array",
                "maxItems": 3,
                "items": passage,
                "description": "The best matching passages, best first (browsing: the opening "
                "paragraph)",
            },
        },
    }
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    search_response = {
        "type": "object",
        "required": [
            "query",
            "suggestion",
            "total",
            "page",
            "per_page",
            "took_ms",
            "hits",
            "facets",
            "total_passages",
            "group",
            "sort",
            "facets_count",
        ],
        "properties": {
            "query": {"type": "string"},
            "suggestion": {**nullable_str, "description": "Did you mean: a corrected query"},
            "showing_results_for": {
                **nullable_str,
                "description": "Set when the query found nothing and these are the results "
                "of the suggestion instead",
            },
            "match": {
                "type": "string",
                "enum": ["all", "any"],
                "description": "'any' when no chunk had all the words and chunks with some of "
                "them are shown",
            },
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "Matching articles (group=article) or passages (group=none)",
            },
            "total_passages": {
                "type": "integer",
                "minimum": 0,
                "description": "Matching passages (chunks), whatever the grouping",
            },
            "group": {"type": "string", "enum": ["article", "none"]},
            "sort": {"type": "string", "enum": ["relevance", "newest", "oldest"]},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "took_ms": {"type": "number"},
            "hits": {
                "type": "array",
                "items": {"oneOf": [hit, article]},
                "description": "Passages (group=none) or articles (group=article)",
            },
            "facets": {
                "type": "object",
                "description": "Counts over all the matches (not just this page); what they "
                "count is facets_count. year: newest first; authors and tags: when the index "
                "has them",
                "properties": {
                    "kind": counts,
                    "section": counts,
                    "lang": counts,
                    "year": counts,
                    "authors": counts,
                    "tags": counts,
                },
            },
            "facets_count": {
                "type": "string",
                "enum": ["articles", "passages"],
                "description": "What the facet counts count: articles with a matching passage "
                "of that value (group=article) or matching passages (group=none)",
            },
        },
    }

    def param(name, description, schema, required=False):
        return {
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": schema,
        }

    search_params = [
        param(
            "q",
            'The query. Words are ANDed; "phrases", OR, -exclusion, prefix*, term~ (fuzzy), '
            "and kind:/section:/lang: fields work. Broken syntax is searched as plain words. "
            f"Bounds: at most {MAX_QUERY_CHARS} characters and {MAX_QUERY_TERMS} terms are "
            f"used; each prefix, wildcard or fuzzy term expands to at most {MAX_EXPANSIONS} "
            f"index terms (the most frequent), at most {MAX_EXPANDING_TERMS} of them per query "
            "(further ones are searched as plain words); a wildcard needs a literal prefix "
            f"(`*foo` is searched as `foo`); fuzzy terms allow at most 2 edits and "
            f"{MAX_FUZZY_CHARS} characters. No range syntax (use date_from/date_to). '?' is "
            "punctuation, not a wildcard.",
            {"type": "string"},
        ),
        param(
            "page",
            "Result page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        ),
        param(
            "per_page",
            "Hits (articles or passages) per page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
        ),
        param(
            "group",
            "article: one hit per article, with up to 3 of its best matching passages; total "
            "counts articles, and no article is on two pages. none (the default): one hit "
            "per passage",
            {"type": "string", "enum": list(GROUPS), "default": "none"},
        ),
        param(
            "sort",
            "relevance (the default with a query), newest or oldest (by article date, "
            "undated last; the matches are the same). Without a query the newest articles "
            "are listed (browsing), also with filters",
            {"type": "string", "enum": list(SORTS)},
        ),
        *(param(name, *FILTER_DOCS[name]) for name in FILTER_NAMES),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "searchapp API",
            "version": "1",
            "description": "Full-text search over English and Chinese news articles, split "
            "into chunks (title, byline, paragraph, heading, caption, credit). CORS is "
            'enabled on /api/*. Errors always have the shape {"error": {"code", '
            '"message"}}.',
        },
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search chunks",
                    "operationId": "search",
                    "parameters": search_params,
                    "responses": {
                        "200": {
                            "description": "Ranked hits with snippets and facet counts",
                            "content": {"application/json": {"schema": search_response}},
                        },
                        **_error_responses(400, 503),
                    },
                }
            },
            "/api/suggest": {
                "get": {
                    "summary": "Autocomplete in the OpenSearch suggestions format",
                    "operationId": "suggest",
                    "parameters": [
                        param("q", "What has been typed so far", {"type": "string"}),
                        param(
                            "limit",
                            "Most suggestions",
                            {"type": "integer", "minimum": 1, "maximum": 20, "default": 8},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": '["typed", ["completion", ...]]',
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "prefixItems": [
                                            {"type": "string"},
                                            {"type": "array", "items": {"type": "string"}},
                                        ],
                                        "minItems": 2,
                                        "maxItems": 2,
                                    }
                                }
                            },
                        },
                        **_error_responses(400, 503),
                    },
                }
            },
            "/api/articles/{article_id}": {
                "get": {
                    "summary": "One article's metadata and a page of its chunks in order",
                    "operationId": "article",
                    "parameters": [
                        {
                            "name": "article_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        param(
                            "q",
                            "Query whose terms to mark in each chunk's html",
                            {"type": "string"},
                        ),
                        param(
                            "page",
                            "Page of the article's chunks, 200 a page (see 'pages')",
                            {"type": "integer", "minimum": 1, "default": 1},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "The article: id, title, date, source, lang, url, "
                            "authors, tags, image, page, pages, total_chunks, chunks",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(400, 404, 503),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Service health and index stats",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "Serving",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(503),
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Ready to serve: an index opens and is not too old",
                    "operationId": "ready",
                    "responses": {
                        "200": {
                            "description": "Ready",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "Not ready (no index, or older than the limit)",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/api/click": {
                "post": {
                    "summary": "Report that a reader followed a result (for the query log)",
                    "description": "Sent by the search page with navigator.sendBeacon; no "
                    "cookies, no IP address or user agent recorded. 404 when the query log "
                    "is off.",
                    "operationId": "click",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["q", "article", "rank"],
                                    "properties": {
                                        "q": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": MAX_QUERY_CHARS,
                                        },
                                        "article": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": MAX_FILTER_CHARS,
                                        },
                                        "rank": {
                                            "type": "integer",
                                            "minimum": 1,
                                            "maximum": MAX_RESULTS_WINDOW,
                                        },
                                        "page": {
                                            "type": "integer",
                                            "minimum": 1,
                                            "maximum": MAX_PAGE,
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "204": {"description": "Recorded"},
                        **_error_responses(400, 404),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            }
        },
    }
