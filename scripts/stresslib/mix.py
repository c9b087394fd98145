"""The request mix, what each answer must be, and how answers are compared.

A pool of distinct GET paths of several kinds (English words, pairs, ``OR``, phrases,
prefixes, Chinese, misspellings, filters, page 2, suggestions, articles, ``/healthz``, the
invariant words of ``corpus``, and hostile input). Each path is asked once of a quiet server on
version A and once on version B; under load every answer must equal one of those two
references, compared by a digest that keeps what defines the result (total, hit ids in order,
facets, suggestion; stats for ``/healthz``; status and error code for errors) and drops what
varies by request (``took_ms``, the build id).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.client import fetch, run_clients

from stresslib.corpus import EDIT_WORD, EN_WORDS, MARKER, MARKER_ZH, STABLE, ZH_WORDS

REQUEST_TIMEOUT = 60.0

#: Kinds whose answer must never be partial: the marker, the stable word, the stats.
INVARIANT_KINDS = ("healthz", "stable", "marker")

#: How often each kind is drawn under load (relative weights; a kind's weight is shared by
#: all its paths).
WEIGHTS = {
    "word": 14,
    "two words": 8,
    "or": 4,
    "phrase": 6,
    "prefix": 5,
    "chinese": 10,
    "misspelt": 5,
    "filter": 8,
    "page 2": 5,
    "suggest": 8,
    "article": 3,
    "healthz": 6,
    "stable": 6,
    "marker": 6,
    "bad input": 6,
}

#: Hostile or malformed requests; each must get the same status as on a quiet server, and
#: never a 5xx. (path, what it tries)
BAD_INPUTS = (
    ("/api/search?q=railway&page=0", "page 0"),
    ("/api/search?q=railway&page=-3", "negative page"),
    ("/api/search?q=railway&page=abc", "page not a number"),
    ("/api/search?q=railway&page=1001", "page past the cap"),
    ("/api/search?q=railway&per_page=1000", "per_page past the cap"),
    ("/api/search?q=railway&per_page=100&page=101", "past the results window"),
    ("/api/search?q=railway&kind=bogus", "unknown kind"),
    ("/api/search?q=railway&lang=fr", "unknown language"),
    ("/api/search?q=railway&date_from=2024-13-45", "impossible date"),
    ("/api/search?q=railway&date_from=2024-05-01&date_to=2024-01-01", "dates reversed"),
    ("/api/search?q=railway&section=" + "x" * 600, "section too long"),
    ("/api/search?q=%22unbalanced%20railway", "unbalanced quote"),
    ("/api/search?q=((((railway", "unbalanced parentheses"),
    ("/api/search?q=" + "(" * 40 + "port" + ")" * 40, "deep nesting"),
    ("/api/search?q=OR", "lone operator"),
    ("/api/search?q=AND%20OR%20NOT", "operators only"),
    ("/api/search?q=*", "bare wildcard"),
    ("/api/search?q=a*", "one-letter prefix"),
    ("/api/search?q=r*%20p*%20c*%20t*", "many prefixes"),
    ("/api/search?q=railwya~2%20harbuor~2%20enrgy~2", "fuzzy terms"),
    ("/api/search?q=kind:", "empty field query"),
    ("/api/search?q=nosuchfield:railway", "unknown field"),
    ("/api/search?q=" + "railway%20" * 300, "1,000+ characters"),
    ("/api/search?q=" + "%20".join(f"w{i}" for i in range(100)), "100 terms"),
    ("/api/search?q=%00%01railway", "control characters"),
    ("/api/search?q=%ff%fe%fd", "invalid UTF-8"),
    ("/api/search?q=%EF%BC%A7%EF%BD%97%EF%BD%81%EF%BD%84%EF%BD%81%EF%BD%92", "full-width"),
    ("/api/search?q=%E9%90%B5%E8%B7%AF", "traditional Chinese"),
    ("/api/search?q=", "empty query"),
    ("/api/search", "no query"),
    ("/api/search?q=railway&unknown=1", "unknown parameter"),
    ("/api/suggest?q=", "empty suggest"),
    ("/api/suggest?q=zzzzzz&limit=0", "suggest limit 0"),
    ("/api/suggest?q=rai&limit=abc", "suggest limit not a number"),
    ("/api/articles/no-such-article", "unknown article"),
    ("/api/articles/..%2F..%2Fetc%2Fpasswd", "path traversal"),
    ("/api/nothing-here", "unknown path"),
)


@dataclass(frozen=True)
class Probe:
    """One request of the pool."""

    kind: str
    path: str


def _search(q: str, extra: str = "") -> str:
    return f"/api/search?q={quote(q)}{extra}"


def _phrases(folder: Path, rng: random.Random, count: int) -> list[str]:
    """Adjacent word pairs taken from paragraphs of the articles in ``folder``."""
    files = sorted(folder.glob("gen-*.txt"))
    phrases: list[str] = []
    for _ in range(count * 5):
        if len(phrases) >= count or not files:
            break
        text = rng.choice(files).read_text(encoding="utf-8")
        words = re.findall(r"[a-z]{4,}", text.split("\n\n", 3)[-1])
        if len(words) > 2:
            i = rng.randrange(len(words) - 1)
            phrase = f'"{words[i]} {words[i + 1]}"'
            if phrase not in phrases:
                phrases.append(phrase)
    return phrases + ['"green energy"', '"Belt and Road"']


def _misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


#: Share of the pool per kind (the fixed kinds, bad input and invariants, come on top).
SHARES = {
    "word": 0.12,
    "two words": 0.14,
    "or": 0.06,
    "phrase": 0.08,
    "prefix": 0.05,
    "chinese": 0.14,
    "misspelt": 0.08,
    "filter": 0.12,
    "page 2": 0.08,
    "suggest": 0.07,
    "article": 0.03,
}
FILTERS = (
    "&kind=caption",
    "&kind=paragraph",
    "&lang=zh",
    "&lang=en",
    "&date_from=2024-03-01&date_to=2024-05-31",
    "&date_from=2024-06-01",
    "&kind=heading&lang=en",
)


def build_pool(source: Path, size: int = 400, seed: int = 6) -> list[Probe]:
    """About ``size`` distinct paths over the kinds of ``WEIGHTS`` (all of ``BAD_INPUTS``)."""
    rng = random.Random(seed)
    long_words = [w for w in EN_WORDS if len(w) >= 6]
    articles = sorted(p.stem for p in source.glob("gen-*.txt"))
    phrases = _phrases(source, rng, max(4, int(size * SHARES["phrase"])))
    per_page = ("", "", "&per_page=5", "&per_page=20")

    def pair(words, sep: str) -> str:
        return sep.join(rng.sample(words, 2))

    makers = {
        "word": lambda: _search(rng.choice(EN_WORDS), rng.choice(per_page)),
        "two words": lambda: _search(pair(EN_WORDS, " ")),
        "or": lambda: _search(pair(EN_WORDS, " OR ")),
        "phrase": lambda: _search(rng.choice(phrases), rng.choice(per_page)),
        "prefix": lambda: _search(rng.choice(EN_WORDS)[: rng.randint(3, 5)] + "*"),
        "chinese": lambda: _search(
            rng.choice([rng.choice(ZH_WORDS), pair(ZH_WORDS, ""), pair(ZH_WORDS, " ")])
        ),
        "misspelt": lambda: _search(_misspell(rng.choice(long_words), rng)),
        "filter": lambda: _search(rng.choice(EN_WORDS + ZH_WORDS), rng.choice(FILTERS)),
        "page 2": lambda: _search(
            rng.choice(EN_WORDS + ZH_WORDS), rng.choice(("&page=2", "&page=3&per_page=5"))
        ),
        "suggest": lambda: "/api/suggest?q=" + quote(rng.choice(EN_WORDS)[: rng.randint(2, 5)]),
        "article": lambda: f"/api/articles/{rng.choice(articles)}?q={quote(rng.choice(EN_WORDS))}",
    }
    kinds: dict[str, list[str]] = {k: [] for k in WEIGHTS}
    for kind, make in makers.items():
        want = max(2, int(size * SHARES[kind]))
        found: set[str] = set()
        for _ in range(want * 20):  # bounded: small vocabularies run out of new paths
            if len(found) >= want:
                break
            path = make()
            if path not in found:
                found.add(path)
                kinds[kind].append(path)
    kinds["word"] += [_search(w) for w in ("Gwadar", "railway", "Laos")]
    kinds["phrase"] += [_search(p) for p in ('"shared future"', '"国际旅客列车"')]
    kinds["chinese"] += [_search(w) for w in ("中老铁路", "国际旅客列车", "一带一路")]
    kinds["suggest"] += ["/api/suggest?q=" + quote("belt and ro"), "/api/suggest?q=gwa"]
    kinds["healthz"] = ["/healthz"]
    kinds["stable"] = [_search(STABLE), _search(STABLE, "&per_page=50"), _search(STABLE + "s")]
    kinds["marker"] = [
        _search(MARKER),
        _search(MARKER_ZH),
        _search(MARKER, "&per_page=100"),
        _search(EDIT_WORD),
        "/api/suggest?q=quag",
    ]
    kinds["bad input"] = [path for path, _ in BAD_INPUTS]
    pool: list[Probe] = []
    seen: set[str] = set()
    for kind, paths in kinds.items():
        for path in paths:
            if path not in seen:
                seen.add(path)
                pool.append(Probe(kind, path))
    return pool


def digest(path: str, status: int, body: bytes) -> str:
    """What must be equal between two answers to the same request on the same index."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} non-JSON {len(body)} bytes"
    if status != 200:
        code = data.get("error", {}).get("code") if isinstance(data, dict) else None
        return f"{status} {code}"
    if path.startswith("/healthz"):
        keep = {k: data.get(k) for k in ("status", "articles", "chunks", "by_kind", "by_language")}
        return "200 " + json.dumps(keep, sort_keys=True, ensure_ascii=False)
    if path.startswith("/api/search"):
        keep = {
            k: data.get(k)
            for k in ("total", "match", "suggestion", "showing_results_for", "page", "facets")
        }
        keep["hits"] = [h.get("id") for h in data.get("hits", [])]
        return "200 " + json.dumps(keep, sort_keys=True, ensure_ascii=False)
    if path.startswith("/api/articles/"):
        keep = {"id": data.get("id"), "chunks": [c.get("id") for c in data.get("chunks", [])]}
        return "200 " + json.dumps(keep, sort_keys=True, ensure_ascii=False)
    return "200 " + json.dumps(data, sort_keys=True, ensure_ascii=False)


