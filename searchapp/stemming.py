"""English stems: Porter2, by Snowball's C stemmer (PyStemmer) where it gives Whoosh's stems.

Whoosh's ``porter2.stem`` is pure Python, about 8 us a word; Snowball's, 1 us. The index's
terms were stemmed by one of them and the queries' words must be stemmed the same way, so the
C stemmer is used only when it agrees with Whoosh's on words where stemmers are known to
part: Snowball 2.x (PyStemmer < 3) is Porter2 as Whoosh wrote it (the same stems for every
word of the bench's 56,000-word vocabulary and 300,000 random strings); Snowball 3 changed
some (``organization`` -> ``organiz``, Whoosh's ``organ``). When it disagrees, or is not
installed, Whoosh's stemmer is used: slower, the same stems.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from whoosh.lang.porter2 import stem as whoosh_stem

#: Words whose Porter2 stems Snowball 3 changed, and Porter2's exceptional forms.
PROBES = (
    "added", "universal", "university", "organization", "organism", "international",
    "internal", "interval", "paste", "lateral", "emergency", "ecologists", "technologist",
    "generously", "communism", "arsenal", "skies", "dying", "news", "innings", "proceed",
    "gently", "early", "only", "singly", "cosmos", "andes", "herring", "canning",
)  # fmt: skip


def _snowball() -> Callable[[str], str] | None:
    try:
        import Stemmer
    except ImportError:
        return None
    local = threading.local()  # a Snowball stemmer is not to be shared between threads

    def snowball_stem(word: str) -> str:
        stemmer = getattr(local, "stemmer", None)
        if stemmer is None:
            stemmer = local.stemmer = Stemmer.Stemmer("english", 0)  # 0: no cache of its own
        return stemmer.stemWord(word)

    if any(snowball_stem(word) != whoosh_stem(word) for word in PROBES):
        return None
    return snowball_stem


#: ``stem(word) -> str``: Porter2's stem of a lowercase English word.
stem: Callable[[str], str] = _snowball() or whoosh_stem
