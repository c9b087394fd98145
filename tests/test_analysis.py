"""The bilingual analyzer: English, Chinese, mixed, quotes, width, positions."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.lang.porter2 import stem as porter2_stem

from searchapp.analysis import (
    _LATIN_WORD,
    _NUM,
    _TOKEN_RE,
    _WORDS_RE,
    CJK_CHARS,
    ENGLISH_STOP_WORDS,
    BilingualTokenizer,
    EnglishStemFilter,
    _prefixes,
    analyze,
    bigram_analyzer,
    fold,
    fold_char,
    fold_text,
    text_analyzer,
    word_spans,
)

FIXTURES = Path(__file__).parent / "fixtures"


def tokens(text, mode="query"):
    return [(t.text, t.pos) for t in text_analyzer()(text, positions=True, mode=mode)]


def test_english_lowercased_stemmed_stopwords_dropped():
    assert analyze("The Railways are Running") == ["railway", "run"]


def test_porter2_not_the_buggy_porter():
    assert analyze("running") == ["run"]


def test_curly_quotes_fold_to_straight_and_possessive_goes():
    assert analyze("China‘s") == analyze("China's") == ["china"]
    assert analyze("Bird’s Nest") == analyze("Bird's Nest") == ["bird", "nest"]


def test_full_width_and_accents_fold():
    assert analyze("ＡＢＣ１２３") == analyze("ABC123") == ["abc123"]
    assert analyze("Café Málaga") == analyze("cafe malaga")
    assert fold_text("ＧＷＡＤＡＲ") == "gwadar"


def _fold_char_by_char(text: str) -> tuple[str, list[int] | None]:
    """``fold`` by its definition: each character folded, offsets when any changes length."""
    folded = [fold_char(c) for c in text]
    if all(len(f) == 1 for f in folded):
        return "".join(folded), None
    return "".join(folded), [i for i, f in enumerate(folded) for _ in f]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aA中國ﬁﬃß İ½Ⅻ\u0301\u00adＧ’`é㎢"), max_size=30))
def test_fold_is_folding_char_by_char(text):
    """Also when lengths even out (one character folds to two, another to none)."""
    assert fold(text) == _fold_char_by_char(text)


def test_fold_notes_the_characters_that_change_length():
    for text in ("ﬁ\u0301", "İ\u00ad", "½ x", "ﬃ" * 3 + "\u0301" * 6, "中國"):
        assert fold(text) == _fold_char_by_char(text)


def test_traditional_chinese_folds_to_simplified():
    assert analyze("鐵路") == analyze("铁路") == ["铁路"]


def test_chinese_is_segmented_by_jieba():
    assert analyze("中国的铁路") == ["中国", "的", "铁路"]


def test_index_mode_adds_words_inside_long_words_at_same_position():
    toks = tokens("中华人民共和国成立", mode="index")
    words = {t for t, _ in toks}
    assert {"中华人民共和国", "共和国", "人民"} <= words
    positions = {t: p for t, p in toks}
    assert positions["共和国"] == positions["中华人民共和国"] == 0
    assert positions["成立"] == 1


def test_positions_are_sequential_in_both_languages():
    assert [p for _, p in tokens("shared future for mankind")] == [0, 1, 2]
    assert [p for _, p in tokens("中老铁路开通运营")] == list(
        range(len(tokens("中老铁路开通运营")))
    )


def test_mixed_text():
    assert analyze("EMU动车组 Lancang澜沧号") == ["emu", "动车组", "lancang", "澜沧", "号"]


def test_character_offsets_point_into_original_text():
    text = "Ｇwadar 和 China’s port"
    tokens = text_analyzer()(text, chars=True, mode="index")
    spans = [(t.text, text[t.startchar : t.endchar]) for t in tokens]
    assert spans == [("gwadar", "Ｇwadar"), ("和", "和"), ("china", "China’s"), ("port", "port")]


def test_bigrams_for_chinese_runs_with_gaps_between_runs():
    toks = [(t.text, t.pos) for t in bigram_analyzer()("中老鐵路，开通", positions=True)]
    assert toks == [("中老", 0), ("老铁", 1), ("铁路", 2), ("开通", 4)]


def test_numbers_keep_separators():
    assert "1,035" in analyze("a total length of 1,035 kilometers")


# --- word_spans: highlighting's shortcut through the analyzer ---------------------------------

#: What highlighting ran before ``word_spans``: the analyzer chain, Chinese runs skipped.
_REFERENCE = BilingualTokenizer(stoplist=ENGLISH_STOP_WORDS, chinese=False) | EnglishStemFilter()

TRICKY = [
    "The Railways are Running, China’s port and Bird's Nest; it's O'Neill's",
    "Ｇwadar 和 China’s port ﬁnance ﬂow Ⅻ ½ café Málaga ÆSIR straße İstanbul",
    "a total length of 1,035 kilometers, 3.5 GHz, mp3 v2.0 x86_64 foo_bar",
    "EMU动车组 Lancang澜沧号 鐵路 running’s ''quoted'' `tick` ´acute´ ’s 's",
    "",
    "   ",
    "ﬃ" * 3 + " words ﬀ" + "ǅ ǈ ﬆ ﬅ ﬔ",
    # Porter2's own forms (``dying`` -> ``die``), apostrophes as a word's second character
    "Dying, lying and tying skies: ugly early only singly gently idly news. O'Neill d'Arcy's",
]


def _reference_spans(text: str, wanted) -> list[tuple[int, int]]:
    return [
        (t.startchar, t.endchar)
        for t in _REFERENCE(text, chars=True, mode="query")
        if t.text in wanted
    ]


def _all_stems(text: str) -> set[str]:
    return {t.text for t in _REFERENCE(text, mode="query")}


def _sample_texts() -> list[str]:
    texts = list(TRICKY)
    for folder in ("articles", "large-sample"):
        for path in sorted((FIXTURES / folder).glob("*.txt"))[:60]:
            texts.extend(p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip())
    return texts


def test_word_spans_equal_the_analyzer_chains_on_a_sample():
    texts = _sample_texts()
    assert len(texts) > 500  # the sample is not vacuous
    marked = 0
    for text in texts:
        stems = _all_stems(text)
        some = set(sorted(stems)[::3])
        for wanted in (stems, some, {"nothing-matches"}):
            spans = word_spans(text, wanted)
            assert spans == _reference_spans(text, wanted), (text, wanted)
            marked += len(spans)
    assert marked > 10_000


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("thofaéEsﬁ’'`´ \t.,1ＡＢ中國ǅß-_İ"), max_size=40))
def test_word_spans_equal_the_analyzer_chains_on_generated_text(text):
    stems = _all_stems(text)
    assert word_spans(text, stems) == _reference_spans(text, stems)


def _walked_spans(text: str, wanted) -> list[tuple[int, int]]:
    """``word_spans`` as it was before candidates were found by one regular expression:
    every token of ``_TOKEN_RE.finditer`` looked at in Python."""
    folded, offsets = fold(text)
    firsts = {w[:1] for w in wanted}
    spans = []
    for match in _TOKEN_RE.finditer(folded):
        word = match.group()
        if word[0] not in firsts or match.lastgroup == "cjk":
            continue
        if "'" in word and match.lastgroup == "word":
            word = (word[:-2] if word.endswith("'s") else word).replace("'", "")
        if word in ENGLISH_STOP_WORDS:
            continue
        if word.isalpha():
            word = porter2_stem(word) if word.isascii() else word
        if word in wanted:
            start, end = match.span()
            if offsets is not None:
                start = offsets[start] if start < len(offsets) else len(text)
                end = offsets[end - 1] + 1 if end > 0 else 0
            spans.append((start, end))
    return spans


def test_a_word_begins_as_its_stem_says():
    """``word_spans`` looks closely only at words beginning with one of ``_prefixes`` of the
    wanted stems: every word of the samples, Porter2's exceptional forms and made-up suffixed
    words does, with its stem's."""
    import random

    from whoosh.lang.porter2 import exceptional_forms

    words = {w for text in _sample_texts() for w in _WORDS_RE.findall(fold_text(text))}
    words |= set(exceptional_forms)
    rng = random.Random(5)
    suffixes = ("ing", "ied", "ies", "y", "ly", "ed", "eed", "ational", "biliti", "s", "'s")
    for _ in range(20_000):
        stem_part = "".join(rng.choice("aeiouybcdlnrst'") for _ in range(rng.randint(1, 4)))
        words.add(stem_part.strip("'") + rng.choice(suffixes))
    checked = 0
    for surface in words:
        word = surface[:-2] if surface.endswith("'s") else surface
        word = word.replace("'", "")
        if not word.isalpha() or not word.isascii() or word in ENGLISH_STOP_WORDS:
            continue
        stem = porter2_stem(word)
        assert surface.startswith(_prefixes(frozenset({stem}))), (surface, stem)
        checked += 1
    assert checked > 10_000