def coarse(path: str, answer: str) -> str:
    """The part of a digest that an incremental update must keep equal to a clean build.

    After incremental runs Whoosh still counts deleted documents in its term statistics until
    segments merge, so scores, the order of hits, spelling suggestions and completions may
    differ from a clean build of the same files; what matches may not: totals, ``match``,
    facet counts, stats, article contents and error answers.
    """
    status, _, body = answer.partition(" ")
    if status != "200" or not body.startswith("{"):
        return answer if status != "200" else status
    if path.startswith("/api/search"):
        data = json.loads(body)
        keep = {k: data.get(k) for k in ("total", "match", "page", "facets")}
        return "200 " + json.dumps(keep, sort_keys=True, ensure_ascii=False)
    if path.startswith("/api/suggest"):
        return status
    return answer


def capture(port: int, pool: list[Probe], clients: int = 4) -> dict[str, str]:
    """The digest of every path of ``pool`` on a quiet server (no retries: any failure raises)."""
    answers: dict[str, str] = {}
    errors: list[str] = []
    todo = list(pool)
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    probe = todo.pop()
                try:
                    status, body = fetch(conn, probe.path)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(f"{probe.path}: {exc!r}")
                    continue
                answer = digest(probe.path, status, body)
                with lock:
                    answers[probe.path] = answer
                    if status >= 500:
                        errors.append(f"{probe.path}: {answer}")
        finally:
            conn.close()

    run_clients(worker, clients, timeout=600)
    if errors or len(answers) != len(pool):
        raise RuntimeError(f"reference capture failed: {errors[:5]}")
    return answers
