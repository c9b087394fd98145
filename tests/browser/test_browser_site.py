"""A newsroom's own site: its name and logo from a config file, the Chinese interface, the app
mounted under a path, and the widget restyled by the page that embeds it.

Servers here are the test's own: ``searchapp serve`` over an index with a ``searchapp.toml``
beside it, and the app mounted at ``/search`` in a WSGI dispatcher (what a reverse proxy
does with ``SCRIPT_NAME``), with a host page on another port embedding its widget.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from harness.server import LiveServer, free_port
from playwright.sync_api import expect
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from searchapp.indexing import build_index
from searchapp.web import create_app
from tests.browser.conftest import DESKTOP, MOBILE, _QuietHandler

SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"
LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#0b6e4f"/>
<path d="M6 20c4-6 8-6 10 0s6 6 10 0" fill="none" stroke="#fff" stroke-width="3"/></svg>"""
SITE_TOML = """\
[site]
name = "Harbourside Archive"
logo = "harbour.svg"
language = "zh"
examples = ["Gwadar", "中老铁路", "wind power"]
"""
ACCENT = "rgb(0, 119, 85)"


@pytest.fixture()
def pages(new_page):
    """``pages(base_url, viewport, scheme, locale)``: pages that fail the test on JS errors."""

    def make(base_url, viewport=DESKTOP, scheme="light", locale="en-US"):
        return new_page(viewport=viewport, color_scheme=scheme, base_url=base_url, locale=locale)

    return make


@pytest.fixture(scope="module")
def site_server(tmp_path_factory, corpus_dir):
    """``searchapp serve`` over an index whose folder has a searchapp.toml beside it."""
    root = tmp_path_factory.mktemp("harbourside")
    (root / "searchapp.toml").write_text(SITE_TOML, "utf-8")
    (root / "harbour.svg").write_text(LOGO, "utf-8")
    build_index([corpus_dir], root / "index")
    server = LiveServer(root / "index")
    yield server
    server.stop()


