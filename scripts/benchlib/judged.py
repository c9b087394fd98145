"""Relevance at archive scale: the large judged set, its corpus, the peers and the table.

The corpus is the benchmark's (``corpus.build_corpus``: about 55,000 chunks of Debian package
descriptions in English and Chinese and the Chinese manual pages), written once into
``bench-data/`` (git-ignored) and reused. Judgements name *units* that survive a rebuild: a
package description (``deb:en:<package>``, ``deb:zh:<package>``) or a manual page
(``man:zh_CN:<page>.<section>``); a chunk is relevant to a query when its unit is one of the
query's. Every system searches the same chunks, as searchapp's parser cuts them, restricted to
the query's language (searchapp's ``lang`` filter; a ``lang`` column for the peers).

Systems:

- ``searchapp``: the project's index and ``search()`` with ``lang=``;
- ``whoosh``: Whoosh out of the box (``StandardAnalyzer``, BM25F, the default AND parser);
- ``fts5``: SQLite FTS5 ``porter unicode61``, ``bm25()``, an OR of the quoted query words;
- ``fts5-jieba``: the same over text segmented with ``jieba.cut_for_search`` (and the query
  segmented the same way).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.stats import ranking_metrics

from . import corpus

DEPTH = 10
METRICS = ("success@1", "success@3", "success@10", "mrr@10", "ndcg@10")
SYSTEMS = ("searchapp", "whoosh", "fts5", "fts5-jieba")
CORPUS_CHUNKS = 55_000


@dataclass(frozen=True)
class Chunk:
    id: str
    unit: str
    lang: str
    kind: str
    text: str


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    q: str
    lang: str
    type: str
    heldout: bool
    relevant: frozenset[str]


Ranker = Callable[[str, str], list[str]]  # (query, lang) -> chunk ids, best first


# --- data ------------------------------------------------------------------------------------


def ensure_corpus(data_dir: Path, chunks: int = CORPUS_CHUNKS) -> Path:
    """The corpus folder, built once (Debian's lists and ``manpages-zh`` must be installed)."""
    manifest = data_dir / "manifest.json"
    if manifest.exists():
        built = json.loads(manifest.read_text(encoding="utf-8"))
        if built.get("target_chunks") == chunks and (data_dir / "chunks.jsonl").exists():
            with open(data_dir / "chunks.jsonl", encoding="utf-8") as handle:
                if '"unit"' in handle.readline():
                    return data_dir / "corpus"
    corpus.build_corpus(data_dir, chunks)
    return data_dir / "corpus"


def load_chunks(data_dir: Path, corpus_dir: Path | None = None) -> list[Chunk]:
    """The chunks of the corpus as searchapp parses them, each with its unit and language.

    Units come from ``chunks.jsonl`` (by article file and position); with ``corpus_dir`` (a
    sample of the files) only those articles are read.
    """
    from searchapp.articles import parse_article
    from searchapp.indexing import chunk_lang

    units: dict[tuple[str, int], str] = {}
    with open(data_dir / "chunks.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            stem = record["file"].removesuffix(".txt")
            units[(stem, int(record["id"].rsplit(":", 1)[1]))] = record["unit"]
    chunks = []
    for path in sorted(Path(corpus_dir or data_dir / "corpus").glob("*.txt")):
        article = parse_article(path)
        for c in article.chunks:
            unit = units.get((article.id, c.position), f"article:{article.id}")
            chunks.append(Chunk(c.id, unit, chunk_lang(article, c), c.kind, c.text))
    return chunks


def load_queries(path: Path) -> list[JudgedQuery]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        JudgedQuery(
            d["id"], d["q"], d["lang"], d["type"], bool(d["heldout"]), frozenset(d["relevant"])
        )
        for d in data["queries"]
    ]


# --- metrics ---------------------------------------------------------------------------------


def query_metrics(ranked_relevance: Sequence[bool], n_relevant: int) -> dict[str, float]:
    """Metrics of one ranked list (True = relevant), given how many relevant chunks exist."""
    return ranking_metrics(ranked_relevance, n_relevant, DEPTH)


def groups_of(query: JudgedQuery) -> list[str]:
    """The table rows a query counts in."""
    split = "held-out" if query.heldout else "tuning"
    return ["all", query.lang, f"{query.lang}:{query.type}", split, f"{split}:{query.lang}"]


def summarise(per_query: list[dict], queries: list[JudgedQuery]) -> dict[str, dict[str, float]]:
    """Mean metrics per group (all, language, language:type, held-out/tuning and per language)."""
    rows: dict[str, list[dict]] = {}
    for query, result in zip(queries, per_query, strict=True):
        for group in groups_of(query):
            rows.setdefault(group, []).append(result)
    return {
        group: {"n": len(results)}
        | {m: round(sum(r[m] for r in results) / len(results), 4) for m in METRICS}
        for group, results in rows.items()
    }


# --- systems ---------------------------------------------------------------------------------


def open_searchapp(chunks: list[Chunk], workdir: Path, corpus_dir: Path) -> Ranker:
    """searchapp's index of the corpus folder (incremental: reused while nothing changed)."""
    from searchapp.handle import IndexHandle
    from searchapp.indexing import build_index
    from searchapp.searching import search

    index_dir = workdir / "searchapp-index"
    build_index([corpus_dir], index_dir)
    handle = IndexHandle(index_dir)

    def rank(q: str, lang: str) -> list[str]:
        return [hit["id"] for hit in search(handle, q, per_page=DEPTH, lang=lang)["hits"]]

    return rank


def open_whoosh(chunks: list[Chunk], workdir: Path, corpus_dir: Path) -> Ranker:
    """Whoosh out of the box: StandardAnalyzer, BM25F, the default (AND) QueryParser."""
    from whoosh import fields, qparser, query, scoring
    from whoosh.analysis import StandardAnalyzer
    from whoosh.filedb.filestore import RamStorage

    schema = fields.Schema(
        id=fields.ID(stored=True),
        lang=fields.ID(),
        text=fields.TEXT(analyzer=StandardAnalyzer()),
    )
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        for chunk in chunks:
            writer.add_document(id=chunk.id, lang=chunk.lang, text=chunk.text)
    searcher = ix.searcher(weighting=scoring.BM25F())
    parser = qparser.QueryParser("text", schema)

    def rank(q: str, lang: str) -> list[str]:
        results = searcher.search(parser.parse(q), limit=DEPTH, filter=query.Term("lang", lang))
        return [hit["id"] for hit in results]

    return rank


_WORD_RE = re.compile(r"\w+")


def _fts5_ranker(rows: list[tuple[str, str, str]], words: Callable[[str], list[str]]) -> Ranker:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, lang UNINDEXED, text,"
        " tokenize='porter unicode61')"
    )
    db.executemany("INSERT INTO t (id, lang, text) VALUES (?, ?, ?)", rows)

    def rank(q: str, lang: str) -> list[str]:
        terms = list(dict.fromkeys(w for w in words(q) if w.strip()))
        if not terms:
            return []
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in terms)
        found = db.execute(
            "SELECT id FROM t WHERE t MATCH ? AND lang = ? ORDER BY bm25(t) LIMIT ?",
            (match, lang, DEPTH),
        ).fetchall()
        return [row[0] for row in found]

    return rank


