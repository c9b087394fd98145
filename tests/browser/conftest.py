"""Browser fixtures: one headless Chromium per session, a fresh context per test.

The tests drive the real server (``live_server``: ``searchapp serve`` under gunicorn) with
Playwright's sync API and the system Chromium; ``playwright install`` is never needed. Each
page records console errors, uncaught exceptions and CSP violations, and a test fails if its
pages produced any.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from harness.server import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}

# CSP violations do not always reach the console; report every one as a console error.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Problems(list):
    """Console errors, page errors and CSP violations seen by a page."""

    allowed: tuple[str, ...] = ()

    def unexpected(self) -> list[str]:
        return [p for p in self if not any(a in p for a in self.allowed)]


def _watch(page, problems: Problems) -> None:
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text} ({page.url})")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc} ({page.url})"))


@pytest.fixture()
def new_page(browser, live_server):
    """A factory of pages on the live server (or ``base_url``):
    ``new_page(viewport=..., color_scheme=..., locale=...)``."""
    contexts = []
    problems = Problems()

    def make(viewport=DESKTOP, color_scheme="light", base_url=None, locale="en-US"):
        context = browser.new_context(
            base_url=base_url or live_server.url,
            viewport=viewport,
            color_scheme=color_scheme,
            locale=locale,
            device_scale_factor=2 if viewport["width"] < 600 else 1,
            reduced_motion="reduce",
        )
        context.set_default_timeout(5000)
        context.add_init_script(REPORT_CSP)
        contexts.append(context)
        page = context.new_page()
        _watch(page, problems)
        page.problems = problems
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.unexpected(), "\n".join(problems.unexpected())


@pytest.fixture()
def page(new_page):
    """A desktop page on the live server, light colour scheme."""
    return new_page()


@pytest.fixture()
def no_js_page(browser, live_server):
    """A page on the live server with JavaScript off: what must work without it."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="session")
def other_site(tmp_path_factory, live_server):
    """Another origin (a static http.server on its own port) whose page embeds the widget."""
    root = tmp_path_factory.mktemp("other-site")
    (root / "index.html").write_text(EMBEDDING_PAGE.format(server=live_server.url), "utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


EMBEDDING_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The Daily Example: a site that embeds searchapp</title>
<link rel="icon" href="data:,">
<style>
  body {{ font-family: Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
         color: #222; background: #fbfaf7; }}
  header {{ border-bottom: 3px double #222; margin-bottom: 1.5rem; }}
  h1 {{ font-size: 2.2rem; margin: 0 0 .5rem; }}
  aside {{ margin-top: 2rem; padding: 1rem; border: 1px solid #ddd; background: #fff; }}
</style>
</head>
<body>
<header><h1>The Daily Example</h1><p>Our own news, and a search of the archive.</p></header>
<p>Search the news archive:</p>
<div id="news-search"></div>
<script src="{server}/embed.js" data-target="#news-search" data-per-page="3"
        data-placeholder="Search the archive"></script>
<aside>
  <h2>Photo captions only</h2>
  <script src="{server}/embed.js" data-kind="caption" data-lang="en"></script>
</aside>
</body>
</html>
"""
