"""Build and update the on-disk index, never leaving readers with a half-built one.

Layout of an index directory::

    index/
      current -> builds/20261129T120000-1234   (symlink, swapped atomically)
      builds/<build id>/                        (a complete Whoosh index + manifest.json)
      .lock                                     (one indexing run at a time)

Every run that changes something writes a new build beside the current one (a full build, or a
copy of the current build updated incrementally), then points ``current`` at it with one atomic
rename. A reader sees the old build or the new one, never a mix; a killed run leaves at most a
stray ``builds/*.tmp`` folder and an ``index/.current.<pid>.tmp`` link, which the next run
removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import os
import queue
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from searchapp import settings
from searchapp.analysis import analyze, vocabulary_words
from searchapp.combined_terms import COMBINED_FILE, keeps_up, write_combined
from searchapp.schema import SCHEMA_VERSION, build_schema
from searchapp.sources import (
    FORMATS,
    MULTI_FORMATS,
    SourceFile,
    Walk,
    read_source,
    walk_sources,
    warm_up_readers,
)
from searchapp.sources.errors import UnreadableArticle
from searchapp.sources.records import Article, Chunk
from searchapp.sources.text import detect_lang
from searchapp.store import (  # noqa: F401  (IndexUnavailable is re-exported for writers)
    BUILDS,
    CURRENT,
    MANIFEST,
    IndexUnavailable,
    current_build,
    read_manifest,
)
from searchapp.synonyms import Synonyms, default_synonyms
from searchapp.vocabulary import write_vocabularies
from searchapp.whoosh_compat import (
    Impacts,
    join_segments,
    position_arrays,
    term_directory,
    use_term_pool,
)


class IndexingError(Exception):
    """A problem the user must fix (missing source folder, unwritable index, another run)."""


@dataclass
class IndexReport:
    """What an indexing run did."""

    articles: int = 0
    chunks: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    rebuilt: bool = False
    changed: bool = False
    seconds: float = 0.0
    build: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.changed:
            return (
                f"Index is up to date: nothing changed, nothing re-indexed "
                f"({self.articles} articles, {self.chunks} chunks, {self.seconds:.2f} s)."
            )
        how = "Rebuilt" if self.rebuilt else "Updated"
        return (
            f"{how} index: {self.articles} articles, {self.chunks} chunks "
            f"({self.indexed} articles indexed, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.skipped)} skipped) in {self.seconds:.2f} s."
        )


ProgressFn = Callable[[int, int, str], None]


def source_files(source_dirs: Iterable[Path]) -> Walk:
    """Every indexable file in the source folders (recursively), plus what was skipped."""
    return walk_sources([Path(s) for s in source_dirs])


class NothingIndexed(IndexingError):
    """Every file was skipped: the run changes nothing rather than leave an empty index."""

    def __init__(self, message: str, skipped: list[tuple[str, str]]):
        super().__init__(message)
        self.skipped = skipped


class SourcesChanged(IndexingError):
    """The index was built from other folders, and this run would remove articles from it."""


def indexed_sources(index_dir: Path) -> list[str] | None:
    """The source folders the current build was made from (None: no index, or not recorded)."""
    build = current_build(Path(index_dir))
    if build is None:
        return None
    try:
        sources = read_manifest(build).get("sources")
    except IndexUnavailable:
        return None
    return list(sources) if sources else None


def resolved_sources(source_dirs: Iterable[Path]) -> list[str]:
    """Source folders as the manifest records them: absolute, links resolved."""
    return [str(Path(s).resolve()) for s in source_dirs]


def _no_files_message(source_dirs: list[Path], walk: Walk) -> str:
    where = ", ".join(str(s) for s in source_dirs)
    kinds = "/".join(sorted({ext for ext in FORMATS if ext not in (".htm", ".markdown")}))
    return f"no {kinds} files in {where}: {walk.describe_others()}; the index was not changed"


def build_index(
    source_dirs: Iterable[Path] | Path,
    index_dir: Path,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
    procs: int | None = None,
    synonyms: Synonyms | None = None,
) -> IndexReport:
    """Index the article files of ``source_dirs`` into ``index_dir``.

    Incremental unless ``rebuild``: only files whose content changed are read again and
    articles whose file is gone are removed. Refuses, leaving the index as it was, a source
    with no indexable file and (without ``rebuild``) other folders than the index was built
    from when that would remove articles. ``synonyms`` (default: the built-in ones) are
    recorded in the build for its searchers; a change makes a new build even when no file
    changed. Returns what was done.
    """
    synonyms_data = (synonyms or default_synonyms()).as_data()
    started = time.perf_counter()
    procs = procs or default_procs()
    if isinstance(source_dirs, str | Path):
        source_dirs = [source_dirs]
    source_dirs = [Path(s) for s in source_dirs]
    index_dir = Path(index_dir)
    report = IndexReport()
    walk = source_files(source_dirs)
    files: dict[str, SourceFile] = {f.key: f for f in walk.files.values()}
    report.skipped = list(walk.skipped)
    if not files:
        raise IndexingError(_no_files_message(source_dirs, walk))
    try:
        (index_dir / BUILDS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexingError(f"cannot create index folder {index_dir}: {exc.strerror}") from exc

    with _exclusive_lock(index_dir):
        previous = current_build(index_dir)
        old_articles: dict[str, dict] = {}
        synonyms_changed = False
        old_files: dict[str, dict] = {}
        if previous is not None and not rebuild:
            try:
                manifest = read_manifest(previous)
                changed = _settings_change(manifest)
                if manifest.get("schema_version") != SCHEMA_VERSION:
                    report.notes.append("index format changed: rebuilding everything")
                    rebuild = True
                elif changed:
                    report.notes.append(f"{changed}: rebuilding everything")
                    rebuild = True
                else:
                    _check_readable(previous)
                    old_articles = manifest["articles"]
                    old_synonyms = manifest.get("synonyms") or default_synonyms().as_data()
                    if old_synonyms != synonyms_data:
                        report.notes.append("synonyms changed: the new build uses them")
                        synonyms_changed = True
                    old_files = manifest["files"]
                    _check_same_sources(manifest, source_dirs, files, report)
            except SourcesChanged:
                raise
            except Exception as exc:  # a damaged build: start over from the sources
                report.notes.append(f"current index is unreadable ({exc}): rebuilding everything")
                rebuild = True
                old_articles, old_files = {}, {}
        if previous is None:
            rebuild = True
        report.rebuilt = rebuild

        hashes: dict[str, str] = {}
        for key, source in list(files.items()):
            try:
                hashes[key] = _file_hash(source.real)
            except OSError as exc:
                if isinstance(exc, FileNotFoundError):
                    reason = "file disappeared while indexing"
                else:
                    reason = f"cannot read file: {exc.strerror}"
                report.skipped.append((str(source.path), reason))
                if key in old_files:  # keep what was indexed for it before
                    hashes[key] = old_files[key]["sha256"]
                else:
                    del files[key]

        if rebuild:
            to_read = list(files)
            removed_files: list[str] = []
        else:
            to_read = [
                k for k in files if k not in old_files or old_files[k]["sha256"] != hashes[k]
            ]
            removed_files = [k for k in old_files if k not in files]
        # JSON/JSONL files first, in every build: one process reads them all (their ids are
        # only known once read), and documents keep the same order with one process or many.
        to_read.sort(key=lambda k: files[k].format not in MULTI_FORMATS)
        unchanged_files = [k for k in files if k not in to_read]
        report.unchanged = sum(
            len(old_files.get(k, {}).get("articles", ())) for k in unchanged_files
        )

        if not rebuild and not to_read and not removed_files and not synonyms_changed:
            stats = read_manifest(previous)["stats"]
            report.articles, report.chunks = stats["articles"], stats["chunks"]
            report.build = previous.name
            report.seconds = time.perf_counter() - started
            _remove_stale_builds(index_dir, keep={previous.name})
            return report

        # Which file owns each id: unchanged files' articles, and every path-derived id.
        claimed = {a: e["file"] for a, e in old_articles.items() if e["file"] in unchanged_files}
        for key, source in files.items():
            if source.format not in MULTI_FORMATS:
                claimed.setdefault(source.article_id, key)
        plan = _Plan(files, hashes, to_read, removed_files, old_files, claimed)

        # A timestamp and a random part: unique, and it says nothing about this machine (the
        # build id is public in /healthz; it once held the indexer's process id).
        build_id = time.strftime("%Y%m%dT%H%M%S") + f"-{secrets.token_hex(4)}"
        tmp_dir = index_dir / BUILDS / (build_id + ".tmp")
        final_dir = index_dir / BUILDS / build_id
        try:
            outcome = _write_build(
                plan, previous if not rebuild else None, tmp_dir, progress, procs
            )
            _write_read_aids(tmp_dir)
            outcome.merge_into(report)
            articles, manifest_files = _merge_manifest(plan, old_articles, outcome, rebuild)
            if not articles:
                raise NothingIndexed(
                    f"none of the {len(files)} files in {', '.join(map(str, source_dirs))} "
                    "could be indexed (see the messages above); the index was not changed",
                    report.skipped,
                )
            stats = _stats(articles)
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "settings": _settings_record(),
                "build": build_id,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "sources": resolved_sources(source_dirs),
                "files": manifest_files,
                "articles": articles,
                "stats": stats,
                "synonyms": synonyms_data,
            }
            _write_json(tmp_dir / MANIFEST, manifest)
            os.rename(tmp_dir, final_dir)
            _point_current_at(index_dir, final_dir)
        except OSError as exc:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise IndexingError(
                f"cannot write the index in {index_dir}: {exc.strerror or exc}; "
                "the previous index is unchanged"
            ) from exc
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        keep = {final_dir.name} | ({previous.name} if previous else set())
        _remove_stale_builds(index_dir, keep=keep)

    report.changed = True
    report.articles, report.chunks = stats["articles"], stats["chunks"]
    report.removed = sum(1 for a, e in old_articles.items() if a not in articles and not rebuild)
    report.build = build_id
    report.seconds = time.perf_counter() - started
    return report


def _settings_record() -> dict:
    """What the manifest records of the ranking settings and the analyzer."""
    rules = settings.current()
    return {
        "fingerprint": rules.fingerprint(),
        "analyzer": settings.analyzer_fingerprint(),
        "synonyms": settings.synonyms_fingerprint(),
        "values": rules.as_dict(),
    }


def _settings_change(manifest: dict) -> str | None:
    """Why the current build no longer matches the settings in force (None: it does)."""
    recorded = manifest.get("settings") or {}
    rules = settings.current()
    if recorded.get("fingerprint") == rules.fingerprint():
        return None
    if not recorded:
        return "the index records no ranking settings"
    if recorded.get("analyzer") != settings.analyzer_fingerprint():
        return "the text analyzer changed"
    names = rules.changes_from(recorded.get("values", {}))
    if names:
        return "ranking settings changed (" + ", ".join(names) + ")"
    return "the synonyms changed"


def _check_same_sources(
    manifest: dict, source_dirs: list[Path], files: dict[str, SourceFile], report: IndexReport
) -> None:
    """Refuse (SourcesChanged) a run from other folders that would remove articles."""
    recorded = manifest.get("sources") or []
    wanted = resolved_sources(source_dirs)
    if sorted(recorded) == sorted(wanted):
        return
    gone = sum(1 for e in manifest["articles"].values() if e["file"] not in files)
    if gone:
        raise SourcesChanged(
            f"the index was built from {', '.join(recorded)}; indexing {', '.join(wanted)} "
            f"instead would remove {gone} of its {len(manifest['articles'])} articles. "
            "Run again with --rebuild to do that, or give the same --source folders "
            "(without --source, `searchapp index` reuses them)"
        )
    report.notes.append(f"source folders changed from {', '.join(recorded)} to {', '.join(wanted)}")


@dataclass
class _Plan:
    """What a run reads and removes, shared by the sequential and the parallel build."""

    files: dict[str, SourceFile]
    hashes: dict[str, str]
    to_read: list[str]
    removed_files: list[str]
    old_files: dict[str, dict]
    claimed: dict[str, str]


def _merge_manifest(
    plan: _Plan, old_articles: dict[str, dict], outcome: _Outcome, rebuild: bool
) -> tuple[dict[str, dict], dict[str, dict]]:
    """The new manifest's articles and files: the old ones kept, the re-read ones replaced."""
    if rebuild:
        return dict(outcome.entries), dict(outcome.files)
    replaced = set(plan.removed_files) | set(outcome.files)
    articles = {a: e for a, e in old_articles.items() if e["file"] not in replaced}
    articles.update(outcome.entries)
    files = {k: e for k, e in plan.old_files.items() if k not in plan.removed_files}
    files.update(outcome.files)
    return articles, files


