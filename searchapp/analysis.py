"""One text analyzer for English and Chinese.

Text is folded (full-width to ASCII, accents off, curly quotes straight, traditional Chinese
characters to simplified, lower case), then split into runs: Chinese runs go through jieba,
other runs into words. English words lose possessive 's, stop words go, and the rest are
stemmed with Porter2. Token positions are sequential in both languages so phrase queries work
(jieba's own ChineseAnalyzer uses character offsets as positions, which breaks phrases).

When indexing, a long Chinese word also yields the dictionary words inside it at the same
position (``中华人民共和国`` also gives ``共和国``), so a word inside a longer word is found.
Character offsets always point into the original text, for highlighting.

The schema pickles these classes into the index: keep them importable at this module path.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from whoosh.analysis import Composable, Filter, SpaceSeparatedTokenizer, Token, Tokenizer

from searchapp import segmenter
from searchapp.caches import BoundedCache
from searchapp.stemming import stem as porter2_stem

#: Chinese (and other CJK) characters: ideographs, radicals, 々 〇 and Suzhou numerals.
CJK_CHARS = "\u2e80-\u2fff\u3005\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(
    rf"(?P<cjk>[{CJK_CHARS}]+)"
    rf"|(?P<num>\d+(?:[.,]\d+)+)"
    rf"|(?P<word>[^\W_{CJK_CHARS}]+(?:'[^\W_{CJK_CHARS}]+)*)"
)
_CJK_RE = re.compile(f"[{CJK_CHARS}]")

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)

ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with".split()
)


@functools.cache
def _t2s_table() -> dict[int, str]:
    """Traditional -> simplified character table, from OpenCC's dictionary."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 1 and len(parts[1]) == 1:
            table[ord(parts[0])] = parts[1]
    return table


@functools.lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """Fold one character: width, accents, case, quotes, traditional Chinese."""
    folded = unicodedata.normalize("NFKC", char)
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFC", stripped) or folded
    return folded.lower().translate(_QUOTES).translate(_t2s_table())


#: Characters whose folding the translate table keeps (a bound: queries can hold any of the
#: 1.1 million code points; the ones real text uses fit many times over).
FOLD_TABLE_SIZE = 65536


class _FoldTable(dict):
    """A ``str.translate`` table that folds each character once, on first sight, and notes
    in ``resizing`` each character it has seen fold to more or fewer than one."""

    def __init__(self) -> None:
        super().__init__()
        self.resizing: set[str] = set()  # at most about 1,100: all Unicode has

    def __missing__(self, codepoint: int) -> str:
        folded = fold_char(chr(codepoint))
        if len(folded) != 1:
            self.resizing.add(chr(codepoint))
        if len(self) < FOLD_TABLE_SIZE:
            self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """Folded text and, when lengths differ, the original index of each folded character."""
    if text.isascii():
        return text.lower().replace("`", "'"), None
    folded = text.translate(_FOLD_TABLE)
    # translate looked each character up, so any that folds to other than one is noted
    if len(folded) == len(text) and _FOLD_TABLE.resizing.isdisjoint(text):
        return folded, None
    out: list[str] = []
    offsets: list[int] = []
    same_length = True
    for index, char in enumerate(text):
        folded = fold_char(char)
        if len(folded) != 1:
            same_length = False
        out.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(out), (None if same_length else offsets)


def fold_text(text: str) -> str:
    """Just the folded text (for comparisons and vocabulary)."""
    return fold(text)[0]


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


class _Call:
    """One tokenizer call: its options, and ``fill``, which sets the one Token the call
    reuses (Whoosh's convention) to a word: its text, position and the characters it came
    from in the original text (folding may change lengths)."""

    __slots__ = ("token", "fill", "removestops", "start_pos", "start_char", "tokenize", "mode")

    def __init__(self, token, offsets, length, keeporiginal, positions, chars, **options):
        self.token = token
        for name, value in options.items():
            setattr(self, name, value)
        start_char = self.start_char

        def fill(text: str, pos: int, start: int, end: int) -> Token:
            """The token of ``text`` at position ``pos``, from folded characters [start, end)."""
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                if offsets is not None:
                    start = offsets[start] if start < len(offsets) else length
                    end = offsets[end - 1] + 1 if end > 0 else 0
                token.startchar = start_char + start
                token.endchar = start_char + end
            return token

        self.fill = fill


