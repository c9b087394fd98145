"""An article as the article page shows it: its metadata and one page of its chunks.

Chunks come in order, with the query's terms marked, ``ARTICLE_PAGE_CHUNKS`` to a page: an
article has at most ``MAX_CHUNKS_PER_ARTICLE`` chunks, so at most 10 pages.
"""

from __future__ import annotations

from pathlib import Path

from searchapp.handle import IndexHandle
from searchapp.highlighting import HighlightTerms, highlight_terms
from searchapp.params import InvalidParameter
from searchapp.querying import parse_user_query
from searchapp.shaping import article_page_dict, chunk_dict

#: Chunks per page of an article (``/articles/<id>?page=N``, ``/api/articles/<id>?page=N``).
ARTICLE_PAGE_CHUNKS = 200
#: The longest article id looked up (longer ones are unknown).
MAX_ARTICLE_ID_CHARS = 300


def article_page_of(position: int) -> int:
    """The page of an article that shows the chunk at ``position``."""
    return position // ARTICLE_PAGE_CHUNKS + 1


def get_article(
    index: IndexHandle | Path | str, article_id: str, q: str = "", page: int = 1
) -> dict | None:
    """An article's metadata and one page of its chunks in order, query terms marked.

    None if the id is unknown; InvalidParameter for a page past the end.
    """
    if not article_id or len(article_id) > MAX_ARTICLE_ID_CHARS:
        return None
    with IndexHandle.of(index).reading() as opened:
        searcher = opened.searcher
        docnums = list(searcher.document_numbers(article_id=article_id))
        if not docnums:
            return None
        stored = sorted(
            (searcher.stored_fields(n) for n in docnums), key=lambda f: f.get("position", 0)
        )
        pages = max(1, -(-len(stored) // ARTICLE_PAGE_CHUNKS))
        if not isinstance(page, int) or not 1 <= page <= pages:
            raise InvalidParameter(
                "invalid_page", f"page must be an integer from 1 to {pages} for this article"
            )
        shown = stored[(page - 1) * ARTICLE_PAGE_CHUNKS : page * ARTICLE_PAGE_CHUNKS]
        terms = HighlightTerms()
        if q and q.strip():
            terms = highlight_terms(searcher, parse_user_query(opened.parser, q))
        article = article_page_dict(article_id, stored[0], page, pages, len(stored))
        article["chunks"] = [chunk_dict(fields, terms) for fields in shown]
        return article
