"""The nginx set-up of tests/test_nginx.py in Chromium: the live search, click reports and
the widget under /search/ (here to share the session's browser with the other browser tests).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from harness.server import free_port

from searchapp.ops.querylog import read_records
from tests.test_nginx import CHROMIUM, SEED_ID, require, run_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """nginx in front of ``searchapp serve --proxies 1``, as in tests/test_nginx.py."""
    require(CHROMIUM, "chromium")
    yield from run_stack(tmp_path_factory)


def watched_page(browser, base_url: str):
    from tests.browser.conftest import REPORT_CSP

    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(8000)
    context.add_init_script(REPORT_CSP)
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda msg: page.problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    return context, page


def test_live_search_and_click_reports_through_the_proxy(stack, browser):
    from playwright.sync_api import expect

    proxy, app = stack
    context, page = watched_page(browser, proxy.url)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto("/search/")
        page.locator("#q").press_sequentially("Gwadar", delay=20)
        first = page.locator("#hits .hit").first
        expect(first.locator("mark").first).to_have_text("Gwadar")
        expect(page).to_have_url(re.compile(r"/search/search\?q=Gwadar$"))
        # app.js fetches the results area (fragment=1) from the page's own, prefixed, URL
        searches = [u for u in requested if "fragment=1" in u]
        assert searches and all(u.startswith(proxy.url + "/search/search?") for u in searches)
        link = first.locator("a.hit-link")
        assert link.get_attribute("href").startswith(f"/search/articles/{SEED_ID}?q=Gwadar")
        link.click()
        page.wait_for_url(re.compile(r"/search/articles/"))
        expect(page.locator(":target mark").first).to_be_visible()
        assert page.problems == []
    finally:
        context.close()
    deadline = time.monotonic() + 5
    clicks: list[dict] = []
    while not clicks and time.monotonic() < deadline:
        clicks = [r for r in read_records(app.index_dir) if r.get("event") == "click"]
        time.sleep(0.1)
    assert clicks and clicks[-1]["query"] == "Gwadar"
    assert clicks[-1]["clicked"] == {"article": SEED_ID, "rank": 1}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def test_widget_on_another_site_uses_the_prefix(stack, browser, tmp_path):
    from playwright.sync_api import expect

    proxy, _ = stack
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Other site</title>"
        '<link rel="icon" href="data:,"></head><body><div id="s"></div>'
        f'<script src="{proxy.url}/search/embed.js" data-target="#s"></script></body></html>',
        "utf-8",
    )
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    context, page = watched_page(browser, f"http://127.0.0.1:{site.server_address[1]}")
    try:
        page.goto("/")
        page.locator("#s input[type=search]").press_sequentially("Gwadar", delay=20)
        hits = page.locator("#s .searchapp-embed__hit")
        expect(hits.first.locator("mark").first).to_have_text("Gwadar")
        hrefs = page.locator("#s a.searchapp-embed__link").evaluate_all(
            "links => links.map(a => a.href)"
        )
        assert hrefs
        for href in hrefs:
            assert href.startswith(proxy.url + "/search/articles/"), href
            assert parse_qs(urlsplit(href).query)["q"] == ["Gwadar"]
        assert page.problems == []
    finally:
        context.close()
        site.shutdown()
        site.server_close()