class _FoldingTokenizer(Tokenizer):
    """What both tokenizers share: Whoosh's call, the folded text, one reused Token."""

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded, offsets = fold(value)
        call = _Call(
            token,
            offsets,
            len(value),
            keeporiginal,
            positions,
            chars,
            removestops=removestops,
            start_pos=start_pos,
            start_char=start_char,
            tokenize=tokenize,
            mode=mode,
        )
        return self.tokens(call, folded, value)

    def tokens(self, call: _Call, folded: str, value: str):
        """Yield ``call.fill(text, pos, start, end)`` for each token of ``folded``."""
        raise NotImplementedError


class BilingualTokenizer(_FoldingTokenizer):
    """Folds text and splits it into words (English) and jieba words (Chinese).

    ``mode="index"`` adds the dictionary words inside long Chinese words at the same position.
    """

    def __init__(
        self, subwords: bool = True, stoplist: frozenset[str] = frozenset(), chinese: bool = True
    ):
        self.subwords = subwords
        self.stoplist = stoplist
        self.chinese = chinese  # False: skip Chinese runs (highlighting finds them as strings)

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and other.subwords == self.subwords
            and other.stoplist == self.stoplist
        )

    def tokens(self, call: _Call, folded: str, value: str):
        fill, token = call.fill, call.token
        if not call.tokenize:  # the whole text as one token
            fill(folded, call.start_pos, 0, 0)
            token.original = folded
            token.startchar, token.endchar = call.start_char, call.start_char + len(value)
            yield token
            return
        subwords = self.subwords and call.mode == "index"
        remember = call.mode == "index"  # queries: only short runs are worth keeping
        pos = call.start_pos
        for match in _TOKEN_RE.finditer(folded):
            if match.lastgroup == "cjk":
                if not getattr(self, "chinese", True):
                    continue
                primaries = primary_words(match.group(), remember)
                at = match.start()
                for word, begin, end in _segment(primaries, subwords):
                    if word is None:  # marks the next primary word
                        continue
                    token.cjk = True
                    yield fill(word, pos + begin[1], at + begin[0], at + end)
                pos += len(primaries)
                continue
            word = match.group()
            if match.lastgroup == "word" and "'" in word:
                if word.endswith("'s"):
                    word = word[:-2]
                word = word.replace("'", "")
            if call.removestops and word in self.stoplist:
                continue  # dropped without a position, so phrases skip stop words
            token.cjk = False
            yield fill(word, pos, match.start(), match.end())
            pos += 1


#: jieba's segmentations of indexed text: runs of an article are segmented for the text field
#: and again for the vocabulary. Filled by the indexer (``mode="index"``) only.
_SEGMENTATIONS = BoundedCache(max_entries=50_000, max_bytes=32 * 1024 * 1024)
#: Segmentations of query runs, apart and small: a search segments its runs several times
#: (strict and relaxed parses, "describe", corrections), but distinct queries bring distinct
#: runs without end. A 900-character query of random ideographs is cut into dozens of short
#: runs (folding maps some of its characters to astral-plane ones, outside CJK_CHARS): kept
#: in the indexer's cache, they grew the workers by about 4 KB a query until it was full, 42 MB
#: for two workers (scripts/memprobe.py finds it). This one is full after a few hundred such
#: queries, at about 2 MB.
_QUERY_SEGMENTATIONS = BoundedCache(max_entries=2_048, max_bytes=2 * 1024 * 1024)
#: Longest query run kept at all (a long one is not asked again).
MAX_CACHED_QUERY_RUN = 16


def primary_words(run: str, remember: bool = True) -> tuple[tuple[str, int, int], ...]:
    """jieba's words of a run of Chinese characters, as (word, start, end).

    ``remember``: kept in the indexer's cache (indexed text); else in the query cache, when
    short.
    """
    found = _SEGMENTATIONS.get(run)
    if found is None and not remember:
        found = _QUERY_SEGMENTATIONS.get(run)
    if found is None:
        found = segmenter.cut(run)
        if remember:
            _SEGMENTATIONS.put(run, found)
        elif len(run) <= MAX_CACHED_QUERY_RUN:
            _QUERY_SEGMENTATIONS.put(run, found)
    return found


