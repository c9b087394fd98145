"""Synonyms: query words that also match other words or phrases, as data.

A query word found in ``synonyms`` also matches its expansions as phrases (``BRI`` finds
"Belt and Road", ``中老铁路`` finds "China-Laos Railway"); a multi-word name found in
``abbreviations`` also matches its abbreviation (and through it, that word's synonyms). The
lists are settings (``[synonyms]`` and ``[abbreviations]`` in ``searchapp.toml``; the
defaults, the bundled archive's own vocabulary, are in ``synonyms.toml``). ``searchapp index``
records them in the build's manifest and the searcher uses the build's copy, so a change
takes effect with the next index run, like any other change to what the index answers.
"""

from __future__ import annotations

import re
import threading

from whoosh import query

from searchapp import settings
from searchapp.analysis import analyze, fold_text


class Synonyms:
    """One set of synonyms and abbreviations, with the queries they expand to."""

    def __init__(self, synonyms: dict[str, list[str]], abbreviations: dict[str, str]):
        self.synonyms = {fold_text(k).strip(): list(v) for k, v in synonyms.items()}
        self.abbreviations = {k.lower(): v for k, v in abbreviations.items()}
        self._phrase_re = (
            re.compile(
                r"(?<![\w\"])("
                + "|".join(re.escape(k) for k in sorted(self.abbreviations, key=len, reverse=True))
                + r")(?![\w\"])",
                re.IGNORECASE,
            )
            if self.abbreviations
            else None
        )
        self._expansions: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_data(cls, data: dict | None) -> Synonyms:
        """From ``as_data()`` (a manifest), or the defaults when there is none."""
        if not data:
            return default_synonyms()
        return cls(data.get("synonyms") or {}, data.get("abbreviations") or {})

    def as_data(self) -> dict:
        """Plain JSON data: what the build manifest records (and a fingerprint can hash)."""
        return {
            "synonyms": dict(sorted(self.synonyms.items())),
            "abbreviations": dict(sorted(self.abbreviations.items())),
        }

    def _expand(self, word: str) -> tuple[tuple[str, ...], ...]:
        # Only words that have synonyms reach the cache: it holds at most len(synonyms)
        # entries, whatever words queries bring.
        if word not in self.synonyms:
            return ()
        with self._lock:
            cached = self._expansions.get(word)
        if cached is None:
            cached = tuple(
                tuple(analyze(phrase, mode="query")) for phrase in self.synonyms.get(word, ())
            )
            with self._lock:
                self._expansions[word] = cached
        return cached

    def queries(self, word: str, fieldname: str = "text") -> list[query.Query]:
        """Phrase queries for the synonyms of one query word (empty when it has none)."""
        queries: list[query.Query] = []
        weight = settings.current().synonym_weight  # less than the words typed: exact first
        for words in self._expand(fold_text(word).strip()):
            if not words:
                continue
            if len(words) == 1:
                queries.append(query.Term(fieldname, words[0], boost=weight))
            else:
                queries.append(query.Phrase(fieldname, list(words), boost=weight))
        return queries

    def expand_phrases(self, text: str) -> str:
        """Rewrite known multi-word names as ``("name" OR ABBR)`` in a query string.

        Only outside quotes; a query that already uses quotes is left as typed.
        """
        if '"' in text or self._phrase_re is None:
            return text
        return self._phrase_re.sub(
            lambda m: f'("{m.group(1)}" OR {self.abbreviations[m.group(1).lower()]})', text
        )


_default: Synonyms | None = None


def default_synonyms() -> Synonyms:
    """The built-in synonyms (``synonyms.toml``), loaded once."""
    global _default
    if _default is None:
        from searchapp.config import BY_NAME

        _default = Synonyms(
            BY_NAME["synonyms"].default_value(), BY_NAME["abbreviations"].default_value()
        )
    return _default


def synonym_queries(word: str, fieldname: str = "text") -> list[query.Query]:
    """The built-in synonyms' queries for one word (see ``Synonyms.queries``)."""
    return default_synonyms().queries(word, fieldname)


def expand_phrase_synonyms(text: str) -> str:
    """The built-in abbreviations applied to a query (see ``Synonyms.expand_phrases``)."""
    return default_synonyms().expand_phrases(text)
