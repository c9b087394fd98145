"""Turn what a user types into a Whoosh query, safely.

Whoosh's query language works (words ANDed, ``"phrases"``, ``OR``, ``-exclusion``,
``prefix*``, ``term~`` fuzzy, ``field:value`` for the documented fields), plus what a
bilingual archive needs: Chinese words match on jieba words or on character bigrams (so
segmentation differences do not lose matches), synonyms from the archive's own vocabulary,
and bounds on every expansion. A query the parser cannot make sense of is searched as plain
words, never an error.

Range syntax (``[a TO z]``) is not part of it: a range expands to every term between its ends,
beyond any bound, and Whoosh's range regex is superlinear (``[TO`` x 330 took 2 s to parse).
Dates have the ``date_from``/``date_to`` parameters. Fields only shown (``id``, ``position``,
``source``...) or internal (``spell``, ``cjk``) are not fields in a query, just words.
"""

from __future__ import annotations

import copy
import re
from itertools import islice
from typing import NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh import qparser, query
from whoosh.support.levenshtein import distance

from searchapp import budget, settings, vocabulary
from searchapp.analysis import (
    CJK_CHARS,
    analyze,
    cjk_bigrams,
    crossing_words,
    fold_text,
    has_cjk,
)
from searchapp.synonyms import Synonyms, default_synonyms
from searchapp.whoosh_compat import (
    LimitedExpansion,
    is_null_query,
    wildcard_has_literal_prefix,
)

#: Longest query accepted (characters); longer input is cut, and the cut is documented.
MAX_QUERY_CHARS = 1000
#: Most terms a query may have after parsing; the rest are dropped.
MAX_QUERY_TERMS = 64
#: Prefix, wildcard and fuzzy terms expand to at most this many index terms (most frequent).
MAX_EXPANSIONS = 64
#: How many candidate terms an expansion looks at before keeping the most frequent.
MAX_EXPANSION_SCAN = 5000
#: Deepest parenthesis nesting kept; deeper input is flattened.
MAX_NESTING = 8
#: Most prefix, wildcard and fuzzy terms in one query; further ones are searched as words.
MAX_EXPANDING_TERMS = 8
#: Longest fuzzy term (characters); a longer one is searched as a plain word (the edit distance
#: to each candidate word, see ``terms_within``, costs in proportion to its length).
MAX_FUZZY_CHARS = 24
#: Most vocabulary words one fuzzy term or spelling correction compares itself with.
MAX_VOCABULARY_SCAN = 10_000

#: Words are looked for in the chunk text. Headings and the article title were searched too,
#: but scripts/evaluate.py showed no gain, and one field makes every query cheaper.
DEFAULT_FIELD = "text"
FIELD_ALIASES = {"heading": ["section"], "text": ["body", "content"]}
#: The fields a query may name (``kind:caption``); any other ``name:`` is part of a word.
QUERY_FIELDS = ("kind", "lang", "section", "heading", "text", "body", "content", "date")

_CJK_SPLIT_RE = re.compile(f"([{CJK_CHARS}]+)")
_SYNTAX_CHARS_RE = re.compile(r"[\"()*?~^:+\-\[\]{}]")


def terms_within(reader, fieldname: str, text: str, maxdist: int, prefix: int) -> list[str]:
    """Index words within ``maxdist`` edits of ``text`` that share its first ``prefix``
    characters, comparing at most MAX_VOCABULARY_SCAN words.

    Whoosh's own ``terms_within`` compares every word of the prefix range: after one file added
    ``w0``..``w99999``, correcting ``wvfzddwj`` took 2.9 s of CPU, and the time budget could not
    stop it between two yields. Here a range larger than the bound is narrowed by one more
    character of ``text`` until it fits, so a huge vocabulary misses corrections of that
    character, not the server's CPU. Only words of a near length are compared. The range and
    the lengths come from the build's vocabulary file when it has one (``vocabulary``).
    """
    prefix = max(0, min(prefix, len(text)))
    words_of = vocabulary.of(reader, fieldname)
    if words_of is not None:
        return _vocabulary_within(words_of, text, maxdist, prefix)
    while True:
        btexts = list(
            islice(reader.expand_prefix(fieldname, text[:prefix]), MAX_VOCABULARY_SCAN + 1)
        )
        if len(btexts) <= MAX_VOCABULARY_SCAN or prefix >= len(text):
            break
        prefix += 1
        budget.check()
    words = []
    for btext in budget.checked(btexts[:MAX_VOCABULARY_SCAN], every=512):
        word = btext.decode("utf-8") if isinstance(btext, bytes) else btext
        if abs(len(word) - len(text)) <= maxdist and distance(word, text, limit=maxdist) <= maxdist:
            words.append(word)
    return words


