"""Chinese word segmentation: jieba's dictionary and algorithm, run by rjieba (jieba-rs).

rjieba cuts a run the way jieba does, about ten times faster, and answers "is this a word of
the dictionary" without jieba's 350,000-entry Python dict (loaded in 1-2 s into every
process that analyses Chinese). jieba itself stays the reference: ``USE_RJIEBA = False``
segments with it, and ``tests/test_segmenter.py`` checks that both give the same words on
every Chinese run of the test corpus and on random runs of every character range the analyzer
sends here. One difference is handled here: jieba segments only ``[\\u4e00-\\u9fd5]`` and
gives every other character (CJK Extension A, compatibility ideographs, radicals) as a word of
its own, where rjieba would join them.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path

from searchapp import budget

#: Segment with rjieba (False: with jieba, the reference the tests compare with).
USE_RJIEBA = True
#: What jieba segments as Chinese (its ``re_han_default`` without the Latin part, which the
#: analyzer never sends here).
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]+")


def cut(run: str) -> tuple[tuple[str, int, int], ...]:
    """The words of a run of Chinese characters as jieba cuts it (``tokenize``, default mode,
    HMM on): (word, start, end), in order."""
    if not USE_RJIEBA:
        return tuple(jieba_tokenizer().tokenize(run, mode="default", HMM=True))
    import rjieba

    found: list[tuple[str, int, int]] = []
    at = 0
    for match in _JIEBA_HAN.finditer(run):
        found.extend((run[i], i, i + 1) for i in range(at, match.start()))
        start = match.start()
        found.extend(
            (word, start + s, start + e)
            for word, s, e in rjieba.tokenize(match.group(), "default", True)
        )
        at = match.end()
    found.extend((run[i], i, i + 1) for i in range(at, len(run)))
    return tuple(found)


def is_word(text: str) -> bool:
    """Whether ``text`` is a word of jieba's dictionary (with a frequency)."""
    if not USE_RJIEBA:
        return bool(jieba_tokenizer().FREQ.get(text))
    import rjieba

    return rjieba.has_word(text)


_jieba_lock = threading.Lock()
_jieba = None


def jieba_tokenizer():
    """jieba's tokenizer (the reference), loaded once per process, with its cache in a writable
    place."""
    global _jieba
    if _jieba is None:
        started = time.monotonic()
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                cache_dir = Path(
                    os.environ.get("SEARCHAPP_CACHE_DIR")
                    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "searchapp"
                )
                try:
                    cache_dir.mkdir(parents=True, exist_ok=True)
                    probe = tempfile.NamedTemporaryFile(dir=cache_dir)
                    probe.close()
                except OSError:
                    cache_dir = Path(tempfile.mkdtemp(prefix="searchapp-jieba-"))
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = str(cache_dir)
                tokenizer.cache_file = "jieba.cache"
                tokenizer.initialize()
                _jieba = tokenizer
        # Loading the dictionary (1-2 s, once per process) is not the query's doing.
        budget.extend(time.monotonic() - started)
    return _jieba
