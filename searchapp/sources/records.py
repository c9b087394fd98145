"""The records every reader returns: an Article with its Chunks, built from typed blocks.

Readers differ in how they find blocks (blank lines in ``.txt``, elements in HTML, tokens in
Markdown) and in what they already know about a block (an ``<h2>`` is a heading, a
``<figcaption>`` a caption). ``ArticleBuilder`` turns those blocks into chunks with one set of
rules, so sections, bylines, credits and captions mean the same whatever the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from searchapp.sources import captions
from searchapp.sources.errors import UnreadableArticle  # noqa: F401  (re-exported)
from searchapp.sources.text import CJK_RE, detect_lang

KINDS = ("title", "byline", "paragraph", "heading", "caption", "credit")

#: Blocks longer than this are split into several paragraph chunks, so one gigantic line
#: neither dominates ranking nor makes snippets slow.
MAX_CHUNK_CHARS = 20_000

#: At most this many chunks per article. An article with more (a file of 100,000 one-word
#: lines) has its blocks merged into larger paragraphs until it fits, with a warning: its
#: text stays searchable, and its index entries and article page stay bounded (issue 13.6).
MAX_CHUNKS_PER_ARTICLE = 2000

#: Hints a reader gives a block. None: decide from the text alone (plain ``.txt``).
#: ``text``: running text from a structured format (never taken for a heading by its look).
HINTS = (None, "text", "paragraph", "heading", "caption", "byline", "credit")


@dataclass
class Chunk:
    """One searchable unit of an article: a block of text of one kind."""

    id: str
    article_id: str
    kind: str
    text: str
    position: int
    section: str | None = None
    photographer: str | None = None
    photo_date: str | None = None


@dataclass
class Article:
    """A parsed article: its metadata and its chunks, in reading order."""

    id: str
    title: str
    date: str | None
    source: str
    lang: str
    path: str = ""
    url: str | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_metadata(cls, article_id: str, title: str, meta: dict) -> Article:
        """An article from the metadata fields every reader extracts (``sources.fields``)."""
        return cls(
            id=article_id,
            title=title or article_id,
            date=meta["date"],
            source=meta["source"],
            lang=meta["lang"] or "",
            url=meta["url"],
            authors=meta["authors"],
            tags=meta["tags"],
            image=meta["image"],
        )


@dataclass
class FileResult:
    """The articles read from one file and the problems met on the way (one line each)."""

    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Block:
    """A block of text found by a reader, with what the reader knows about it."""

    text: str
    hint: str | None = None


_BYLINE_RE = re.compile(
    r"^(?:xinhua news agency reporters?|xinhua reporters?|reporters?:|by\s|新华社记者|新華社記者|"
    r"记者|記者|新华社|新華社|本报记者|本報記者|撰文|文／|文/)",
    re.IGNORECASE,
)
# A reporter line anywhere in the article: "記者 林家豪", "记者 王晓明、陈思远".
_REPORTER_LINE_RE = re.compile(
    r"^(?:本报|本報|新华社|新華社)?(?:记者|記者)[\s\u3000]{0,3}"
    r"[\u4e00-\u9fff·]{2,8}(?:[、,，\s\u3000和及][\u4e00-\u9fff·]{2,8}){0,5}$"
)
_CREDIT_RE = re.compile(
    r"^(?:editors?|poster design|designer|produced by|proofreader|proofread by|translators?|"
    r"photo editor|chief editor|video editor|planners?|"
    r"责任编辑|責任編輯|编辑|編輯|海报设计|设计|設計|校对|校對|监制|監製|策划|策劃|统筹|統籌|翻译|翻譯|"
    r"记者|記者)\s{0,3}[:：]"
    r"|^(?:editing|edited|reporting|additional reporting|writing|written|compiled|graphics|"
    r"translated|translation|production|produced|design|designed) by\s",
    re.IGNORECASE,
)
_END_PUNCT = tuple(".!?。！？;；:：,，、…—–-\"'")  # a question may still be a heading (below)
_CLOSERS = ")）]】」』》〉”’\"'"
# Labels that stand alone on a line in documentation but head no section.
_LABELS = {
    *("note", "tip", "warning", "caution", "important", "todo", "example", "see also"),
    *("注意", "注", "提示", "警告", "小心", "重要", "例如", "另见"),
}
_HEADING_MARKER_RE = re.compile(r"^#{2,6}[ \t]+")
_SECTION_NUMBER_RE = re.compile(r"^(?:\d{1,3}\.){1,6}\d{0,3}\.?\s|^[A-Z]\.(?:\d{1,3}\.){0,5}\s")


def classify_block(block: str, is_first: bool = False, hint: str | None = None) -> str:
    """The kind of a body block (never ``title``).

    Bylines, credits and headings are short, and captions at most ``MAX_CAPTION_CHARS``:
    each rule looks at a bounded block, so a huge block costs nothing to classify.
    """
    if hint in ("heading", "caption", "byline", "credit", "paragraph"):
        return hint
    short = len(block) <= 200
    if short and is_first and _BYLINE_RE.match(block):
        return "byline"
    if short and _REPORTER_LINE_RE.match(block):
        return "byline"
    if short and _CREDIT_RE.match(block):
        return "credit"
    if captions.is_caption(block):
        return "caption"
    if hint is None and looks_like_heading(block):
        return "heading"
    return "paragraph"


def looks_like_heading(block: str) -> bool:
    """A short line without sentence-ending punctuation (closing quotes and brackets allowed).

    ``货运：从“陆锁国”到“陆联国”`` and ``Voices from the "Belt and Road"`` are headings; a
    quoted sentence (``他说：“我们会继续努力。”``) is not.
    """
    if "\n" in block or len(block) > 160:
        return False
    core = block.rstrip(_CLOSERS)
    question = core.endswith(("?", "？")) and not block.startswith(tuple("\"“「『'‘"))
    if not core or (core.endswith(_END_PUNCT) and not question):
        return False
    if block.lower() in _LABELS:
        return False
    if CJK_RE.search(block):
        return len(block) <= 40 and not re.search(r"[。！？；]", block) and block.count("，") <= 1
    words = block.split()
    unnumbered = _SECTION_NUMBER_RE.sub("", block, count=1)  # "4.4.1. Activating the Tool"
    if question and len(words) > 15:
        return False
    return 1 <= len(words) <= 20 and len(block) <= 150 and not re.search(r"[.!?;]\s", unnumbered)


def heading_marker(block: str) -> str | None:
    """The heading text of a ``## Heading`` block (the explicit marker), else None."""
    match = _HEADING_MARKER_RE.match(block)
    if match and "\n" not in block:
        text = block[match.end() :].strip().rstrip("#").strip()
        return text or None
    return None


