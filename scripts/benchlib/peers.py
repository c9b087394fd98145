"""Build the two peer indexes from ``chunks.jsonl``, the way a first attempt would.

* naive Whoosh: jieba's ``ChineseAnalyzer``, one stored TEXT field and an id, one writer with
  default settings, one commit.
* SQLite FTS5: ``tokenize='porter unicode61'``, one insert per chunk, one transaction.

Run as ``python -m benchlib.peers naive|fts5 CHUNKS_JSONL OUT`` (from ``scripts/``) so the timing
includes interpreter start-up and imports, like ``searchapp index`` does; it prints one JSON line.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def _chunks(path: Path) -> Iterator[tuple[str, str]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            yield record["id"], record["text"]


def build_naive(chunks: Path, out: Path) -> int:
    """Whoosh index with jieba's ChineseAnalyzer; returns the number of documents."""
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.index import create_in

    jieba.setLogLevel(logging.WARNING)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    schema = Schema(id=ID(stored=True), content=TEXT(stored=True, analyzer=ChineseAnalyzer()))
    ix = create_in(str(out), schema)
    writer = ix.writer()
    count = 0
    for ident, text in _chunks(chunks):
        writer.add_document(id=ident, content=text)
        count += 1
    writer.commit()
    return count


def build_fts5(chunks: Path, out: Path) -> int:
    """SQLite FTS5 table ``chunks(id UNINDEXED, content)``; returns the number of rows."""
    out.unlink(missing_ok=True)
    con = sqlite3.connect(out)
    try:
        con.execute(
            "CREATE VIRTUAL TABLE chunks USING fts5("
            "id UNINDEXED, content, tokenize='porter unicode61')"
        )
        with con:
            con.executemany("INSERT INTO chunks(id, content) VALUES (?, ?)", _chunks(chunks))
        return con.execute("SELECT count(*) FROM chunks").fetchone()[0]
    finally:
        con.close()


def main(argv: list[str]) -> int:
    """``naive|fts5 CHUNKS OUT``: build and print ``{"engine", "docs", "seconds"}``."""
    if len(argv) != 3 or argv[0] not in ("naive", "fts5"):
        print("usage: python -m benchlib.peers naive|fts5 CHUNKS_JSONL OUT", file=sys.stderr)
        return 2
    engine, chunks, out = argv[0], Path(argv[1]), Path(argv[2])
    start = time.perf_counter()
    docs = (build_naive if engine == "naive" else build_fts5)(chunks, out)
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": engine, "docs": docs, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
