"""The query log: one JSON line per search and per reported click, in ``<index>/queries/``.

It lives beside ``builds/`` and ``current``, so rebuilds never touch it. A line records what
was asked and what came back (time, query, filters, sort, page, total, took_ms) and never who
asked: no IP address, no user agent, no cookie. Clicks are separate lines (the page reports
them with ``navigator.sendBeacon``); ``report.py`` joins them to searches by query.

Several gunicorn workers append to the same file: each line is one ``write()`` on a file
opened with ``O_APPEND``, which the kernel keeps whole. The file rotates when it passes a size
(``queries.log`` -> ``queries.log.1`` ... ``.5``), under a lock so only one worker rotates;
a line written to the old file by another worker just lands in ``.1``.
"""

from __future__ import annotations

import calendar
import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

FOLDER = "queries"
NAME = "queries.log"
KEEP = 5
#: Longest query text kept in the log (the search itself uses at most 1,000 characters).
MAX_QUERY_CHARS = 1000


def log_dir(index_dir: Path | str) -> Path:
    """Where an index folder keeps its query log."""
    return Path(index_dir) / FOLDER


class QueryLog:
    """Appends records to ``<index>/queries/queries.log``; never raises into a request."""

    def __init__(self, index_dir: Path | str, max_bytes: int = 10_000_000):
        self.folder = log_dir(index_dir)
        self.path = self.folder / NAME
        self.max_bytes = max_bytes
        self.failed = False

    def search(self, q: str, filters: dict, sort: str | None, page: int, response: dict) -> None:
        """Record one answered search."""
        self.write(
            {
                "event": "search",
                "query": q[:MAX_QUERY_CHARS],
                "filters": {k: v for k, v in filters.items() if v},
                "sort": sort,
                "page": page,
                "total": response.get("total", 0),
                "took_ms": response.get("took_ms"),
            }
        )

    def click(self, q: str, article: str, rank: int, page: int) -> None:
        """Record that a reader followed result number ``rank`` of a search for ``q``."""
        self.write(
            {
                "event": "click",
                "query": q[:MAX_QUERY_CHARS],
                "clicked": {"article": article, "rank": rank},
                "page": page,
            }
        )

    def write(self, record: dict) -> None:
        # orjson: a line in 1-2 us where json.dumps took about 20 in a serving worker; it
        # escapes line breaks inside strings as json does, so a record stays one line.
        stamped = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}
        try:
            data = orjson.dumps(stamped) + b"\n"
        except TypeError:  # what orjson cannot write (keys that are not strings): json can
            data = (json.dumps(stamped, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            except FileNotFoundError:  # the folder, made on first use (not a mkdir per search)
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, data)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.max_bytes:
                self._rotate()
            self.failed = False
        except OSError as exc:
            if not self.failed:  # say it once, not on every search
                logging.getLogger(__name__).warning("query log %s: %s", self.path, exc)
            self.failed = True

    def _rotate(self) -> None:
        with open(self.folder / ".rotate.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker is rotating
            try:
                if self.path.stat().st_size <= self.max_bytes:
                    return  # rotated meanwhile
                for n in range(KEEP - 1, 0, -1):
                    older = self.folder / f"{NAME}.{n}"
                    if older.exists():
                        os.replace(older, self.folder / f"{NAME}.{n + 1}")
                os.replace(self.path, self.folder / f"{NAME}.1")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def read_records(index_dir: Path | str, since: float | None = None) -> Iterator[dict]:
    """Every record of the log and its rotated files, oldest file first; bad lines skipped.

    ``since`` is a Unix time: older records are left out.
    """
    folder = log_dir(index_dir)
    files = [folder / f"{NAME}.{n}" for n in range(KEEP, 0, -1)] + [folder / NAME]
    for path in files:
        with contextlib.suppress(FileNotFoundError):
            with open(path, encoding="utf-8", errors="replace") as file:
                for line in file:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(record, dict) or "query" not in record:
                        continue
                    if since is not None and _timestamp(record.get("time")) < since:
                        continue
                    yield record


def _timestamp(value) -> float:
    try:
        return calendar.timegm(time.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, OverflowError):
        return 0.0