class ArticleBuilder:
    """Collects an article's blocks and makes its chunks (title first, then the body)."""

    def __init__(self, article: Article):
        self.article = article
        self.blocks: list[Block] = []

    def add(self, text: str, hint: str | None = None) -> None:
        text = text.strip()
        if text:
            self.blocks.append(Block(text, hint))

    def build(self) -> Article:
        article = self.article
        blocks = self.blocks
        if len(blocks) + 1 > MAX_CHUNKS_PER_ARTICLE:
            blocks = _merge_blocks(blocks, MAX_CHUNKS_PER_ARTICLE // 2)
            article.warnings.append(
                f"{len(self.blocks)} blocks are too many for one article: merged into "
                f"{len(blocks)} larger paragraphs (at most {MAX_CHUNKS_PER_ARTICLE} chunks)"
            )
        if not article.lang:
            article.lang = detect_lang(
                article.title + "\n" + "\n".join(b.text for b in blocks[:20])
            )
        chunks = article.chunks = []

        def add(kind: str, text: str, section: str | None, **extra: str | None) -> None:
            position = len(chunks)
            chunks.append(
                Chunk(
                    f"{article.id}:{position}", article.id, kind, text, position, section, **extra
                )
            )

        add("title", article.title, None)
        section: str | None = None
        body = 0
        for block in blocks:
            text, hint = block.text, block.hint
            if hint in (None, "text"):
                marked = heading_marker(text)
                if marked:
                    text, hint = marked, "heading"
            kind = classify_block(text, is_first=body == 0, hint=hint)
            body += 1
            if kind == "heading":
                section = text[:500]
                add("heading", text, section)
            elif kind == "caption":
                who, when = captions.caption_details(text)
                add("caption", text, section, photographer=who, photo_date=when)
            elif kind == "paragraph":
                for piece in split_long(text):
                    add("paragraph", piece, section)
            else:
                add(kind, text, section)
        return article


def _merge_blocks(blocks: list[Block], target_count: int) -> list[Block]:
    """Join consecutive blocks into paragraphs of about equal size, at most ~``target_count``."""
    total = sum(len(b.text) for b in blocks)
    size = max(2000, -(-total // target_count))
    merged: list[Block] = []
    current: list[str] = []
    length = 0
    for block in blocks:
        current.append(block.text)
        length += len(block.text) + 1
        if length >= size:
            merged.append(Block("\n".join(current), "text"))
            current, length = [], 0
    if current:
        merged.append(Block("\n".join(current), "text"))
    return merged


def split_long(block: str) -> list[str]:
    """Split a gigantic block at sentence or space boundaries into MAX_CHUNK_CHARS pieces."""
    if len(block) <= MAX_CHUNK_CHARS:
        return [block]
    pieces = []
    rest = block
    while len(rest) > MAX_CHUNK_CHARS:
        window = rest[:MAX_CHUNK_CHARS]
        cut = max(window.rfind(". "), window.rfind("。"), window.rfind(" "))
        cut = cut + 1 if cut > MAX_CHUNK_CHARS // 2 else MAX_CHUNK_CHARS
        pieces.append(rest[:cut].strip())
        rest = rest[cut:]
    if rest.strip():
        pieces.append(rest.strip())
    return pieces
