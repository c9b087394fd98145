"""Source folders to articles: walk the tree, pick a reader by extension, say what was skipped.

Every reader returns the same ``Article``/``Chunk`` records (``records.py``):

- ``.txt``: the bundled article's format (``txt.py``)
- ``.html``/``.htm``: web pages, main text by trafilatura (``html.py``)
- ``.md``/``.markdown``: Markdown with YAML or TOML front matter (``markdown.py``)
- ``.json``/``.jsonl``: CMS exports, one article per object (``jsonl.py``)

An article's id is its file's path relative to the source folder, without the extension
(``2024/07/typhoon``), or a JSON object's ``id``.

Symbolic links: a link that resolves inside the source folder is read (as the file it points
to); one that leads outside it is skipped with a message, and files are opened without
following links, so a file swapped for a link after the walk is refused too (issue 13.5).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.records import KINDS, Article, Chunk, FileResult
from searchapp.sources.text import MAX_FILE_BYTES, read_bytes

__all__ = [
    "KINDS",
    "Article",
    "Chunk",
    "FileResult",
    "SourceFile",
    "UnreadableArticle",
    "Walk",
    "article_id_for",
    "read_source",
    "walk_sources",
    "warm_up_readers",
]

FORMATS = {
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
    ".jsonl": "jsonl",
}
#: Formats whose files hold many articles, with ids of their own.
MULTI_FORMATS = ("json", "jsonl")
#: Folders deeper than this are not walked (a loop of links, or a hostile tree).
MAX_DEPTH = 32


@dataclass
class SourceFile:
    """A file to read: where it was found, the real file to open, its format and its id.

    ``key`` is its path relative to its source folder: what the manifest remembers it by, so
    an archive folder that moves or is copied is recognised file by file.
    """

    path: Path
    real: Path
    format: str
    article_id: str
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or str(self.path)


@dataclass
class Walk:
    """What walking the source folders found."""

    files: dict[str, SourceFile] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    others: Counter = field(default_factory=Counter)

    def describe_others(self) -> str:
        """``2 .png, 1 .pdf`` (or ``nothing``) for the no-indexable-file message."""
        if not self.others:
            return "no files at all"
        return ", ".join(f"{n} {ext}" for ext, n in self.others.most_common(8))


def article_id_for(relative: Path | str) -> str:
    """A readable, URL-safe id from a relative path without its extension (``2024/07/typhoon``)."""
    relative = Path(relative)
    parts = [*relative.parts[:-1], relative.stem]
    clean = []
    for part in parts:
        part = unicodedata.normalize("NFKC", part)
        part = re.sub(r"[^\w.\-]+", "-", part).strip("-.")
        if part:
            clean.append(part)
    return "/".join(clean) or "article"


def walk_sources(source_dirs: list[Path]) -> Walk:
    """Every indexable file under the source folders, recursively, by extension."""
    from searchapp.indexing import IndexingError  # the error the CLI turns into a message

    walk = Walk()
    for source in source_dirs:
        source = Path(source)
        if not source.exists():
            raise IndexingError(f"source folder {source} does not exist")
        if not source.is_dir():
            raise IndexingError(f"source {source} is not a folder")
        root = source.resolve()
        try:
            _walk_dir(walk, root, root, root, Path(), 0, {root})
        except PermissionError as exc:
            raise IndexingError(f"cannot list source folder {source}: {exc.strerror}") from exc
    return walk


def _walk_dir(walk: Walk, shown: Path, real: Path, root: Path, rel: Path, depth, seen) -> None:
    try:
        entries = sorted(os.scandir(real), key=lambda e: e.name)
    except OSError as exc:
        if depth == 0:
            raise
        walk.skipped.append((str(shown), f"cannot list folder: {exc.strerror}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path, relative = shown / entry.name, rel / entry.name
        target = Path(entry.path)
        if entry.is_symlink():
            try:
                target = target.resolve(strict=True)
            except (OSError, RuntimeError):
                walk.skipped.append((str(path), "broken symbolic link"))
                continue
            if not target.is_relative_to(root):
                walk.skipped.append(
                    (str(path), "symbolic link to a file outside the source folder: not followed")
                )
                continue
        if target.is_dir():
            if depth >= MAX_DEPTH or target.resolve() in seen:
                continue
            _walk_dir(walk, path, target, root, relative, depth + 1, seen | {target.resolve()})
            continue
        fmt = FORMATS.get(Path(entry.name).suffix.lower())
        if fmt is None or not target.is_file():
            walk.others[Path(entry.name).suffix.lower() or "(no extension)"] += 1
            continue
        article_id = article_id_for(relative)
        if article_id in walk.files:
            first = walk.files[article_id].path
            walk.skipped.append((str(path), f"same article id {article_id!r} as {first}"))
            continue
        walk.files[article_id] = SourceFile(path, target, fmt, article_id, relative.as_posix())


def warm_up_readers() -> None:
    """Import the HTML and Markdown libraries (before a parallel build forks its processes)."""
    import markdown_it  # noqa: F401
    import trafilatura  # noqa: F401
    import trafilatura.metadata  # noqa: F401


def read_source(source: SourceFile) -> FileResult:
    """The articles of one file. Raises UnreadableArticle for a file that cannot be read.

    The readers are imported here, on first use: lxml, YAML and markdown-it cost the server's
    start-up time for nothing (it never reads a source file).
    """
    from searchapp.sources import html, jsonl, markdown, txt

    data = read_bytes(source.real, MAX_FILE_BYTES)
    fallback = source.path.stem
    if source.format == "txt":
        return FileResult([txt.parse_bytes(data, source.article_id, fallback)])
    if source.format == "html":
        return FileResult([html.parse_page(data, source.article_id, fallback)])
    if source.format == "markdown":
        return FileResult([markdown.parse_bytes(data, source.article_id, fallback)])
    if source.format == "json":
        return jsonl.parse_json(data, source.article_id)
    return jsonl.parse_jsonl(data, source.article_id)
