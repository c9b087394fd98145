"""Markdown files (``.md``/``.markdown``) with YAML (``---``) or TOML (``+++``) front matter.

As Hugo and Jekyll write them. Front matter fields map as in ``fields.py``; ``#`` headings
other than the title are sections; a picture alone in its paragraph is a caption (its title,
else its alt text), and so is an HTML ``<figure>`` inside the Markdown. The Markdown is
rendered to HTML by markdown-it-py and read like any HTML fragment: the HTML is only read for
its text, never served.
"""

from __future__ import annotations

import re
import tomllib

import yaml

from searchapp.sources import fields
from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.html import fragment_blocks, norm_space
from searchapp.sources.records import Article, ArticleBuilder
from searchapp.sources.text import clean_text, decode_utf8

_YAML_RE = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TOML_RE = re.compile(r"\A\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", re.S)
_H1_RE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)


def parse_bytes(data: bytes, article_id: str, fallback_title: str = "") -> Article:
    """One article from a Markdown file's bytes (UTF-8)."""
    text = clean_text(decode_utf8(data)).lstrip("\ufeff")
    if not text.strip():
        raise UnreadableArticle("empty Markdown file: nothing to index")
    front, body = split_front_matter(text)
    return article_from(front, body, "markdown", article_id, fallback_title)


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter as a dict, the Markdown after it); UnreadableArticle if it is broken."""
    for pattern, load, name in ((_YAML_RE, _load_yaml, "YAML"), (_TOML_RE, tomllib.loads, "TOML")):
        match = pattern.match(text[:200_000])
        if match:
            try:
                front = load(match.group(1))
            except Exception as exc:
                raise UnreadableArticle(f"broken {name} front matter: {_first_line(exc)}") from exc
            if front is None:
                front = {}
            if not isinstance(front, dict):
                raise UnreadableArticle(f"{name} front matter is not a mapping of fields")
            return front, text[match.end() :]
    return {}, text


def _load_yaml(text: str):
    return yaml.safe_load(text)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0][:200]


def render(markdown: str) -> str:
    """Markdown to HTML (CommonMark with tables; raw HTML kept for its text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def article_from(
    mapping: dict, body: str, body_format: str, article_id: str, fallback_title: str = ""
) -> Article:
    """An article from metadata fields and a body in ``markdown``, ``html`` or ``text``."""
    meta = fields.metadata(mapping)
    title = meta["title"]
    if not title and body_format == "markdown":
        match = _H1_RE.search(body[:20_000])
        title = norm_space(match.group(1)) if match else ""
    article = Article.from_metadata(article_id, title or fallback_title, meta)
    builder = ArticleBuilder(article)
    if meta["summary"] and meta["summary"][:200] not in body[:5000]:
        builder.add(norm_space(meta["summary"]), "text")
    if body_format == "text":
        from searchapp.sources.txt import blocks

        for block in blocks(clean_text(body).split("\n")):
            builder.add(block, "text")
    else:
        fragment_blocks(builder, render(body) if body_format == "markdown" else clean_text(body))
    if not builder.blocks:
        article.warnings.append("no body text: only the title is indexed")
    return builder.build()
