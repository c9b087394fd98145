"""The ``.txt`` article format's public names, kept for code that imports them from here.

Parsing now lives in ``searchapp/sources/`` (one reader per format, shared records and caption
rules); this module re-exports what scripts and tests used: parse a ``.txt`` article file into
an Article with its chunks (title, byline, paragraph, heading, caption, credit).
"""

from __future__ import annotations

from pathlib import Path

from searchapp.sources import article_id_for as _relative_id
from searchapp.sources.captions import caption_details
from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.records import (
    KINDS,
    MAX_CHUNK_CHARS,
    MAX_CHUNKS_PER_ARTICLE,
    Article,
    Chunk,
    classify_block,
)
from searchapp.sources.text import (
    CONTROL_CHARS_RE,
    MAX_FILE_BYTES,
    clean_text,
    decode_utf8,
    detect_lang,
    read_bytes,
)
from searchapp.sources.txt import parse_text

__all__ = [
    "CONTROL_CHARS_RE",
    "KINDS",
    "MAX_CHUNKS_PER_ARTICLE",
    "MAX_CHUNK_CHARS",
    "MAX_FILE_BYTES",
    "Article",
    "Chunk",
    "UnreadableArticle",
    "article_id_for",
    "caption_details",
    "classify_block",
    "clean_text",
    "detect_lang",
    "parse_article",
    "parse_text",
    "read_article_text",
]


def article_id_for(path: Path) -> str:
    """The id of an article file at the top of its source folder (its name, cleaned)."""
    return _relative_id(Path(path).name)


def read_article_text(path: Path) -> str:
    """Read a file as UTF-8 text, or raise UnreadableArticle saying what is wrong."""
    return decode_utf8(read_bytes(path))


def parse_article(path: Path, article_id: str | None = None) -> Article:
    """Parse one ``.txt`` article file. Raises UnreadableArticle for files that are not text."""
    path = Path(path)
    article = parse_text(read_article_text(path), article_id or article_id_for(path), path.stem)
    article.path = str(path)
    return article
