"""The ``.txt`` format of the bundled article: a ``date`` header line, then blank-line blocks.

``date YYYY-MM-DD <source, dateline>:<title>`` (a full-width ``：`` works too), then blocks
separated by blank lines; each block becomes one chunk, its kind decided by its text (see
``records.classify_block``). A line starting with ``## `` is a heading whatever it looks like.
Files without the header are still indexed, with a warning.
"""

from __future__ import annotations

import re

from searchapp.sources.captions import valid_iso_date
from searchapp.sources.records import Article, ArticleBuilder
from searchapp.sources.text import CJK_RE, clean_text, decode_utf8

# Linear: possessive runs, and the dateline is everything before the first colon (a title
# keeps its own colons: "Typhoon Gaemi: Signal No. 8 raised").
_HEADER_RE = re.compile(r"^\s*+date\s++(\d{4}-\d{2}-\d{2})\s++([^:：]*+)[:：]\s*+(.*[^\s].*)$")


def parse_bytes(data: bytes, article_id: str, fallback_title: str = "") -> Article:
    """Parse a ``.txt`` file's bytes (strict UTF-8)."""
    return parse_text(decode_utf8(data), article_id, fallback_title)


def parse_text(text: str, article_id: str, fallback_title: str = "") -> Article:
    """Parse article text into an Article with its chunks."""
    lines = clean_text(text).split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return Article(
            id=article_id,
            title=fallback_title or article_id,
            date=None,
            source="",
            lang="en",
            warnings=["empty file: nothing to index"],
        )
    warnings: list[str] = []
    header = _HEADER_RE.match(lines[first]) if len(lines[first]) <= 2000 else None
    if header:
        date = valid_iso_date(header.group(1))
        if date is None:
            warnings.append(f"header date {header.group(1)!r} is not a valid date")
        source, title = header.group(2).strip(), header.group(3).strip()
        body_lines = lines[first + 1 :]
    else:
        warnings.append(
            "no 'date YYYY-MM-DD <dateline>:<title>' header line; indexed as paragraphs"
        )
        date, source = None, ""
        head = lines[first].strip()
        title = head if len(head) <= 200 else (fallback_title or article_id)
        body_lines = lines[first:] if title != head else lines[first + 1 :]
    builder = ArticleBuilder(
        Article(id=article_id, title=title, date=date, source=source, lang="", warnings=warnings)
    )
    for block in blocks(body_lines):
        builder.add(block, None if header else "text")
    return builder.build()


def blocks(lines: list[str]) -> list[str]:
    """Blank-line separated blocks, each with its lines joined and whitespace trimmed."""
    found: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        stripped = line.strip()
        if stripped:
            current.append(stripped)
        elif current:
            found.append(_join_lines(current))
            current = []
    return found


def _join_lines(lines: list[str]) -> str:
    joined = lines[0]
    for line in lines[1:]:
        cjk_join = CJK_RE.match(joined[-1:]) and CJK_RE.match(line[:1])
        joined += line if cjk_join else " " + line
    return joined
