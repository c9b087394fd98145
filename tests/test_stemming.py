"""Snowball's C stemmer against Whoosh's Porter2, the reference: the same stems, or not used."""

from __future__ import annotations

import re
import sys
import types

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.lang.porter2 import stem as whoosh_stem

from searchapp import stemming
from tests.conftest import corpus_texts


def _corpus_words() -> set[str]:
    """Every lowercase English word of the test corpora and the bundled article."""
    words: set[str] = set()
    for text in corpus_texts():
        words.update(re.findall(r"[a-z]+", text.lower()))
    return words


def test_the_c_stemmer_is_used():
    """PyStemmer < 3 is a dependency: the fast stemmer must be the one in use."""
    assert stemming.stem is not whoosh_stem
    assert stemming.stem("organizations") == "organ"


def test_same_stems_as_whoosh_on_the_corpora():
    words = _corpus_words()
    assert len(words) > 5000
    differ = sorted(w for w in words if stemming.stem(w) != whoosh_stem(w))
    assert differ == []


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="abcdeilnorstuyy'", min_size=1, max_size=16))
def test_same_stems_as_whoosh_on_generated_words(word):
    assert stemming.stem(word) == whoosh_stem(word)


def test_a_stemmer_that_stems_otherwise_is_not_used(monkeypatch):
    """Snowball 3 stems ``organization`` as ``organiz``: the index's stems would not match."""

    class Snowball3:
        def __init__(self, language, cache_size=10000):
            pass

        def stemWord(self, word):  # noqa: N802 (PyStemmer's name)
            return "organiz" if word.startswith("organiz") else whoosh_stem(word)

    monkeypatch.setitem(sys.modules, "Stemmer", types.SimpleNamespace(Stemmer=Snowball3))
    assert stemming._snowball() is None


def test_without_pystemmer_whooshs_stemmer_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "Stemmer", None)  # import fails
    assert stemming._snowball() is None