def _vocabulary_within(words_of: vocabulary.Vocabulary, text: str, maxdist: int, prefix: int):
    """``terms_within`` over a vocabulary file: the same range, the same words, in order; the
    distances by rapidfuzz's optimal string alignment, the restricted Damerau-Levenshtein
    distance Whoosh's ``distance`` computes, in C (``tests/test_vocabulary.py`` compares):
    a typo's 2,500 near words took ~45 ms in Python."""
    while True:
        lo, hi = words_of.prefix_range(text[:prefix].encode("utf-8"))
        if hi - lo <= MAX_VOCABULARY_SCAN or prefix >= len(text):
            break
        prefix += 1
    hi = min(hi, lo + MAX_VOCABULARY_SCAN)
    near = np.flatnonzero(np.abs(words_of.word_lengths(lo, hi) - len(text)) <= maxdist) + lo
    words = [words_of.word(i).decode("utf-8") for i in near.tolist()]
    if not words:
        return []
    budget.check()
    found = process.cdist([text], words, scorer=OSA.distance, score_cutoff=maxdist)[0]
    return [words[i] for i in np.flatnonzero(found <= maxdist).tolist()]


def _top_terms(reader, fieldname: str, btexts) -> list[bytes]:
    candidates = list(islice(budget.checked(btexts), MAX_EXPANSION_SCAN))
    if len(candidates) <= MAX_EXPANSIONS:
        return candidates
    candidates.sort(key=lambda b: -reader.doc_frequency(fieldname, b))
    return candidates[:MAX_EXPANSIONS]


class _Bounded(LimitedExpansion):
    """Expansions capped at MAX_EXPANSIONS terms (the most frequent), once per query object
    (and once per search: see ``LimitedExpansion``)."""

    def limit_expansions(self, reader, btexts) -> list[bytes]:
        return _top_terms(reader, self.fieldname, btexts)


class BoundedPrefix(_Bounded, query.Prefix):
    """A prefix query that expands to at most MAX_EXPANSIONS terms: of the first
    MAX_EXPANSION_SCAN words with the prefix, the most frequent (from the build's vocabulary
    file when it has one: the same words, without walking the reader)."""

    def candidate_terms(self, ixreader):
        words_of = vocabulary.of(ixreader, self.fieldname)
        if words_of is None:
            return super().candidate_terms(ixreader)
        text = self.text if isinstance(self.text, bytes) else self.text.encode("utf-8")
        lo, hi = words_of.prefix_range(text)
        return _FromVocabulary(words_of, lo, min(hi, lo + MAX_EXPANSION_SCAN))

    def limit_expansions(self, reader, btexts) -> list[bytes]:
        if not isinstance(btexts, _FromVocabulary):
            return super().limit_expansions(reader, btexts)
        words_of, lo, hi = btexts
        if hi - lo <= MAX_EXPANSIONS:
            return words_of.words(lo, hi)
        return [words_of.word(i) for i in words_of.by_frequency(lo, hi, MAX_EXPANSIONS)]


class _FromVocabulary(NamedTuple):
    """A prefix's range of words in a vocabulary (``BoundedPrefix.candidate_terms``)."""

    words_of: vocabulary.Vocabulary
    lo: int
    hi: int


class BoundedWildcard(_Bounded, query.Wildcard):
    """A wildcard query that expands to at most MAX_EXPANSIONS terms."""


class BoundedFuzzyTerm(_Bounded, query.FuzzyTerm):
    """A fuzzy term with bounded edit distance, prefix and expansions (see settings)."""

    def prepare_expansion(self) -> None:
        rules = settings.current()
        self.maxdist = max(0, min(self.maxdist, rules.fuzzy_max_distance))
        # Terms sharing a 2-letter prefix are compared (1 for short words): a bounded scan.
        short = len(self.text) < rules.fuzzy_short_word
        prefix = rules.fuzzy_prefix_short if short else rules.fuzzy_prefix
        self.prefixlength = max(prefix, self.prefixlength)

    def candidate_terms(self, ixreader) -> list[str]:
        return terms_within(ixreader, self.fieldname, self.text, self.maxdist, self.prefixlength)


