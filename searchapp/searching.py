"""Search the index: one function that both the JSON API and the HTML pages call.

Each process keeps one long-lived searcher per index folder and reopens it only when
``index/current`` points at a new build (a rebuild swapped it in); Whoosh's ``refresh()`` is
not used, it is wrong after merges. Matching, scoring and facets are done by
``scoring.QueryEvaluator``; this module decides which query to run (as typed, its spelling
correction, any of its words), pages, snippets, and returns plain dicts in the API's shape.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import islice
from pathlib import Path
from urllib.parse import quote

from whoosh import index as whoosh_index
from whoosh import query
from whoosh.qparser import QueryParserError
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.support.levenshtein import damerau_levenshtein

from searchapp import config, settings
from searchapp.analysis import analyze, fold_text, has_cjk
from searchapp.articles import KINDS
from searchapp.budget import QueryTooExpensive, check, query_budget
from searchapp.caches import BoundedCache
from searchapp.chinese_spelling import correct_chinese
from searchapp.highlighting import HighlightTerms, highlight_terms, mark, snippet, term_spans
from searchapp.querying import (
    OPERATOR_WORDS,
    SearchQueryParser,
    parse_user_query,
    relax_to_any,
    with_context,
)
from searchapp.results import (
    GROUPS,
    SORTS,
    FieldValues,
    Page,
    facet_counts,
    page_articles,
    page_passages,
)
from searchapp.schema import FACET_FIELDS
from searchapp.scoring import QueryEvaluator
from searchapp.store import IndexUnavailable, current_build, read_manifest
from searchapp.synonyms import Synonyms

MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RESULTS_WINDOW = 10_000
LANGS = ("en", "zh")
CACHE_SIZE = 256
#: Bytes of responses kept per build (a page of 100 long chunks is over 1 MB).
CACHE_BYTES = 32 * 1024 * 1024
#: Filter masks kept per build (each is one byte per document).
FILTER_CACHE_SIZE = 32
FILTER_CACHE_BYTES = 64 * 1024 * 1024
#: What a damaged or vanished index raises while being read (anything else is a bug: a 500).
INDEX_READ_ERRORS = (
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    ReaderClosed,
    whoosh_index.IndexError,
)


class InvalidParameter(ValueError):
    """A bad search parameter; the API answers 400 with ``code`` and the message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Filters:
    kind: str | None = None
    section: str | None = None
    article: str | None = None
    lang: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    author: str | None = None
    tag: str | None = None

    def validate(self) -> None:
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
            if value is not None and len(value) > 500:
                raise InvalidParameter(
                    f"invalid_{name}", f"{name} is too long (500 characters max)"
                )

    def query(self) -> query.Query | None:
        terms: list[query.Query] = []
        if self.kind:
            terms.append(query.Term("kind", self.kind))
        if self.section:
            terms.append(query.Term("section", self.section))
        if self.article:
            terms.append(query.Term("article_id", self.article))
        if self.lang:
            terms.append(query.Term("lang", self.lang))
        if self.date_from or self.date_to:
            terms.append(query.TermRange("date", self.date_from, self.date_to))
        if self.author:
            terms.append(query.Term("authors", self.author))
        if self.tag:
            terms.append(query.Term("tags", self.tag))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else query.And(terms)

    def key(self) -> tuple:
        return (
            self.kind,
            self.section,
            self.article,
            self.lang,
            self.date_from,
            self.date_to,
            self.author,
            self.tag,
        )


@dataclass
class OpenIndex:
    """Everything needed to answer queries from one build, made once per (re)open."""

    build: Path
    searcher: object
    parser: SearchQueryParser
    relaxed_parser: SearchQueryParser
    evaluator: QueryEvaluator
    values: FieldValues
    manifest: dict
    filters: BoundedCache = field(
        default_factory=lambda: BoundedCache(FILTER_CACHE_SIZE, FILTER_CACHE_BYTES)
    )
    results: BoundedCache = field(default_factory=lambda: BoundedCache(CACHE_SIZE, CACHE_BYTES))


