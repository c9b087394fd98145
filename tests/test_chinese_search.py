"""Chinese queries that jieba alone gets wrong: a mistyped character, another segmentation."""

from __future__ import annotations

import pytest

from searchapp.analysis import crossing_words


@pytest.fixture(scope="module")
def zh_index(tmp_path_factory):
    from searchapp.indexing import build_index

    root = tmp_path_factory.mktemp("zh")
    source = root / "src"
    source.mkdir()
    texts = {
        "compilers": "GNU C 编译器\n\n这个软件包提供 GNU C 编译器，它是一个可移植的优化编译器。",
        "gcc": "GNU C++ 编译器\n\n这是 GNU C++ 编译器，一个可移植的优化编译器。",
        "editor": "文本编辑器\n\n一个小巧的文本编辑器。",
        "ime": "中文输入法\n\n通用的中文输入法接口，也支持拼音输入。",
        "halt": "halt, reboot\n\nhalt、reboot 可以分别用于停机、关机、重新启动。",
        "office": "政府机关\n\n机关单位的办公系统，可以停止服务后重启。",
    }
    for name, text in texts.items():
        (source / f"2024-03-01-{name}.txt").write_text(
            f"date 2024-03-01 {text}\n", encoding="utf-8"
        )
    build_index([source], root / "index")
    return root / "index"


def search(index, q):
    from searchapp.searching import search as run

    return run(index, q, lang="zh")


def test_crossing_words_are_the_other_segmentation():
    assert set(crossing_words("停机关机重启")) == {"停机", "关机"}
    assert crossing_words("交换分区") == []  # jieba's words are the only ones


@pytest.mark.parametrize("typo, expected", [("编绎器", "编译器"), ("输如法", "输入法")])
def test_a_mistyped_character_is_corrected_when_nothing_is_found(zh_index, typo, expected):
    body = search(zh_index, typo)
    assert body["suggestion"] == expected and body["showing_results_for"] == expected
    assert body["total"] > 0 and all(expected in hit["text"] for hit in body["hits"])


def test_the_most_frequent_neighbour_wins_and_short_words_are_left_alone(zh_index):
    # 编辑器 is also one character away from 编绎器, but 编译器 is in more chunks.
    assert search(zh_index, "编绎器")["suggestion"] == "编译器"
    body = search(zh_index, "输如")  # two characters: too many neighbours to guess
    assert body["suggestion"] is None and body["total"] == 0


def test_no_correction_when_the_query_finds_something(zh_index):
    body = search(zh_index, "编辑器")
    assert body["suggestion"] is None and body["total"] > 0


def test_any_word_query_finds_the_words_jieba_straddled(zh_index):
    """jieba cuts ``停 / 机关 / 机 / 重启``: only the words it straddled find the halt page."""
    from searchapp import settings
    from searchapp.searching import IndexHandle
    from searchapp.searching import search as run

    def halt_found(**changes) -> bool:
        with settings.use(settings.variant(**changes)):
            body = run(IndexHandle(zh_index), "停机关机重启", lang="zh")  # no cached answers
        assert body["match"] == "any"
        return any("停机" in hit["text"] for hit in body["hits"])

    assert halt_found()
    assert not halt_found(crossing_word_weight=0.0)
