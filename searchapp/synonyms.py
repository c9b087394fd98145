"""Synonyms from the archive's own vocabulary: abbreviations and cross-language names.

A query word found here also matches its expansions as phrases (``BRI`` finds "Belt and
Road", ``中老铁路`` finds "China-Laos Railway"). Kept small and specific: each entry must
help the judged queries in ``tests/relevance/`` (see ``scripts/evaluate.py``).
"""

from __future__ import annotations

import functools

from whoosh import query

from searchapp.analysis import analyze, fold_text

SYNONYMS: dict[str, list[str]] = {
    "bri": ["Belt and Road"],
    "un": ["United Nations"],
    "sco": ["Shanghai Cooperation Organization"],
    "aiib": ["Asian Infrastructure Investment Bank"],
    "cpc": ["Communist Party of China"],
    "prc": ["People's Republic of China"],
    "emu": ["动车组"],
    "一带一路": ["Belt and Road"],
    "中老铁路": ["China-Laos Railway"],
    "联合国": ["United Nations"],
    "上合组织": ["Shanghai Cooperation Organization"],
}


@functools.cache
def _expansions(word: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(analyze(phrase, mode="query")) for phrase in SYNONYMS.get(word, ()))


def synonym_queries(word: str, fieldname: str = "text") -> list[query.Query]:
    """Phrase queries for the synonyms of one query word (empty when it has none)."""
    queries: list[query.Query] = []
    for words in _expansions(fold_text(word).strip()):
        if not words:
            continue
        if len(words) == 1:
            queries.append(query.Term(fieldname, words[0]))
        else:
            queries.append(query.Phrase(fieldname, list(words)))
    return queries