class IndexHandle:
    """One index folder as this process sees it: the current build, opened once.

    ``query_budget_ms`` bounds the CPU time of one search (see ``searchapp.budget``); the
    default is ``$SEARCHAPP_QUERY_BUDGET_MS`` or 2 s.
    """

    def __init__(self, index_dir: Path | str, query_budget_ms: float | None = None):
        self.index_dir = Path(index_dir)
        self.query_budget_ms = (
            config.query_budget_ms() if query_budget_ms is None else float(query_budget_ms)
        )
        self._lock = threading.Lock()
        self._open: OpenIndex | None = None
        self.cache_hits = 0  # response cache lookups, read by the metrics
        self.cache_misses = 0

    def open(self) -> OpenIndex:
        """The current build, reopened when ``index/current`` was swapped to a new one."""
        build = current_build(self.index_dir)
        if build is None:
            raise IndexUnavailable(
                f"no index in {self.index_dir}: build it with "
                f"`searchapp index --index {self.index_dir}`"
            )
        with self._lock:
            if self._open is None or self._open.build != build:
                try:
                    searcher = whoosh_index.open_dir(str(build)).searcher()
                    manifest = read_manifest(build)
                    synonyms = Synonyms.from_data(manifest.get("synonyms"))
                    evaluator = QueryEvaluator(searcher, FACET_FIELDS)
                    self._open = OpenIndex(
                        build=build,
                        searcher=searcher,
                        parser=SearchQueryParser(searcher.schema, synonyms=synonyms),
                        relaxed_parser=SearchQueryParser(
                            searcher.schema, relaxed=True, synonyms=synonyms
                        ),
                        evaluator=evaluator,
                        values=FieldValues(evaluator),
                        manifest=manifest,
                    )
                except Exception as exc:
                    raise IndexUnavailable(
                        f"the index in {self.index_dir} is damaged ({type(exc).__name__}: {exc}); "
                        f"repair it with `searchapp index --rebuild --index {self.index_dir}`"
                    ) from exc
            return self._open

    def stats(self) -> dict:
        manifest = self.open().manifest
        return dict(manifest["stats"], build=manifest.get("build"))

    def cached(self, opened: OpenIndex, key: tuple) -> dict | None:
        value = opened.results.get(key)
        if value is None:
            self.cache_misses += 1  # read by the metrics
        else:
            self.cache_hits += 1
        return value

    def remember(self, opened: OpenIndex, key: tuple, value: dict) -> None:
        opened.results.put(key, value)

    def filter_mask(self, opened: OpenIndex, flt: Filters):
        """The boolean mask of documents a filter allows (None: no filter), cached."""
        filter_query = flt.query()
        if filter_query is None:
            return None
        mask = opened.filters.get(flt.key())
        if mask is None:
            mask = opened.evaluator.mask(filter_query)
            opened.filters.put(flt.key(), mask)
        return mask


_handles: dict[Path, IndexHandle] = {}
_handles_lock = threading.Lock()


def handle_for(index: IndexHandle | Path | str) -> IndexHandle:
    """The process-wide handle of an index folder (or ``index`` itself if it is one)."""
    if isinstance(index, IndexHandle):
        return index
    path = Path(index).resolve()
    with _handles_lock:
        if path not in _handles:
            _handles[path] = IndexHandle(path)
        return _handles[path]


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
    one: browsing) or oldest.
    """
    started = time.perf_counter()
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
    unknown = set(filters) - set(Filters.__dataclass_fields__)
    if unknown:
        raise InvalidParameter("invalid_parameter", f"unknown filter {sorted(unknown)[0]!r}")
    flt = Filters(**filters)
    flt.validate()
    q = q if isinstance(q, str) else ""
    browse = not q.strip()
    if sort is None or (browse and sort == "relevance"):
        sort = "newest" if browse else "relevance"

    handle = handle_for(index)
    opened = handle.open()
    shape = Shape(page, per_page, group, sort)
    key = (q, shape, flt.key())
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
        raise IndexUnavailable(
            f"the index in {handle.index_dir} could not be read ({type(exc).__name__}: {exc}); "
            f"repair it with `searchapp index --rebuild --index {handle.index_dir}`"
        ) from exc
    response["query"] = q
    response.setdefault("showing_results_for", None)
    handle.remember(opened, key, response)
    return dict(response, took_ms=round((time.perf_counter() - started) * 1000, 2))


def default_group(kind: str | None) -> str:
    """The page's and the widget's grouping: articles, except the photo captions view."""
    return "none" if kind == "caption" else "article"


@dataclass(frozen=True)
class Shape:
    """How the matches become a response: which page, grouped or not, in which order."""

    page: int
    per_page: int
    group: str
    sort: str


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
        correction = None  # a "did you mean" that finds nothing helps nobody
    response = relaxed(q)
    return response if response is not None and response["total"] else first


#: Facets in a response: the schema's columns, the year of the date, and article metadata
#: (authors and tags, when the index has them).
RESULT_FACETS = ("kind", "section", "lang", "year", "authors", "tags")


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
            _article_dict(searcher, doc, passages, score, matched, terms)
            for (doc, score), passages, matched in zip(
                result.rows, result.passages, result.matched, strict=True
            )
        ]
    else:
        hits = [_hit_dict(searcher.stored_fields(d), s, terms) for d, s in result.rows]
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
        "facets": facet_counts(values, found, RESULT_FACETS, unit),
        "facets_count": unit,
        "match": "all",
    }


def _article_url(article_id: str) -> str:
    return f"/articles/{quote(article_id, safe='/')}"


def _hit_dict(fields: dict, score: float, terms: HighlightTerms) -> dict:
    text = fields.get("text", "")
    spans = term_spans(text, terms) if terms else []
    position = fields.get("position", 0)
    return {
        "id": fields["id"],
        "article_id": fields["article_id"],
        "article_title": fields.get("article_title", ""),
        "date": fields.get("date"),
        "lang": fields.get("lang"),
        "kind": fields.get("kind"),
        "section": fields.get("section"),
        "position": position,
        "score": round(float(score), 4),
        "text": text,
        "snippet": snippet(text, spans),
        "url": _article_path(fields["article_id"], position),
        "source_url": fields.get("url"),
        "photographer": fields.get("photographer"),
        "photo_date": fields.get("photo_date"),
    }


#: What a passage under an article carries (a caption's photographer and photo date too).
PASSAGE_KEYS = (
    "id",
    "kind",
    "section",
    "position",
    "score",
    "lang",
    "snippet",
    "url",
    "photographer",
    "photo_date",
)


def _listed(value) -> list[str]:
    """Authors or tags as a list, however the index stored them (list or comma string)."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _article_dict(
    searcher, doc: int, passages: list[tuple[int, float]], score: float, matched: int, terms
) -> dict:
    """An article result: its metadata (from the stored fields of ``doc``, its title chunk
    when it has one) and up to ``MAX_PASSAGES`` matching passages, each with its snippet,
    kind and section."""
    shown = [_hit_dict(searcher.stored_fields(d), s, terms) for d, s in passages]
    fields = searcher.stored_fields(doc)
    title = fields.get("article_title", "")
    spans = term_spans(title, terms) if terms else []
    keep = PASSAGE_KEYS
    return {
        "article_id": fields["article_id"],
        "title": title,
        "title_snippet": mark(title, spans),
        "date": fields.get("date"),
        "lang": fields.get("article_lang") or fields.get("lang"),
        "authors": _listed(fields.get("authors")),
        "tags": _listed(fields.get("tags")),
        "source_url": fields.get("url") or None,
        "image": fields.get("image") or None,
        "url": _article_url(fields["article_id"]),
        "score": round(float(score), 4),
        "matched_passages": matched,
        "passages": [{k: p[k] for k in keep} for p in shown],
    }


