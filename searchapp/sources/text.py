"""Bytes to clean text: safe file reading, decoding, control characters, language.

Files are opened without following symbolic links (``O_NOFOLLOW``) and refused above a size
limit before they are read; the walker in ``sources/__init__`` has already resolved links that
stay inside the source folder. HTML decoding tries the declared charset first, then UTF-8,
then charset-normalizer's guess (GBK and Big5 archives rarely declare theirs correctly).
"""

from __future__ import annotations

import errno
import os
import re
import stat

from searchapp.analysis import CJK_CHARS
from searchapp.sources.errors import UnreadableArticle

CJK_RE = re.compile(f"[{CJK_CHARS}]")
_LETTER_RE = re.compile(r"[^\W\d_]")

#: Control characters never kept in indexed text: they could drive a terminal (ESC, CSI).
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Bidi embeddings/overrides (U+202A-202E), isolates (U+2066-2069), zero-width space, BOM.
INVISIBLE_CHARS_RE = re.compile("[\u200b\u202a-\u202e\u2066-\u2069\ufeff]")

#: Files larger than this are refused: an archive of news articles has no use for them.
MAX_FILE_BYTES = 20 * 1024 * 1024


def detect_lang(text: str) -> str:
    """``zh`` when a good share of the letters are Chinese characters, else ``en``."""
    sample = text[:20_000]
    cjk = len(CJK_RE.findall(sample))
    letters = len(_LETTER_RE.findall(sample))
    return "zh" if letters and cjk / letters > 0.3 else "en"


def clean_text(text: str) -> str:
    """Normalise line ends and drop control characters (C0 but newline and tab, DEL, C1), bidi
    overrides and isolates and zero-width spaces: invisible, they can make a snippet read
    differently from what it says (U+202E reverses the text after it)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return INVISIBLE_CHARS_RE.sub("", CONTROL_CHARS_RE.sub("", text))


def read_bytes(path: os.PathLike | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, opened without following a link, or UnreadableArticle."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise UnreadableArticle("file disappeared before it could be read") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableArticle("is a symbolic link now; links are not followed") from exc
        raise UnreadableArticle(f"cannot read file: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableArticle("not a regular file")
        if info.st_size > limit:
            raise UnreadableArticle(f"file is {info.st_size} bytes, over the {limit} byte limit")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise UnreadableArticle(f"cannot read file: {exc.strerror}") from exc
    if len(data) > limit:
        raise UnreadableArticle(f"file grew over the {limit} byte limit while being read")
    return data


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (a BOM is dropped); binary and other encodings are refused, GBK by name."""
    if b"\x00" in data[:8192]:
        raise UnreadableArticle("binary file (contains NUL bytes), not UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            data.decode("gb18030")
            hint = " (it looks like GBK/GB18030-encoded Chinese; convert it to UTF-8)"
        except UnicodeDecodeError:
            pass
        raise UnreadableArticle(f"not valid UTF-8 at byte {exc.start}{hint}") from exc


_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s{0,3}=\s{0,3}["']?\s{0,3}([\w.:-]{1,40})""", re.I
)
_XML_ENCODING_RE = re.compile(rb"""^\s{0,10}<\?xml[^>]{0,100}?encoding=["']([\w.:-]{1,40})""", re.I)
#: Declared names whose real-world content is a superset encoding.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}


def decode_html(data: bytes) -> str:
    """Decode a web page: its declared charset, else UTF-8, else charset-normalizer's guess."""
    if data.count(b"\x00", 0, 8192) > 8 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableArticle("binary file (contains NUL bytes), not an HTML page")
    declared = _declared_charset(data[:4096])
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise UnreadableArticle("cannot tell this page's text encoding (binary or undeclared)")
    encoding = _SUPERSETS.get(best.encoding.lower().replace("_", ""), best.encoding)
    text = data.decode(encoding, errors="replace")
    if text.count("\ufffd") > max(10, len(text) // 100):
        raise UnreadableArticle(f"not readable as {encoding} text (binary?)")
    return text


def _declared_charset(head: bytes) -> str | None:
    match = _CHARSET_RE.search(head) or _XML_ENCODING_RE.search(head)
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace").lower()
    return _SUPERSETS.get(name, name)