def crossing_words(run: str, longest: int = 4) -> list[str]:
    """Dictionary words of a Chinese run that straddle two of jieba's words.

    jieba picks one segmentation; these are the words of the others: ``停机关机重启`` is cut
    ``停 / 机关 / 机 / 重启``, and ``停机`` and ``关机`` are words it straddled. A relaxed query
    (any word) also looks for them. Words inside one of jieba's words are left out: the index
    has those sub-words already, so they would only count twice.
    """
    primaries = primary_words(run, remember=False)
    spans = [(start, end) for _, start, end in primaries]
    found = []
    for size in range(2, longest + 1):
        for i in range(len(run) - size + 1):
            gram = run[i : i + size]
            if segmenter.is_word(gram) and not any(s <= i and i + size <= e for s, e in spans):
                found.append(gram)
    return list(dict.fromkeys(found))


def _segment(primaries: tuple[tuple[str, int, int], ...], subwords: bool):
    """Yield (word, (start, index_of_primary), end) for the words of a Chinese run."""
    for index, (word, start, end) in enumerate(primaries):
        if subwords and len(word) > 2:
            seen = set()
            for size in (2, 3):
                for i in range(len(word) - size + 1):
                    gram = word[i : i + size]
                    if gram != word and gram not in seen and segmenter.is_word(gram):
                        seen.add(gram)
                        yield gram, (start + i, index), start + i + size
        yield word, (start, index), end


