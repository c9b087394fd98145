"""The search page with JavaScript, in Chromium against the real server.

Search as you type, the URL following the query, following a result to its marked passage,
facets and pages, keyboard use ("/", arrow keys, Enter), Chinese input methods, suggestions,
no console errors or CSP violations, and screenshots for people to look at.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"


DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def api_requests(page, path: str = "fragment=1") -> list[str]:
    """Every request the page makes for ``path`` from now on (a live list): by default the
    results fragments that live search fetches."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if path in request.url else None)
    return seen


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def active_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_results_appear_as_you_type(page):
    page.goto("/")
    page.evaluate("window.sameDocument = true")
    searches = api_requests(page)
    page.locator("#q").press_sequentially("Gwadar", delay=20)
    first = page.locator("#hits .hit").first
    expect(first.locator("mark").first).to_have_text("Gwadar")
    expect(page.locator("#status")).to_contain_text("1 article for Gwadar")
    # announced through the live region that stays in the page while results are swapped
    expect(page.locator("#live-status")).to_have_text("1 article for Gwadar")
    expect(page).to_have_url(re.compile(r"/search\?q=Gwadar$"))
    expect(page).to_have_title("Gwadar – searchapp")
    assert page.evaluate("window.sameDocument") is True, "typing must not reload the page"
    # debounced: not one request per keystroke, and the last one is for the whole word
    assert 1 <= len(searches) <= 3, searches
    assert params(searches[-1])["q"] == ["Gwadar"]
    # one article, its headline the link, the caption under it with photographer and date
    expect(page.locator("#hits .hit")).to_have_count(1)
    expect(first.locator("a.hit-link")).to_contain_text("Serving National Rejuvenation")
    caption = page.locator("#hits .passage.kind-caption").first
    expect(caption).to_contain_text("Ahmed Kamal")
    expect(caption).to_contain_text("January 29, 2018")
    expect(caption.locator("a.passage-link")).to_have_attribute(
        "href", f"/articles/{SEED_ID}?q=Gwadar#chunk-17"
    )
    # facets and the JSON twin follow the query
    expect(page.locator("#facets .facet-link").first).to_be_visible()
    expect(page.locator("#json-link")).to_have_attribute(
        "href", "/api/search?q=Gwadar&group=article"
    )
    # clearing the box brings back the start page
    page.locator("#q").fill("")
    expect(page.locator("#intro")).to_be_visible()
    expect(page.locator("#hits .hit")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/search$"))


def test_follow_a_result_to_the_marked_passage(page):
    page.goto("/")
    page.locator("#q").press_sequentially("Gwadar")
    # (an earlier answer, for "Gwada", shows the results of its correction "gwadar")
    expect(page.locator("#status")).to_contain_text("for Gwadar")
    link = page.locator("#hits .kind-caption a.passage-link").first
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(rf"/articles/{SEED_ID}\?q=Gwadar#chunk-17$"))
    target = page.locator(":target")
    expect(target).to_have_attribute("id", "chunk-17")
    expect(target.locator("mark")).to_have_text("Gwadar")
    expect(target).to_contain_text("Ahmed Kamal")
    assert target.evaluate("e => e.tagName") == "FIGURE"
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert target.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight }"
    ), "the targeted passage should be scrolled into view"
    expect(page.locator("article mark")).to_have_count(2)
    expect(page.locator("#q")).to_have_value("Gwadar")


def test_facet_then_page_two(page):
    page.goto("/search?q=china&group=none")
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#pagination")).to_be_visible()
    page.locator("#facets a.facet-link", has_text="Article text").click()
    expect(page).to_have_url(re.compile(r"kind=paragraph"))
    hits = page.locator("#hits .hit")
    expect(hits.first).to_be_visible()
    assert hits.count() == page.locator("#hits .hit.kind-paragraph").count()
    expect(page.locator("#active-filters .filter-chip")).to_contain_text("Article text")
    first_page = hits.all_inner_texts()

    page.locator("#pagination a[rel=next]").click()
    expect(page.locator('#pagination [aria-current="page"]')).to_have_text("2")
    assert params(page.url) == {
        "q": ["china"],
        "group": ["none"],
        "kind": ["paragraph"],
        "page": ["2"],
    }
    expect(hits.first).to_be_visible()
    assert set(hits.all_inner_texts()).isdisjoint(first_page)
    assert page.locator("#hits").get_attribute("start") == "11"
    assert page.evaluate("window.sameDocument") is True, "facets and pages apply in place"

    # the back button returns to page 1
    page.go_back()
    expect(page.locator('#pagination [aria-current="page"]')).to_have_text("1")

    # a new query starts again at page 1, keeping the filter
    page.locator("#q").fill("railway")
    expect(page).to_have_url(re.compile(r"/search\?q=railway&group=none&kind=paragraph$"))
    expect(page.locator("#hits .hit mark").first).to_be_visible()

    # removing the filter
    page.locator("#active-filters .filter-chip").click()
    expect(page.locator("#active-filters")).to_be_hidden()
    assert params(page.url) == {"q": ["railway"], "group": ["none"]}


