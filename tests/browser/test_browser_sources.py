"""Results of articles with an original URL, rendered by app.js, in Chromium.

The server-rendered page is checked in tests/test_ingest.py; here the live results (typed
queries, rendered by static/app.js) must link to the original page under the default
``SEARCHAPP_LINKS=source`` and offer the archive copy, and the article page its original.
"""

from __future__ import annotations

import shutil

import pytest
from harness.server import LiveServer
from playwright.sync_api import expect

from searchapp.indexing import build_index
from tests.conftest import FIXTURES

TYPHOON_URL = "https://news.example.com/2024/07/typhoon-gaemi"


@pytest.fixture(scope="module")
def newsroom_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("newsroom-live")
    shutil.copytree(FIXTURES / "newsroom", root / "src")
    build_index([root / "src"], root / "index")
    server = LiveServer(root / "index", workers=1)
    yield server
    server.stop()


def test_live_results_link_to_the_original_and_the_archive_copy(new_page, newsroom_server):
    page = new_page(base_url=newsroom_server.url)
    page.goto("/")
    page.locator("#q").press_sequentially("seawall")
    hit = page.locator("#hits .hit").first
    expect(hit.locator("a.hit-link")).to_have_attribute("href", TYPHOON_URL)
    archive = hit.locator("a.hit-alt-link")
    expect(archive).to_have_text("Archive copy")
    archive.click()
    expect(page.locator("h2.chunk-heading").first).to_have_text("Flights cancelled")
    expect(page.locator("figure .photographer").first).to_have_text("Chan Ka-ho")
    expect(page.locator("a.original-link")).to_have_attribute("href", TYPHOON_URL)