class EnglishStemFilter(Filter):
    """Porter2-stem Latin-script words; leave Chinese and numbers alone."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        for token in tokens:
            if not getattr(token, "cjk", False) and token.text.isalpha():
                token.text = _stem(token.text)
            yield token


#: Longest word whose stem is cached (longer ones are rare in text and cheap enough to redo;
#: keeping them would let distinct long query words grow the cache's bytes).
MAX_CACHED_STEM_WORD = 32


def word_spans(text: str, wanted: frozenset[str] | set[str]) -> list[tuple[int, int]]:
    """Character spans of ``text`` whose Latin-script word, stemmed, is in ``wanted``.

    The same words, stems and spans as ``text_analyzer()`` gives in query mode (Chinese runs
    left out; ``tests/test_analysis.py`` compares the two), without a Token and three
    generators per word: highlighting runs this over every hit's text of every request.
    A word is only looked at closely when it begins as a wanted stem does (``_prefixes``).
    """
    prefixes = _prefixes(frozenset(wanted))
    if not prefixes:
        return []
    folded, offsets = fold(text)
    length = len(text)
    spans: list[tuple[int, int]] = []
    stop = ENGLISH_STOP_WORDS
    for match in _candidates(folded, prefixes):
        word = match.group()
        if "'" in word and match.lastgroup == "word":
            if word.endswith("'s"):
                word = word[:-2]
            word = word.replace("'", "")
        if word in stop:
            continue
        if word.isalpha():
            word = _stem(word)
        if word in wanted:
            start, end = match.span()
            if offsets is not None:
                start = offsets[start] if start < len(offsets) else length
                end = offsets[end - 1] + 1 if end > 0 else 0
            spans.append((start, end))
    return spans


@functools.lru_cache(maxsize=256)
def _prefixes(wanted: frozenset[str]) -> tuple[str, ...]:
    """How a word whose stem is one of ``wanted`` begins, as it is written: the stem's first
    two characters (its first alone when it has three or fewer), or its first and an
    apostrophe (``o'neill``, read as ``oneill``). Porter2 changes the end of a word; of
    400,000 words and made-up suffixed ones, only three changed their second character, all
    to a stem of three (``dying`` -> ``die``); ``tests/test_analysis.py`` checks the rule.
    The same few words for every hit of a page (``HighlightTerms.words``, whose hash Python
    keeps)."""
    found: set[str] = set()
    for word in wanted:
        if len(word) <= 3:
            found.add(word[:1])
        else:
            found.update((word[:2], word[0] + "'"))
    found.discard("")
    return tuple(sorted(found))


def _candidates(folded: str, prefixes: tuple[str, ...]) -> Iterator[re.Match]:
    """The ``num`` and ``word`` tokens of ``_TOKEN_RE.finditer(folded)`` that begin with one
    of ``prefixes``, in order.

    In text without Chinese characters (English, even with a dash or an accent) each place a
    prefix is found is matched there by its letter's pattern (``_prefixed_candidates``);
    other text has each of its tokens looked at here.
    """
    if folded.isascii() or not _CJK_RE.search(folded):
        return _prefixed_candidates(folded, prefixes)
    return (
        match
        for match in _TOKEN_RE.finditer(folded)
        if match.lastgroup != "cjk" and folded.startswith(prefixes, match.start())
    )


def _prefixed_candidates(folded: str, prefixes: tuple[str, ...]) -> Iterator[re.Match]:
    """``_candidates`` of text without Chinese characters: where one of ``prefixes`` is
    found by ``str.find`` (in C), its letter's ``_candidate_words`` is matched there (each
    letter's pattern was tried at every character: a third of a hit's highlighting).

    A ``num`` or ``word`` match found so is a token (it begins after no letter, digit,
    apostrophe, full stop or comma, so inside none). An "unsure" match is the token that
    begins there, if one does: ``_TOKEN_RE`` walked from the end of the last token found.
    A place inside an earlier match is skipped, as a scan that resumes after each match
    skips it."""
    places: set[int] = set()
    for prefix in prefixes:
        at = folded.find(prefix)
        while at >= 0:
            places.add(at)
            at = folded.find(prefix, at + 1)
    end = fresh = 0  # fresh: where _TOKEN_RE.finditer is known to start afresh
    walk = None
    for at in sorted(places):
        if at < end or (at and folded[at - 1].isalpha()):
            continue  # inside a match, or a word (a letter before: no token begins there)
        match = _candidate_words(folded[at]).match(folded, at)
        if match is None:
            continue
        end = match.end()
        if match.lastgroup != "unsure":
            fresh = end
            yield match
            continue
        if walk is None or walk.origin != fresh:
            walk = _TokenWalk(folded, fresh)
        token = walk.token_at(at)
        if token is not None:
            yield token


#: ``_TOKEN_RE``'s number and word alternatives as they read on text without its Chinese
#: characters (a test checks them against ``_TOKEN_RE``).
_NUM = r"\d+(?:[.,]\d+)+"
_LATIN_WORD = r"[^\W_]+(?:'[^\W_]+)*"


@functools.lru_cache(maxsize=256)
def _candidate_words(first: str) -> re.Pattern:
    """A pattern whose ``finditer`` over text without Chinese characters finds each ``num``
    or ``word`` token of ``_TOKEN_RE.finditer`` that begins with ``first``, in order.

    A token can only begin where the character before is no letter (a word takes all the
    letters and digits that follow its start; only a number can end before a letter). There,
    after the start of the text or a separator, a token does begin (nothing before reaches
    over it), and the pattern takes it: group ``num`` or ``word``, the alternatives of
    ``_TOKEN_RE`` in its order, so the same extent. After a digit, apostrophe, full stop or
    comma, a token may begin or this may be inside one (``1.5kg``, ``1,035``, ``don't``):
    group ``unsure``, one character, for ``_TokenWalk`` to decide.

    Without Chinese ranges: ``_TOKEN_RE``'s classes with them take about 1.4 ms each to
    compile, this pattern about 0.2 ms. One per character, cached: a pattern per query's
    words would be compiled anew for most queries (``_prefixed_candidates`` matches it only
    where a word's beginning is found instead).
    """
    return re.compile(
        rf"(?={re.escape(first)})(?<![^\W\d_])"
        rf"(?:(?<=[\d'.,])(?P<unsure>.)|(?P<num>{_NUM})|(?P<word>{_LATIN_WORD}))",
        re.DOTALL,
    )


class _TokenWalk:
    """``_TOKEN_RE.finditer(folded)`` from ``origin``, where it starts afresh (the start, or
    the end of a token), walked forward as far as asked: each token is matched once however
    many unsure candidates fall in one long run of digits and stops."""

    def __init__(self, folded: str, origin: int):
        self.origin = origin
        self._tokens = _TOKEN_RE.finditer(folded, origin)
        self._current = next(self._tokens, None)

    def token_at(self, start: int) -> re.Match | None:
        """The token that begins at ``start``, if one does (``start`` never decreasing)."""
        while self._current is not None and self._current.start() < start:
            self._current = next(self._tokens, None)
        if self._current is not None and self._current.start() == start:
            return self._current
        return None


def _stem(word: str) -> str:
    if not word.isascii():
        return word  # not English: nothing to stem, nothing to keep
    if len(word) > MAX_CACHED_STEM_WORD:
        return porter2_stem(word)
    return _stem_short(word)


#: 50,000 words: an archive's vocabulary for the indexer and the highlighter (which stems every
#: word of the hits shown). About 150 bytes a word, so 7.5 MB at most in a worker; a stream of
#: random query words fills it once (scripts/memprobe.py: after about 2,500 queries of 64).
@functools.lru_cache(maxsize=50_000)
def _stem_short(word: str) -> str:
    return porter2_stem(word)


def text_analyzer() -> Composable:
    """The analyzer for searchable text fields: fold, segment, drop stop words, stem."""
    return BilingualTokenizer(stoplist=ENGLISH_STOP_WORDS) | EnglishStemFilter()


_WORDS_RE = re.compile(rf"[^\W_{CJK_CHARS}]+(?:'[^\W_{CJK_CHARS}]+)*")


def vocabulary_words(texts) -> set[str]:
    """The folded, unstemmed words of ``texts``, as ``word_analyzer`` gives them, but cheaply.

    Used to fill the spelling vocabulary once per article: regular expressions run in C, and
    the Chinese runs were just segmented for the text field, so jieba's answers are cached.
    """
    words: set[str] = set()
    for text in texts:
        folded = fold(text)[0]
        found = set(_WORDS_RE.findall(folded))
        for word in [w for w in found if "'" in w]:
            found.discard(word)
            found.add((word[:-2] if word.endswith("'s") else word).replace("'", ""))
        words |= found
        for run in _CJK_RUN_RE.findall(folded):
            words.update(w for w, _, _ in primary_words(run))
    words.discard("")
    return words


def spelling_analyzer() -> Composable:
    """The spelling field holds words already folded and segmented, separated by spaces."""
    return SpaceSeparatedTokenizer()


def word_analyzer() -> Composable:
    """Folded, segmented, unstemmed words: the vocabulary for suggestions and spelling."""
    return BilingualTokenizer(subwords=False)


def analyze(text: str, mode: str = "query", stem: bool = True) -> list[str]:
    """The token texts of ``text`` (for queries' Chinese runs, spelling and synonyms)."""
    return [t.text for t in _shared_analyzer(stem)(text, mode=mode)]


@functools.cache
def _shared_analyzer(stem: bool) -> Composable:
    """``analyze``'s analyzer, made once (3.5 us a call, with every Chinese run of a query):
    a call keeps its state in its own ``_Call``, so one serves every thread."""
    return text_analyzer() if stem else word_analyzer()


class CJKBigramTokenizer(_FoldingTokenizer):
    """Overlapping character bigrams of the Chinese runs in a text (a lone character alone).

    jieba segments a phrase differently alone than in a sentence (``中老铁路`` is ``中老|铁路`` in a
    query but ``中|老|铁路`` inside the article), so Chinese words and phrases are also matched
    on bigrams, which do not depend on segmentation. Runs are kept one position apart so a
    phrase never matches across punctuation.
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def tokens(self, call: _Call, folded: str, value: str):
        fill = call.fill
        pos = call.start_pos
        for match in _CJK_RUN_RE.finditer(folded):
            at = match.start()
            for gram, begin, end in cjk_bigrams(match.group()):
                yield fill(gram, pos, at + begin, at + end)
                pos += 1
            pos += 1


_CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")


def cjk_bigrams(run: str) -> list[tuple[str, int, int]]:
    """(gram, start, end) for each overlapping bigram of ``run``; a lone character as itself."""
    if len(run) == 1:
        return [(run, 0, 1)]
    return [(run[i : i + 2], i, i + 2) for i in range(len(run) - 1)]


def bigram_analyzer() -> Composable:
    return CJKBigramTokenizer()