_BOUNDED = {
    query.Prefix: BoundedPrefix,
    query.Wildcard: BoundedWildcard,
    query.FuzzyTerm: BoundedFuzzyTerm,
}


def cjk_run_query(run: str, boost: float = 1.0, relaxed: bool = False) -> query.Query:
    """A run of Chinese characters: its jieba words together, or its bigrams as a phrase.

    ``relaxed`` (used when a strict query found nothing) wants any of the words instead.
    """
    words = analyze(run, mode="query")
    if len(words) == 1:
        by_words: query.Query = query.Term("text", words[0])
    elif relaxed:
        # Any word, and the words of jieba's other segmentations (``停机`` in ``停机关机重启``).
        rules = settings.current()
        terms = [query.Term("text", w) for w in words]
        if rules.crossing_word_weight > 0:
            terms += [
                query.Term("text", w, boost=rules.crossing_word_weight)
                for w in crossing_words(run)
                if w not in words
            ]
        return query.Or(terms, boost=boost, scale=rules.or_scale)
    else:
        by_words = query.And([query.Term("text", w) for w in words])
    grams = [g for g, _, _ in cjk_bigrams(run)]
    if len(grams) == 1 and len(run) == 1:
        by_grams: query.Query = BoundedPrefix("cjk", run)
    elif len(grams) == 1:
        by_grams = query.Term("cjk", grams[0])
    else:
        by_grams = query.Phrase("cjk", grams, slop=1)
    by_grams.boost = settings.current().bigram_weight
    return query.Or([by_words, by_grams], boost=boost)


def make_phrase(fieldname, words, slop=1, boost=1.0, char_ranges=None):
    """Phrase class for the parser: a Chinese phrase in ``text`` also matches on bigrams."""
    if not words:
        return query.NullQuery
    phrase = query.Phrase(fieldname, words, slop=slop, boost=boost, char_ranges=char_ranges)
    if fieldname == "text" and all(has_cjk(w) for w in words):
        run = "".join(words)
        grams = [g for g, _, _ in cjk_bigrams(run)]
        by_grams = (
            query.Phrase("cjk", grams, slop=1) if len(grams) > 1 else query.Term("cjk", grams[0])
        )
        return query.Or([phrase, by_grams], boost=boost)
    return phrase