def open_fts5(chunks: list[Chunk], workdir: Path, corpus_dir: Path) -> Ranker:
    """SQLite FTS5 ``porter unicode61``, bm25(), an OR of the query's words."""
    return _fts5_ranker([(c.id, c.lang, c.text) for c in chunks], _WORD_RE.findall)


def open_fts5_jieba(chunks: list[Chunk], workdir: Path, corpus_dir: Path) -> Ranker:
    """FTS5 over ``jieba.cut_for_search`` words, Porter stemming, OR of the query's words."""
    import jieba

    def segment(text: str) -> list[str]:
        return [w for w in jieba.cut_for_search(text) if _WORD_RE.search(w)]

    rows = [(c.id, c.lang, " ".join(segment(c.text))) for c in chunks]
    return _fts5_ranker(rows, segment)


OPENERS: dict[str, Callable[[list[Chunk], Path, Path], Ranker]] = {
    "searchapp": open_searchapp,
    "whoosh": open_whoosh,
    "fts5": open_fts5,
    "fts5-jieba": open_fts5_jieba,
}


# --- evaluation ------------------------------------------------------------------------------


def evaluate(
    queries: list[JudgedQuery],
    chunks: list[Chunk],
    systems: Sequence[str],
    workdir: Path,
    corpus_dir: Path,
) -> dict:
    """Run every query through every system; per-query results and the grouped summary."""
    unit_of = {c.id: c.unit for c in chunks}
    n_relevant = {
        q.id: sum(1 for c in chunks if c.lang == q.lang and c.unit in q.relevant) for q in queries
    }
    empty = [q.q for q in queries if not n_relevant[q.id]]
    if empty:
        raise ValueError(f"no chunk of the corpus is judged relevant to {empty[0]!r}")
    report: dict = {"queries": len(queries), "chunks": len(chunks), "systems": {}}
    for name in systems:
        started = time.perf_counter()
        rank = OPENERS[name](chunks, workdir, corpus_dir)
        opened = time.perf_counter() - started
        per_query = []
        started = time.perf_counter()
        for query in queries:
            ids = rank(query.q, query.lang)
            units = [unit_of.get(i, "") for i in ids]
            relevance = [u in query.relevant for u in units]
            per_query.append(
                {"id": query.id, "q": query.q, "top_ids": ids, "top_units": units}
                | query_metrics(relevance, n_relevant[query.id])
            )
        elapsed = time.perf_counter() - started
        report["systems"][name] = {
            "open_s": round(opened, 1),
            "ms_per_query": round(1000 * elapsed / max(len(queries), 1), 2),
            "groups": summarise(per_query, queries),
            "per_query": per_query,
        }
    return report