def _article_path(article_id: str, position: int) -> str:
    page = article_page_of(position)
    query = f"?page={page}" if page > 1 else ""
    return f"/articles/{quote(article_id, safe='/')}{query}#chunk-{position}"


_WORD_RE = re.compile(r"(?<![\w:*~\"])([^\W\d_][\w'’‘]*)(?![\w:*~])")
_OPERATORS = OPERATOR_WORDS | {"TO"}


def _live_count(opened: OpenIndex, word) -> int:
    """Articles whose live (not deleted) chunks hold ``word`` in the spelling vocabulary.

    Whoosh's own counts include documents deleted by incremental updates until segments merge,
    so suggestions would differ from those of a clean build of the same articles.
    """
    return len(opened.evaluator.evaluate(query.Term("spell", word)))


def _text_count(opened: OpenIndex, word: str) -> int:
    """Live chunks whose text holds ``word`` (a Chinese word: jieba's, as indexed)."""
    return len(opened.evaluator.evaluate(query.Term("text", word)))


#: A correction must be this similar to the typed word (difflib's ratio), besides being within
#: the edit distance: ``brdge`` may become ``bridge`` (0.91) but never ``budget`` (0.73).
MIN_SIMILARITY = 0.8


def _closest_word(opened: OpenIndex, folded: str) -> str | None:
    """The most frequent vocabulary word nearest to ``folded``: one edit away if any, else two
    (words of five letters or more only), sharing its first letter and ``MIN_SIMILARITY``.

    One scan of the vocabulary at the larger distance; the candidates' own distances decide.
    """
    reader = opened.searcher.reader()
    most = 2 if len(folded) >= 5 else 1
    try:
        near = list(islice(reader.terms_within("spell", folded, most, prefix=1), 200))
    except (TypeError, ValueError):  # Whoosh fails on some input
        return None
    words = [w if isinstance(w, str) else w.decode() for w in near]
    close = [
        (damerau_levenshtein(folded, w), -_live_count(opened, w), w)
        for w in words
        if w != folded and SequenceMatcher(None, folded, w).ratio() >= MIN_SIMILARITY
    ]
    best = min((c for c in close if c[1] < 0), default=None)
    return best[2] if best else None