class SearchQueryParser(qparser.QueryParser):
    """Whoosh's parser with Chinese handling, synonyms and bounded expansions.

    ``relaxed=True`` makes a parser that ORs the words (best matches first); it is used only
    when the strict AND query found nothing.
    """

    def __init__(self, schema, relaxed: bool = False, synonyms: Synonyms | None = None):
        scale = settings.current().or_scale
        group = qparser.OrGroup.factory(scale) if relaxed else qparser.AndGroup
        super().__init__(DEFAULT_FIELD, schema, group=group)
        self.relaxed = relaxed
        self.synonyms = synonyms or default_synonyms()
        # "-" and "+" are operators only at the start of a word: "high-speed" is one word.
        self.remove_plugin_class(qparser.PlusMinusPlugin)
        self.add_plugin(
            qparser.PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-")
        )
        self.add_plugin(qparser.FuzzyTermPlugin())
        self.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        self.remove_plugin_class(qparser.BoostPlugin)
        self.remove_plugin_class(qparser.RangePlugin)
        self.plugins = [
            qparser.FieldsPlugin(expr=rf"(?<![\w:])(?P<text>{'|'.join(QUERY_FIELDS)}):")
            if isinstance(plugin, qparser.FieldsPlugin)
            else plugin
            for plugin in self.plugins
        ]
        self.phraseclass = make_phrase

    def taggers(self):
        """Whoosh's taggers, in priority order, built once per set of plugins.

        Whoosh asks every plugin for new taggers (compiling their regular expressions again) at
        every parse: a sixth of the parse. Taggers and filters keep no state between parses.
        """
        return self._priorized_once("taggers")

    def filters(self):
        """Whoosh's filters, in priority order, listed once per set of plugins."""
        return self._priorized_once("filters")

    def _priorized_once(self, methodname: str) -> list:
        plugins = tuple(self.plugins)
        cache = self.__dict__.setdefault("_priorized_cache", {})
        found = cache.get(methodname)
        if found is None or found[0] != plugins:
            found = cache[methodname] = (plugins, self._priorized(methodname))
        return found[1]

    def tag(self, text, pos=0, debug=False):
        """Whoosh's tagging, done once per text within a search.

        Tagging (every plugin's regex tried at every position) is most of a parse. The strict
        and relaxed parsers tag alike (only the group that wraps the nodes differs), so within
        one search (``budget.memo()``) the second pass takes a copy of the first one's nodes.
        """
        memo = budget.memo()
        if memo is None or debug:
            return super().tag(text, pos=pos, debug=debug)
        key = ("tagged", tuple(type(plugin) for plugin in self.plugins), text, pos)
        nodes = memo.get(key)
        if nodes is None:
            nodes = super().tag(text, pos=pos).nodes
            memo[key] = copy.deepcopy(nodes)  # filters change nodes in place: keep a clean copy
        else:
            nodes = copy.deepcopy(nodes)
        return self.group(nodes)

    def term_query(self, fieldname, text, termclass, boost=1.0, tokenize=True, removestops=True):
        if termclass is query.FuzzyTerm and len(text) > MAX_FUZZY_CHARS:
            termclass = query.Term  # a documented bound: long fuzzy terms are plain words
        if termclass in _BOUNDED:
            text = fold_text(text)
            if termclass is query.Wildcard and not wildcard_has_literal_prefix(fieldname, text):
                # Without a literal prefix a wildcard scans the whole vocabulary: search the
                # word instead (this is a documented bound).
                plain = re.sub(r"[*?\[\]]+", "", text)
                if not plain:
                    return None
                return self.term_query(fieldname, plain, query.Term, boost, tokenize, removestops)
            return _BOUNDED[termclass](fieldname, text, boost=boost)
        if termclass is query.Term and fieldname == "text" and tokenize:
            if has_cjk(text):
                return self._mixed_query(text, boost)
            synonyms = self.synonyms.queries(text)
            if synonyms:
                plain = super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
                parts = [plain] if plain is not None else []
                return query.Or(parts + synonyms, boost=boost)
        return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)

    def _mixed_query(self, text: str, boost: float) -> query.Query | None:
        parts: list[query.Query] = []
        for piece in _CJK_SPLIT_RE.split(fold_text(text)):
            if not piece:
                continue
            if has_cjk(piece):
                parts.append(cjk_run_query(piece, relaxed=self.relaxed))
            else:
                parts.extend(query.Term("text", w) for w in analyze(piece, mode="query"))
        if not parts:
            return None
        if len(parts) == 1:
            combined = parts[0]
        elif self.relaxed:
            combined = query.Or(parts, scale=settings.current().or_scale)
        else:
            combined = query.And(parts)
        synonyms = self.synonyms.queries(text)
        if synonyms:
            combined = query.Or([combined] + synonyms)
        combined.boost = boost
        return combined


def with_context(q: query.Query, weight: float) -> query.Query:
    """Let every word of ``q`` also match the chunk's section heading, at ``weight``.

    A passage is about what its heading says: ``remote desktop viewer`` finds the paragraph
    under ``xtightvncviewer - virtual network computing client`` even when the paragraph never
    says "viewer". Phrases stay in the text, and so do Chinese words: a Chinese section
    heading (``描述``, ``选项``) names a kind of section, not its subject.
    """
    if weight <= 0:
        return q
    if isinstance(q, query.Term) and q.fieldname == DEFAULT_FIELD and not has_cjk(q.text):
        heading = query.Term("heading", q.text, boost=weight)
        return query.Or([query.Term(q.fieldname, q.text), heading], boost=q.boost)
    if isinstance(q, query.And | query.Or) and not isinstance(q, query.Phrase):
        q = copy.copy(q)
        q.subqueries = [with_context(child, weight) for child in q.subqueries]
    return q


def parse_user_query(parser: SearchQueryParser, text: str) -> query.Query:
    """Parse ``text``; fall back to plain words when the syntax is broken or too deep.

    Within one search the same parser and text give the same query object (nothing changes
    a parsed query: ``with_context`` copies), so the passes of ``searching`` parse each text
    once per parser, and the relaxed parser reuses the strict one's tagging (see ``tag``).
    """
    memo = budget.memo()
    key = ("parsed", id(parser), text)
    if memo is not None and key in memo:
        return memo[key]
    parsed = _parse_user_query(parser, text)
    if memo is not None:
        memo[key] = parsed
    return parsed


