"""Example queries drawn from the index itself, for sites whose config names none.

Fixed examples would find nothing in somebody else's archive. These are the names that recur
in the archive's titles, headings and photo captions (capitalised English names such as
``Belt and Road``, Chinese words such as ``中老铁路``), kept only if searching for them finds
passages with all their words. They are worked out once per build and process, on first use.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from whoosh import query

from searchapp.analysis import CJK_CHARS, analyze
from searchapp.handle import IndexHandle
from searchapp.searching import search
from searchapp.store import read_manifest

#: How many examples the home page offers, and how many passages (and article titles, spread
#: over the archive) are read to find them: every title of 500,000 chunks took ~0.6 s, on
#: each worker's first home page after a rebuild.
COUNT = 5
MAX_DOCS = 4000
MAX_CHARS = 28
_NAME_RE = re.compile(
    r"(?<![\w'’-])([A-Z][\w-]*[a-z][\w-]*(?:\s+(?:(?:of|and|the|for|on)\s+)?"
    r"[A-Z][\w-]*){0,4})(?![\w-])"
)
_CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")
#: Capitalised words that start sentences or credit photos rather than name anything.
_NOT_NAMES = {
    "a", "an", "and", "as", "at", "but", "by", "editor", "for", "from", "he", "her", "his",
    "in", "it", "its", "new", "news", "on", "our", "photo", "she", "since", "that", "the",
    "their", "there", "these", "they", "this", "those", "to", "we", "what", "when", "with",
    "xinhua", "xinhua news agency", "agency", "reporter", "reporters", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
_NOT_WORDS = {
    "我们", "他们", "这个", "一个", "没有", "可以", "已经", "进行", "表示", "记者", "新华社",
    "中国", "发展", "合作", "日电", "摄影", "责任编辑", "编辑", "这是", "一列", "拍摄", "照片",
    "图为", "当日", "日前", "近日", "目前", "以来", "工人", "时间",
}  # fmt: skip


def example_queries(index: IndexHandle | Path | str, count: int = COUNT) -> list[str]:
    """Up to ``count`` queries that find something in the current build, both languages.

    Kept with the build (``OpenIndex.memo``): a rebuild finds new ones.
    """
    handle = IndexHandle.of(index)
    with handle.reading() as opened:
        if "examples" not in opened.memo:
            opened.memo["examples"] = _find_examples(handle, count)
        return opened.memo["examples"][:count]


def _find_examples(handle: IndexHandle, count: int) -> list[str]:
    english, chinese = _candidates(*_texts(handle))
    found: dict[str, list[str]] = {"en": [], "zh": []}
    for lang, candidates in (("en", english), ("zh", chinese)):
        for candidate in candidates[: count * 4]:
            if len(found[lang]) >= count:
                break
            if _finds_all_words(handle, candidate):
                found[lang].append(candidate)
    # Both languages when the archive has both: alternate, starting with the larger one.
    first, second = sorted(found.values(), key=len, reverse=True)
    mixed: list[str] = []
    for i in range(count):
        mixed.extend(x[i] for x in (first, second) if i < len(x))
    return mixed[:count]


def _texts(handle: IndexHandle) -> tuple[list[str], list[str]]:
    """(titles, headings and photo captions): where names are."""
    with handle.reading() as opened:
        articles = read_manifest(opened.build).get("articles", {})  # not kept by the handle
        titles = [a.get("title") or "" for a in articles.values()]
        titles = titles[:: -(-len(titles) // MAX_DOCS) or 1]  # at most MAX_DOCS, all through
        kinds = query.Or([query.Term("kind", "heading"), query.Term("kind", "caption")])
        docnums = opened.evaluator.mask(kinds).nonzero()[0][:MAX_DOCS]
        texts = [opened.searcher.stored_fields(int(d)).get("text") or "" for d in docnums]
    return titles, texts


def _candidates(titles: list[str], texts: list[str]) -> tuple[list[str], list[str]]:
    """English names and Chinese words, most frequent first; longer ones weigh more.

    English titles are left out: title case makes every word look like a name.
    """
    names: Counter = Counter()
    words: Counter = Counter()
    for text in texts:
        for match in _NAME_RE.finditer(text):
            name = re.sub(r"\s+", " ", match.group(1))
            sentence_start = not text[: match.start()].strip() or re.search(
                r"[.!?:]\s*$", text[: match.start()]
            )
            if name.lower() in _NOT_NAMES or (" " not in name and sentence_start):
                continue
            if name.count(" ") > 2 or len(name) > MAX_CHARS:
                continue  # a heading in title case, not a name; too long for a chip anyway
            names[name] += 1 + 0.25 * name.count(" ")
    for text in titles + texts:
        for run in _CJK_RUN_RE.findall(text):
            for word in set(analyze(run, mode="query", stem=False)):
                if len(word) >= 2 and word not in _NOT_WORDS and not word.endswith("摄"):
                    words[word] += min(len(word), 4) / 2

    def rank(counter: Counter) -> list[str]:
        return [w for w, _ in sorted(counter.items(), key=lambda wn: (-wn[1], wn[0]))]

    return rank(names), rank(words)


def _finds_all_words(handle: IndexHandle, q: str) -> bool:
    result = search(handle, q, per_page=1)
    return bool(result["total"]) and result["match"] == "all" and not result["showing_results_for"]