def suggest_correction(opened: OpenIndex, q: str, allow_cjk: bool = False) -> str | None:
    """A "did you mean" query: misspelt words replaced by the index's own words, or None.

    Only words absent from the vocabulary are corrected, to a close word (``_closest_word``).
    Chinese corrections are mostly nonsense, so they are offered only with ``allow_cjk``.
    """
    if not q or len(q) > 200:
        return None
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        check()
        word = match.group(1)
        if word in _OPERATORS or (has_cjk(word) and not allow_cjk):
            return word
        if has_cjk(word):  # a mistyped character: see searchapp/chinese_spelling.py
            reader = opened.searcher.reader()
            fixed = correct_chinese(reader, word, lambda w: _text_count(opened, w))
            changed = changed or fixed is not None
            return fixed or word
        tokens = analyze(word, mode="query", stem=False)
        if len(tokens) != 1 or len(tokens[0]) < 4 or has_cjk(tokens[0]):
            return word
        if opened.parser.synonyms.queries(word):
            return word
        folded = tokens[0]
        if _live_count(opened, folded):
            return word
        best = _closest_word(opened, folded)
        if best:
            changed = True
            return best
        return word

    corrected = _WORD_RE.sub(replace, q)
    return corrected if changed else None


def suggest_completions(index: IndexHandle | Path | str, prefix: str, limit: int = 8) -> list[str]:
    """Autocomplete: the query with its last word completed from the vocabulary, by frequency."""
    prefix = " ".join(prefix.split())[:200]
    if not prefix:
        return []
    head, _, last = prefix.rpartition(" ")
    folded = fold_text(last)
    if not folded or not re.match(r"\w", folded):
        return []
    opened = handle_for(index).open()
    reader = opened.searcher.reader()
    candidates = list(islice(reader.expand_prefix("spell", folded), 2000))
    # Rank the most frequent by live counts (deleted documents still count in Whoosh's).
    candidates.sort(key=lambda b: -reader.doc_frequency("spell", b))
    scored = [(-_live_count(opened, b), b) for b in candidates[: limit * 4]]
    words = [b.decode("utf-8") if isinstance(b, bytes) else b for c, b in sorted(scored) if c < 0]
    return [(head + " " + w).strip() for w in words[:limit]]


#: Chunks per page of an article (``/articles/<id>?page=N``, ``/api/articles/<id>?page=N``):
#: an article has at most ``MAX_CHUNKS_PER_ARTICLE`` chunks, so at most 10 pages.
ARTICLE_PAGE_CHUNKS = 200


def article_page_of(position: int) -> int:
    """The page of an article that shows the chunk at ``position``."""
    return position // ARTICLE_PAGE_CHUNKS + 1


def get_article(
    index: IndexHandle | Path | str, article_id: str, q: str = "", page: int = 1
) -> dict | None:
    """An article's metadata and one page of its chunks in order, query terms marked.

    None if the id is unknown; InvalidParameter for a page past the end.
    """
    if not article_id or len(article_id) > 300:
        return None
    opened = handle_for(index).open()
    searcher = opened.searcher
    docnums = list(searcher.document_numbers(article_id=article_id))
    if not docnums:
        return None
    stored = [(searcher.stored_fields(n), n) for n in docnums]
    stored.sort(key=lambda pair: pair[0].get("position", 0))
    pages = max(1, -(-len(stored) // ARTICLE_PAGE_CHUNKS))
    if not isinstance(page, int) or not 1 <= page <= pages:
        raise InvalidParameter(
            "invalid_page", f"page must be an integer from 1 to {pages} for this article"
        )
    first = stored[0][0]
    shown = stored[(page - 1) * ARTICLE_PAGE_CHUNKS : page * ARTICLE_PAGE_CHUNKS]
    terms = HighlightTerms()
    if q and q.strip():
        terms = highlight_terms(searcher, parse_user_query(opened.parser, q))
    chunks = []
    for doc, _docnum in shown:
        text = doc.get("text", "")
        spans = term_spans(text, terms) if terms else []
        chunks.append(
            {
                "id": doc["id"],
                "kind": doc.get("kind"),
                "position": doc.get("position", 0),
                "section": doc.get("section"),
                "text": text,
                "html": mark(text, spans),
                "photographer": doc.get("photographer"),
                "photo_date": doc.get("photo_date"),
                "lang": doc.get("lang"),
            }
        )
    return {
        "id": article_id,
        "title": first.get("article_title", ""),
        "date": first.get("date"),
        "source": first.get("source", ""),
        "lang": first.get("article_lang") or first.get("lang"),
        "url": first.get("url"),
        "authors": _split(first.get("authors")),
        "tags": _split(first.get("tags")),
        "image": first.get("image"),
        "page": page,
        "pages": pages,
        "total_chunks": len(stored),
        "chunks": chunks,
    }


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def index_stats(index: IndexHandle | Path | str) -> dict:
    """The stats of the index as this process reads it."""
    return handle_for(index).stats()