def _check_readable(build: Path) -> None:
    """Open every segment of a build and read from it; raises if any part is damaged."""
    ix = whoosh_index.open_dir(str(build))
    try:
        with ix.searcher() as searcher:
            for sub, _offset in searcher.leaf_searchers():
                reader = sub.reader()
                if reader.doc_count_all():
                    reader.stored_fields(reader.doc_count_all() - 1)
                for fieldname in ("text", "article_id"):
                    next(iter(reader.lexicon(fieldname)), None)
    finally:
        ix.close()


def chunk_lang(article: Article, chunk: Chunk) -> str:
    """A chunk's language (mixed articles have both); a title takes the article's."""
    return article.lang if chunk.kind == "title" else detect_lang(chunk.text)


def chunk_documents(article: Article) -> Iterator[dict]:
    """The Whoosh documents of one article, one per chunk."""
    vocabulary = " ".join(sorted(vocabulary_words(c.text for c in article.chunks)))
    boosts = settings.current().kind_boosts  # see searchapp/settings.py
    # The article's metadata, on every chunk when it has a value (stored once per chunk so a
    # hit needs no second lookup).
    metadata = {
        "url": article.url,
        "authors": ",".join(article.authors or ()),
        "tags": ",".join(article.tags or ()),
        "date": article.date,
    }
    metadata = {name: value for name, value in metadata.items() if value}
    for chunk in article.chunks:
        doc = {
            "id": chunk.id,
            "article_id": article.id,
            "article_title": article.title,
            "source": article.source,
            "kind": chunk.kind,
            "lang": chunk_lang(article, chunk),
            "position": chunk.position,
            "text": chunk.text,
            "cjk": chunk.text,
        }
        if chunk.kind == "title":
            doc["spell"] = vocabulary
            doc["article_lang"] = article.lang
            if article.image:
                doc["image"] = article.image
        doc.update(metadata)
        if chunk.kind in boosts:
            doc["_text_boost"] = doc["_cjk_boost"] = boosts[chunk.kind]
        if chunk.section:
            doc["section"] = chunk.section
            doc["heading"] = chunk.section
        if chunk.photographer:
            doc["photographer"] = chunk.photographer
        if chunk.photo_date:
            doc["photo_date"] = chunk.photo_date
        yield doc