def test_slash_focuses_the_search_box(page):
    page.goto(f"/articles/{SEED_ID}")
    page.locator("h1").click()
    assert active_id(page) != "q"
    page.keyboard.press("/")
    assert active_id(page) == "q"
    expect(page.locator("#q")).to_have_value("")  # the "/" is not typed into the box
    # but inside the box "/" is just a character
    page.keyboard.type("a/b")
    expect(page.locator("#q")).to_have_value("a/b")


def test_arrow_keys_move_through_results(page):
    page.goto("/search?q=china")
    links = page.locator("#hits a.hit-link")
    expect(links.nth(2)).to_be_visible()
    page.locator("#q").focus()
    page.keyboard.press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(links.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()
    # Enter on a result opens it
    page.keyboard.press("ArrowDown")
    href = links.nth(0).get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(href.split("#")[0])))
    assert page.url.endswith(href)


def test_arrow_keys_after_live_results_and_suggestions(page):
    page.goto("/")
    page.locator("#q").press_sequentially("rai")
    options = page.locator("#suggestions [role=option]")
    expect(options.first).to_be_visible()
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "true")
    assert options.first.inner_text().startswith("rai")
    # down into the suggestions, Enter takes one and searches for it
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(page.locator("#q")).to_have_attribute("aria-activedescendant", "suggestion-0")
    chosen = options.first.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("#q")).to_have_value(chosen)
    expect(page.locator("#suggestions")).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"q={re.escape(chosen)}$"))
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    # with no suggestions open, ArrowDown goes to the results
    page.keyboard.press("ArrowDown")
    expect(page.locator("#hits a.hit-link").first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()
    # Escape closes suggestions
    page.keyboard.type(" chi")
    expect(page.locator("#suggestions")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()


def test_no_request_while_an_input_method_composes(page):
    page.goto("/")
    searches = api_requests(page)
    page.locator("#q").focus()
    page.evaluate(
        """() => {
        const box = document.getElementById("q");
        box.dispatchEvent(new CompositionEvent("compositionstart", {data: ""}));
        for (const text of ["z", "zh", "zhong", "中", "中lao", "中老", "中老tie", "中老铁路"]) {
          box.value = text;
          box.dispatchEvent(new CompositionEvent("compositionupdate", {data: text}));
          box.dispatchEvent(new InputEvent("input", {
            data: text, inputType: "insertCompositionText", isComposing: true, bubbles: true,
          }));
        }
      }"""
    )
    page.wait_for_timeout(500)  # more than three debounce periods
    assert searches == [], "no search may be sent while the input method is composing"
    expect(page.locator("#hits .hit")).to_have_count(0)
    page.evaluate(
        """() => document.getElementById("q").dispatchEvent(
             new CompositionEvent("compositionend", {data: "中老铁路"}))"""
    )
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    assert len(searches) == 1 and params(searches[0])["q"] == ["中老铁路"]
    expect(page).to_have_url(re.compile(r"/search\?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF$"))


def test_real_input_method_through_devtools(page):
    """The same with Chromium's own IME events (compositionstart/update/end, isComposing)."""
    page.goto("/")
    searches = api_requests(page)
    page.locator("#q").focus()
    cdp = page.context.new_cdp_session(page)
    for text in ["z", "zh", "zho", "zhon", "zhong"]:
        cdp.send(
            "Input.imeSetComposition",
            {"text": text, "selectionStart": len(text), "selectionEnd": len(text)},
        )
        page.wait_for_timeout(60)
    page.wait_for_timeout(400)
    assert searches == []
    cdp.send("Input.insertText", {"text": "中老"})
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    assert [params(u)["q"] for u in searches] == [["中老"]]


def test_stale_responses_never_replace_newer_results(new_page):
    page = new_page()
    # Hold back the answer for "Kunming" so that it arrives after the one for "Gwadar".
    page.add_init_script(
        """
        window.aborted = 0;
        const realFetch = window.fetch;
        window.fetch = async (url, options = {}) => {
          if (options.signal) options.signal.addEventListener("abort", () => window.aborted++);
          const response = await realFetch(url, options);
          if (String(url).includes("q=Kunming")) {
            await new Promise((resolve) => setTimeout(resolve, 700));
            if (options.signal && options.signal.aborted) {
              throw new DOMException("The request was aborted", "AbortError");
            }
          }
          return response;
        };
        """
    )
    page.goto("/")
    page.locator("#q").fill("Kunming")
    page.wait_for_timeout(300)  # its request is in flight
    page.locator("#q").fill("Gwadar")
    expect(page.locator("#hits .hit mark").first).to_have_text("Gwadar")
    page.wait_for_timeout(800)  # the held-back answer would have arrived by now
    expect(page.locator("#hits .hit mark").first).to_have_text("Gwadar")
    expect(page.locator("#status")).to_contain_text("Gwadar")
    assert page.evaluate("window.aborted") >= 1


def test_did_you_mean_and_errors_live(page):
    page.goto("/")
    page.locator("#q").fill("Kazakstan")
    expect(page.locator("#notices")).to_contain_text("Showing results for kazakhstan")
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    page.locator("#q").fill("qqxqzzvq")
    expect(page.locator("#empty")).to_contain_text("No results for")
    expect(page.locator("#hits .hit")).to_have_count(0)


def test_pages_work_without_javascript(no_js_page):
    page = no_js_page
    page.goto("/")
    page.locator("#q").fill("Gwadar")
    page.locator("#q").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=Gwadar$"))
    expect(page.locator("#hits .hit mark").first).to_have_text("Gwadar")


PAGES = [
    "/",
    "/search?q=Gwadar",
    "/search?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF&lang=zh",
    "/search?q=china&page=3",
    "/search?q=qqxqzzvq",
    "/search?q=x&page=0",
    f"/articles/{SEED_ID}?q=Gwadar#chunk-17",
    "/articles/2023-12-03-xinhua-zh-china-laos-railway",
    "/articles/no-such-article",
    "/embed-demo",
]


def test_no_console_errors_or_csp_violations(page, live_server):
    # Chromium logs the status of error pages themselves; that is the only error allowed.
    page.problems.allowed = (
        f"status of 400 (BAD REQUEST) ({live_server.url}/search?q=x&page=0)",
        f"status of 404 (NOT FOUND) ({live_server.url}/articles/no-such-article)",
    )
    for url in PAGES:
        page.goto(url)
        page.wait_for_load_state("load")
        # the stylesheet and script loaded and applied
        assert page.evaluate("document.documentElement.classList.contains('js')"), url
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).position"
        ) in ("sticky", "static"), url
    # the embed demo on our own (strict-CSP) page: its <style> is allowed by hash
    box = page.locator(".searchapp-embed__input")
    assert box.evaluate("e => getComputedStyle(e).borderRadius") == "999px"
    box.fill("Gwadar")
    expect(page.locator(".searchapp-embed__hit mark").first).to_have_text("Gwadar")
    assert page.problems.unexpected() == []


