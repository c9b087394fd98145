"""Article-level results, the sort control, the date control and facets, in Chromium.

With JavaScript every control applies in place (the server renders the results area once,
app.js swaps it in) and the URL follows; without JavaScript the same controls are plain links
and GET forms. Screenshots of each, desktop and mobile, light and dark, for people to look at.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "mobile": MOBILE}


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def dates_shown(page) -> list[str]:
    return page.locator("#hits > .hit > .hit-meta time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))"
    )


def test_grouped_results_show_passages_under_each_article(page):
    page.goto("/search?q=railway")
    articles = page.locator("#hits > .hit")
    expect(articles).to_have_count(2)
    # each article once: headline link, date, its passages under it, each with its own anchor
    second = articles.nth(1)
    expect(second.locator(".hit-link")).to_contain_text("Serving National Rejuvenation")
    passages = second.locator(".passage")
    expect(passages).to_have_count(3)
    for href in passages.locator("a.passage-link").evaluate_all("a => a.map(x => x.href)"):
        assert re.search(r"\?q=railway#chunk-\d+$", href), href
    caption = second.locator(".passage.kind-caption")
    expect(caption.locator(".photographer")).to_have_text("Xu Qin")
    expect(second.locator(".more-passages")).to_contain_text("matching passages")
    # a passage is its own link, above the whole-card headline link
    target = passages.first.locator(".snippet")
    href = passages.first.locator("a").get_attribute("href")
    target.click()
    page.wait_for_url(re.compile(re.escape(href.split("#")[0])))
    assert page.url.endswith(href)


def test_sort_control_applies_in_place(page):
    page.goto("/search?q=railway+OR+%E9%93%81%E8%B7%AF")
    page.evaluate("window.sameDocument = true")
    best = dates_shown(page)
    page.locator(".sort-link", has_text="Newest").click()
    expect(page.locator(".sort-link.is-active")).to_have_text("Newest")
    assert params(page.url)["sort"] == ["newest"]
    newest = dates_shown(page)
    assert newest == sorted(newest, reverse=True) and sorted(newest) == sorted(best)
    page.locator(".sort-link", has_text="Oldest").click()
    expect(page.locator(".sort-link.is-active")).to_have_text("Oldest")
    assert dates_shown(page) == sorted(newest)
    # typing keeps the sort; the page was never reloaded
    page.locator("#q").fill("railway")
    expect(page).to_have_url(re.compile(r"q=railway&sort=oldest$"))
    expect(page.locator(".sort-link.is-active")).to_have_text("Oldest")
    assert page.evaluate("window.sameDocument") is True
    # back goes to the previous state
    page.go_back()
    expect(page.locator(".sort-link.is-active")).to_have_text("Newest")


def test_date_control_and_facets_with_javascript(page):
    page.goto("/search?q=railway+OR+%E9%93%81%E8%B7%AF")
    page.evaluate("window.sameDocument = true")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "fragment=1" in r.url else None)
    # the year facet, with counts
    year = page.locator("#facets a.facet-year", has_text="2024")
    expect(year.locator(".facet-count")).to_have_text(re.compile(r"^\d+$"))
    year.click()
    expect(page.locator("#facets a.facet-year.is-active")).to_contain_text("2024")
    assert params(page.url)["date_from"] == ["2024-01-01"]
    assert params(page.url)["date_to"] == ["2024-12-31"]
    assert all(d.startswith("2024") for d in dates_shown(page))
    # the form's dates show the state, and a typed date applies at once
    expect(page.locator("#date-form input[name=date_from]")).to_have_value("2024-01-01")
    page.locator("#date-form input[name=date_to]").fill("2024-01-31")
    expect(page).to_have_url(re.compile(r"date_to=2024-01-31"))
    expect(page.locator("#active-filters")).to_contain_text("2024-01-31")
    assert all("2024-01" in d for d in dates_shown(page))
    # a language facet on top, then "any time" clears the dates and keeps the language
    page.locator("#facets .facet-lang a.facet-link").first.click()
    expect(page).to_have_url(re.compile(r"lang="))
    page.locator("#facets a.facet-link", has_text="Any time").click()
    expect(page.locator("#date-form input[name=date_from]")).to_have_value("")
    assert "date_from" not in params(page.url) and "lang" in params(page.url)
    assert page.evaluate("window.sameDocument") is True
    assert requests and all("/search?" in u for u in requests)
    # a quick choice relative to today: nothing so recent in the test archive
    page.locator("#facets a.facet-link", has_text="Past week").click()
    expect(page.locator("#empty")).to_contain_text("No results")
    expect(page.locator("#empty a", has_text="Search without filters")).to_be_visible()


def test_date_control_and_facets_without_javascript(no_js_page):
    page = no_js_page
    page.goto("/search?q=railway+OR+%E9%93%81%E8%B7%AF")
    page.locator("#date-form input[name=date_from]").fill("2024-01-01")
    page.locator("#date-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"date_from=2024-01-01"))
    assert params(page.url)["q"] == ["railway OR 铁路"]
    expect(page.locator("#active-filters")).to_contain_text("2024-01-01")
    expect(page.locator("#hits > .hit").first).to_be_visible()
    # facets and sort are links: they work as they are
    page.locator(".sort-link", has_text="Oldest").click()
    page.wait_for_url(re.compile(r"sort=oldest"))
    page.locator("#facets .facet-year").first.click()
    page.wait_for_url(re.compile(r"date_to="))
    expect(page.locator("#hits > .hit").first).to_be_visible()
    # browsing without words: newest articles first
    page.goto("/")
    page.locator("a.chip-browse").click()
    page.wait_for_url(re.compile(r"sort=newest"))
    expect(page.locator("#hits > .hit")).to_have_count(4)


def test_key_hints_hidden_on_touch_screens(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=MOBILE, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator(".key-tips")).to_be_hidden()
        expect(page.locator(".slash-hint")).to_be_hidden()
    finally:
        context.close()


def test_previous_and_next_stay_inside_their_buttons(new_page):
    for viewport in (DESKTOP, MOBILE):
        page = new_page(viewport=viewport)
        page.goto("/search?q=china&group=none&page=2")
        for selector in (".page-prev", ".page-next"):
            button = page.locator(f"#pagination {selector}")
            fits = button.evaluate(
                "e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1"
            )
            assert fits, f"{selector} overflows at {viewport['width']}px"
            box = button.bounding_box()
            assert box["height"] < 50, f"{selector} wraps at {viewport['width']}px"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_screenshots_of_grouped_results_and_controls(new_page, screenshots, size, scheme):
    page = new_page(viewport=SIZES[size], color_scheme=scheme)
    page.goto("/search?q=railway+OR+%E9%93%81%E8%B7%AF")
    expect(page.locator("#hits .passage mark").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    page.screenshot(path=screenshots / f"grouped-{size}-{scheme}.png", full_page=True)
    # sorted by date, filtered by a year, with the date control showing it
    page.locator(".sort-link", has_text="Newest").click()
    page.locator("#facets a.facet-year").first.click()
    expect(page.locator("#facets a.facet-year.is-active")).to_be_visible()
    page.screenshot(path=screenshots / f"sorted-dated-{size}-{scheme}.png", full_page=True)
    # browsing the newest articles without a query
    page.goto("/search?sort=newest")
    expect(page.locator("#hits > .hit")).to_have_count(4)
    page.screenshot(path=screenshots / f"browse-{size}-{scheme}.png", full_page=True)
