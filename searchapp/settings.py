"""Ranking and analysis settings in one place, with the fingerprint a build records.

Every number that decides an order lives here (as Meilisearch keeps ranking rules as index
settings): the per-kind boosts baked into the index, BM25's ``k1``/``b``, the weight of
synonyms, the coordination of an any-word query, the context fields' weights, the fuzzy
bounds. ``fingerprint()`` hashes them together with the synonyms and the analyzer; the build
manifest records it, and an incremental ``searchapp index`` whose fingerprint differs from the
current build's rebuilds everything and says why (the boosts are in the index, so keeping
unchanged articles would mix old and new scores).

``current()`` is what the app uses; ``use()`` swaps it (scripts/evaluate.py measures variants
in-process with it; tests restore the default).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RankingSettings:
    """The ranking knobs; each was measured with ``scripts/evaluate.py`` (see the README)."""

    #: Boost of a chunk's own text by its kind (baked into the index): a title or heading
    #: that matches says more about what the article or section is about.
    kind_boosts: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"title": 4.0, "heading": 1.5})
    )
    #: BM25 term-frequency saturation and length normalisation.
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    #: Synonyms count less than the words typed, so an exact match ranks first.
    synonym_weight: float = 0.5
    #: Coordination of an any-word query (Whoosh's ``OrGroup.factory`` scale): favours
    #: chunks that match more of the words.
    or_scale: float = 0.9
    #: Weight of a query word found in the chunk's section heading (context), added to its
    #: score in the text; 0 searches the text alone.
    heading_weight: float = 0.5
    #: Weight of a Chinese run's character bigrams (the safety net under jieba's words).
    bigram_weight: float = 1.0
    #: In an any-word query, a Chinese run also matches the dictionary words that straddle
    #: two of jieba's words (another segmentation: ``停机`` in ``停 / 机关 / 机``), at this
    #: weight; 0 keeps jieba's words alone.
    crossing_word_weight: float = 1.0
    #: In an any-word query, scores are multiplied by the share of the query's words a chunk
    #: matches, each word weighed by its best score (so by its IDF), to this power; 0 keeps
    #: Whoosh's coordination bonus instead.
    coverage_power: float = 0.0
    #: A plain query of at least this many distinct words (a sentence rather than keywords)
    #: is ranked as an any-word query from the start; 0 always asks for all the words first.
    describe_from_words: int = 3
    #: ... but only when fewer chunks than this have all its words (plenty of all-word
    #: matches means the words belong together; a few means they met by accident).
    describe_below: int = 10
    #: Fuzzy terms (``word~``): edit distance at most this, sharing their first letters
    #: (``fuzzy_prefix``, or ``fuzzy_prefix_short`` for words shorter than
    #: ``fuzzy_short_word``).
    fuzzy_max_distance: int = 2
    fuzzy_prefix: int = 2
    fuzzy_prefix_short: int = 1
    fuzzy_short_word: int = 5

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["kind_boosts"] = dict(sorted(self.kind_boosts.items()))
        return data

    def fingerprint(self) -> str:
        """A short hash of these settings, the synonyms and the analyzer."""
        payload = {
            "settings": self.as_dict(),
            "synonyms": synonyms_fingerprint(),
            "analyzer": analyzer_fingerprint(),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def changes_from(self, other: Mapping) -> list[str]:
        """The names of the settings that differ from ``other`` (an ``as_dict()``)."""
        mine = self.as_dict()
        return sorted(k for k in set(mine) | set(other) if mine.get(k) != other.get(k))


DEFAULT = RankingSettings()
_current = DEFAULT


def current() -> RankingSettings:
    """The settings in force."""
    return _current


@contextmanager
def use(settings: RankingSettings) -> Iterator[RankingSettings]:
    """Run a block with other settings (for measuring variants); restores the old ones."""
    global _current
    previous, _current = _current, settings
    try:
        yield settings
    finally:
        _current = previous


def variant(**changes) -> RankingSettings:
    """The current settings with ``changes`` (``kind_boosts`` may be a plain dict)."""
    if "kind_boosts" in changes:
        changes["kind_boosts"] = _frozen(changes["kind_boosts"])
    return dataclasses.replace(current(), **changes)


def synonyms_fingerprint() -> str:
    from searchapp.synonyms import default_synonyms

    data = default_synonyms().as_data()
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def analyzer_fingerprint() -> str:
    """The analyzer's and segmenter's code, jieba's and rjieba's versions: a change to any
    changes tokens."""
    from importlib import metadata

    from searchapp import analysis, segmenter

    digest = hashlib.sha256(Path(analysis.__file__).read_bytes())
    digest.update(Path(segmenter.__file__).read_bytes())
    for name in ("jieba", "rjieba"):
        digest.update(metadata.version(name).encode())
    return digest.hexdigest()[:16]
