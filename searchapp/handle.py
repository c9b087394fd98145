"""The index as one process reads it: the current build, opened once, with its caches.

Opening a Whoosh index per request is slow, so each process keeps one ``IndexHandle`` per
index folder and reopens it only when ``index/current`` points at a new build (a rebuild
swapped it in); Whoosh's ``refresh()`` is not used, it is wrong after merges. There is no
process-wide registry: whoever serves owns its handle (the Flask app in
``app.extensions["searchapp.index"]``, made by ``create_app``; the CLI and scripts make one
per command), so two apps or tests never share a searcher or a cache by accident.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import ReaderClosed

from searchapp import config, heap, vocabulary
from searchapp.caches import BoundedCache, marshal_size
from searchapp.params import Filters
from searchapp.querying import SearchQueryParser
from searchapp.results import FieldValues
from searchapp.scoring import QueryEvaluator
from searchapp.store import CURRENT, IndexUnavailable, current_build, read_manifest
from searchapp.synonyms import Synonyms
from searchapp.whoosh_compat import release_pages, segment_maps

#: Responses kept per build, and their bytes (a page of 100 long chunks is over 1 MB).
CACHE_SIZE = 256
CACHE_BYTES = 32 * 1024 * 1024
#: Facet counts of large match sets kept per build (``searching``): a few KB each.
FACET_CACHE_SIZE = 64
FACET_CACHE_BYTES = 2 * 1024 * 1024
#: Filter masks kept per build (each is one byte per document).
FILTER_CACHE_SIZE = 32
FILTER_CACHE_BYTES = 64 * 1024 * 1024
#: Manifest entries a reader does not keep: a record per source file and per article, for
#: incremental builds (megabytes of Python objects per worker on a large archive, growing with
#: it). ``examples`` reads the article titles from the file when it needs them.
WRITER_ONLY = ("files", "articles")
#: Every this many reads, the index pages they mapped are released (see ``reading``). Each
#: release is a ``madvise`` over every mapped segment and costs the next reads their page
#: faults again. At 150,000 chunks (one worker, 1,200 distinct queries, scripts/bench.py's
#: mixes): every read 2.80 ms of worker CPU a search, every 16 reads 2.69 (wall p50 2.38 ->
#: 2.28 ms); worker PSS after the bench's runs 70 -> 80 MB (16 reads' pages stay mapped).
RELEASE_EVERY = 16
#: A response is cached the second time its request comes within this many distinct ones,
#: not the first: most searches are asked once, and caching one costs its size estimate (2%
#: of an uncached search) and evicts an answer that may be asked again (TinyLFU's
#: "doorkeeper"). The hashes take about 100 bytes each.
SEEN_KEYS = 4096
#: Every this many reads, the heap pages freed meanwhile go back to the system (``heap``).
TRIM_EVERY = 64
#: What a damaged or vanished index raises while being read (anything else is a bug: a 500).
INDEX_READ_ERRORS = (
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    ReaderClosed,
    whoosh_index.IndexError,
)


@dataclass
class OpenIndex:
    """Everything needed to answer queries from one build, made once per (re)open.

    The caches live and die with the build: a new build starts with empty ones.
    """

    build: Path
    searcher: object
    parser: SearchQueryParser
    relaxed_parser: SearchQueryParser
    evaluator: QueryEvaluator
    values: FieldValues
    manifest: dict
    #: The memory maps of its segment files, released after each read (``reading``).
    maps: list = field(default_factory=list)
    filters: BoundedCache = field(
        default_factory=lambda: BoundedCache(FILTER_CACHE_SIZE, FILTER_CACHE_BYTES)
    )
    results: BoundedCache = field(
        default_factory=lambda: BoundedCache(CACHE_SIZE, CACHE_BYTES, marshal_size)
    )
    #: Facet counts by a digest of the matches they count (``searching.FACET_CACHE_FROM``).
    facets: BoundedCache = field(
        default_factory=lambda: BoundedCache(FACET_CACHE_SIZE, FACET_CACHE_BYTES, marshal_size)
    )
    #: Anything else worked out once per build (the home page's example queries).
    memo: dict = field(default_factory=dict)


def _link_key(link: str) -> tuple | None:
    """What ``index/current`` names: its text and the folder it leads to (None: it is gone,
    or leads nowhere). Build ids are never reused, and a copied index has other folders."""
    try:
        found = os.stat(link)
        return os.readlink(link), found.st_dev, found.st_ino
    except OSError:
        return None


class IndexHandle:
    """One index folder as this process sees it: the current build, opened once.

    ``query_budget_ms`` bounds the CPU time of one search (see ``searchapp.budget``); the
    default is ``$SEARCHAPP_QUERY_BUDGET_MS`` or 2 s.

    Threading model: a gunicorn worker may answer with several threads (``--threads``), all
    using this one handle. Whoosh's searcher is not safe to share: its readers seek and read
    shared file objects, and with 4 threads a rebuild-under-load test saw read errors. So
    every read of the index (a search, an article, a completion) runs inside ``reading()``,
    which holds one lock per handle: a process answers one index read at a time, the others
    wait (searching is CPU-bound under the GIL, so threads would not run it faster anyway).
    The caches (``BoundedCache``, ``FieldValues``) have locks of their own; ``open()`` takes
    a separate lock, so a reopen after a rebuild happens once. The counters below are only
    changed under the read lock.
    """

    def __init__(self, index_dir: Path | str, query_budget_ms: float | None = None):
        self.index_dir = Path(index_dir)
        self.query_budget_ms = (
            config.query_budget_ms() if query_budget_ms is None else float(query_budget_ms)
        )
        self._open_lock = threading.Lock()
        self._read_lock = threading.RLock()
        self._open: OpenIndex | None = None
        self._current = str(self.index_dir / CURRENT)
        self._open_link: tuple | None = None  # _link_key of ``current`` naming ``_open``
        self._depth = 0  # nested reading() blocks of the thread holding the read lock
        self._reads = 0
        self.cache_hits = 0  # response cache lookups, read by the metrics
        self.cache_misses = 0
        self._seen: dict[int, None] = {}  # hashes of recent requests, oldest first

    @classmethod
    def of(cls, index: IndexHandle | Path | str) -> IndexHandle:
        """``index`` itself if it is a handle, else a new handle of that folder.

        A new handle opens the index again and starts with empty caches: a caller that
        searches more than once (a server, a benchmark) keeps its own handle instead.
        """
        return index if isinstance(index, IndexHandle) else cls(index)

    def open(self) -> OpenIndex:
        """The current build, reopened when ``index/current`` was swapped to a new one.

        Every request asks. When ``current`` names the same build as last time (its link text
        and the folder it leads to: two system calls) the open one is returned; otherwise
        the link's path is resolved, which walks every folder of it.
        """
        opened, link = self._open, _link_key(self._current)
        if opened is not None and link is not None and link == self._open_link:
            return opened
        build = current_build(self.index_dir)
        if build is None:
            raise IndexUnavailable(
                f"no index in {self.index_dir}: build it with "
                f"`searchapp index --index {self.index_dir}`"
            )
        with self._open_lock:
            if self._open is None or self._open.build != build:
                self._open = self._load(build)
                heap.trim()  # the manifest parsed whole, the old build's caches: give them back
            # ``build`` is what ``link`` named unless the link moved meanwhile: then resolve again
            self._open_link = link if link == _link_key(self._current) else None
            return self._open

    def _load(self, build: Path) -> OpenIndex:
        try:
            searcher = whoosh_index.open_dir(str(build)).searcher()
            manifest = {k: v for k, v in read_manifest(build).items() if k not in WRITER_ONLY}
            synonyms = Synonyms.from_data(manifest.get("synonyms"))
            evaluator = QueryEvaluator(searcher)
            vocabulary.attach(searcher.reader(), build)
            return OpenIndex(
                build=build,
                searcher=searcher,
                parser=SearchQueryParser(searcher.schema, synonyms=synonyms),
                relaxed_parser=SearchQueryParser(searcher.schema, relaxed=True, synonyms=synonyms),
                evaluator=evaluator,
                values=FieldValues(evaluator),
                manifest=manifest,
                maps=segment_maps(reader for reader, _offset in evaluator.segments)
                + (evaluator.combined.maps if evaluator.combined is not None else []),
            )
        except Exception as exc:
            raise IndexUnavailable(
                f"the index in {self.index_dir} is damaged ({type(exc).__name__}: {exc}); "
                f"repair it with `searchapp index --rebuild --index {self.index_dir}`"
            ) from exc

    @contextlib.contextmanager
    def reading(self) -> Iterator[OpenIndex]:
        """The current build, for this thread alone until the block ends (see the class).

        When the outermost block ends, the index pages the read mapped are released
        (``whoosh_compat.release_pages``): they stay in the page cache, shared by every
        process, but no longer count in this worker's memory (PSS).
        """
        with self._read_lock:
            self._depth += 1
            opened = None
            try:
                opened = self.open()
                yield opened
            finally:
                self._depth -= 1
                if opened is not None and not self._depth:
                    self._reads += 1
                    if self._reads % RELEASE_EVERY == 0:
                        release_pages(opened.maps)
                    if self._reads % TRIM_EVERY == 0:
                        heap.trim()

    def unreadable(self, exc: BaseException) -> IndexUnavailable:
        """What to raise when reading failed with one of ``INDEX_READ_ERRORS``."""
        return IndexUnavailable(
            f"the index in {self.index_dir} could not be read ({type(exc).__name__}: {exc}); "
            f"repair it with `searchapp index --rebuild --index {self.index_dir}`"
        )

    def stats(self) -> dict:
        """The index's numbers (articles, chunks, languages ...) and its build, from the
        manifest of the build this process reads."""
        manifest = self.open().manifest
        return dict(manifest["stats"], build=manifest.get("build"))

    def cached(self, opened: OpenIndex, key: tuple) -> dict | None:
        """A response kept for ``key`` in this build, counted as a hit or a miss."""
        value = opened.results.get(key)
        if value is None:
            self.cache_misses += 1  # read by the metrics
        else:
            self.cache_hits += 1
        return value

    def remember(self, opened: OpenIndex, key: tuple, value: dict) -> None:
        """Keep a response for ``key`` if this request was seen before (see ``SEEN_KEYS``)."""
        if self._seen_before(key):
            opened.results.put(key, value)

    def _seen_before(self, key: tuple) -> bool:
        """Whether ``key`` is among the last SEEN_KEYS distinct requests; notes it if not."""
        seen = self._seen
        marker = hash(key)
        if marker in seen:
            return True
        seen[marker] = None
        if len(seen) > SEEN_KEYS:
            del seen[next(iter(seen))]  # the oldest
        return False

    def filter_mask(self, opened: OpenIndex, flt: Filters):
        """The boolean mask of documents a filter allows (None: no filter), cached."""
        filter_query = flt.query()
        if filter_query is None:
            return None
        mask = opened.filters.get(flt.key())
        if mask is None:
            mask = opened.evaluator.mask(filter_query)
            opened.filters.put(flt.key(), mask)
        return mask