def format_table(report: dict, metrics: Sequence[str] = METRICS) -> str:
    """One block per group (all, languages, types, held-out), one line per system."""
    systems = list(report["systems"])
    groups = list(next(iter(report["systems"].values()))["groups"])
    order = ["all", "en", "zh", "tuning", "held-out", "tuning:en", "tuning:zh"]
    order += ["held-out:en", "held-out:zh"]
    order += sorted(g for g in groups if g not in order)
    header = f"{'queries':<26}{'system':<12}" + "".join(f"{m:>11}" for m in metrics)
    lines = [f"{report['queries']} judged queries over {report['chunks']} chunks", header]
    lines.append("-" * len(header))
    for group in [g for g in order if g in groups]:
        for i, name in enumerate(systems):
            row = report["systems"][name]["groups"][group]
            label = f"{group} ({row['n']})" if i == 0 else ""
            values = "".join(f"{row[m]:>11.3f}" for m in metrics)
            lines.append(f"{label:<26}{name:<12}{values}")
    timing = ", ".join(
        f"{name} {s['ms_per_query']} ms/query" for name, s in report["systems"].items()
    )
    lines.append(timing)
    return "\n".join(lines)


def _fingerprint(*paths: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def run(
    queries_file: Path,
    data_dir: Path,
    systems: Sequence[str] = SYSTEMS,
    fresh_peers: bool = False,
) -> dict:
    """Build (or reuse) the corpus and evaluate ``systems`` on the judged queries.

    The peers do not change while searchapp is tuned, so their per-query results are kept in
    ``<data_dir>/eval/<system>.json`` (keyed by the corpus and the judged set) and reused
    unless ``fresh_peers``; searchapp always runs, on its index in ``<data_dir>/eval/``.
    """
    unknown = [name for name in systems if name not in OPENERS]
    if unknown:
        raise ValueError(f"unknown system {unknown[0]!r}; choose from {', '.join(OPENERS)}")
    corpus_dir = ensure_corpus(data_dir)
    workdir = data_dir / "eval"
    workdir.mkdir(parents=True, exist_ok=True)
    queries = load_queries(queries_file)
    key = _fingerprint(data_dir / "chunks.jsonl", queries_file)
    report: dict = {"queries": len(queries), "systems": {}}
    chunks: list[Chunk] | None = None
    for name in systems:
        cache = workdir / f"{name}.json"
        if name != "searchapp" and not fresh_peers and cache.exists():
            cached = json.loads(cache.read_text(encoding="utf-8"))
            if cached.get("key") == key:
                report["chunks"] = cached["chunks"]
                report["systems"][name] = cached["result"]
                continue
        if chunks is None:
            chunks = load_chunks(data_dir)
        one = evaluate(queries, chunks, [name], workdir, corpus_dir)
        report["chunks"] = one["chunks"]
        report["systems"][name] = one["systems"][name]
        if name != "searchapp":
            cache.write_text(
                json.dumps({"key": key, "chunks": one["chunks"], "result": one["systems"][name]}),
                encoding="utf-8",
            )
    return report


def format_misses(report: dict, queries: list[JudgedQuery], system: str = "searchapp") -> str:
    """Tuning queries whose first hit is not relevant: the rank of the first right answer, and
    the first three units found instead. Held-out misses are only counted: looking at them
    would be tuning on them."""
    by_id = {q.id: q for q in queries}
    lines = []
    held = 0
    for p in report["systems"][system]["per_query"]:
        if p["success@1"]:
            continue
        q = by_id[p["id"]]
        if q.heldout:
            held += 1
            continue
        rank = round(1 / p["mrr@10"]) if p["mrr@10"] else None
        got = ", ".join(u or "-" for u in p["top_units"][:3]) or "(no hits)"
        where = f"first right answer at {rank}" if rank else f"none in the top {DEPTH}"
        lines.append(f"{q.id} [{q.type}] {q.q!r}: {where}")
        lines.append(f"    got: {got}")
    lines.append(f"(and {held} held-out queries, not shown)")
    return "\n".join(lines)


def write_sample(
    data_dir: Path,
    queries_file: Path,
    dest: Path,
    per_lang: int = 16,
    max_file_bytes: int = 8_000,
    seed: int = 7,
) -> dict:
    """Write a small corpus drawn from the large one, for a fast test (``tests/fixtures/``).

    For ``per_lang`` queries per language (seeded): every article holding a judged unit, and
    the articles of the peers' top 10 (hard distractors), skipping files over
    ``max_file_bytes``. Writes the article files into ``dest`` and ``<dest>.json`` beside it
    (the query ids and each chunk's unit, as runs by article id).
    """
    queries = load_queries(queries_file)
    rng = random.Random(seed)
    chosen = []
    for lang in ("en", "zh"):
        group = [q for q in queries if q.lang == lang]
        chosen += rng.sample(group, per_lang)
    records = [json.loads(line) for line in open(data_dir / "chunks.jsonl", encoding="utf-8")]
    by_unit: dict[str, set[str]] = {}
    for r in records:
        by_unit.setdefault(r["unit"], set()).add(r["file"])
    file_of_id = {f"{r['file'][:-4]}:{r['id'].rsplit(':', 1)[1]}": r["file"] for r in records}
    files: set[str] = set()
    for q in chosen:
        for unit in q.relevant:
            files |= by_unit.get(unit, set())
        for peer in ("fts5-jieba", "fts5"):
            cache = data_dir / "eval" / f"{peer}.json"
            if cache.exists():
                result = json.loads(cache.read_text(encoding="utf-8"))["result"]
                for p in result["per_query"]:
                    if p["id"] == q.id:
                        files |= {file_of_id[i] for i in p["top_ids"] if i in file_of_id}
    corpus_dir = data_dir / "corpus"
    files = {f for f in files if (corpus_dir / f).stat().st_size <= max_file_bytes}
    dest.mkdir(parents=True, exist_ok=True)
    units: dict[str, list[str]] = {}
    for r in records:
        if r["file"] in files:
            units.setdefault(r["file"][:-4], []).append(r["unit"])
    for name in sorted(files):
        (dest / name).write_bytes((corpus_dir / name).read_bytes())
    kept = [q.id for q in chosen if any(u in q.relevant for us in units.values() for u in us)]
    runs = {name: _runs(us) for name, us in units.items()}
    sample = {"queries": sorted(kept), "units": runs}
    (dest.parent / f"{dest.name}.json").write_text(
        json.dumps(sample, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8"
    )
    return {"files": len(files), "queries": len(kept)}


def _runs(units: list[str]) -> list[list]:
    """``[unit, count]`` runs of consecutive chunks (a unit's chunks are consecutive)."""
    runs: list[list] = []
    for unit in units:
        if runs and runs[-1][0] == unit:
            runs[-1][1] += 1
        else:
            runs.append([unit, 1])
    return runs


def sample_units(sample: dict) -> dict[str, str]:
    """``{"<article id>:<position>": unit}`` from a sample's runs."""
    out = {}
    for article, runs in sample["units"].items():
        position = 0
        for unit, count in runs:
            for _ in range(count):
                out[f"{article}:{position}"] = unit
                position += 1
    return out
