"""Response shaping: stored fields and matched terms become the API's plain dicts.

The key lists below are the response contract (the OpenAPI description lists them, the
contract tests pin them). Every value comes from the index; links are not made here: the
``url`` of a hit, a passage or an article is added by the web layer
(``searchapp.web.urls``), the one place that knows where the app is mounted.
"""

from __future__ import annotations

from collections.abc import Callable

from searchapp.highlighting import HighlightTerms, mark, snippet, term_spans

#: A passage hit (``group=none``), in the API's order; ``url`` is added by the web layer.
HIT_KEYS = (
    "id",
    "article_id",
    "article_title",
    "date",
    "lang",
    "kind",
    "section",
    "position",
    "score",
    "text",
    "snippet",
    "url",
    "source_url",
    "photographer",
    "photo_date",
)
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
#: Facets in a response: the schema's columns, the year of the date, and article metadata
#: (authors and tags, when the index has them).
RESULT_FACETS = ("kind", "section", "lang", "year", "authors", "tags")


def listed(value: object) -> list[str]:
    """Authors or tags as a list, however the index stored them (list or comma string)."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def hit_dict(fields: dict, score: float, terms: HighlightTerms) -> dict:
    """A passage hit: its stored fields, its score and its snippet with the terms marked."""
    text = fields.get("text", "")
    spans = term_spans(text, terms) if terms else []
    return {
        "id": fields["id"],
        "article_id": fields["article_id"],
        "article_title": fields.get("article_title", ""),
        "date": fields.get("date"),
        "lang": fields.get("lang"),
        "kind": fields.get("kind"),
        "section": fields.get("section"),
        "position": fields.get("position", 0),
        "score": round(float(score), 4),
        "text": text,
        "snippet": snippet(text, spans),
        "source_url": fields.get("url"),
        "photographer": fields.get("photographer"),
        "photo_date": fields.get("photo_date"),
    }


def article_dict(
    stored: Callable[[int], dict],
    doc: int,
    passages: list[tuple[int, float]],
    score: float,
    matched: int,
    terms,
) -> dict:
    """An article result: its metadata (from the stored fields of ``doc``, its title chunk
    when it has one) and its best matching passages, each with its snippet, kind and section.
    ``stored``: a document's stored fields (``QueryEvaluator.stored_fields``).
    """
    shown = [hit_dict(stored(d), s, terms) for d, s in passages]
    fields = stored(doc)
    title = fields.get("article_title", "")
    spans = term_spans(title, terms) if terms else []
    return {
        "article_id": fields["article_id"],
        "title": title,
        "title_snippet": mark(title, spans),
        "date": fields.get("date"),
        "lang": fields.get("article_lang") or fields.get("lang"),
        "authors": listed(fields.get("authors")),
        "tags": listed(fields.get("tags")),
        "source_url": fields.get("url") or None,
        "image": fields.get("image") or None,
        "score": round(float(score), 4),
        "matched_passages": matched,
        "passages": [{k: p[k] for k in PASSAGE_KEYS if k in p} for p in shown],
    }


def chunk_dict(fields: dict, terms: HighlightTerms) -> dict:
    """One chunk of an article page: its text, and as HTML with the query's terms marked."""
    text = fields.get("text", "")
    spans = term_spans(text, terms) if terms else []
    return {
        "id": fields["id"],
        "kind": fields.get("kind"),
        "position": fields.get("position", 0),
        "section": fields.get("section"),
        "text": text,
        "html": mark(text, spans),
        "photographer": fields.get("photographer"),
        "photo_date": fields.get("photo_date"),
        "lang": fields.get("lang"),
    }


def article_page_dict(article_id: str, first: dict, page: int, pages: int, total: int) -> dict:
    """An article's metadata (from the stored fields of its first chunk), without chunks."""
    return {
        "id": article_id,
        "title": first.get("article_title", ""),
        "date": first.get("date"),
        "source": first.get("source", ""),
        "lang": first.get("article_lang") or first.get("lang"),
        "url": first.get("url"),
        "authors": listed(first.get("authors")),
        "tags": listed(first.get("tags")),
        "image": first.get("image"),
        "page": page,
        "pages": pages,
        "total_chunks": total,
    }
