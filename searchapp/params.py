"""Search parameters: their limits, their validation, and the filters they make.

One place says what a search accepts: the page and per-page limits, the filter names (the
API's parameters, the page's hidden fields, ``app.js``'s list all come from ``FILTER_NAMES``),
the groupings and sorts. Bad values raise ``InvalidParameter``, which the API answers with a
400 and the CLI with a clear message; nothing here touches the index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from whoosh import query

from searchapp.articles import KINDS
from searchapp.results import GROUPS, SORTS

#: Results per page, pages, and how deep paging may go (``page * per_page``).
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RESULTS_WINDOW = 10_000
LANGS = ("en", "zh")
#: The longest section, article id, author or tag a filter may name.
MAX_FILTER_CHARS = 500


class InvalidParameter(ValueError):
    """A bad search parameter; the API answers 400 with ``code`` and the message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Filters:
    """What a search is restricted to; each field is a filter parameter of the API."""

    kind: str | None = None
    section: str | None = None
    article: str | None = None
    lang: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    author: str | None = None
    tag: str | None = None

    def validate(self) -> None:
        """Check each value (dates are normalised to YYYY-MM-DD); InvalidParameter if bad."""
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidParameter(
                "invalid_kind", f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}"
            )
        if self.lang is not None and self.lang not in LANGS:
            raise InvalidParameter("invalid_lang", f"lang must be 'en' or 'zh'; got {self.lang!r}")
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None:
                try:
                    setattr(self, name, dt.date.fromisoformat(value).isoformat())
                except (ValueError, TypeError):
                    raise InvalidParameter(
                        "invalid_date", f"{name} must be a date as YYYY-MM-DD; got {value!r}"
                    ) from None
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidParameter("invalid_date", "date_from is after date_to")
        for name in ("section", "article", "author", "tag"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_FILTER_CHARS:
                raise InvalidParameter(
                    f"invalid_{name}", f"{name} is too long ({MAX_FILTER_CHARS} characters max)"
                )

    def query(self) -> query.Query | None:
        """The filters as one Whoosh query (None: no filter)."""
        terms: list[query.Query] = []
        for name, field in _TERM_FIELDS.items():
            value = getattr(self, name)
            if value:
                terms.append(query.Term(field, value))
        if self.date_from or self.date_to:
            terms.append(query.TermRange("date", self.date_from, self.date_to))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else query.And(terms)

    def key(self) -> tuple:
        """The filters as a cache key: ``dataclasses.astuple`` of them, without its deep copy
        of each value (strings or None), made twice per search."""
        return tuple(getattr(self, name) for name in FILTER_NAMES)


#: The filter parameters, in the order the API documents them.
FILTER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Filters))
#: The index field each one-term filter matches (the dates are a range over ``date``).
_TERM_FIELDS = {
    "kind": "kind",
    "section": "section",
    "article": "article_id",
    "lang": "lang",
    "author": "authors",
    "tag": "tags",
}


@dataclass(frozen=True)
class Shape:
    """How the matches become a response: which page, grouped or not, in which order."""

    page: int
    per_page: int
    group: str
    sort: str


def search_request(
    q: object, page: int, per_page: int, group: str, sort: str | None, filters: dict
) -> tuple[str, Shape, Filters]:
    """(query text, shape, filters) of a search, checked; InvalidParameter for a bad one.

    ``sort`` defaults to relevance with a query and to newest without one (browsing, where
    relevance means nothing).
    """
    if not isinstance(page, int) or page < 1 or page > MAX_PAGE:
        raise InvalidParameter("invalid_page", f"page must be an integer from 1 to {MAX_PAGE}")
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidParameter(
            "invalid_per_page", f"per_page must be an integer from 1 to {MAX_PER_PAGE}"
        )
    if page * per_page > MAX_RESULTS_WINDOW:
        raise InvalidParameter(
            "invalid_page", f"only the first {MAX_RESULTS_WINDOW} results can be paged through"
        )
    if group not in GROUPS:
        raise InvalidParameter(
            "invalid_group", f"group must be one of {', '.join(GROUPS)}; got {str(group)[:50]!r}"
        )
    if sort is not None and sort not in SORTS:
        raise InvalidParameter(
            "invalid_sort", f"sort must be one of {', '.join(SORTS)}; got {str(sort)[:50]!r}"
        )
    unknown = set(filters) - set(FILTER_NAMES)
    if unknown:
        raise InvalidParameter("invalid_parameter", f"unknown filter {sorted(unknown)[0]!r}")
    flt = Filters(**filters)
    flt.validate()
    text = q if isinstance(q, str) else ""
    browse = not text.strip()
    if sort is None or (browse and sort == "relevance"):
        sort = "newest" if browse else "relevance"
    return text, Shape(page, per_page, group, sort), flt


def default_group(kind: str | None) -> str:
    """The page's and the widget's grouping: articles, except the photo captions view."""
    return "none" if kind == "caption" else "article"
