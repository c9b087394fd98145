"""A fixed query mix drawn from the corpus vocabulary with a fixed seed.

Kinds: ``one`` (a word; half drawn by frequency, half from the distinct vocabulary), ``two``
(two words of one paragraph), ``phrase`` (two adjacent words, quoted), ``prefix`` (four or five
letters and ``*``) and ``zh`` (a jieba word of a Chinese chunk, some with a second word).
The same chunks and seed always give the same queries.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter

MIX = {"one": 0.30, "two": 0.20, "phrase": 0.15, "prefix": 0.15, "zh": 0.20}

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how if in into is it its itself
    just may me might more most must my no nor not now of off on once only or other our out over
    own same she should so some such than that the their them then there these they this those
    through to too under until up upon very via was we were what when where which while who whom
    why will with within without would you your yet etc use used uses using provides provide
    package packages contains support supports""".split()
)
_WORD_RE = re.compile(r"(?<![\w\-./])[A-Za-z]{3,}(?![\w\-./])")
_PAIR_RE = re.compile(r"(?<![\w\-./])([a-z]{3,}) ([a-z]{3,})(?![\w\-./])")
_ZH_WORD_RE = re.compile(r"^[\u4e00-\u9fff]{2,}$")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text) if w.lower() not in STOP_WORDS]


def make_queries(chunks: list[dict], total: int = 200, seed: int = 5) -> list[dict]:
    """``total`` distinct queries ``{"q", "kind"}`` in a fixed shuffled order."""
    rng = random.Random(seed)
    en = [c["text"] for c in chunks if c["lang"] == "en" and len(c["text"]) >= 60]
    zh = [c["text"] for c in chunks if c["lang"] == "zh" and len(c["text"]) >= 20]
    vocab_counts = Counter(w for text in en for w in set(_words(text)))
    vocab = sorted(w for w, n in vocab_counts.items() if n >= 3)
    wanted = {kind: round(total * share) for kind, share in MIX.items()}
    wanted["one"] += total - sum(wanted.values())

    import jieba  # only here: loading its dictionary takes a second

    jieba.setLogLevel(logging.WARNING)

    def one() -> str | None:
        if rng.random() < 0.5:
            words = _words(rng.choice(en))
            return rng.choice(words) if words else None
        return rng.choice(vocab)

    def two() -> str | None:
        words = sorted(set(_words(rng.choice(en))))
        return " ".join(rng.sample(words, 2)) if len(words) >= 2 else None

    def phrase() -> str | None:
        pairs = [
            m.groups()
            for m in _PAIR_RE.finditer(rng.choice(en))
            if not STOP_WORDS.intersection(m.groups())
        ]
        return '"{} {}"'.format(*rng.choice(pairs)) if pairs else None

    def prefix() -> str | None:
        words = [w for w in _words(rng.choice(en)) if len(w) >= 7]
        return rng.choice(words)[: rng.choice((4, 5))] + "*" if words else None

    def chinese() -> str | None:
        words = sorted({w for w in jieba.lcut(rng.choice(zh)) if _ZH_WORD_RE.match(w)})
        if not words:
            return None
        if len(words) >= 2 and rng.random() < 0.25:
            return " ".join(rng.sample(words, 2))
        return rng.choice(words)

    makers = {"one": one, "two": two, "phrase": phrase, "prefix": prefix, "zh": chinese}
    queries: list[dict] = []
    seen: set[str] = set()
    for kind, count in wanted.items():
        made = 0
        for _ in range(count * 50):  # bounded: give up on a kind rather than loop forever
            if made == count:
                break
            q = makers[kind]()
            if q and q not in seen:
                seen.add(q)
                queries.append({"q": q, "kind": kind})
                made += 1
    rng.shuffle(queries)
    return queries