def _write_build(
    plan: _Plan,
    previous: Path | None,
    tmp_dir: Path,
    progress: ProgressFn | None,
    procs: int,
) -> _Outcome:
    """Write a complete build into ``tmp_dir``; returns what reading the files gave."""
    if previous is None and procs > 1 and len(plan.to_read) >= PARALLEL_MIN_ARTICLES:
        return _parallel_build(plan, tmp_dir, progress, procs)
    if previous is not None:
        _link_or_copy_tree(previous, tmp_dir)
        ix = whoosh_index.open_dir(str(tmp_dir))
    else:
        tmp_dir.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp_dir), build_schema())
    writers = _SegmentWriters(ix)
    try:
        for key in plan.removed_files:
            for article_id in plan.old_files[key]["articles"]:
                writers.current.delete_by_term("article_id", article_id)
        outcome = _add_files(writers, plan, plan.to_read, previous is not None, progress)
        writers.current.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            writers.current.cancel()
        raise
    finally:
        ix.close()
    return outcome


def _write_read_aids(build: Path) -> None:
    """The files beside the build's finished segments that searches read instead of walking
    Whoosh's: the vocabularies (``searchapp.vocabulary``) and the combined term file
    (``_write_combined_terms``), from one opening of the index."""
    ix = whoosh_index.open_dir(str(build))
    try:
        with ix.searcher() as searcher:
            write_vocabularies(build, searcher.reader())
            _write_combined_terms(build, searcher)
    finally:
        ix.close()


