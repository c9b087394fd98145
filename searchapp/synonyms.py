"""Synonyms from the archive's own vocabulary: abbreviations and cross-language names.

A query word found here also matches its expansions as phrases (``BRI`` finds "Belt and
Road", ``中老铁路`` finds "China-Laos Railway"). Kept small and specific: each entry must
help the judged queries in ``tests/relevance/`` (see ``scripts/evaluate.py``).
"""

from __future__ import annotations

import functools
import re

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
    "focac": ["Forum on China-Africa Cooperation"],
}

#: Multi-word names and the abbreviation that stands for them; a query containing the name
#: also matches the abbreviation (and through it, the other synonyms above).
PHRASE_ABBREVIATIONS: dict[str, str] = {
    "united nations": "UN",
    "belt and road": "BRI",
    "china-laos railway": "中老铁路",
    "china laos railway": "中老铁路",
    "asian infrastructure investment bank": "AIIB",
    "shanghai cooperation organization": "SCO",
    "shanghai cooperation organisation": "SCO",
    "forum on china-africa cooperation": "FOCAC",
    "communist party of china": "CPC",
}
_PHRASE_RE = re.compile(
    r"(?<![\w\"])("
    + "|".join(re.escape(k) for k in sorted(PHRASE_ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w\"])",
    re.IGNORECASE,
)

#: Synonyms count less than the words typed, so an exact match ranks first.
SYNONYM_BOOST = 0.5


def _expansions(word: str) -> tuple[tuple[str, ...], ...]:
    # Only words that have synonyms reach the cache: it holds at most len(SYNONYMS) entries,
    # whatever words queries bring.
    return _analyzed_synonyms(word) if word in SYNONYMS else ()


@functools.cache
def _analyzed_synonyms(word: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(analyze(phrase, mode="query")) for phrase in SYNONYMS[word])


def synonym_queries(word: str, fieldname: str = "text") -> list[query.Query]:
    """Phrase queries for the synonyms of one query word (empty when it has none)."""
    queries: list[query.Query] = []
    for words in _expansions(fold_text(word).strip()):
        if not words:
            continue
        if len(words) == 1:
            queries.append(query.Term(fieldname, words[0], boost=SYNONYM_BOOST))
        else:
            queries.append(query.Phrase(fieldname, list(words), boost=SYNONYM_BOOST))
    return queries


def expand_phrase_synonyms(text: str) -> str:
    """Rewrite known multi-word names as ``("name" OR ABBR)`` in a query string.

    Only outside quotes; a query that already uses quotes is left as typed.
    """
    if '"' in text:
        return text
    return _PHRASE_RE.sub(
        lambda m: f'("{m.group(1)}" OR {PHRASE_ABBREVIATIONS[m.group(1).lower()]})', text
    )
