"""Measure ranking quality on the judged relevance set, against two plain baselines.

The judged set is ``tests/relevance/queries.json``: queries over the bundled corpus and the
fixture articles, each with ``expect`` phrases. A chunk is relevant to a query when its text
contains any of the query's ``expect`` phrases (binary relevance). Three systems rank the same
chunks (one block of an article = one chunk, as parsed by ``searchapp.articles``):

- ``searchapp``: the project's index and ranking (``build_index`` + ``search``);
- ``whoosh``: a plain Whoosh index, one TEXT field with ``StandardAnalyzer``, BM25F, the
  default ``QueryParser`` (terms ANDed);
- ``fts5``: SQLite FTS5 with ``tokenize='unicode61'``, ranked by ``bm25()``; every query word is
  quoted (a quoted phrase stays a phrase), so no query is a syntax error. unicode61 takes a run
  of Chinese characters as one token, so this baseline barely handles Chinese.

For each: success@1 and success@3 (a relevant chunk is first / in the top 3), MRR over the top
10, and nDCG@10.

Article level, beside it: an article is relevant when it holds a relevant chunk. Every system's
chunk ranking is reduced to articles (first appearance, from its top 10 chunks); ``searchapp``
is also measured as the page shows it, grouped (``group=article``: one result per article,
ranked by its best passage plus a small bonus for more matching passages).

    python scripts/evaluate.py                 # the table
    python scripts/evaluate.py --json          # the metrics as JSON
    python scripts/evaluate.py --failures      # queries whose first searchapp hit is wrong
    python scripts/evaluate.py --systems searchapp whoosh
    python scripts/evaluate.py --group-bonus 0   # grouped ranking without the bonus
    python scripts/evaluate.py --corpus large  # 150 queries over the 55,000-chunk bench corpus

``--corpus large`` runs ``tests/relevance/large_queries.json`` over the benchmark corpus (built
once into ``bench-data/``) for searchapp, Whoosh, FTS5 and FTS5 + jieba, per language, query
type and held-out third; see ``scripts/benchlib/judged.py``. Tests import ``evaluate()`` from
here.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.stats import ranking_metrics

ROOT = Path(__file__).resolve().parents[1]

QUERIES_FILE = ROOT / "tests" / "relevance" / "queries.json"
LARGE_QUERIES_FILE = ROOT / "tests" / "relevance" / "large_queries.json"
DATA_DIR = ROOT / "bench-data"
SOURCE_DIRS = (ROOT / "searchapp" / "corpus", ROOT / "tests" / "fixtures" / "articles")
SYSTEMS = ("searchapp", "whoosh", "fts5")
METRICS = ("success@1", "success@3", "mrr", "ndcg@10")
DEPTH = 10


@dataclass(frozen=True)
class Chunk:
    id: str
    kind: str
    text: str


@dataclass(frozen=True)
class Query:
    q: str
    expect: tuple[str, ...]
    note: str = ""

    def is_relevant(self, text: str) -> bool:
        return any(phrase in text for phrase in self.expect)


# A system is opened on the chunks and answers a query with a ranked list of chunk ids.
Ranker = Callable[[str], list[str]]


def load_queries(path: Path = QUERIES_FILE) -> list[Query]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    queries = [Query(d["q"], tuple(d["expect"]), d.get("note", "")) for d in data["queries"]]
    for query in queries:
        if not query.expect:
            raise ValueError(f"query {query.q!r} has no expect phrases")
    return queries


def load_chunks(source_dirs: Iterable[Path] = SOURCE_DIRS) -> list[Chunk]:
    """The chunks of every article file in ``source_dirs``, as the project's parser sees them."""
    from searchapp.articles import parse_article

    chunks = []
    for folder in source_dirs:
        for path in sorted(Path(folder).glob("*.txt")):
            article = parse_article(path)
            chunks.extend(Chunk(c.id, c.kind, c.text) for c in article.chunks)
    return chunks


# --- metrics -------------------------------------------------------------------------------


