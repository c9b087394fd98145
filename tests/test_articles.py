"""The article parser on the seed, the fixture articles and malformed files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from searchapp.articles import (
    MAX_CHUNK_CHARS,
    UnreadableArticle,
    caption_details,
    classify_block,
    parse_article,
    parse_text,
)
from tests.conftest import FIXTURE_ARTICLES, HOSTILE, SEED

SEED_CAPTIONS = {
    4: ("Cao Anning", "2021-10-15"),
    11: ("Xu Qin", "2022-04-20"),
    17: ("Ahmed Kamal", "2018-01-29"),
    22: ("Wang Mingliang", "2019-08-30"),
    25: ("Zhang Ruoxuan", "2018-12-01"),
    30: ("Huang Zongzhi", "2016-08-25"),
    34: ("Li Ziheng", "2018-06-09"),
    40: ("Jiang Kehong", "2017-08-24"),
    46: ("Jin Liangkuai", "2019-04-26"),
    51: ("Luo Xiaoguang", "2018-08-28"),
    54: ("Yang Guanyu", "2021-04-17"),
    57: ("Wang Yuguo", "2019-05-15"),
    58: ("Ma Xiaodong", "2020-04-26"),
}
SEED_HEADINGS = {
    5: "Guiding the direction for the future and destiny of mankind",
    18: "Embark on a new path for country-to-country exchanges",
    28: "Compose an era of open cooperation",
    41: "Contributing to China‘s Solution to Global Governance",
}


@pytest.fixture(scope="module")
def seed():
    return parse_article(SEED)


def kinds(article):
    return Counter(c.kind for c in article.chunks)


def captions_of(article) -> dict[int, tuple]:
    """Each caption's position: (photographer, photo date)."""
    return {
        c.position: (c.photographer, c.photo_date) for c in article.chunks if c.kind == "caption"
    }


def test_seed_header(seed):
    assert seed.id == "2022-09-26-xinhua-major-country-diplomacy"
    assert seed.date == "2022-09-26"
    assert seed.source == "Xinhua News Agency, Beijing, September 25th"
    assert seed.title.startswith("Serving National Rejuvenation and Promoting Human Progress——")
    assert seed.lang == "en"
    assert seed.warnings == []


def test_seed_counts(seed):
    assert kinds(seed) == {
        "title": 1,
        "byline": 1,
        "paragraph": 40,
        "heading": 4,
        "caption": 13,
        "credit": 2,
    }
    assert [c.position for c in seed.chunks] == list(range(61))


def test_seed_captions_have_photographer_and_date(seed):
    assert captions_of(seed) == SEED_CAPTIONS


def test_seed_sections(seed):
    headings = {c.position: c.text for c in seed.chunks if c.kind == "heading"}
    assert headings == SEED_HEADINGS
    by_pos = {c.position: c for c in seed.chunks}
    assert by_pos[2].section is None  # the lead
    assert by_pos[17].section == SEED_HEADINGS[5]  # Gwadar caption
    assert by_pos[44].kind == "paragraph" and by_pos[44].section == SEED_HEADINGS[41]
    assert all(c.article_id == seed.id for c in seed.chunks)
    assert by_pos[1].kind == "byline"
    assert [c.text for c in seed.chunks if c.kind == "credit"] == [
        "Poster design: Duan Yuanyuan",
        "Editor: Zheng Jianlong",
    ]


def test_chinese_article():
    article = parse_article(FIXTURE_ARTICLES / "2023-12-03-xinhua-zh-china-laos-railway.txt")
    assert article.lang == "zh"
    assert article.date == "2023-12-03"
    assert article.source == "新华社昆明12月3日电"
    assert article.title == "钢铁巨龙连通山海——写在中老铁路开通运营两周年之际"
    assert kinds(article) == {
        "title": 1,
        "byline": 1,
        "paragraph": 14,
        "heading": 4,
        "caption": 8,
        "credit": 1,
    }
    assert captions_of(article) == {
        4: ("刘明轩", "2023-11-28"),
        8: ("赵海峰", "2023-11-30"),
        11: ("孙立文", "2023-11-26"),
        15: ("坎潘·西萨瓦", "2023-11-29"),
        17: ("周晓雯", "2023-11-27"),
        21: ("吴建国", "2023-11-25"),
        25: ("郑秀兰", "2021-12-03"),
        27: ("岩温", "2023-12-01"),
    }
    headings = [c.text for c in article.chunks if c.kind == "heading"]
    assert headings == [
        "客货两旺跑出加速度",
        "黄金通道带动沿线发展",
        "民心相通架起友谊桥梁",
        "携手共建命运共同体",
    ]
    assert article.chunks[1].text == "新华社记者王晓明、陈思远"
    assert article.chunks[-1].kind == "credit" and article.chunks[-1].text == "责任编辑：林海涛"