def _parse_user_query(parser: SearchQueryParser, text: str) -> query.Query:
    text = clean_query_text(text)
    if not text:
        return query.Every()
    if _syntax_is_broken(text):
        return parse_plain_words(parser, text)
    try:
        expanded = parser.synonyms.expand_phrases(text)
        parsed = (
            _lowercase_words_query(parser, expanded)
            or _chinese_words_query(parser, expanded)
            or _quoted_words_query(parser, expanded)
            or parser.parse(expanded)
        )
    except Exception:  # Whoosh raises odd errors on odd input; plain words never fail
        return parse_plain_words(parser, text)
    if _is_empty(parsed) or _has_error(parsed):
        return parse_plain_words(parser, text)
    return _cap_terms(parsed)


_LOWERCASE_WORDS_RE = re.compile(r"[a-z]+(?: [a-z]+){0,7}")


def _lowercase_words_query(parser: SearchQueryParser, text: str) -> query.Query | None:
    """What the strict parser makes of up to 8 lowercase words without synonyms (most
    queries): a ``Term`` per word, ANDed, without Whoosh's tagging and filtering, which try
    every plugin's regex at every character. None for anything else, left to the parser.
    ``tests/test_security.py`` compares the two on a vocabulary."""
    if parser.relaxed or not _LOWERCASE_WORDS_RE.fullmatch(text):
        return None
    field = parser.schema[DEFAULT_FIELD]

    def word_query(word: str) -> query.Query | None:
        if parser.synonyms.queries(word):
            return None
        tokens = list(field.process_text(word, mode="query", tokenize=True, removestops=True))
        return query.Term(DEFAULT_FIELD, tokens[0]) if len(tokens) == 1 else None

    return _and_of_words(text, word_query)


_QUOTED_WORDS_RE = re.compile(r'"([a-z]+(?: [a-z]+){1,7})"')


def _quoted_words_query(parser: SearchQueryParser, text: str) -> query.Query | None:
    """What the strict parser makes of one quoted phrase of 2 to 8 lowercase words (a
    phrase query: a sixth of the bench's): Whoosh's ``PhraseNode.query`` on the words,
    without tagging the text with every plugin's regex (about a tenth of a phrase search).
    None for anything else (stop words in it, one word left, synonyms), left to the parser.
    ``tests/test_security.py`` compares the two on a vocabulary."""
    if parser.relaxed:
        return None
    found = _QUOTED_WORDS_RE.fullmatch(text)
    if found is None or any(parser.synonyms.queries(w) for w in found.group(1).split(" ")):
        return None
    field = parser.schema[DEFAULT_FIELD]
    words, char_ranges = [], []
    for token in field.tokenize(found.group(1), mode="query", chars=True):
        words.append(token.text)
        char_ranges.append((found.start(1) + token.startchar, found.start(1) + token.endchar))
    if len(words) != found.group(1).count(" ") + 1:
        return None
    return parser.phraseclass(DEFAULT_FIELD, words, slop=1, boost=1.0, char_ranges=char_ranges)


_CHINESE_WORDS_RE = re.compile(rf"[{CJK_CHARS}]+(?: [{CJK_CHARS}]+){{0,7}}")


def _chinese_words_query(parser: SearchQueryParser, text: str) -> query.Query | None:
    """What the strict parser makes of up to 8 runs of Chinese characters (a Chinese query:
    a fifth of the bench's): each run's ``term_query`` (its jieba words, its bigrams), ANDed,
    without Whoosh's tagging and filtering (76 -> 45 us warm, 185 -> 120 us the first time
    its words are segmented). None for anything else, left to the parser.
    ``tests/test_security.py`` compares the two on runs of the test corpora."""
    if parser.relaxed or not _CHINESE_WORDS_RE.fullmatch(text):
        return None
    return _and_of_words(text, lambda run: parser.term_query(DEFAULT_FIELD, run, query.Term))


def _and_of_words(text: str, word_query) -> query.Query | None:
    """The AND of ``word_query(word)`` for the words of ``text`` (one space apart), each with
    its place in ``text`` as Whoosh's parser notes it, normalised as the parser does; None
    when ``word_query`` gives None for any word (the parser must decide)."""
    parts: list[query.Query] = []
    at = 0
    for word in text.split(" "):
        part = word_query(word)
        if part is None:
            return None
        part.startchar, part.endchar = at, at + len(word)
        parts.append(part)
        at += len(word) + 1
    if len(parts) == 1:
        # ``And([part]).normalize()`` of a lone word whose query is no And, range, Every or
        # null query is the part normalised (a copy when it carries a boost); Whoosh's
        # generic pass over one child took ~10 us of a one-word query
        only = parts[0].normalize()
        if only is not query.NullQuery and not isinstance(only, _NORMALISED_AWAY):
            return only if only.boost == 1.0 else only.with_boost(only.boost)
    found = query.And(parts)
    found.startchar, found.endchar = 0, len(text)
    return found.normalize()