def query_metrics(ranked_relevance: Sequence[bool], n_relevant: int) -> dict[str, float]:
    """Metrics of one ranked list (True = relevant), given how many relevant chunks exist."""
    metrics = ranking_metrics(ranked_relevance, n_relevant, DEPTH)
    metrics["mrr"] = metrics.pop("mrr@10")  # this table's name for it
    return {m: metrics[m] for m in METRICS}


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- systems -------------------------------------------------------------------------------


def open_searchapp(chunks: list[Chunk], workdir: Path) -> Ranker:
    """The project's own index of the same source folders, and its search function."""
    from searchapp.indexing import build_index
    from searchapp.searching import search

    index_dir = workdir / "searchapp-index"
    build_index([Path(d) for d in SOURCE_DIRS], index_dir, rebuild=True)

    def rank(q: str) -> list[str]:
        response = search(index_dir, q, per_page=DEPTH)
        return [hit["id"] for hit in response["hits"]]

    def rank_articles(q: str) -> list[str]:
        response = search(index_dir, q, per_page=DEPTH, group="article")
        return [hit["article_id"] for hit in response["hits"]]

    rank.articles = rank_articles  # type: ignore[attr-defined]
    return rank


def article_of(chunk_id: str) -> str:
    """A chunk id is ``<article id>:<position>``."""
    return chunk_id.rsplit(":", 1)[0]


def first_articles(chunk_ids: Sequence[str]) -> list[str]:
    """The articles of a chunk ranking, each where it first appears."""
    return list(dict.fromkeys(article_of(i) for i in chunk_ids))


def open_whoosh(chunks: list[Chunk], workdir: Path) -> Ranker:
    """Whoosh out of the box: StandardAnalyzer, BM25F, default (AND) QueryParser."""
    from whoosh import fields, qparser, scoring
    from whoosh.analysis import StandardAnalyzer
    from whoosh.filedb.filestore import RamStorage

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), text=fields.TEXT(analyzer=StandardAnalyzer())
    )
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        for chunk in chunks:
            writer.add_document(id=chunk.id, text=chunk.text)
    searcher = ix.searcher(weighting=scoring.BM25F())
    parser = qparser.QueryParser("text", schema)

    def rank(q: str) -> list[str]:
        results = searcher.search(parser.parse(q), limit=DEPTH)
        return [hit["id"] for hit in results]

    return rank


_PHRASE_RE = re.compile(r'"([^"]*)"|(\S+)')


def fts5_query(q: str) -> str:
    """Quote every word (and keep quoted phrases) so FTS5 never sees its own syntax."""
    parts = []
    for phrase, word in _PHRASE_RE.findall(q):
        text = phrase if phrase else word
        text = text.replace('"', "")
        if text.strip():
            parts.append('"' + text.replace('"', '""') + '"')
    return " ".join(parts)


