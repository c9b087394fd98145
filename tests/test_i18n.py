"""The interface in English and Chinese: choice of language, links, dates, the catalogues."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from searchapp.web import create_app
from tests.conftest import ROOT

TRANSLATIONS = ROOT / "searchapp" / "web" / "translations"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
ZH_MO = ZH_PO.with_suffix(".mo")
ARTICLE = "/articles/2022-09-26-xinhua-major-country-diplomacy"


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    "url, headers, config_language, expected",
    [
        ("/", {}, "en", "en"),
        ("/", {}, "zh", "zh-CN"),  # the site's language when the browser says nothing
        ("/", {"Accept-Language": "fr-FR, fr;q=0.9"}, "zh", "zh-CN"),  # nor anything we have
        ("/", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "en", "zh-CN"),
        ("/", {"Accept-Language": "en-GB,en;q=0.9"}, "zh", "en"),
        ("/?hl=zh", {"Accept-Language": "en"}, "en", "zh-CN"),  # ?hl= beats the browser
        ("/?hl=en", {"Accept-Language": "zh-CN"}, "zh", "en"),
        ("/?hl=xx", {}, "zh", "zh-CN"),  # an unknown hl is ignored
    ],
)
def test_the_language_of_a_request(index_dir, url, headers, config_language, expected):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True, "LANGUAGE": config_language})
    response = app.test_client().get(url, headers=headers)
    assert response.status_code == 200
    assert html_lang(response) == expected
    heading = "搜索中英文新闻" if expected == "zh-CN" else "Search the news in English and 中文"
    assert heading in text_of(response)


def test_chinese_results_page(client):
    response = client.get("/search?q=Gwadar&hl=zh")
    text = text_of(response)
    # grouped by article: the count says articles, the passages show where they were found
    assert "Gwadar 的文章共 1 篇" in text
    assert "图片 This is the port of Gwadar" in text and "Ahmed Kamal 摄于 2018年1月29日" in text
    assert "2022年9月26日" in text
    # the controls of the results: sort, dates, facets
    assert "最相关 最新 最早" in text
    assert "日期 过去一周 过去一个月 过去一年 2022" in text and "应用" in text
    assert "出现位置 图片 1 正文 1" in text and "数字为文章数。" in text
    assert text.count("Photo") == text.count("(Photo by")  # only the caption's own words
    for english in ("Best match", "Past week", "Found in", "Headline", "Published <"):
        assert english not in text, english
    # one passage a result (the photos view)
    photos = text_of(client.get("/search?q=Gwadar&kind=caption&hl=zh"))
    assert "Gwadar 的结果共 1 条" in photos and "发布于 2022年9月26日" in photos
    assert "出现位置: 图片" in photos and photos.count("Photo") == photos.count("(Photo by")
    # the scripts get their strings in the same language
    assert '"search_label": "搜索新闻文章"' in response.get_data(as_text=True)


def test_links_keep_the_chosen_language(client):
    html = client.get("/search?q=railway&hl=zh").get_data(as_text=True)
    hrefs = re.findall(r'href="(/(?:search|articles/)[^"]*)"', html)
    switch = "/search?q=railway&amp;hl=en"  # the language switch
    assert hrefs and all("hl=zh" in h for h in hrefs if h != switch), hrefs
    assert 'name="hl" value="zh"' in html  # the search form keeps it too
    # and the switch to the other language keeps the query
    assert 'href="/search?q=railway&amp;hl=en"' in html
    # without hl, links carry none (the browser's language applies)
    plain = client.get("/search?q=railway").get_data(as_text=True)
    links = re.findall(r'href="(/(?:search|articles/)[^"]*)"', plain)
    assert [h for h in links if "hl=" in h] == ["/search?q=railway&amp;hl=zh"]  # the switch


def test_article_page_in_chinese(client):
    text = text_of(client.get(f"{ARTICLE}?q=Gwadar&hl=zh"))
    assert "Gwadar 的搜索结果" in text and "处高亮" in text and "隐藏高亮" in text
    assert "2022年9月26日" in text and "September 26, 2022" not in text
    english = text_of(client.get(f"{ARTICLE}?q=Gwadar", headers={"Accept-Language": "en"}))
    assert "September 26, 2022" in english and "Results for" in english


@pytest.mark.parametrize(
    "url, status, heading, message",
    [
        ("/no-such-page?hl=zh", 404, "找不到页面", "这个网址没有内容。"),
        ("/articles/nope?hl=zh", 404, "找不到页面", "这个网址没有内容。"),
        ("/search?q=a&page=0&hl=zh", 400, "无法理解这个搜索", "页码不在结果页范围内"),
        ("/search?q=a&date_from=2024-13-01&hl=zh", 400, "无法理解这个搜索", "日期须写作"),
        ("/search?q=a&sort=best&hl=zh", 400, "无法理解这个搜索", "结果可按最相关、最新或最早排序"),
        ("/search?q=a&group=x&hl=zh", 400, "无法理解这个搜索", "结果按文章分组或不分组"),
    ],
)
def test_error_pages_in_chinese(client, url, status, heading, message):
    response = client.get(url)
    assert response.status_code == status
    text = text_of(response)
    assert heading in text and message in text and "返回搜索" in text or "从第一页" in text


def test_the_api_is_not_translated(client):
    body = client.get("/api/search?q=a&page=0&hl=zh", headers={"Accept-Language": "zh"})
    assert body.status_code == 400
    assert body.get_json()["error"]["message"].startswith("page must be")


def test_the_widget_carries_both_languages(client):
    script = client.get("/embed.js").get_data(as_text=True)
    assert '"placeholder": "搜索新闻…"' in script and '"placeholder": "Search news…"' in script
    assert '"caption": "图片"' in script and "/*@embed-site*/" not in script


def test_every_string_is_translated_and_compiled():
    """The catalogue matches the code: nothing missing, nothing untranslated, .mo current."""
    with ZH_PO.open("rb") as file:
        catalog = read_po(file)
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m.string))]
    assert not untranslated, untranslated
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "_n": (1, 2)}
    method_map = [
        ("searchapp/**.py", "python"),
        ("searchapp/web/templates/**.html", "jinja2"),
        ("searchapp/web/templates/**.xml", "jinja2"),
    ]
    in_code = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, keywords=keywords
    ):
        in_code.add(message if isinstance(message, str) else message[0])
    assert in_code - in_catalog == set(), "run python scripts/translations.py"
    # the compiled catalogue is the .po compiled now
    with ZH_MO.open("rb") as file:
        compiled = read_mo(file)

    def pairs(messages):
        return {str(tuple(_strings(m.id))): tuple(_strings(m.string)) for m in messages if m.id}

    assert pairs(compiled) == pairs(catalog)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert buffer.getvalue(), "the catalogue compiles"


def _strings(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_translations_ship_as_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"web/translations/*/LC_MESSAGES/*"' in pyproject
    assert ZH_MO.is_file() and Path(ZH_MO).stat().st_size > 1000


@pytest.mark.parametrize("hl", ["zh", "en"])
def test_template_gettext_bound_per_render_translates_as_flask_babel(index_dir, hl):
    """The context processor's ``_``/``gettext``/``ngettext`` give what Flask-Babel's
    installed ones give (the environment's globals), escaping and placeholders included."""
    from flask import render_template_string

    app = create_app({"INDEX_DIR": str(index_dir)})
    source = (
        "{{ _('Search results') }}|{{ gettext('Photo by %(name)s', name='<b>') }}|"
        "{{ ngettext('%(num)s article', '%(num)s articles', 3) }}|"
        "{{ ngettext('%(num)s passage', '%(num)s passages', 1) }}"
    )
    with app.test_request_context(f"/?hl={hl}"):
        mine = render_template_string(source)
        theirs = app.jinja_env.from_string(source).render()  # no context processor
    assert mine == theirs
    assert "&lt;b&gt;" in mine
    assert ("篇" in mine) == (hl == "zh")


def test_script_strings_kept_per_locale_are_the_translated_ones(index_dir):
    """The page's script strings, kept once per locale and app, are those translated at each
    call, in each language; each call gets its own dict to change."""
    from searchapp.web.i18n import _script_strings, script_strings

    app = create_app({"INDEX_DIR": str(index_dir)})
    for hl in ("zh", "en", "zh"):
        with app.test_request_context(f"/?hl={hl}"):
            kept = script_strings()
            assert kept == _script_strings()
            assert ("搜索" in kept["search_label"]) == (hl == "zh")
            kept["search_label"] = "changed"
            assert script_strings()["search_label"] != "changed"


def test_days_kept_per_locale_are_formatted_as_babel_does(index_dir, monkeypatch):
    """Dates kept formatted per app and locale are Flask-Babel's ``format_date``, in each
    language, also once the store was full and started afresh; other text is unchanged."""
    import datetime as dt

    from flask_babel import format_date

    from searchapp.web import i18n

    monkeypatch.setattr(i18n, "MAX_FORMATTED_DAYS", 5)
    app = create_app({"INDEX_DIR": str(index_dir)})
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=37 * n) for n in range(12)]
    for hl in ("zh", "en", "zh"):
        with app.test_request_context(f"/?hl={hl}"):
            for day in days + days[:3]:
                want = format_date(day, format="long")
                assert i18n.format_day(day.isoformat()) == want
                assert i18n.format_day(f"{day.isoformat()}T10:00:00") == want
            assert ("年" in i18n.format_day("2024-07-12")) == (hl == "zh")
            assert i18n.format_day("not a date") == "not a date"
            assert i18n.format_day(None) == ""
    assert len(app.extensions["searchapp.days"]) <= 5