def _write_combined_terms(build: Path, searcher) -> None:
    """The build's combined term file (``searchapp.combined_terms``), unless the update's
    folder holds the previous build's file and it can stay (``keeps_up``): written for its
    first segments, the update's few documents after them. Otherwise the link to it is
    dropped and the file written for the longest run of first segments with term directories
    and impacts (all of them, unless Whoosh merged some)."""
    path = build / COMBINED_FILE
    segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
    if path.exists() and keeps_up(path, segments):
        return
    path.unlink(missing_ok=True)
    directories = [term_directory(reader) for reader, _offset in segments]
    impacts = [Impacts.of(reader) for reader, _offset in segments]
    arrays = [position_arrays(reader) for reader, _offset in segments]
    pairs = enumerate(zip(directories, impacts, strict=True))
    missing = (i for i, (directory, impact) in pairs if directory is None or impact is None)
    usable = next(missing, len(segments))
    write_combined(path, segments[:usable], directories[:usable], impacts[:usable], arrays[:usable])


#: Postings a writer holds in memory (TermPool's estimate) before its segment is written and a
#: new one started. Whoosh's own pool spilled sorted runs to disk past ``limitmb`` and merged
#: them back one posting at a time; a build of 500,000 chunks on 2 cores stays in one
#: segment per process below this.
SEGMENT_POOL_BYTES = 1024 * 1024 * 1024