def open_fts5(chunks: list[Chunk], workdir: Path) -> Ranker:
    """SQLite FTS5 out of the box: unicode61 tokenizer, bm25() ranking, terms ANDed."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, text, tokenize='unicode61')")
    db.executemany("INSERT INTO t (id, text) VALUES (?, ?)", [(c.id, c.text) for c in chunks])

    def rank(q: str) -> list[str]:
        match = fts5_query(q)
        if not match:
            return []
        rows = db.execute(
            "SELECT id FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (match, DEPTH)
        ).fetchall()
        return [row[0] for row in rows]

    return rank


OPENERS: dict[str, Callable[[list[Chunk], Path], Ranker]] = {
    "searchapp": open_searchapp,
    "whoosh": open_whoosh,
    "fts5": open_fts5,
}


# --- evaluation ----------------------------------------------------------------------------


def evaluate(
    systems: Sequence[str] = ("searchapp",),
    queries_file: Path = QUERIES_FILE,
) -> dict:
    """Run the judged queries through ``systems``.

    Returns ``{"queries": n, "chunks": n, "systems": {name: {metric: value, ...,
    "errors": n, "ms_per_query": x, "per_query": [...]}}}``. Each ``per_query`` entry has the
    query, its expected phrases, the metrics and the top ids/texts, for listing failures.
    """
    unknown = [name for name in systems if name not in OPENERS]
    if unknown:
        raise ValueError(f"unknown system {unknown[0]!r}; choose from {', '.join(OPENERS)}")
    queries = load_queries(queries_file)
    chunks = load_chunks()
    by_id = {chunk.id: chunk for chunk in chunks}
    n_relevant = {query.q: sum(query.is_relevant(c.text) for c in chunks) for query in queries}
    relevant_articles = {
        query.q: {article_of(c.id) for c in chunks if query.is_relevant(c.text)}
        for query in queries
    }
    missing = [query.q for query in queries if not n_relevant[query.q]]
    if missing:
        raise ValueError(f"no chunk contains the expected phrases of {missing[0]!r}")

    report: dict = {"queries": len(queries), "chunks": len(chunks), "systems": {}}
    with tempfile.TemporaryDirectory(prefix="searchapp-eval-") as tmp:
        for name in systems:
            rank = OPENERS[name](chunks, Path(tmp))
            per_query = []
            per_query_articles: dict[str, list[dict]] = {"passages": [], "grouped": []}
            errors = 0
            started = time.perf_counter()
            for query in queries:
                try:
                    ids = rank(query.q)
                    error = None
                except Exception as exc:  # a baseline that errors on a query just misses it
                    ids, error = [], f"{type(exc).__name__}: {exc}"
                    errors += 1
                texts = [by_id[i].text if i in by_id else "" for i in ids]
                metrics = query_metrics([query.is_relevant(t) for t in texts], n_relevant[query.q])
                wanted = relevant_articles[query.q]
                rankings = {"passages": first_articles(ids)}
                if hasattr(rank, "articles"):
                    rankings["grouped"] = rank.articles(query.q)
                for level, articles in rankings.items():
                    per_query_articles[level].append(
                        query_metrics([a in wanted for a in articles], len(wanted))
                    )
                per_query.append(
                    {
                        "q": query.q,
                        "note": query.note,
                        "expect": list(query.expect),
                        "top_ids": ids,
                        "top_texts": texts,
                        "error": error,
                        **metrics,
                    }
                )
            elapsed = time.perf_counter() - started
            summary = {m: round(mean([p[m] for p in per_query]), 4) for m in METRICS}
            summary["errors"] = errors
            summary["ms_per_query"] = round(1000 * elapsed / max(len(queries), 1), 2)
            summary["per_query"] = per_query
            summary["articles"] = {
                level: {m: round(mean([p[m] for p in values]), 4) for m in METRICS}
                for level, values in per_query_articles.items()
                if values
            }
            report["systems"][name] = summary
    return report


def failures(report: dict, system: str = "searchapp") -> list[dict]:
    """Queries whose first hit is not relevant, with what came first instead."""
    return [p for p in report["systems"][system]["per_query"] if not p["success@1"]]


def format_table(report: dict) -> str:
    header = f"{'system':<10} " + " ".join(f"{m:>9}" for m in METRICS) + "  errors  ms/query"
    lines = [
        f"{report['queries']} judged queries over {report['chunks']} chunks",
        header,
        "-" * len(header),
    ]
    for name, summary in report["systems"].items():
        values = " ".join(f"{summary[m]:>9.3f}" for m in METRICS)
        lines.append(f"{name:<10} {values}  {summary['errors']:>6}  {summary['ms_per_query']:>8}")
    lines += ["", "article level (an article is relevant when it holds a relevant chunk)"]
    header = f"{'system':<10} {'ranking':<9} " + " ".join(f"{m:>9}" for m in METRICS)
    lines += [header, "-" * len(header)]
    for name, summary in report["systems"].items():
        for level, metrics in summary.get("articles", {}).items():
            values = " ".join(f"{metrics[m]:>9.3f}" for m in METRICS)
            lines.append(f"{name:<10} {level:<9} {values}")
    return "\n".join(lines)


def format_failures(report: dict, system: str = "searchapp") -> str:
    lines = []
    for p in failures(report, system):
        got = p["top_texts"][0] if p["top_texts"] else "(no hits)"
        got_id = p["top_ids"][0] if p["top_ids"] else "-"
        rank = round(1 / p["mrr"]) if p["mrr"] else None
        lines.append(f"q: {p['q']}   [{p['note']}]")
        lines.append(f"   expected: {' | '.join(p['expect'])}")
        lines.append(f"   got:      {got_id}: {_shorten(got)}")
        lines.append(
            "   first relevant at rank: " + (str(rank) if rank else f"none in top {DEPTH}")
        )
        if p["error"]:
            lines.append(f"   error:    {p['error']}")
    return "\n".join(lines) if lines else "(no failures)"


def _shorten(text: str, width: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--failures", action="store_true", help="list queries whose first searchapp hit is wrong"
    )
    parser.add_argument("--systems", nargs="+", help="systems to run (default: all)")
    parser.add_argument("--queries", type=Path, help="judged query file")
    parser.add_argument(
        "--corpus",
        choices=("small", "large"),
        default="small",
        help="small: the bundled and fixture articles; large: the 55,000-chunk bench corpus",
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="large corpus work folder")
    parser.add_argument(
        "--fresh-peers", action="store_true", help="rerun the peers instead of their cache"
    )
    parser.add_argument(
        "--write-sample",
        type=Path,
        metavar="DIR",
        help="with --corpus large: write the test's small sample of the corpus into DIR",
    )
    parser.add_argument(
        "--group-bonus",
        type=float,
        default=None,
        help="the grouped ranking's bonus for more matching passages (default: the project's)",
    )
    args = parser.parse_args(argv)
    if args.corpus == "large":
        return main_large(parser, args)
    if args.systems and set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems: choose from {', '.join(SYSTEMS)}")
    args.systems = args.systems or list(SYSTEMS)
    args.queries = args.queries or QUERIES_FILE
    if args.group_bonus is not None:
        from searchapp import results

        results.GROUP_BONUS = args.group_bonus

    report = evaluate(args.systems, args.queries)
    if args.json:
        out = {
            "queries": report["queries"],
            "chunks": report["chunks"],
            "systems": {
                name: {k: v for k, v in s.items() if k != "per_query"}
                for name, s in report["systems"].items()
            },
        }
        if args.failures and "searchapp" in report["systems"]:
            out["failures"] = [
                {"q": p["q"], "expect": p["expect"], "got": p["top_texts"][:1]}
                for p in failures(report)
            ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(format_table(report))
    if args.failures:
        if "searchapp" not in report["systems"]:
            parser.error("--failures needs the searchapp system")
        print(f"\nsearchapp failures at rank 1 ({len(failures(report))}):")
        print(format_failures(report))
    return 0


def main_large(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``--corpus large``: the table for searchapp and the three peers."""
    from benchlib import judged

    systems = args.systems or list(judged.SYSTEMS)
    if set(systems) - set(judged.SYSTEMS):
        parser.error(f"--systems: choose from {', '.join(judged.SYSTEMS)}")
    queries_file = args.queries or LARGE_QUERIES_FILE
    if args.write_sample:
        judged.ensure_corpus(args.data)
        print(judged.write_sample(args.data, queries_file, args.write_sample))
        return 0
    report = judged.run(queries_file, args.data, systems, fresh_peers=args.fresh_peers)
    if args.json:
        out = {
            name: {"groups": s["groups"], "ms_per_query": s["ms_per_query"]}
            for name, s in report["systems"].items()
        }
        print(json.dumps({"queries": report["queries"], "systems": out}, indent=2))
        return 0
    print(judged.format_table(report))
    if args.failures and "searchapp" in report["systems"]:
        print("\nsearchapp tuning queries whose first hit is wrong:")
        print(judged.format_misses(report, judged.load_queries(queries_file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
