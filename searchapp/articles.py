"""Parse article files into chunks: title, byline, paragraph, heading, caption, credit.

An article file is UTF-8 text: a header line ``date YYYY-MM-DD <source, dateline>:<title>``,
then blank-line separated blocks. Each block becomes one chunk that knows its article, its
section (the heading it falls under) and its position. Photo captions carry the photographer
and the photo date. Files that are not in this shape are still indexed, as paragraphs, with a
warning; files that cannot be read as text are skipped with a message saying why.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.analysis import CJK_CHARS

KINDS = ("title", "byline", "paragraph", "heading", "caption", "credit")

#: Blocks longer than this are split into several paragraph chunks, so one gigantic line
#: neither dominates ranking nor makes snippets slow.
MAX_CHUNK_CHARS = 20_000

#: Files larger than this are refused: an archive of news articles has no use for them.
MAX_FILE_BYTES = 20 * 1024 * 1024

_CJK_RE = re.compile(f"[{CJK_CHARS}]")
_LETTER_RE = re.compile(r"[^\W\d_]")

_HEADER_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*?)\s*[:：]\s*(.*\S)\s*$")
_BYLINE_RE = re.compile(
    r"^(?:xinhua news agency reporters?|xinhua reporters?|reporters?:|by\s|新华社记者|记者|"
    r"新华社|本报记者)",
    re.IGNORECASE,
)
_CREDIT_RE = re.compile(
    r"^(?:editors?|poster design|designer|produced by|proofreader|proofread by|translators?|"
    r"photo editor|chief editor|video editor|planners?|"
    r"责任编辑|编辑|海报设计|设计|校对|监制|策划|统筹|翻译|记者)\s*[:：]",
    re.IGNORECASE,
)

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_EN_DATE_RE = re.compile(
    r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?"
    r",?\s+(\d{4})",
    re.IGNORECASE,
)
_ZH_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")

# Where a caption states when the photo was taken; the date inside is the photo date.
_PHOTO_DATE_CONTEXT_RES = [
    re.compile(r"\((?:[^()]*?\b)?(?:photo\s+)?(?:taken|photographed|shot)\s+on\s+([^()]*)\)", re.I),
    re.compile(r"\bphoto\s+taken\s+on\s+(.{6,40}?)\s+shows\b", re.I),
    re.compile(r"(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*(?:拍摄|摄)"),
]

# Photographer conventions, most specific first. Each has one group: the name.
_NAME = r"[A-Z][\w'.\-]*(?:\s+(?:and\s+)?[A-Z][\w'.\-]*){0,5}"
_PHOTOGRAPHER_RES = [
    re.compile(rf"photo\s+by\s+xinhua\s+(?:news\s+agency\s+)?reporters?\s+({_NAME})", re.I),
    re.compile(r"\(\s*photo\s+by\s+([^()/]+?)\s*(?:/\s*xinhua)?\s*\)", re.I),
    re.compile(r"\(\s*xinhua\s*/\s*([^()]+?)\s*\)", re.I),
    re.compile(rf"\bphoto\s+by\s+(?!xinhua\b)({_NAME})", re.I),
    re.compile(r"新华社记者\s*([\u4e00-\u9fff·、\s]{2,20}?)\s*摄"),
    re.compile(r"[（(]\s*新华社发\s*(?:[\u3000 ]*)([^（）()]*?)\s*摄\s*[）)]"),
    re.compile(r"新华社发\s*[（(]?\s*([\u4e00-\u9fff·、]{2,12})\s*摄"),
    re.compile(r"([\u4e00-\u9fff·]{2,4})\s*摄\s*$"),
]
_CAPTION_HINT_RE = re.compile(
    r"\((?:[^()]*?\b)?(?:photo\s+)?(?:taken|photographed)\s+on\b|\bdrone photo\b|"
    r"\bphoto\s+taken\s+on\b|\bphoto\s+by\b|\(xinhua\s*/|新华社记者\S*摄|新华社发|拍摄的|摄）",
    re.I,
)

#: Control characters never kept in indexed text: they could drive a terminal (ESC, CSI).
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_END_PUNCT = tuple(".!?。！？;；:：,，、…—–-)）\"”’'」』》")


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
    chunks: list[Chunk] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class UnreadableArticle(ValueError):
    """A file that cannot be indexed at all (not text, not UTF-8, too large)."""


def article_id_for(path: Path) -> str:
    """A readable, URL-safe id from the file name (``2022-09-26-xinhua-diplomacy``)."""
    stem = unicodedata.normalize("NFKC", path.stem)
    ident = re.sub(r"[^\w.\-]+", "-", stem).strip("-.")
    return ident or "article"


def detect_lang(text: str) -> str:
    """``zh`` when a good share of the letters are Chinese characters, else ``en``."""
    cjk = len(_CJK_RE.findall(text))
    letters = len(_LETTER_RE.findall(text))
    return "zh" if letters and cjk / letters > 0.3 else "en"


def read_article_text(path: Path) -> str:
    """Read a file as UTF-8 text, or raise UnreadableArticle saying what is wrong."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise UnreadableArticle("file disappeared before it could be read") from exc
    if size > MAX_FILE_BYTES:
        raise UnreadableArticle(f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableArticle("file disappeared before it could be read") from exc
    except OSError as exc:
        raise UnreadableArticle(f"cannot read file: {exc.strerror}") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableArticle("binary file (contains NUL bytes), not UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            data.decode("gb18030")
            hint = " (it looks like GBK/GB18030-encoded Chinese; convert it to UTF-8)"
        except UnicodeDecodeError:
            pass
        raise UnreadableArticle(f"not valid UTF-8 at byte {exc.start}{hint}") from exc
    return text


def parse_article(path: Path, article_id: str | None = None) -> Article:
    """Parse one article file. Raises UnreadableArticle for files that are not text."""
    path = Path(path)
    text = read_article_text(path)
    article = parse_text(text, article_id or article_id_for(path), fallback_title=path.stem)
    article.path = str(path)
    return article


def parse_text(text: str, article_id: str, fallback_title: str = "") -> Article:
    """Parse article text into an Article with its chunks."""
    text = _clean_text(text)
    lines = text.split("\n")
    warnings: list[str] = []

    # The header is the first non-blank line.
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
    header = _HEADER_RE.match(lines[first])
    if header:
        date = _valid_iso_date(header.group(1))
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

    blocks = _blocks(body_lines)
    lang = detect_lang(title + "\n" + "\n".join(blocks[:20]))
    article = Article(
        id=article_id, title=title, date=date, source=source, lang=lang, warnings=warnings
    )

    def add(kind: str, text: str, section: str | None, **extra: str | None) -> None:
        position = len(article.chunks)
        article.chunks.append(
            Chunk(
                id=f"{article_id}:{position}",
                article_id=article_id,
                kind=kind,
                text=text,
                position=position,
                section=section,
                **extra,
            )
        )

    add("title", title, None)
    section: str | None = None
    for index, block in enumerate(blocks):
        if not header:
            for piece in _split_long(block):
                add("paragraph", piece, section)
            continue
        kind = classify_block(block, is_first=index == 0)
        if kind == "heading":
            section = block
            add("heading", block, section)
        elif kind == "caption":
            photographer, photo_date = caption_details(block)
            add("caption", block, section, photographer=photographer, photo_date=photo_date)
        elif kind == "paragraph":
            for piece in _split_long(block):
                add("paragraph", piece, section)
        else:
            add(kind, block, section)
    return article


def classify_block(block: str, is_first: bool = False) -> str:
    """The kind of a body block (never ``title``)."""
    if is_first and _BYLINE_RE.match(block) and len(block) <= 200:
        return "byline"
    if _CREDIT_RE.match(block) and len(block) <= 200:
        return "credit"
    if _CAPTION_HINT_RE.search(block) and _find_photographer(block):
        return "caption"
    if _CAPTION_HINT_RE.search(block) and _photo_date(block):
        return "caption"
    if _looks_like_heading(block):
        return "heading"
    return "paragraph"


def caption_details(block: str) -> tuple[str | None, str | None]:
    """(photographer, ISO photo date) as far as the caption gives them."""
    return _find_photographer(block), _photo_date(block)


def _find_photographer(block: str) -> str | None:
    for pattern in _PHOTOGRAPHER_RES:
        match = pattern.search(block)
        if match:
            name = re.sub(r"\s+", " ", match.group(1)).strip(" 　、,，.")
            if name:
                return name
    return None


def _photo_date(block: str) -> str | None:
    for pattern in _PHOTO_DATE_CONTEXT_RES:
        for match in pattern.finditer(block):
            date = _first_date(match.group(1))
            if date:
                return date
    return _first_date(block)


def _first_date(text: str) -> str | None:
    match = _EN_DATE_RE.search(text)
    if match:
        month = _MONTHS.get(match.group(1).lower().rstrip("."))
        if month:
            return _valid_iso_date(f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}")
    match = _ZH_DATE_RE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _valid_iso_date(f"{year:04d}-{month:02d}-{day:02d}")
    return None


def _valid_iso_date(value: str) -> str | None:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _looks_like_heading(block: str) -> bool:
    if "\n" in block or block.endswith(_END_PUNCT):
        return False
    if _CJK_RE.search(block):
        return len(block) <= 30 and not re.search(r"[。！？；]", block)
    words = block.split()
    return 1 <= len(words) <= 14 and len(block) <= 100 and not re.search(r"[.!?;]\s", block)


def _clean_text(text: str) -> str:
    """Normalise line ends and drop control characters (C0 but newline and tab, DEL, C1)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARS_RE.sub("", text)


def _blocks(lines: list[str]) -> list[str]:
    """Blank-line separated blocks, each with its lines joined and whitespace trimmed."""
    blocks: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        stripped = line.strip()
        if stripped:
            current.append(stripped)
        elif current:
            blocks.append(_join_lines(current))
            current = []
    return blocks


def _join_lines(lines: list[str]) -> str:
    joined = lines[0]
    for line in lines[1:]:
        cjk_join = _CJK_RE.match(joined[-1:]) and _CJK_RE.match(line[:1])
        joined += line if cjk_join else " " + line
    return joined


def _split_long(block: str) -> list[str]:
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