def test_a_site_with_its_own_name_and_logo(pages, site_server, screenshots):
    page = pages(site_server.url)  # an English browser: English, though the site says zh
    page.goto("/")
    expect(page).to_have_title("Harbourside Archive")
    expect(page.locator(".brand-name")).to_have_text("Harbourside Archive")
    logo = page.locator("img.brand-logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), "the logo loads"
    assert page.locator(".brand-mark").count() == 0
    expect(page.locator(".intro-examples .chip:not(.chip-browse)")).to_have_text(
        ["Gwadar", "中老铁路", "wind power"]
    )
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.screenshot(path=screenshots / "site-name-logo-home-desktop-light.png")
    page.locator(".chip", has_text="中老铁路").click()
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    expect(page).to_have_title("中老铁路 – Harbourside Archive")
    # typing keeps the site's name in the title
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("Gwadar", delay=20)
    expect(page).to_have_title("Gwadar – Harbourside Archive")
    opensearch = page.request.get(site_server.url + "/opensearch.xml").text()
    assert "<LongName>Harbourside Archive</LongName>" in opensearch
    # the widget's footer names the site, with its logo
    page.goto("/embed-demo")
    footer = page.locator(".searchapp-embed__footer a.searchapp-embed__site")
    expect(footer).to_have_text("Harbourside Archive")
    footer_logo = footer.locator("img.searchapp-embed__logo")
    expect(footer_logo).to_be_visible()
    assert footer_logo.evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_browser_that_asks_for_nothing_gets_the_sites_language(pages, site_server):
    page = pages(site_server.url, locale="zh-CN")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#intro-title")).to_have_text("搜索中英文新闻")
    expect(page.locator(".language-current")).to_have_text("中文")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_the_chinese_interface(pages, site_server, screenshots, size, scheme):
    viewport = DESKTOP if size == "desktop" else MOBILE
    page = pages(site_server.url, viewport=viewport, scheme=scheme)
    page.goto("/?hl=zh")  # an English browser that switched to Chinese
    expect(page.locator("#intro-title")).to_have_text("搜索中英文新闻")
    expect(page.locator("#q")).to_have_attribute("placeholder", "搜索中英文新闻")
    page.screenshot(path=screenshots / f"zh-home-{size}-{scheme}.png")
    # live results, fetched by app.js, in Chinese, with Chinese dates
    page.locator("#q").press_sequentially("Gwadar", delay=20)
    expect(page.locator("#status")).to_have_text(re.compile(r"Gwadar 的文章共 \d+ 篇"))
    expect(page.locator("#hits .hit .hit-meta").first).to_contain_text("2022年9月26日")
    caption = page.locator("#hits .passage.kind-caption").first
    expect(caption.locator(".badge")).to_have_text("图片")
    expect(caption.locator(".photo-meta")).to_contain_text("Ahmed Kamal 摄于 2018年1月29日")
    # the results' controls: sort, dates, facets
    expect(page.locator(".sort-link")).to_have_text(["最相关", "最新", "最早"])
    expect(page.locator(".facet-date .facet-title")).to_have_text("日期")
    expect(page.locator(".date-quick .facet-link").first).to_have_text("过去一周")
    expect(page.locator(".facet-kind .facet-title")).to_have_text("出现位置")
    expect(page).to_have_url(re.compile(r"hl=zh"))
    href = caption.locator("a.passage-link").get_attribute("href")
    assert parse_qs(urlsplit(href).query)["hl"] == ["zh"], href
    page.locator("#q").press("Escape")  # close the suggestions for the picture
    page.screenshot(path=screenshots / f"zh-results-live-{size}-{scheme}.png")
    # the server's page for the same URL says the same
    page.reload()
    expect(page.locator("#status")).to_have_text(re.compile(r"Gwadar 的文章共 \d+ 篇"))
    if size == "mobile":
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    # the article page, and back to English with the switch
    page.locator("#hits .passage.kind-caption a.passage-link").first.click()
    expect(page.locator(".back-link")).to_contain_text("Gwadar 的搜索结果")
    expect(page.locator(".article-meta time")).to_have_text("2022年9月26日")
    page.screenshot(path=screenshots / f"zh-article-{size}-{scheme}.png")
    page.locator(".language-link", has_text="English").click()
    expect(page.locator(".article-meta time")).to_have_text("September 26, 2022")
    # error pages too
    page.problems.allowed = ("/no-such-page",)
    page.goto("/no-such-page?hl=zh")
    expect(page.locator("#error-title")).to_have_text("找不到页面")
    if size == "desktop":
        page.screenshot(path=screenshots / f"zh-error-{scheme}.png")


def test_no_results_and_pages_in_chinese(pages, site_server):
    page = pages(site_server.url)
    page.goto("/?hl=zh")
    page.locator("#q").press_sequentially("xyzzyplugh", delay=10)
    expect(page.locator("#empty h2")).to_have_text("没有找到 xyzzyplugh 的结果")
    page.locator("#q").fill("china")
    page.locator("#q").press("Enter")
    expect(page.locator("#status")).to_have_text(re.compile(r"china 的文章共 \d+ 篇"))
    page.goto("/search?q=china&group=none&per_page=3&hl=zh")  # passage by passage: pages
    expect(page.locator("#pagination .page-next")).to_contain_text("下一页")
    expect(page.locator("#status")).to_contain_text("第 1 页，共")


# ---- mounted under /search, embedded by another site that restyles the widget ----

HOST_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The Harbour Times</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="host.css">
</head>
<body>
<h1>The Harbour Times</h1>
<div id="news-search"></div>
<script src="{server}/embed.js" data-target="#news-search" data-per-page="3"></script>
</body>
</html>
"""
# Loaded before the widget adds its own <style>, and no more specific than its rules.
HOST_CSS = """
body { font-family: Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       background: #f6f3ea; color: #222; }
h1 { border-bottom: 3px double #222; }
.searchapp-embed { --searchapp-accent: #007755; --searchapp-radius: 0px; max-width: 30rem; }
"""


@pytest.fixture(scope="module")
def mounted(corpus_dir, tmp_path_factory):
    """The app at http://127.0.0.1:PORT/search/ (nothing at /), as behind a proxy."""
    index = tmp_path_factory.mktemp("mounted") / "index"
    build_index([corpus_dir], index)
    app = create_app({"INDEX_DIR": str(index), "SITE_NAME": "Harbourside Archive"})
    dispatcher = DispatcherMiddleware(NotFound(), {"/search": app})
    server = make_server("127.0.0.1", free_port(), dispatcher, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/search"
    server.shutdown()


@pytest.fixture(scope="module")
def host_site(tmp_path_factory, mounted):
    root = tmp_path_factory.mktemp("host")
    (root / "index.html").write_text(HOST_PAGE.format(server=mounted, lang="en"), "utf-8")
    (root / "zh.html").write_text(HOST_PAGE.format(server=mounted, lang="zh-CN"), "utf-8")
    (root / "host.css").write_text(HOST_CSS, "utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def failed_requests(page) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # a search made stale by the next keystroke is aborted on purpose
    page.on(
        "requestfailed",
        lambda r: failed.append(f"{r.failure} {r.url}") if "ABORTED" not in r.failure else None,
    )
    return failed


def test_the_app_works_under_a_path(pages, mounted, screenshots):
    page = pages(mounted + "/")
    failed = failed_requests(page)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(mounted + "/")
    expect(page.locator("#intro")).to_be_visible()
    page.locator("#q").press_sequentially("Gwad", delay=30)
    expect(page.locator("#suggestions [role=option]").first).to_be_visible()
    page.locator("#q").press_sequentially("ar", delay=30)
    expect(page.locator("#hits .hit mark").first).to_have_text("Gwadar")
    expect(page).to_have_url(mounted + "/search?q=Gwadar")
    searches = [u for u in seen if "/api/" in u or "fragment=1" in u]
    assert any(u.startswith(mounted + "/search?") for u in searches), searches
    assert any(u.startswith(mounted + "/api/suggest?") for u in searches), searches
    assert all(u.startswith(mounted + "/") for u in searches), searches
    link = page.locator("#hits .passage.kind-caption a.passage-link").first
    assert link.get_attribute("href").startswith(f"/search/articles/{SEED_ID}?q=Gwadar")
    expect(page.locator("#json-link")).to_have_attribute(
        "href", re.compile(r"^/search/api/search\?")
    )
    page.locator("#facets .facet-kind .facet-link").first.click()
    expect(page).to_have_url(re.compile(r"^" + re.escape(mounted) + r"/search\?q=Gwadar&kind="))
    page.locator("#hits a.hit-link").first.click()
    expect(page).to_have_url(re.compile(re.escape(mounted) + "/articles/"))
    expect(page.locator(".article mark").first).to_be_visible()
    page.screenshot(path=screenshots / "mounted-article.png")
    assert not failed, failed


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_widget_mounted_under_a_path_and_styled_by_its_host(
    pages, host_site, mounted, screenshots, scheme
):
    page = pages(host_site, scheme=scheme)
    failed = failed_requests(page)
    page.goto("/")
    widget = page.locator(".searchapp-embed")
    expect(widget).to_have_count(1)
    # the host's stylesheet (loaded first, no more specific) wins over the widget's defaults
    assert page.evaluate(
        "[...document.styleSheets].findIndex(s => s.ownerNode.id === 'searchapp-embed-style')"
        " > [...document.styleSheets].findIndex(s => (s.href || '').endsWith('host.css'))"
    ), "the widget's styles come after the host's"
    assert widget.evaluate("e => getComputedStyle(e).maxWidth") == "480px"
    box = widget.locator("input[type=search]")
    box.press_sequentially("Gwadar", delay=20)
    link = widget.locator("a.searchapp-embed__link").first
    expect(link).to_be_visible()
    assert link.evaluate("e => getComputedStyle(e).color") == ACCENT
    hit = widget.locator(".searchapp-embed__hit").first
    assert hit.evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "0px"
    assert box.evaluate("e => getComputedStyle(e).borderRadius") == "999px"  # its own rules stay
    # everything it asks for and links to is under the server's path
    href = link.get_attribute("href")
    assert href.startswith(mounted + f"/articles/{SEED_ID}?q=Gwadar"), href
    footer = widget.locator(".searchapp-embed__footer a.searchapp-embed__site")
    expect(footer).to_have_text("Harbourside Archive")
    expect(footer).to_have_attribute("href", mounted + "/")
    page.screenshot(path=screenshots / f"embed-mounted-styled-{scheme}.png", full_page=True)
    box.fill("china OR 中国")  # all four articles: more than the widget's three
    more = widget.locator(".searchapp-embed__more")
    expect(more).to_have_attribute("href", re.compile("^" + re.escape(mounted) + r"/search\?q="))
    link = widget.locator("a.searchapp-embed__link").first
    link.click()
    page.wait_for_url(re.compile(re.escape(mounted) + "/articles/"))
    expect(page.locator(":target mark").first).to_be_visible()
    assert not failed, failed


@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_the_widget_speaks_its_host_pages_language(pages, host_site, screenshots, size):
    page = pages(host_site, viewport=DESKTOP if size == "desktop" else MOBILE)
    page.goto("/zh.html")
    widget = page.locator(".searchapp-embed")
    box = widget.locator("input[type=search]")
    expect(box).to_have_attribute("placeholder", "搜索新闻…")
    box.press_sequentially("Gwadar", delay=20)
    expect(widget.locator("[role=status]")).to_have_text(re.compile(r"“Gwadar” ?的文章共 \d+ 篇"))
    caption = widget.locator(".searchapp-embed__passage", has_text="Ahmed Kamal")
    expect(caption.locator(".searchapp-embed__kind")).to_have_text("图片")
    expect(caption.locator(".searchapp-embed__passage-meta")).to_contain_text(
        "Ahmed Kamal 摄于 2018年1月29日"
    )
    expect(widget.locator(".searchapp-embed__footer")).to_contain_text("搜索服务：")
    page.screenshot(path=screenshots / f"embed-zh-{size}.png", full_page=True)