class _SegmentWriters:
    """The writer of the segment being filled; a new segment once its pool is full."""

    def __init__(self, ix, pool_bytes: int | None = None):
        self.ix = ix
        self.pool_bytes = SEGMENT_POOL_BYTES if pool_bytes is None else pool_bytes
        self.segments = 1
        self.current = self._new()

    def _new(self):
        writer = self.ix.writer(limitmb=256)
        use_term_pool(writer)
        return writer

    def after_file(self) -> None:
        """Write the segment and start another when the pool holds ``pool_bytes``."""
        if self.current.pool.nbytes > self.pool_bytes:
            self.current.commit(merge=False)
            self.current = self._new()
            self.segments += 1


#: Below this many files a full build runs in one process (start-up would cost more).
PARALLEL_MIN_ARTICLES = 64


@dataclass
class _Outcome:
    """What reading a batch of files gave: manifest entries and per-file messages."""

    entries: dict[str, dict] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def merge_into(self, report: IndexReport) -> None:
        report.skipped.extend(self.skipped)
        report.warnings.extend(self.warnings)
        report.indexed += len(self.entries)

    def update(self, other: _Outcome) -> None:
        self.entries.update(other.entries)
        self.files.update(other.files)
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)


def _add_files(
    writers: _SegmentWriters,
    plan: _Plan,
    keys: list[str],
    replace: bool,
    progress: Callable[[str], None] | ProgressFn | None,
) -> _Outcome:
    """Read files and add their articles to ``writers`` (replacing what they gave before).

    A file that cannot be read is skipped with its reason and keeps what it gave before; an
    article whose id another file already gives is skipped with a message.
    """
    outcome = _Outcome()
    total = len(keys)
    for done, key in enumerate(keys, 1):
        source = plan.files[key]
        shown = str(source.path)
        try:
            result = read_source(source)
        except UnreadableArticle as exc:
            outcome.skipped.append((shown, str(exc)))
        else:
            outcome.skipped.extend((shown, problem) for problem in result.problems)
            if replace and key in plan.old_files:
                for article_id in plan.old_files[key]["articles"]:
                    writers.current.delete_by_term("article_id", article_id)
            ids = []
            for article in result.articles:
                owner = plan.claimed.get(article.id, key)
                if owner != key or article.id in outcome.entries:
                    other = owner if owner != key else outcome.entries[article.id]["file"]
                    outcome.skipped.append(
                        (shown, f"article id {article.id!r} is already given by {other}; skipped")
                    )
                    continue
                if not article.chunks or (len(article.chunks) == 1 and not article.title):
                    outcome.skipped.append((shown, "empty file: nothing to index"))
                    continue
                article.path = shown
                outcome.warnings.extend((shown, w) for w in article.warnings)
                languages: Counter[str] = Counter()
                for doc in chunk_documents(article):
                    languages[doc["lang"]] += 1
                    writers.current.add_document(**doc)
                outcome.entries[article.id] = _manifest_entry(
                    article, key, plan.hashes[key], languages
                )
                ids.append(article.id)
            outcome.files[key] = {"sha256": plan.hashes[key], "articles": ids}
        writers.after_file()
        if progress:
            progress(done, total, source.path.name)
    return outcome


