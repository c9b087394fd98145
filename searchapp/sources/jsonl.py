"""CMS exports: ``.json`` (one object, or a list of them) and ``.jsonl`` (one object a line).

Each object is one article; its fields map as in ``fields.py`` and its body is ``html``,
``markdown`` or ``text`` (``body``/``content`` are read as text). An object without a body,
or a line that is not valid JSON, is skipped with a message naming the line; the others are
indexed.
"""

from __future__ import annotations

import json
import re
import unicodedata

from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.markdown import article_from
from searchapp.sources.records import FileResult
from searchapp.sources.text import CONTROL_CHARS_RE, decode_utf8

#: At most this many articles are read from one JSON/JSONL file.
MAX_OBJECTS_PER_FILE = 100_000


def parse_json(data: bytes, file_id: str) -> FileResult:
    """A ``.json`` file: one object or a list of objects."""
    text = decode_utf8(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableArticle(f"not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    objects = value if isinstance(value, list) else [value]
    result = FileResult()
    for number, obj in enumerate(objects[:MAX_OBJECTS_PER_FILE], 1):
        where = f"object {number}" if isinstance(value, list) else "the object"
        _add_object(result, obj, file_id, number if isinstance(value, list) else None, where)
    return result


def parse_jsonl(data: bytes, file_id: str) -> FileResult:
    """A ``.jsonl`` file: one object a line; broken lines are skipped and named."""
    text = decode_utf8(data)
    result = FileResult()
    count = 0
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        count += 1
        if count > MAX_OBJECTS_PER_FILE:
            result.problems.append(
                f"line {number}: over {MAX_OBJECTS_PER_FILE} objects, rest skipped"
            )
            break
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(f"line {number}: not valid JSON ({exc.msg}); line skipped")
            continue
        _add_object(result, obj, file_id, number, f"line {number}")
    return result


def _add_object(result: FileResult, obj, file_id: str, number: int | None, where: str) -> None:
    if not isinstance(obj, dict):
        result.problems.append(f"{where}: not a JSON object; skipped")
        return
    body, body_format = _body(obj)
    if body is None:
        result.problems.append(f"{where}: no html, markdown or text body; skipped")
        return
    article_id = normalise_id(obj.get("id"))
    if article_id is None:
        article_id = f"{file_id}/{number}" if number is not None else file_id
    seen = {a.id for a in result.articles}
    if article_id in seen:
        result.problems.append(f"{where}: id {article_id!r} appears earlier in the file; skipped")
        return
    result.articles.append(article_from(obj, body, body_format, article_id))


def _body(obj: dict) -> tuple[str | None, str]:
    for key, body_format in (
        ("html", "html"),
        ("markdown", "markdown"),
        ("text", "text"),
        ("body", "text"),
        ("content", "text"),
    ):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value, body_format
    return None, "text"


def normalise_id(value) -> str | None:
    """A safe article id from a JSON ``id``: path-like, no ``.``/``..`` parts, 200 chars."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = CONTROL_CHARS_RE.sub("", unicodedata.normalize("NFKC", str(value)))
    parts = [re.sub(r"[\s?#%\\]+", "-", p).strip("-") for p in text.split("/")]
    parts = [p for p in parts if p and p not in (".", "..")]
    ident = "/".join(parts)[:200].strip("/")
    return ident or None
