"""The embed widget on another site: a page on a different port includes two script tags.

The first renders into ``data-target`` with three results per page and its own placeholder;
the second has no target (it renders right after its script tag) and only shows English
photo captions. Both query the live server across origins (CORS) and link to its articles.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

DESKTOP = {"width": 1280, "height": 900}


def test_embed_on_another_site(new_page, other_site, live_server, screenshots):
    page = new_page(base_url=other_site)
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
    page.goto("/")
    assert urlsplit(page.url).port != live_server.port

    widgets = page.locator(".searchapp-embed")
    expect(widgets).to_have_count(2)
    assert page.locator("style#searchapp-embed-style").count() == 1, "styles injected once"
    # the first one is inside its target, the second right after its script tag
    first, second = widgets.nth(0), widgets.nth(1)
    assert first.evaluate("e => e.parentElement.id") == "news-search"
    assert second.evaluate("e => e.parentElement.previousElementSibling.src.endsWith('/embed.js')")
    box = first.locator("input[type=search]")
    expect(box).to_have_attribute("placeholder", "Search the archive")
    assert first.locator("label").inner_text() and box.get_attribute("id")
    # scoped styles applied
    assert box.evaluate("e => getComputedStyle(e).borderRadius") == "999px"

    box.press_sequentially("Gwadar", delay=20)
    hits = first.locator(".searchapp-embed__hit")
    expect(hits.first.locator("mark").first).to_have_text("Gwadar")
    assert hits.count() <= 3
    # one result per article, its matching passages under its headline
    expect(first.locator("[role=status]")).to_contain_text("1 article for “Gwadar”")
    expect(hits.first.locator(".searchapp-embed__passage")).to_have_count(2)
    expect(hits.first.locator("a.searchapp-embed__link")).to_contain_text("Serving National")
    links = first.locator("a.searchapp-embed__link")
    for href in links.evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith(live_server.url + "/articles/"), href
        assert parse_qs(urlsplit(href).query)["q"] == ["Gwadar"]
        assert re.search(r"#chunk-\d+$", href)
    searches = [u for u in api_calls if "/api/search" in u]
    assert searches and all(u.startswith(live_server.url) for u in searches)
    assert parse_qs(urlsplit(searches[-1]).query)["per_page"] == ["3"]
    assert parse_qs(urlsplit(searches[-1]).query)["group"] == ["article"]
    caption = first.locator(".searchapp-embed__passage", has_text="Ahmed Kamal")
    expect(caption.locator(".searchapp-embed__passage-meta")).to_contain_text("January 29, 2018")

    # the second widget passes its kind and language filters
    other = second.locator("input[type=search]")
    other.fill("railway")
    expect(second.locator(".searchapp-embed__hit mark").first).to_be_visible()
    kinds = second.locator(".searchapp-embed__kind").all_inner_texts()
    assert kinds and {k.lower() for k in kinds} == {"photo"}
    last = [u for u in api_calls if "/api/search" in u][-1]
    assert parse_qs(urlsplit(last).query)["kind"] == ["caption"]
    assert "group" not in parse_qs(urlsplit(last).query)  # photos are listed one by one
    assert parse_qs(urlsplit(last).query)["lang"] == ["en"]

    page.screenshot(path=screenshots / "embed-other-site.png", full_page=True)

    # a result opens the article on the search server, at its passage, terms marked
    links.first.click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/articles/"))
    expect(page.locator(":target mark").first).to_be_visible()


def test_embed_snippet_is_the_only_html(new_page, other_site, live_server):
    """A hostile API answer cannot inject markup: only text and <mark> reach the page."""
    page = new_page(base_url=other_site)

    hostile_answer = {
        "total": 1,
        "page": 1,
        "per_page": 5,
        "suggestion": None,
        "showing_results_for": None,
        "match": "all",
        "facets": {},
        "hits": [
            {
                "id": "x:1",
                "article_id": "x",
                "article_title": "<img src=x onerror=alert(1)>",
                "kind": "paragraph",
                "section": "<b>section</b>",
                "position": 1,
                "lang": "en",
                "date": "2024-01-01",
                "snippet": "safe <mark>word</mark> <img src=y onerror=alert(2)><script>x</script>",
            }
        ],
    }

    def hostile(route):
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body=json.dumps(hostile_answer),
        )

    page.route(f"{live_server.url}/api/search*", hostile)
    page.goto("/")
    box = page.locator("#news-search input[type=search]")
    box.fill("word")
    hit = page.locator("#news-search .searchapp-embed__hit")
    expect(hit.locator("mark")).to_have_text("word")
    assert hit.locator("img, script, b").count() == 0
    expect(hit.locator(".searchapp-embed__section")).to_have_text("<b>section</b>")
    expect(hit.locator(".searchapp-embed__link")).to_have_text("<img src=x onerror=alert(1)>")

    # the same for an article-level answer: the headline's marks, nothing else
    hostile_answer.update(
        group="article",
        hits=[
            {
                "article_id": "x",
                "title": "<img src=x>",
                "title_snippet": "head <mark>word</mark> <img src=x onerror=alert(3)>",
                "date": "2024-01-01",
                "lang": "en",
                "authors": ["<i>A</i>"],
                "passages": [
                    {
                        "kind": "paragraph",
                        "section": "<b>s</b>",
                        "position": 2,
                        "snippet": "p <mark>word</mark><script>y</script>",
                    }
                ],
            }
        ],
    )
    box.fill("word again")
    expect(hit.locator(".searchapp-embed__passage")).to_have_count(1)
    expect(hit.locator("mark")).to_have_count(2)
    assert hit.locator("img, script, b, i").count() == 0
    expect(hit.locator(".searchapp-embed__meta")).to_contain_text("<i>A</i>")


def test_embed_demo_page(new_page, screenshots):
    page = new_page(viewport=DESKTOP)
    page.goto("/embed-demo")
    box = page.locator("#embed-demo-target input[type=search]")
    box.press_sequentially("Gwadar")
    expect(page.locator("#embed-demo-target .searchapp-embed__hit mark").first).to_be_visible()
    page.locator("#embed-demo-target").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "embed-demo.png", full_page=True)


def test_embed_accepts_only_an_http_server(new_page, other_site, live_server):
    """``data-server="javascript:..."`` would run in the embedding page when a link is used:
    the widget falls back to the server it was loaded from."""
    page = new_page(base_url=other_site)
    page.goto("/")
    page.evaluate(
        """src => {
            const target = document.createElement("div");
            target.id = "hostile-embed";
            document.body.appendChild(target);
            const script = document.createElement("script");
            script.src = src;
            script.dataset.server = "javascript:document.title='pwned'//";
            script.dataset.target = "#hostile-embed";
            document.body.appendChild(script);
        }""",
        live_server.url + "/embed.js",
    )
    widget = page.locator("#hostile-embed .searchapp-embed")
    expect(widget).to_have_count(1)
    hrefs = widget.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    hrefs = [h for h in hrefs if h]
    assert hrefs and all(h.startswith(live_server.url + "/") for h in hrefs), hrefs
    assert widget.locator("form").get_attribute("action") == live_server.url + "/search"
    widget.locator("input[type=search]").fill("Gwadar")
    expect(widget.locator(".searchapp-embed__hit mark").first).to_have_text("Gwadar")
    assert page.title() != "pwned"