def test_mobile_layout_fits(new_page):
    page = new_page(viewport=MOBILE)
    page.goto("/search?q=railway")
    expect(page.locator("#hits .hit").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    box = page.locator("#q").bounding_box()
    assert box["width"] >= 180
    assert page.locator("#facets").bounding_box()["width"] <= MOBILE["width"]


SCREENSHOT_QUERY = "/search?q=railway"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_screenshots_of_results(new_page, screenshots, size, scheme):
    page = new_page(viewport=DESKTOP if size == "desktop" else MOBILE, color_scheme=scheme)
    page.goto(SCREENSHOT_QUERY)
    expect(page.locator("#hits .hit mark").first).to_be_visible()
    page.screenshot(path=screenshots / f"results-{size}-{scheme}.png")
    if size == "desktop":
        # the live version of the same page, typed, with a result focused from the keyboard
        page.goto("/")
        page.locator("#q").press_sequentially("Gwadar")
        expect(page.locator("#hits .hit mark").first).to_be_visible()
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")
        page.screenshot(path=screenshots / f"results-live-{scheme}.png")
        page.goto(f"/articles/{SEED_ID}?q=Gwadar#chunk-17")
        expect(page.locator(":target")).to_be_visible()
        page.screenshot(path=screenshots / f"article-{scheme}.png")


CONTRAST = """
(selectors) => {
  const parse = (value) => {
    let m = value.match(/rgba?\\(([\\d.]+),?\\s*([\\d.]+),?\\s*([\\d.]+)(?:[,/]\\s*([\\d.]+))?/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    m = value.match(/color\\(srgb ([\\d.]+) ([\\d.]+) ([\\d.]+)(?: \\/ ([\\d.]+))?/);
    if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
    throw new Error("unknown colour " + value);
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] === 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = {};
  for (const selector of selectors) {
    const el = document.querySelector(selector);
    if (!el) { out[selector] = null; continue; }
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    out[selector] = Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  }
  return out;
}
"""
CONTRAST_SELECTORS = [
    ".summary",
    ".hit-link",
    ".passage-section",
    ".snippet",
    ".snippet mark",
    ".hit-title mark",
    ".hit-meta",
    ".badge-caption",
    ".photo-meta",
    ".more-passages",
    ".sort-link",
    ".sort-link.is-active",
    ".date-field",
    ".date-field input",
    ".facet-note",
    ".facet-title",
    ".facet-link",
    ".facet-count",
    ".filter-chip",
    ".filter-name",
    ".json-link",
    ".site-footer a",
    "#q",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(new_page, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/search?q=railway&lang=en")
    expect(page.locator("#hits .hit").first).to_be_visible()
    ratios = page.evaluate(CONTRAST, CONTRAST_SELECTORS)
    missing = [s for s, r in ratios.items() if r is None]
    assert not missing, missing
    low = {s: r for s, r in ratios.items() if r < 4.5}
    assert not low, f"contrast below 4.5:1 in {scheme} mode: {low}"
