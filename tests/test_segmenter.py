"""rjieba against jieba, the reference: the same words on real and random Chinese runs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from searchapp import analysis, segmenter
from tests.conftest import SEED, corpus_texts

#: The analyzer's Chinese character ranges (``analysis.CJK_CHARS``), for random runs.
CJK_RANGES = [
    (0x2E80, 0x2FFF),
    (0x3005, 0x3005),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
]


def _corpus_runs() -> list[str]:
    """Every folded Chinese run of the test corpora (articles, newsroom pages, the large
    sample) and the bundled article."""
    runs: set[str] = set()
    for text in corpus_texts():
        runs.update(analysis._CJK_RUN_RE.findall(analysis.fold_text(text)))
    return sorted(runs)


def _random_runs(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    runs = []
    for _ in range(count):
        ranges = [rng.choice(CJK_RANGES) for _ in range(rng.randint(1, 3))]
        runs.append(
            "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(1, 30)))
        )
    return runs


@pytest.fixture
def both():
    """A function giving (rjieba's, jieba's) answer to ``call(segmenter)``."""

    def answer(call):
        found = {}
        for use in (True, False):
            segmenter.USE_RJIEBA = use
            try:
                found[use] = call()
            finally:
                segmenter.USE_RJIEBA = True
        return found[True], found[False]

    return answer


def test_same_words_on_every_chinese_run_of_the_corpus(both):
    runs = _corpus_runs()
    assert len(runs) > 1000 and sum(map(len, runs)) > 20_000
    fast, reference = both(lambda: [segmenter.cut(run) for run in runs])
    assert fast == reference


def test_same_words_on_random_runs_of_every_range(both):
    """Random runs mixing the ranges the analyzer calls Chinese: jieba cuts only
    U+4E00-U+9FD5 and gives every other character alone, which ``cut`` keeps."""
    runs = _random_runs(3000)
    fast, reference = both(lambda: [segmenter.cut(run) for run in runs])
    assert fast == reference


def test_same_dictionary_words(both):
    """``is_word`` as jieba's frequency table says, on every 2-4 character piece of the
    corpus's runs and of random ones."""
    pieces = sorted(
        {
            run[i : i + size]
            for run in _corpus_runs() + _random_runs(300)
            for size in (2, 3, 4)
            for i in range(len(run) - size + 1)
        }
    )
    fast, reference = both(lambda: [segmenter.is_word(p) for p in pieces])
    assert fast == reference
    assert sum(fast) > 1000


def test_analyzer_tokens_unchanged(both):
    """Whole texts through the analyzer (index and query modes) give the same tokens."""
    text = Path(SEED).read_text("utf-8") + "\n" + "".join(_random_runs(50))

    def tokens():
        analysis._SEGMENTATIONS.clear()
        analysis._QUERY_SEGMENTATIONS.clear()
        return analysis.analyze(text, mode="index"), analysis.analyze(text, mode="query")

    fast, reference = both(tokens)
    assert fast == reference
