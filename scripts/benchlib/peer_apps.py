"""The two peer HTTP endpoints: ``GET /api/search?q=...`` returning the top 10 with snippets.

Both are what a first attempt looks like, on purpose: the naive Whoosh app opens the index for
every request, parses with the default ``QueryParser`` and highlights with ``hit.highlights()``;
the FTS5 app opens a connection per request and uses ``snippet()`` and ``ORDER BY bm25``.
Run with gunicorn: ``benchlib.peer_apps:create_naive_app()`` or ``...:create_fts5_app()``; the
index path comes from ``BENCH_PEER_INDEX``.
"""

from __future__ import annotations

import logging
import os
import sqlite3

from flask import Flask, jsonify, request

FTS5_SQL = (
    "SELECT id, snippet(chunks, 1, '<mark>', '</mark>', '…', 16), bm25(chunks) "
    "FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT 10"
)


def _health_app(name: str) -> Flask:
    app = Flask(name)

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def create_naive_app(index_dir: str | None = None) -> Flask:
    """Flask app over a Whoosh index opened anew for each request."""
    import jieba
    from whoosh.index import open_dir
    from whoosh.qparser import QueryParser

    jieba.setLogLevel(logging.WARNING)
    index_dir = index_dir or os.environ["BENCH_PEER_INDEX"]
    app = _health_app("naive_whoosh")

    @app.get("/api/search")
    def search():
        q = request.args.get("q", "")
        ix = open_dir(index_dir)
        with ix.searcher() as searcher:
            query = QueryParser("content", ix.schema).parse(q)
            results = searcher.search(query, limit=10)
            hits = [
                {"id": hit["id"], "score": hit.score, "snippet": hit.highlights("content")}
                for hit in results
            ]
        ix.close()
        return jsonify(query=q, hits=hits)

    return app


def create_fts5_app(db_path: str | None = None) -> Flask:
    """Flask app over an SQLite FTS5 table, one connection per request."""
    db_path = db_path or os.environ["BENCH_PEER_INDEX"]
    app = _health_app("fts5")

    @app.get("/api/search")
    def search():
        q = request.args.get("q", "")
        con = sqlite3.connect(db_path)
        try:
            try:
                rows = con.execute(FTS5_SQL, (q,)).fetchall()
            except sqlite3.OperationalError:  # FTS5 syntax error: search the words instead
                quoted = " ".join('"' + w.replace('"', '""') + '"' for w in q.split())
                rows = con.execute(FTS5_SQL, (quoted,)).fetchall() if quoted else []
        finally:
            con.close()
        hits = [{"id": ident, "score": -rank, "snippet": snip} for ident, snip, rank in rows]
        return jsonify(query=q, hits=hits)

    return app