#: Wanted words beginning with what no word begins with, or only some words do.
ODD_WANTED = ("1", "2", "035", "5kg", "'", ".", ",", "中", "⺀", "_", "-", "s", "t", "zz", "\n")


def test_candidates_use_the_token_patterns_alternatives():
    """The same alternatives as ``_TOKEN_RE``'s but for its Chinese ranges."""
    word = _LATIN_WORD.replace("_]", f"_{CJK_CHARS}]")
    assert _TOKEN_RE.pattern == rf"(?P<cjk>[{CJK_CHARS}]+)|(?P<num>{_NUM})|(?P<word>{word})"


def test_word_spans_equal_the_token_walk_on_a_sample():
    texts = _sample_texts()
    for text in texts:
        stems = sorted(_all_stems(text))
        for wanted in (stems, stems[::3], stems[1::5], stems[:1], stems[-1:], ODD_WANTED):
            assert word_spans(text, set(wanted)) == _walked_spans(text, set(wanted)), text
        for stem in stems[:8]:
            assert word_spans(text, {stem}) == _walked_spans(text, {stem}), (text, stem)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ak1.,'’ _-中⺀〇²é\nǅﬁ`"), max_size=60),
    st.data(),
)
def test_word_spans_equal_the_token_walk_on_generated_text(text, data):
    """Digits, stops, commas and apostrophes next to letters are where a token may or may not
    begin (``_candidate_words``'s "unsure" group)."""
    stems = sorted(_all_stems(text))
    wanted = data.draw(st.sets(st.sampled_from(stems + list(ODD_WANTED))))
    assert word_spans(text, wanted) == _walked_spans(text, wanted)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ak1s2.,'`_- \nTé²ǅ—٣½"), max_size=60), st.data())
def test_word_spans_equal_the_token_walk_on_generated_text_without_chinese(text, data):
    """Text without Chinese characters goes through ``_candidate_words``."""
    stems = sorted(_all_stems(text))
    wanted = data.draw(st.sets(st.sampled_from(stems + list(ODD_WANTED))))
    assert word_spans(text, wanted) == _walked_spans(text, wanted)


def test_word_spans_in_long_runs_of_numbers():
    """A run of unsure candidates is tokenised once, and gives the token walk's spans."""
    text = "1.1," * 5000 + "1a 2.5kg 1,035 don't 1'a a1 " + "1a1" * 3000
    for wanted in ({"1"}, {"1a", "a"}, {"a1"}, {"1a1", "2.5", "5kg", "dont", "1,035"}):
        assert word_spans(text, wanted) == _walked_spans(text, wanted)