def _manifest_entry(article: Article, key: str, sha256: str, languages: Counter) -> dict:
    return {
        "path": article.path,
        "file": key,
        "sha256": sha256,
        "title": article.title,
        "date": article.date,
        "lang": article.lang,
        "url": article.url,
        "chunks": len(article.chunks),
        "kinds": dict(Counter(c.kind for c in article.chunks)),
        "languages": dict(languages),
    }


def _parallel_build(
    plan: _Plan, tmp_dir: Path, progress: ProgressFn | None, procs: int
) -> _Outcome:
    """A full build on several cores: each process writes one segment, one TOC joins them.

    Whoosh's own ``writer(procs=N)`` pickles every document through a queue and was slower
    than one process here; separate writers that share nothing but the schema are not.
    JSON/JSONL files (whose ids are only known once read) all go to the first process, so it
    alone decides between two objects with the same id.
    """
    analyze("预热 warm-up", mode="index")  # load jieba once, before forking
    if any(plan.files[k].format != "txt" for k in plan.to_read):
        warm_up_readers()  # and trafilatura (a second per process otherwise)
    tmp_dir.mkdir(parents=True)
    schema = build_schema()
    whoosh_index.create_in(str(tmp_dir), schema).close()
    # plan.to_read lists JSON/JSONL files first: they all go to the first process
    multi = [k for k in plan.to_read if plan.files[k].format in MULTI_FORMATS]
    single = plan.to_read[len(multi) :]
    sizes = {k: _file_size(plan.files[k].real) for k in single}
    parts = [multi] if multi else []
    parts += balance_by_size(single, sizes, max(1, procs - len(parts)))
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    workers = [
        context.Process(
            target=_build_part,
            args=(plan, part, str(tmp_dir / f"part{n}"), n, messages),
            daemon=True,
        )
        for n, part in enumerate(parts)
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[int, _Outcome] = {}
    done = 0
    try:
        while len(outcomes) < len(workers):
            try:
                message = messages.get(timeout=0.2)
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    code = dead[0].exitcode
                    raise IndexingError(f"an indexing process died (exit code {code})") from None
                continue
            if message[0] == "progress":
                done += 1
                if progress:
                    progress(done, len(plan.to_read), message[1])
            elif message[0] == "done":
                outcomes[message[1]] = message[2]
            else:
                raise IndexingError(f"an indexing process failed: {message[2]}")
    finally:
        for worker in workers:
            if worker.is_alive() and len(outcomes) < len(workers):
                worker.kill()
            worker.join()
    part_dirs = [tmp_dir / f"part{n}" for n in range(len(parts))]
    join_segments(tmp_dir, schema, part_dirs)
    for part_dir in part_dirs:
        shutil.rmtree(part_dir)
    outcome = _Outcome()
    for n in sorted(outcomes):
        outcome.update(outcomes[n])
    return outcome


def balance_by_size(ids: list[str], sizes: dict[str, int], parts: int) -> list[list[str]]:
    """Split ``ids`` into at most ``parts`` consecutive runs of about equal bytes.

    Analysis time follows the text's size, not the number of articles: a few 300 KB man pages
    among 3 KB articles left one core idle when the split was by count. The runs stay
    consecutive so document numbers, and so the order of equal scores, are the same as in a
    one-process build.
    """
    weights = [max(sizes.get(a, 0), 1) for a in ids]  # unknown sizes split by count
    total = sum(weights)
    groups: list[list[str]] = [[]]
    done = 0
    for article_id, size in zip(ids, weights, strict=True):
        # start a new run when this article's middle falls past the current run's share
        boundary = total * len(groups) / parts
        if groups[-1] and len(groups) < parts and done + size / 2 > boundary:
            groups.append([])
        groups[-1].append(article_id)
        done += size
    return [group for group in groups if group]


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # vanished: the part that gets it reports it
        return 0


def _build_part(plan: _Plan, keys: list[str], part_dir: str, number: int, messages) -> None:
    """One process of a parallel build: its files into an index of its own."""
    _die_with_parent()
    try:
        os.makedirs(part_dir)
        ix = whoosh_index.create_in(part_dir, build_schema())
        writers = _SegmentWriters(ix)
        outcome = _add_files(
            writers,
            plan,
            keys,
            False,
            lambda done, total, name: messages.put(("progress", name)),
        )
        writers.current.commit(merge=False)
        ix.close()
        messages.put(("done", number, outcome))
    except BaseException as exc:  # reported to the parent, which raises IndexingError
        messages.put(("error", number, f"{type(exc).__name__}: {exc}"))


def _link_or_copy_tree(source: Path, dest: Path) -> None:
    """Start an incremental build from the current one, sharing its files by hard links.

    Whoosh never changes a file it has written (new segments and a new table of contents are
    new files; deletions live in the table of contents), so the builds can share them: an
    update costs what it changes, not a copy of the whole index. Copies when links fail.
    """
    ignore = shutil.ignore_patterns(MANIFEST, "*LOCK*")
    try:
        shutil.copytree(source, dest, ignore=ignore, copy_function=os.link)
    except OSError:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(source, dest, ignore=ignore)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed build stops at once)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def default_procs() -> int:
    """Processes for a full build: the machine's cores, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def _stats(articles: dict[str, dict]) -> dict:
    by_kind: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    for entry in articles.values():
        by_kind.update(entry["kinds"])
        by_language.update(entry["languages"])
    return {
        "articles": len(articles),
        "chunks": sum(e["chunks"] for e in articles.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "by_language": dict(sorted(by_language.items())),
    }


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _point_current_at(index_dir: Path, build_dir: Path) -> None:
    """Atomically repoint ``index/current`` (a relative symlink) at ``build_dir``."""
    tmp_link = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(os.path.join(BUILDS, build_dir.name), tmp_link)
    os.replace(tmp_link, index_dir / CURRENT)


def _remove_stale_builds(index_dir: Path, keep: set[str]) -> None:
    """Delete builds other than ``keep`` (the current one and the one before it).

    The previous build stays so a server that has not reopened yet keeps its files; servers
    that still hold older ones keep reading them through their open file handles.
    """
    builds = index_dir / BUILDS
    for entry in builds.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
    for link in index_dir.glob(f".{CURRENT}.*.tmp"):  # a run killed while repointing
        link.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive_lock(index_dir: Path) -> Iterator[None]:
    """Hold ``index/.lock`` so two indexing runs never write at once (freed if killed)."""
    try:
        handle = open(index_dir / ".lock", "a+")
    except OSError as exc:
        raise IndexingError(f"cannot write in index folder {index_dir}: {exc.strerror}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexingError(
                f"another indexing run holds {index_dir / '.lock'}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
