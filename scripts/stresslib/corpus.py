"""Two versions of one corpus, A and B, that differ in known ways.

Both hold the bundled article, the fixture articles, the hostile fixture files and
``generated`` articles made from a seeded word list (English, and one in four Chinese).
B differs from A by:

- ``markers`` more articles, each with one paragraph that mentions ``MARKER`` (and, in the
  Chinese ones, ``MARKER_ZH``): the marker query finds 0 chunks in A and all of them in B;
- one article edited (a paragraph mentioning ``EDIT_WORD`` appended) and one deleted, so an
  incremental run re-indexes, adds and removes.

``STABLE`` appears in one paragraph of every fifth generated article, none of them edited or
deleted: its count is the same in A and B, and any other count means a partial index.

The two versions live in two folders (``--source A`` or ``--source B``); article ids are file
names, so an incremental run between them re-indexes only what differs.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "searchapp" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures" / "articles"
#: Files the indexer must skip or take as they are: binary, GBK, empty, no header, 200 KB.
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"

STABLE = "wombat"
MARKER = "quagga"
MARKER_ZH = "斑驴"
EDIT_WORD = "okapi"

EN_WORDS = (
    "railway port trade energy solar wind grid harbour cargo train station bridge tunnel "
    "farmers harvest rice tea coffee export import market factory worker engineer school "
    "student teacher hospital doctor village mountain river valley coast island forest "
    "desert climate water power plant battery vehicle electric highway airport flight "
    "tourism museum festival culture heritage science research satellite ocean fishery "
    "investment finance bank loan growth economy industry digital network internet "
    "cooperation partnership summit leaders minister ambassador dialogue agreement project "
    "construction container logistics corridor border customs freight passenger ticket "
    "capacity efficiency innovation technology laboratory medicine vaccine agriculture "
    "irrigation drought flood rescue volunteer community household income poverty "
    "development sustainable green carbon emission forestry wildlife panda reserve"
).split()
ZH_WORDS = (
    "铁路 港口 贸易 能源 太阳能 风电 电网 货物 列车 车站 大桥 隧道 农民 丰收 水稻 茶叶 咖啡 出口 "
    "进口 市场 工厂 工人 工程师 学校 学生 老师 医院 医生 村庄 山区 河流 海岸 森林 气候 电站 电池 "
    "公路 机场 旅游 博物馆 文化 遗产 科学 研究 卫星 海洋 投资 金融 银行 经济 产业 数字 网络 合作 "
    "伙伴 峰会 部长 大使 对话 协议 项目 建设 集装箱 物流 走廊 边境 海关 旅客 效率 创新 技术 实验室"
).split()
EN_NAMES = ("Li Wei", "Zhang Min", "Wang Fang", "Chen Jie", "Liu Yang", "Ahmed Khan", "Maria Silva")
ZH_NAMES = ("李伟", "张敏", "王芳", "陈杰", "刘洋")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")


@dataclass
class CorpusVersions:
    """The two source folders and what distinguishes them."""

    a: Path
    b: Path
    generated: int
    markers: int
    deleted: str
    edited: str

    def source(self, version: str) -> Path:
        return {"A": self.a, "B": self.b}[version]


def _en_sentence(rng: random.Random, extra: str = "") -> str:
    words = rng.sample(EN_WORDS, rng.randint(8, 14))
    if extra:
        words.insert(rng.randint(1, len(words) - 1), extra)
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _zh_sentence(rng: random.Random, extra: str = "") -> str:
    words = rng.sample(ZH_WORDS, rng.randint(6, 10))
    if extra:
        words.insert(rng.randint(1, len(words) - 1), extra)
    return "，".join("".join(words[i : i + 3]) for i in range(0, len(words), 3)) + "。"


def article_text(n: int, rng: random.Random, paragraphs: int, mention: str = "") -> str:
    """One article in the bundled article's shape; ``mention`` goes into its first paragraph."""
    day = n % 28 + 1
    month = n % 8 + 1
    if n % 4 == 3:  # Chinese
        title = "".join(rng.sample(ZH_WORDS, 3)) + f"第{n}期"
        name = rng.choice(ZH_NAMES)
        body = [
            _zh_sentence(rng, mention if p == 0 else "") + _zh_sentence(rng)
            for p in range(paragraphs)
        ]
        heading = "".join(rng.sample(ZH_WORDS, 2)) + "新进展"
        caption = f"这是2024年{month}月{day}日拍摄的{rng.choice(ZH_WORDS)}。新华社记者{name}摄"
        blocks = [
            f"date 2024-{month:02d}-{day:02d} 新华社北京{month}月{day}日电：{title}",
            f"新华社记者{name}",
            *body[:2],
            heading,
            caption,
            *body[2:],
            "责任编辑：王芳",
        ]
    else:
        title = " ".join(w.capitalize() for w in rng.sample(EN_WORDS, 4)) + f" Report {n}"
        name = rng.choice(EN_NAMES)
        body = [
            _en_sentence(rng, mention if p == 0 else "") + " " + _en_sentence(rng)
            for p in range(paragraphs)
        ]
        heading = " ".join(rng.sample(EN_WORDS, 3)).capitalize() + " on the move"
        caption = (
            f"A {rng.choice(EN_WORDS)} near the {rng.choice(EN_WORDS)} "
            f"(photo taken on {MONTHS[month - 1]} {day}, 2024). (Photo by {name}/Xinhua)"
        )
        blocks = [
            f"date 2024-{month:02d}-{day:02d} Xinhua News Agency, Beijing, "
            f"{MONTHS[month - 1]} {day}:{title}",
            f"Xinhua News Agency reporters {name} and {rng.choice(EN_NAMES)}",
            *body[:2],
            heading,
            caption,
            *body[2:],
            "Editor: Zheng Jianlong",
        ]
    return "\n\n".join(blocks) + "\n"


def make_versions(
    folder: Path, generated: int = 200, markers: int = 30, paragraphs: int = 5, seed: int = 6
) -> CorpusVersions:
    """Write versions A and B into ``folder/A`` and ``folder/B`` (replacing what was there)."""
    if generated < 10:
        raise ValueError("at least 10 generated articles")
    rng = random.Random(seed)
    a, b = folder / "A", folder / "B"
    for path in (a, b):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        for source in (BUNDLED, FIXTURES, HOSTILE):
            for file in sorted(source.glob("*.txt")):
                shutil.copy(file, path / file.name)
    deleted, edited = "gen-0001", "gen-0002"  # n % 5 != 0: no STABLE in them
    for n in range(generated):
        mention = STABLE if n % 5 == 0 else ""
        text = article_text(n, rng, paragraphs, mention)
        name = f"gen-{n:04d}"
        (a / f"{name}.txt").write_text(text, encoding="utf-8")
        if name == deleted:
            continue
        if name == edited:
            text += f"\nA late addition about the {EDIT_WORD} of the valley.\n"
        (b / f"{name}.txt").write_text(text, encoding="utf-8")
    for m in range(markers):
        n = 10_000 + m
        mention = f"{MARKER_ZH} {MARKER}" if n % 4 == 3 else MARKER
        (b / f"marker-{m:04d}.txt").write_text(
            article_text(n, rng, paragraphs, mention), encoding="utf-8"
        )
    return CorpusVersions(a, b, generated, markers, deleted, edited)