#: Children that ``And.normalize`` merges, widens or drops rather than returns as they are.
_NORMALISED_AWAY = (query.And, query.Every, query.TermRange, query.NumericRange)


#: The words the query parser reads as operators (in capitals only).
OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_OPERATOR_RE = re.compile(rf"\b({'|'.join(sorted(OPERATOR_WORDS))})\b|[\"()]|\w:|(^|\s)[-+]")


def is_plain(text: str) -> bool:
    """True for a query of plain words (no quotes, operators, fields or exclusions)."""
    return not _OPERATOR_RE.search(clean_query_text(text))


def relax_to_any(relaxed_parser: SearchQueryParser, text: str) -> query.Query | None:
    """For a plain multi-word query that matched nothing: any of its words, best first.

    Returns None when the query uses operators or is a single word (nothing to relax).
    """
    text = clean_query_text(text)
    if _syntax_is_broken(text):  # searched as its plain words, so relaxed as they would be
        text = " ".join(_plain_words(text))
    if not text or not is_plain(text):
        return None
    if len(text.split()) < 2 and not has_cjk(text):
        return None
    parsed = parse_user_query(relaxed_parser, text)
    if isinstance(parsed, query.Or) and not getattr(parsed, "scale", None):
        parsed.scale = settings.current().or_scale  # Whoosh's OrGroup drops its scale
    return None if _is_empty(parsed) else parsed


def parse_plain_words(parser: SearchQueryParser, text: str) -> query.Query:
    """Search the words of ``text`` with every operator character removed."""
    words = _plain_words(text)
    if not words:
        return query.NullQuery
    try:
        parsed = parser.parse(" ".join(words[:MAX_QUERY_TERMS]))
    except Exception:
        return query.NullQuery
    return _cap_terms(parsed)


def _plain_words(text: str) -> list[str]:
    words = _SYNTAX_CHARS_RE.sub(" ", text).split()
    return [w for w in words if w.upper() not in OPERATOR_WORDS]


def clean_query_text(text: str) -> str:
    """Drop control characters, collapse whitespace and cut to MAX_QUERY_CHARS."""
    text = re.sub(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", " ", text)
    # "?" ends questions far more often than it is a wildcard: treat it as punctuation.
    text = re.sub(r"[?？]", " ", text)
    text = " ".join(text.split())
    return text[:MAX_QUERY_CHARS]


def _syntax_is_broken(text: str) -> bool:
    if text.count('"') % 2:
        return True
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif char == ")":
            depth -= 1
            if depth < 0:
                return True
    if depth:
        return True
    stripped = text.strip()
    if stripped.upper() in ("AND", "OR", "NOT") or stripped in ("-", "+", "*", "~", ":"):
        return True
    return bool(re.search(r"(^|\s)(AND|OR|ANDNOT|ANDMAYBE)\s*$|^\s*(AND|OR)\s", text))


def _is_empty(q: query.Query) -> bool:
    return is_null_query(q)


def _has_error(q: query.Query) -> bool:
    if getattr(q, "error", None) is not None:
        return True
    return any(_has_error(child) for child in q.children())


def _cap_terms(q: query.Query) -> query.Query:
    """Keep at most MAX_QUERY_TERMS leaf queries, so 1,000-word queries stay fast."""
    count = 0
    expanding = 0

    def visit(node: query.Query) -> query.Query | None:
        nonlocal count, expanding
        if isinstance(node, query.compound.CompoundQuery):
            kept = [c for c in (visit(child) for child in node.subqueries) if c is not None]
            if not kept:
                return None
            node.subqueries = kept
            return node
        if isinstance(node, _Bounded):
            expanding += 1
            if expanding > MAX_EXPANDING_TERMS:
                plain = re.sub(r"[*?\[\]]+", "", node.text)
                node = query.Term(node.fieldname, plain) if plain else None
                if node is None:
                    return None
        if node.is_leaf():
            count += 1
            return node if count <= MAX_QUERY_TERMS else None
        return node

    capped = visit(q)
    return capped if capped is not None else query.NullQuery