def test_english_fixture_caption_conventions():
    article = parse_article(FIXTURE_ARTICLES / "2024-05-20-xinhua-en-green-energy.txt")
    assert captions_of(article) == {
        4: ("Wang Fei", "2024-05-08"),
        8: ("Liu Jiayi", "2023-10-17"),
        10: ("Chen Kaiyuan", "2024-04-02"),
        12: ("Tao Ling", None),
        16: ("Aidos Nurlanov", "2024-03-12"),
        19: ("Jiang Wenyao", "2023-09-05"),
        22: ("Gulnara Abenova", "2024-01-09"),
        24: ("Li Bo", "2024-02-27"),
    }
    assert kinds(article)["heading"] == 4


def test_mixed_article_sections_and_languages():
    article = parse_article(FIXTURE_ARTICLES / "2024-01-15-mixed-bilingual.txt")
    assert kinds(article) == {
        "title": 1,
        "byline": 1,
        "paragraph": 5,
        "heading": 2,
        "caption": 2,
        "credit": 1,
    }
    by_pos = {c.position: c for c in article.chunks}
    assert by_pos[4].photographer == "凯乔" and by_pos[4].photo_date == "2024-01-12"
    assert by_pos[10].photographer == "Zhou Hang"
    assert by_pos[9].section == "小小香蕉连着两国百姓"


@pytest.mark.parametrize(
    "block, photographer, photo_date",
    [
        (
            "Workers at the site (photo taken on April 20, 2022).Photo by Xinhua News Agency "
            "reporter Xu Qin",
            "Xu Qin",
            "2022-04-20",
        ),
        (
            "The port (photographed on Jan. 29, 2018). (Photo by Ahmed Kamal)",
            "Ahmed Kamal",
            "2018-01-29",
        ),
        (
            "Photo taken on Oct. 17, 2023 shows a train in Urumqi. (Xinhua/Ju Peng)",
            "Ju Peng",
            "2023-10-17",
        ),
        (
            "A wind farm (taken on May 8, 2024, drone photo). (Photo by Wang Fei/Xinhua)",
            "Wang Fei",
            "2024-05-08",
        ),
        ("这是2022年11月28日拍摄的中老铁路。新华社记者张三摄", "张三", "2022-11-28"),
        ("2023年11月30日，旅客在昆明南站候车。（新华社发 李四摄）", "李四", "2023-11-30"),
    ],
)
def test_caption_conventions(block, photographer, photo_date):
    assert classify_block(block) == "caption"
    assert caption_details(block) == (photographer, photo_date)


@pytest.mark.parametrize(
    "block, kind",
    [
        ("Editor: Zheng Jianlong", "credit"),
        ("Poster design: Duan Yuanyuan", "credit"),
        ("责任编辑：林海涛", "credit"),
        ("Compose an era of open cooperation", "heading"),
        ("携手共建命运共同体", "heading"),
        (
            "This is the feeling and mind of taking the world as one’s own responsibility——",
            "paragraph",
        ),
        ("In September 2016, the tide was surging by the Qiantang River.", "paragraph"),
    ],
)
def test_block_kinds(block, kind):
    assert classify_block(block) == kind


def test_no_header_is_indexed_as_paragraphs_with_warning():
    article = parse_text("Just a first line\n\nA paragraph.\n\nAnother one.", "plain")
    assert article.title == "Just a first line"
    assert [c.kind for c in article.chunks] == ["title", "paragraph", "paragraph"]
    assert any("header" in w for w in article.warnings)


def test_empty_file_gives_warning_and_only_nothing(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    article = parse_article(path)
    assert article.chunks == [] and article.warnings


def test_binary_file_is_refused_clearly():
    with pytest.raises(UnreadableArticle, match="binary"):
        parse_article(HOSTILE / "binary.bin.txt")


def test_gbk_file_is_refused_naming_the_encoding():
    with pytest.raises(UnreadableArticle, match="GBK"):
        parse_article(HOSTILE / "gbk-chinese.txt")


def test_huge_line_is_split_into_bounded_chunks():
    article = parse_article(HOSTILE / "2024-02-02-hostile.txt")
    assert max(len(c.text) for c in article.chunks) <= MAX_CHUNK_CHARS
    assert sum("zebracorn" in c.text for c in article.chunks) == 1
    assert [c.position for c in article.chunks] == list(range(len(article.chunks)))


def test_hostile_caption_photographer_is_not_a_tag_or_agency():
    article = parse_article(HOSTILE / "2024-02-02-hostile.txt")
    caption = next(c for c in article.chunks if c.kind == "caption")
    assert caption.photo_date == "2022-04-20"
    # "Photo by Xinhua News Agency reporter <img ...>": the name is markup, so no photographer
    assert caption.photographer is None


def test_control_characters_and_crlf_are_cleaned(tmp_path: Path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"date 2024-01-01 Dateline:Title\r\n\r\nBody\x1b[31m text.\r\n")
    article = parse_article(path)
    assert article.chunks[1].text == "Body[31m text."
