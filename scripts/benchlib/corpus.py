"""Build the benchmark corpus: article files in the bundled article's shape, plus chunks.jsonl.

An article file is a header line `` date YYYY-MM-DD <source>:<title>`` and blank-line separated
blocks, one line each. searchapp makes one chunk of the title and one of every block, so an
article of ``b`` blocks is ``b + 1`` chunks; ``chunks.jsonl`` lists exactly those chunks for the
peer engines. English articles are runs of up to six packages of one Debian section (heading =
package name, paragraphs = its description); Chinese articles are the zh_CN package
translations grouped the same way and the zh_CN/zh_TW manual pages, one article per page.
Everything is chosen deterministically (by hashes of names), so a given ``--chunks`` always gives
the same corpus.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from . import sources

PACKAGES_PER_ARTICLE = 6
ZH_SHARE = 0.25
_CJK_RE = re.compile("[\u2e80-\u2fff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_REVISION_RE = re.compile(r"^Bench revision note (\d+)\.")
_FIRST_DAY = dt.date(2019, 1, 1)


@dataclass
class ArticleSpec:
    """One article to write: header fields and body blocks."""

    slug: str
    source: str
    title: str
    blocks: list[str]
    #: What each block belongs to, for relevance judgements that survive a rebuild:
    #: ``deb:en:<package>``, ``deb:zh:<package>`` or ``man:<locale>:<page>.<section>``.
    units: list[str] | None = None
    #: The title's unit: a man page's title is its name line, so it belongs to the page; a
    #: package article's title only lists the first and last package.
    title_unit: str | None = None

    @property
    def date(self) -> str:
        """A stable pseudo-random date between 2019 and 2024."""
        days = int(_digest(self.slug)[:8], 16) % 2190
        return (_FIRST_DAY + dt.timedelta(days=days)).isoformat()

    @property
    def filename(self) -> str:
        """``YYYY-MM-DD-slug.txt`` like the bundled article."""
        return f"{self.date}-{self.slug}.txt"

    def chunk_units(self) -> list[str]:
        """The unit of every chunk: the title's, then each block's."""
        title = self.title_unit or f"title:{self.slug}"
        return [title, *(self.units or [self.slug] * len(self.blocks))]

    def chunk_texts(self) -> list[str]:
        """The chunks searchapp makes of this article: the title, then every block."""
        return [self.title, *self.blocks]

    def render(self) -> str:
        """The file text."""
        header = f" date {self.date} {self.source}:{self.title}"
        return "\n\n".join([header, *self.blocks]) + "\n"


def chunk_lang(text: str) -> str:
    """``zh`` when over 30% of the letters are Chinese characters (searchapp's rule)."""
    letters = len(_LETTER_RE.findall(text))
    return "zh" if letters and len(_CJK_RE.findall(text)) / letters > 0.3 else "en"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "x"


def _end_sentence(text: str) -> str:
    return (
        text
        if text.endswith(tuple(".!?。！？"))
        else text + ("。" if _CJK_RE.search(text) else ".")
    )


def package_blocks(pkg: sources.Package) -> list[str]:
    """Heading (the package name) and paragraphs; the summary opens the first paragraph."""
    first = _end_sentence(pkg.paragraphs[0])
    if len(pkg.paragraphs) > 1:
        joiner = "" if _CJK_RE.search(first) else " "
        first = first + joiner + pkg.paragraphs[1]
    return [pkg.name, first, *pkg.paragraphs[2:]]


def package_articles(packages: Iterable[sources.Package], lang: str) -> list[ArticleSpec]:
    """Group packages by section, in name order, into articles of up to six packages."""
    by_section: dict[str, list[sources.Package]] = defaultdict(list)
    for pkg in packages:
        by_section[pkg.section].append(pkg)
    articles = []
    for section in sorted(by_section):
        pkgs = sorted(by_section[section], key=lambda p: p.name)
        for start in range(0, len(pkgs), PACKAGES_PER_ARTICLE):
            group = pkgs[start : start + PACKAGES_PER_ARTICLE]
            first, last = group[0].name, group[-1].name
            if lang == "zh":
                source = f"Debian 软件包中文描述, {section} 类"
                title = f"Debian {section} 软件包介绍：{first} 至 {last}"
            else:
                source = f"Debian package descriptions, section {section}"
                title = f"Debian {section} packages from {first} to {last}"
            blocks = [b for pkg in group for b in package_blocks(pkg)]
            units = [f"deb:{lang}:{pkg.name}" for pkg in group for _ in package_blocks(pkg)]
            slug = f"debian-{lang}-{_slug(section)}-{_slug(first)}"
            articles.append(ArticleSpec(slug, source, title, blocks, units))
    return articles


def manpage_article(page: sources.ManPage) -> ArticleSpec:
    """One article per manual page; headings are its section names."""
    locale = page.locale.replace("_", "-").lower()
    slug = f"man-{locale}-{_slug(page.name)}-{_slug(page.section)}"
    source = f"manpages-zh {page.locale}, section {page.section}"
    unit = f"man:{page.locale}:{page.name}.{page.section}"
    blocks = [text for _, text in page.blocks]
    return ArticleSpec(slug, source, page.title, blocks, [unit] * len(blocks), unit)


def _count(articles: Iterable[ArticleSpec]) -> tuple[int, int]:
    total = zh = 0
    for art in articles:
        for text in art.chunk_texts():
            total += 1
            zh += chunk_lang(text) == "zh"
    return total, zh


def select_articles(target_chunks: int, paths: dict[str, Path]) -> list[ArticleSpec]:
    """Choose articles: Chinese ones until ~25% of chunks are Chinese, then English ones."""
    zh_target = int(target_chunks * ZH_SHARE)
    zh_pool = package_articles(sources.load_packages(paths, "zh_CN"), "zh")
    zh_pool.sort(key=lambda a: _digest(a.slug))
    man_pool = [
        manpage_article(p) for loc in ("zh_CN", "zh_TW") for p in sources.load_manpages(loc)
    ]
    man_pool.sort(key=lambda a: _digest(a.slug))
    chosen: list[ArticleSpec] = []
    total = zh = 0
    for art in [*zh_pool, *man_pool]:
        if zh >= zh_target:
            break
        a_total, a_zh = _count([art])
        if a_total > max(400, target_chunks // 20):  # one huge page must not dominate
            continue
        chosen.append(art)
        total, zh = total + a_total, zh + a_zh

    english = sorted(sources.load_packages(paths, "en"), key=lambda p: _digest(p.name))
    per_section: dict[str, int] = defaultdict(int)
    articles = blocks = 0
    picked: list[sources.Package] = []
    for pkg in english:
        if total + blocks + articles >= target_chunks:
            break
        picked.append(pkg)
        blocks += len(package_blocks(pkg))
        per_section[pkg.section] += 1
        if per_section[pkg.section] % PACKAGES_PER_ARTICLE == 1:
            articles += 1  # this package opens a new article (and its title chunk)
    en_articles = package_articles(picked, "en")
    chosen.extend(en_articles)
    return sorted(unique_slugs(chosen), key=lambda a: a.filename)


def unique_slugs(articles: list[ArticleSpec]) -> list[ArticleSpec]:
    """``articles`` with a repeated slug numbered (``-2``, ``-3``, in order): slugs are cut at
    60 characters, and two packages of the 500,000-chunk corpus (``gobjc-11-multilib-...``)
    gave one slug, so one file, and one article was lost. Every other slug stays as it was."""
    taken = {art.slug for art in articles}
    seen: set[str] = set()
    out = []
    for art in articles:
        if art.slug in seen:
            number = 2
            while f"{art.slug}-{number}" in taken:
                number += 1
            art = replace(art, slug=f"{art.slug}-{number}")
            taken.add(art.slug)
        seen.add(art.slug)
        out.append(art)
    return out


def write_corpus(articles: list[ArticleSpec], data_dir: Path) -> dict:
    """Write the article files, chunks.jsonl and manifest.json under ``data_dir``."""
    corpus = data_dir / "corpus"
    tmp = data_dir / "corpus.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    chunks_path = data_dir / "chunks.jsonl"
    total = zh = 0
    chars = 0
    with open(chunks_path.with_suffix(".tmp"), "w", encoding="utf-8") as out:
        for art in articles:
            (tmp / art.filename).write_text(art.render(), encoding="utf-8")
            units = art.chunk_units()
            for pos, text in enumerate(art.chunk_texts()):
                lang = chunk_lang(text)
                total += 1
                zh += lang == "zh"
                chars += len(text)
                record = {
                    "id": f"{art.slug}:{pos}",
                    "article": art.slug,
                    "file": art.filename,
                    "unit": units[pos],
                    "lang": lang,
                    "text": text,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    shutil.rmtree(corpus, ignore_errors=True)
    tmp.rename(corpus)
    chunks_path.with_suffix(".tmp").rename(chunks_path)
    manifest = {
        "articles": len(articles),
        "chunks": total,
        "zh_chunks": zh,
        "zh_share": round(zh / total, 3) if total else 0.0,
        "chars": chars,
        "bytes": sum(p.stat().st_size for p in corpus.iterdir()),
    }
    (data_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def edition(art: ArticleSpec, number: int) -> ArticleSpec:
    """A lightly changed copy of ``art`` (an archive's later edition of the same story).

    Another slug (so another date and file), the title marked with the edition, the blocks
    rotated by ``number`` and, in articles of 3+ blocks, one block left out: same vocabulary,
    different documents, lengths and neighbours.
    """
    zh = bool(_CJK_RE.search(art.title))
    title = f"{art.title}（第 {number + 1} 版）" if zh else f"{art.title} (edition {number + 1})"
    blocks = list(art.blocks)
    if blocks:
        shift = number % len(blocks)
        blocks = blocks[shift:] + blocks[:shift]
    if len(blocks) >= 3:
        del blocks[number % len(blocks)]
    return ArticleSpec(f"{art.slug}-e{number + 1}", art.source, title, blocks)


def grow_articles(articles: list[ArticleSpec], target_chunks: int) -> list[ArticleSpec]:
    """Add editions of ``articles`` until there are ``target_chunks`` chunks, ~25% Chinese.

    The real text runs out near 200,000 chunks (Chinese much earlier), so a larger archive
    repeats it with light changes (:func:`edition`), Chinese first until its share is back to
    ``ZH_SHARE``. Deterministic: editions are made in the order of the given articles.
    """
    total, zh = _count(articles)
    if total >= target_chunks:
        return articles
    counts = [_count([a]) for a in articles]
    zh_pool = [a for a, (n, z) in zip(articles, counts, strict=True) if 2 * z > n]
    en_pool = [a for a, (n, z) in zip(articles, counts, strict=True) if 2 * z <= n]
    grown = list(articles)
    number = 0
    while total < target_chunks and (zh_pool or en_pool):
        for pool, is_zh in ((zh_pool, True), (en_pool, False)):
            for art in pool:
                if total >= target_chunks:
                    break
                if is_zh and zh >= target_chunks * ZH_SHARE:
                    break
                if not is_zh and zh_pool and zh < target_chunks * ZH_SHARE:
                    break  # Chinese first
                copy = edition(art, number)
                a_total, a_zh = _count([copy])
                grown.append(copy)
                total, zh = total + a_total, zh + a_zh
        number += 1
    return sorted(grown, key=lambda a: a.filename)


def build_corpus(
    data_dir: Path, target_chunks: int, fetch: bool = False, sources_dir: Path | None = None
) -> dict:
    """Fetch/cache the sources, choose articles and write them; returns the manifest.

    When the real text gives fewer than ``target_chunks`` chunks, editions of the articles
    fill the rest (:func:`grow_articles`).
    """
    sources.ensure_manpages(install=fetch)
    paths = sources.cache_sources(sources_dir or data_dir / "sources", fetch=fetch)
    articles = grow_articles(select_articles(target_chunks, paths), target_chunks)
    manifest = write_corpus(articles, data_dir)
    manifest["target_chunks"] = target_chunks
    (data_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def load_chunks(data_dir: Path) -> list[dict]:
    """The chunk records written by :func:`write_corpus`."""
    with open(data_dir / "chunks.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def edit_articles(corpus: Path, fraction: float = 0.01, seed: int = 5) -> list[Path]:
    """Change ``fraction`` of the articles (the same ones each run): add or bump a last paragraph.

    The added paragraph is ``Bench revision note N. ...``; a file that already has one gets
    ``N + 1``, so every call really changes the files.
    """
    files = sorted(corpus.glob("*.txt"))
    picked = random.Random(seed).sample(files, max(1, round(len(files) * fraction)))
    for path in picked:
        blocks = path.read_text(encoding="utf-8").rstrip("\n").split("\n\n")
        match = _REVISION_RE.match(blocks[-1])
        number = int(match.group(1)) + 1 if match else 1
        note = (
            f"Bench revision note {number}. This paragraph was added by the benchmark to "
            "measure incremental indexing after an edit."
        )
        if match:
            blocks[-1] = note
        else:
            blocks.append(note)
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return sorted(picked)
