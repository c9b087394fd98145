"""The HTML pages without JavaScript: search results, facets, paging, article view, errors.

These run on the Flask test client against the session's test index (the bundled article plus
the English, Chinese and mixed fixture articles). The browser tests in ``tests/browser`` cover
what JavaScript adds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from searchapp.web import create_app

SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"
GWADAR_CHUNK = 17  # "This is the port of Gwadar ... (Photo by Ahmed Kamal)"


class Page(HTMLParser):
    """The start tags of an HTML page, with attributes, and the text of each element by id."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        """Elements with this tag whose attributes contain the given values (class: a word)."""
        found = []
        for name, have in self.tags:
            if tag and name != tag:
                continue
            ok = True
            for key, want in attrs.items():
                key = key.rstrip("_").replace("_", "-")
                if key == "class":
                    ok = ok and want in have.get("class", "").split()
                else:
                    ok = ok and have.get(key) == want
            if ok:
                found.append(have)
        return found

    def hrefs(self, **attrs: str) -> list[str]:
        return [a["href"] for a in self.find("a", **attrs)]


def get(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


def hits_html(page: Page) -> list[str]:
    """The HTML of each result item (an article with its passages, or a passage), in order."""
    if '<ol id="hits"' not in page.html:
        return []
    body = page.html.split('<ol id="hits"', 1)[1].split("\n  </ol>", 1)[0]
    return [part.rsplit("</li>", 1)[0] for part in body.split('<li class="hit ')[1:]]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# ---- the search page ----


def test_home_page_is_a_search_box(client):
    page = get(client, "/")
    (box,) = page.find("input", id="q")
    assert box["name"] == "q" and box["type"] == "search" and "autofocus" in box
    assert page.find("label", for_="q"), "the search box needs a label"
    (form,) = page.find("form", role="search")
    assert form["method"] == "get"
    assert "Search the news" in page.html
    assert not hits_html(page)
    # example queries come from the index (no config): each finds passages with all its words
    chips = page.hrefs(class_="chip")
    assert len(chips) >= 3
    for href in chips:
        result = client.get("/api" + href).get_json()
        assert result["total"] and result["match"] == "all", href


def test_gwadar_caption_result(client):
    page = get(client, "/?q=Gwadar")
    items = hits_html(page)
    assert len(items) == 1, "one article, with both its Gwadar passages under it"
    (article,) = items
    assert article.startswith("article-hit")
    # the link text is the article's headline, not a section heading
    (headline,) = re.findall(r'<a class="hit-link"[^>]*>(.*?)</a>', article)
    assert headline.startswith("Serving National Rejuvenation")
    link = f'href="/articles/{SEED_ID}?q=Gwadar#chunk-{GWADAR_CHUNK}"'
    assert f'<a class="hit-link" {link}' in article  # the best passage's anchor
    assert article.count('<li class="passage ') == 2
    caption = article.split('<li class="passage kind-caption"', 1)[1].split("</li>", 1)[0]
    assert "<mark>Gwadar</mark>" in caption and "Photo" in caption
    assert "Ahmed Kamal" in caption
    # dates in the reader's language; the machine-readable date stays ISO
    assert 'datetime="2018-01-29"' in caption and ">January 29, 2018</time>" in caption
    assert f'<a class="passage-link" {link}' in caption
    # no jargon labels
    assert "Paragraph" not in article and ">Title<" not in article
    # the count, in the live region, says what it counts
    (status,) = page.find("p", id="status")
    assert status["aria-live"] == "polite"
    assert re.search(r'id="status"[^>]*><strong>1</strong> article for', page.html)


def test_photos_view_lists_captions(client):
    page = get(client, "/?q=Gwadar&kind=caption")
    (caption,) = hits_html(page)
    assert caption.startswith("kind-caption")
    assert "<mark>Gwadar</mark>" in caption and "Ahmed Kamal" in caption
    assert "Guiding the direction for the future and destiny of mankind" in caption  # section
    assert ">Serving National Rejuvenation" in caption  # the headline is the link
    assert re.search(r'id="status"[^>]*><strong>1</strong> result for', page.html)


def test_results_page_links_its_json_twin(client):
    page = get(client, "/search?q=Gwadar&kind=caption")
    (json_link,) = page.find("a", id="json-link")
    assert urlsplit(json_link["href"]).path == "/api/search"
    assert query_of(json_link["href"]) == {"q": ["Gwadar"], "kind": ["caption"]}
    (alternate,) = page.find("link", rel="alternate")
    assert alternate["type"] == "application/json" and alternate["href"] == json_link["href"]
    twin = client.get(json_link["href"]).get_json()
    assert [h["id"] for h in twin["hits"]] == [f"{SEED_ID}:{GWADAR_CHUNK}"]


def test_facet_links_filter_and_can_be_removed(client):
    page = get(client, "/?q=railway")
    kinds = [h for h in page.hrefs(class_="facet-link") if "kind=caption" in h]
    assert len(kinds) == 1
    filtered = get(client, kinds[0])
    items = hits_html(filtered)
    assert items and all(item.startswith("kind-caption") for item in items)
    # the active filter is shown with a link that removes it, keeping the query
    (chip,) = filtered.find("a", class_="filter-chip")
    assert "Found in" in chip["aria-label"] and "Photo" in chip["aria-label"]
    assert query_of(chip["href"]) == {"q": ["railway"]}
    # the active facet value links to the unfiltered page too
    (active,) = [a for a in filtered.find("a", class_="is-active") if "facet-link" in a["class"]]
    assert active["aria-current"] == "true" and query_of(active["href"]) == {"q": ["railway"]}
    # the search form keeps the filter when the query changes
    assert filtered.find("input", type="hidden", name="kind", value="caption")


def test_language_and_section_facets(client):
    page = get(client, "/?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF")  # 中老铁路: both languages
    langs = {query_of(h).get("lang", [""])[0] for h in page.hrefs(class_="facet-link")}
    assert {"en", "zh"} <= langs
    zh = get(client, "/?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF&lang=zh")
    assert all('lang="zh"' in item for item in hits_html(zh))
    sections = [h for h in page.hrefs(class_="facet-link") if "section=" in h]
    assert sections
    section = query_of(sections[0])["section"][0]
    by_section = get(client, sections[0])
    items = hits_html(by_section)
    assert items and all(section in item for item in items)


def test_pagination_links(client):
    first = get(client, "/?q=china&group=none")
    (nav,) = first.find("nav", id="pagination")
    assert nav["aria-label"]
    (current,) = first.find("a", class_="page-number", aria_current="page")
    assert current["href"] == "/search?q=china&group=none"  # page=1 is left out of URLs
    (next_link,) = first.find("a", rel="next")
    assert query_of(next_link["href"]) == {"q": ["china"], "group": ["none"], "page": ["2"]}
    assert not first.find("a", rel="prev")
    numbers = first.hrefs(class_="page-number")
    assert "/search?q=china&group=none&page=2" in numbers

    second = get(client, next_link["href"])
    (current,) = second.find("a", class_="page-number", aria_current="page")
    assert query_of(current["href"])["page"] == ["2"]
    (prev,) = second.find("a", rel="prev")
    assert query_of(prev["href"]) == {"q": ["china"], "group": ["none"]}
    assert set(hits_html(first)).isdisjoint(hits_html(second))
    (hits,) = second.find("ol", id="hits")
    assert hits["start"] == "11"


def test_paging_through_all_results_shows_each_hit_once(client):
    seen = []
    page = 1
    while True:
        result = client.get(
            "/api/search", query_string={"q": "china", "kind": "paragraph", "page": page}
        ).get_json()
        if not result["hits"]:
            break
        seen += [hit["id"] for hit in result["hits"]]
        page += 1
    assert len(seen) == result["total"]
    assert len(set(seen)) == len(seen), [i for i in seen if seen.count(i) > 1]


def test_pagination_keeps_filters_and_per_page(client):
    page = get(client, "/?q=china&lang=en&per_page=2")
    (next_link,) = page.find("a", rel="next")
    assert query_of(next_link["href"]) == {
        "q": ["china"],
        "lang": ["en"],
        "per_page": ["2"],
        "page": ["2"],
    }
    assert len(hits_html(page)) == 2


def test_page_past_the_last_one(client):
    page = get(client, "/?q=Gwadar&page=7")
    assert "No results on page 7" in page.html
    assert "/search?q=Gwadar" in page.hrefs()


def test_did_you_mean_corrects_kazakstan(client):
    page = get(client, "/?q=Kazakstan")
    assert hits_html(page), "the corrected query should have results"
    assert "Showing results for" in page.html
    (link,) = [h for h in page.hrefs() if query_of(h).get("q") == ["kazakhstan"]][:1]
    assert urlsplit(link).path == "/search"
    assert "<mark>Kazakhstan</mark>" in page.html
    # the article links mark the corrected word
    assert all("q=kazakhstan" in h for h in page.hrefs(class_="hit-link"))


def test_match_any_notice(client):
    q = "Gwadar Kunming"  # no passage has both words
    api = client.get("/api/search", query_string={"q": q}).get_json()
    assert api["match"] == "any" and api["total"] > 0, api
    page = get(client, "/search?q=Gwadar+Kunming")
    assert "No passage has all the words" in page.html
    assert hits_html(page)


def test_empty_state(client):
    page = get(client, "/?q=qqxqzzvq")
    assert not hits_html(page)
    assert "No results for <q>qqxqzzvq</q>" in page.html
    assert "Check the spelling" in page.html
    filtered = get(client, "/?q=qqxqzzvq&kind=caption")
    (without,) = [h for h in filtered.hrefs() if h == "/search?q=qqxqzzvq"][:1]
    assert without


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=Gwadar&page=0", "page must be an integer"),
        ("q=Gwadar&page=abc", "page must be an integer"),
        ("q=Gwadar&per_page=1000", "per_page must be an integer"),
        ("q=Gwadar&kind=photo", "kind must be one of"),
        ("q=Gwadar&lang=fr", "lang must be"),
        ("q=Gwadar&date_from=yesterday", "date_from must be a date"),
    ],
)
def test_bad_parameters_give_a_400_page(client, query, message):
    page = get(client, "/?" + query, status=400)
    assert message in page.html
    assert page.find("p", role="alert")
    assert not hits_html(page)
    # the way out keeps the query but not the bad paging
    assert any(query_of(h).get("q") == ["Gwadar"] for h in page.hrefs(class_="button-link"))


def test_chinese_query_is_highlighted(client):
    page = get(client, "/?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF")
    items = hits_html(page)
    assert items
    assert all("<mark>" in item for item in items)
    assert any("<mark>中老铁路</mark>" in item for item in items)
    assert 'lang="zh"' in items[0]
    assert "<title>中老铁路 – searchapp</title>" in page.html


def test_query_is_escaped(client):
    q = "<script>alert(1)</script>"
    response = client.get("/search", query_string={"q": q})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert q not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    for tag, attrs in Page(body).tags:
        assert not (tag == "script" and "src" not in attrs), "inline script"


def test_attribute_values_are_escaped(client):
    q = '"><img src=x onerror=alert(1)>'
    body = client.get("/search", query_string={"q": q, "kind": "caption"}).get_data(as_text=True)
    page = Page(body)
    assert not page.find("img")
    (box,) = page.find("input", id="q")
    assert box["value"] == q


# ---- the article page ----


def test_article_page_renders_the_whole_article(client):
    page = get(client, f"/articles/{SEED_ID}?q=Gwadar")
    html = page.html
    (h1,) = page.find("h1")
    assert h1["id"] == "chunk-0"
    assert "Serving National Rejuvenation and Promoting Human Progress" in html
    assert '<time datetime="2022-09-26">September 26, 2022</time>' in html
    assert "Xinhua News Agency, Beijing, September 25th" in html
    assert page.find("p", class_="chunk-byline")
    assert "Zheng Mingda and Feng Xinran" in html
    headings = page.find("h2", class_="chunk-heading")
    assert len(headings) >= 3 and all(h["id"].startswith("chunk-") for h in headings)
    assert "Guiding the direction for the future and destiny of mankind</h2>" in html
    # captions are figures whose figcaption names the photographer and date
    figures = page.find("figure", class_="chunk-caption")
    assert len(figures) >= 5
    gwadar = html.split(f'<figure id="chunk-{GWADAR_CHUNK}"', 1)[1].split("</figure>", 1)[0]
    assert "<figcaption>" in gwadar and "<mark>Gwadar</mark>" in gwadar
    assert "Ahmed Kamal" in gwadar and 'datetime="2018-01-29"' in gwadar
    # every chunk has an anchor, in order
    ids = [int(a["id"].split("-")[1]) for _, a in page.tags if a.get("id", "").startswith("chunk-")]
    assert ids == sorted(ids) and ids == list(range(len(ids)))
    assert html.count("<mark>Gwadar</mark>") == 2
    # back to the results, and the JSON twin
    assert "/search?q=Gwadar" in page.hrefs(class_="back-link")
    (alternate,) = page.find("link", rel="alternate")
    assert alternate["href"] == f"/api/articles/{SEED_ID}?q=Gwadar"


def test_article_without_query_has_no_marks(client):
    page = get(client, f"/articles/{SEED_ID}")
    assert "<mark>" not in page.html
    assert page.find("input", id="q", value="")


def test_chinese_article_marks_chinese_terms(client):
    page = get(client, "/articles/2023-12-03-xinhua-zh-china-laos-railway?q=中老铁路")
    (article,) = page.find("article")
    assert article["lang"] == "zh"
    assert "<mark>中老铁路</mark>" in page.html
    assert page.find("figure", class_="chunk-caption")


def test_unknown_article_is_a_404_page(client):
    page = get(client, "/articles/no-such-article", status=404)
    assert "Page not found" in page.html
    assert "no-such-article" in page.html
    assert "/" in page.hrefs(class_="button-link")
    page = get(client, "/articles/%3Cb%3Ebold", status=404)
    assert "<b>bold" not in page.html


def test_unknown_path_is_a_404_page(client):
    page = get(client, "/nowhere", status=404)
    assert "Page not found" in page.html


# ---- OpenSearch ----

OS_NS = {"os": "http://a9.com/-/spec/opensearch/1.1/"}


def test_opensearch_description(index_dir):
    # Absolute links come from the configured public address (never from the Host header).
    app = create_app({"INDEX_DIR": str(index_dir), "BASE_URL": "https://news.example.org"})
    client = app.test_client()
    response = client.get("/opensearch.xml", base_url="https://internal.example:8000")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription"
    short = root.find("os:ShortName", OS_NS).text
    assert short and len(short) <= 16
    assert root.find("os:InputEncoding", OS_NS).text == "UTF-8"
    urls = {u.get("type"): u.get("template") for u in root.findall("os:Url", OS_NS)}
    base = "https://news.example.org"
    assert urls["text/html"] == f"{base}/search?q={{searchTerms}}"
    assert urls["application/x-suggestions+json"] == f"{base}/api/suggest?q={{searchTerms}}"
    assert urls["application/json"].startswith(f"{base}/api/search?q={{searchTerms}}&")
    assert urls["application/opensearchdescription+xml"] == f"{base}/opensearch.xml"
    image = root.find("os:Image", OS_NS).text
    assert image.startswith(base)
    icon = client.get(urlsplit(image).path)
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    icon.close()


def test_opensearch_urls_work(client):
    html = client.get("/search?q=Gwadar")
    assert html.status_code == 200
    suggest = client.get("/api/suggest?q=Gwad").get_json()
    assert suggest[0] == "Gwad" and "gwadar" in suggest[1]
    # the JSON template's optional parameters are left empty by clients that don't fill them
    assert client.get("/api/search?q=Gwadar&page=&per_page=").status_code == 200


PAGES = [
    "/",
    "/?q=Gwadar",
    "/search?q=%E4%B8%AD%E8%80%81%E9%93%81%E8%B7%AF&kind=paragraph",
    "/?q=qqxqzzvq",
    f"/articles/{SEED_ID}?q=Gwadar",
    "/embed-demo",
]
ERROR_PAGES = [("/?q=x&page=0", 400), ("/articles/nope", 404)]


@pytest.mark.parametrize(("url", "status"), [(u, 200) for u in PAGES] + ERROR_PAGES)
def test_every_page_links_opensearch_and_sends_security_headers(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    page = Page(response.get_data(as_text=True))
    (link,) = page.find("link", rel="search")
    assert link["type"] == "application/opensearchdescription+xml"
    assert link["href"] == "/opensearch.xml"
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    # no inline scripts, styles or handlers: the CSP would block them
    for tag, attrs in page.tags:
        assert not (tag == "script" and "src" not in attrs), f"inline script on {url}"
        assert tag != "style", f"inline <style> on {url}"
        assert "style" not in attrs, f"style attribute on {url}: {tag} {attrs}"
        assert not any(name.startswith("on") for name in attrs), f"handler on {url}: {tag}"


def test_static_files_are_served(client):
    for name, mimetype in [("app.js", "text/javascript"), ("app.css", "text/css")]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert response.mimetype == mimetype
        response.close()


# ---- embedding ----


def embedded_css(script: str) -> str:
    match = re.search(r'^\s*var CSS = (".*");$', script, re.MULTILINE)
    assert match, "embed.js should carry its stylesheet"
    return json.loads(match.group(1))


def test_embed_js_carries_its_scoped_styles(client):
    response = client.get("/embed.js", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    script = response.get_data(as_text=True)
    assert "@embed-css" not in script
    css = embedded_css(script)
    preludes = [p.strip() for p in re.findall(r"([^{};]+)\{", css)]
    selectors = [s.strip() for p in preludes if not p.startswith("@") for s in p.split(",")]
    scoped = (".searchapp-embed", ":where(.searchapp-embed")
    assert selectors and all(s.startswith(scoped) for s in selectors), selectors
    for option in ("target", "perPage", "kind", "lang", "placeholder", "server"):
        assert f"data.{option}" in script


def test_embed_demo_allows_exactly_the_widget_style(client):
    response = client.get("/embed-demo")
    css = embedded_css(client.get("/embed.js").get_data(as_text=True))
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in csp
    page = Page(response.get_data(as_text=True))
    assert f"'sha256-{digest}'" in page.html  # documented for sites with a CSP
    (script,) = page.find("script", src="/embed.js")
    assert page.find(id=script["data-target"].lstrip("#"))


# ---- grouped results, sort, dates, fragments ----


def test_grouped_pages_never_repeat_an_article(client):
    seen, page = [], 1
    while True:
        url = f"/search?q=China+OR+%E4%B8%AD%E5%9B%BD&per_page=1&page={page}"
        items = hits_html(get(client, url))
        if not items:
            break
        (headline,) = re.findall(r'<a class="hit-link" href="/articles/([^?#"]+)', items[0])
        seen.append(headline)
        page += 1
    assert len(seen) >= 3 and len(set(seen)) == len(seen)


def test_sort_links_and_date_sort(client):
    page = get(client, "/search?q=railway+OR+%E9%93%81%E8%B7%AF")
    links = {a["href"]: a for a in page.find("a", class_="sort-link")}
    newest = [h for h in links if query_of(h).get("sort") == ["newest"]]
    assert len(links) == 3 and newest
    (active,) = [a for a in links.values() if "is-active" in a["class"]]
    assert "sort" not in query_of(active["href"])  # best match is the default
    dated = get(client, newest[0])
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', "".join(hits_html(dated)))
    assert dates == sorted(dates, reverse=True) and len(set(dates)) > 1
    # the search form keeps the sort when the words change
    assert dated.find("input", type="hidden", name="sort", value="newest")


def test_browsing_without_a_query_lists_newest_articles(client):
    page = get(client, "/search?sort=newest")
    items = hits_html(page)
    assert len(items) == 4
    dates = [re.search(r'datetime="([\d-]+)"', item).group(1) for item in items]
    assert dates == sorted(dates, reverse=True)
    # no "best match" without words to match
    assert [a["href"] for a in page.find("a", class_="sort-link")] == [
        "/search?sort=newest",
        "/search?sort=oldest",
    ]
    # a filter alone browses too
    assert len(hits_html(get(client, "/search?lang=zh"))) >= 1


def test_date_control_works_as_a_plain_form(client):
    page = get(client, "/search?q=railway&lang=en")
    (form,) = page.find("form", id="date-form")
    assert form["method"] == "get" and form["action"] == "/search"
    hidden = {(i["name"], i["value"]) for i in page.find("input", type="hidden")}
    assert {("q", "railway"), ("lang", "en")} <= hidden
    assert page.find("input", type="date", name="date_from")
    # the year facet, with counts, sets the whole year
    years = [a for a in page.find("a", class_="facet-year")]
    assert years and all("date_from" in query_of(a["href"]) for a in years)
    href = next(a["href"] for a in years if "2024-01-01" in a["href"])
    assert query_of(href)["date_to"] == ["2024-12-31"]
    # what the form submits (empty fields included) is a valid search
    submitted = get(client, "/search?q=railway&lang=en&date_from=2024-01-01&date_to=")
    items = hits_html(submitted)
    assert items and all('datetime="2024' in item for item in items)
    chips = [c["aria-label"] for c in submitted.find("a", class_="filter-chip")]
    assert "Remove filter From: 2024-01-01" in chips and len(chips) == 2
    # quick choices are relative to today
    quick = [h for h in page.hrefs(class_="facet-link") if "date_from" in h and "date_to" not in h]
    assert len(quick) == 3


def test_facet_counts_say_what_they_count(client):
    page = get(client, "/search?q=railway")
    assert "Numbers count articles." in page.html
    passages = get(client, "/search?q=railway&kind=caption")
    assert "Numbers count passages." in passages.html


def test_fragment_is_the_results_area_alone(client):
    """app.js swaps this in: the same templates as the page, so results are written once."""
    whole = get(client, "/search?q=Gwadar")
    response = client.get("/search?q=Gwadar&fragment=1")
    assert response.status_code == 200 and response.mimetype == "text/html"
    fragment = Page(response.get_data(as_text=True))
    assert "<html" not in fragment.html and "<header" not in fragment.html
    assert hits_html(fragment) == hits_html(whole)
    (state,) = fragment.find("div", id="results-state")
    assert state["data-title"] == "Gwadar – searchapp"
    # links made in the fragment never carry fragment=1
    assert not [h for h in fragment.hrefs() if "fragment" in h]
    bad = client.get("/search?q=Gwadar&page=0&fragment=1")
    assert bad.status_code == 400 and "page must be an integer" in bad.get_data(as_text=True)


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/search"])
@pytest.mark.parametrize("hl", ["", "zh"])
@pytest.mark.parametrize("q", ["", "port", 'a "b" & c?d#e=f', "中老铁路 ü"])
def test_page_links_of_many_hits_equal_url_for_each(app, base_url, hl, q):
    """``article_links`` builds each page number's link once and quotes each id as the route
    does: the same links as ``article_url`` (``url_for``) per hit, with the query, the
    reader's ``hl``, mounted or not, on any page of an article."""
    from searchapp.web.urls import article_links, article_url
    from tests.test_api import ODD_IDS

    path = "/search" + (f"?hl={hl}" if hl else "")
    with app.test_request_context(path, base_url=base_url):
        link = article_links(q)
        for article_id in ODD_IDS:
            for position in (0, 1, 19, 20, 21, 57, 399, None):
                assert link(article_id, position) == article_url(article_id, q, position)
        assert (f"hl={hl}" in link("x", 30)) == bool(hl)


def _page_url_by_url_for(**changes) -> str:
    """page_url as first written: url_for and urlencode of every parameter at each call."""
    from urllib.parse import urlencode

    from flask import request, url_for

    args = {k: v for k, v in request.args.items() if v != "" and k != "fragment"}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    if "page" in args and str(args["page"]) == "1":
        args.pop("page")
    return url_for("pages.search_page", hl=None) + ("?" + urlencode(args) if args else "")


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/search"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=port",
        "q=a+%22b%22+%26+c%3Fd%23e%3Df&page=3&kind=caption&fragment=1",
        "q=%E4%B8%AD%E8%80%81&hl=zh&section=&date_from=2024-01-01&page=1&q=second",
        "sort=newest&per_page=20&tag=x%2By&author=A+B",
    ],
)
def test_page_url_equals_url_for_and_urlencode(app, base_url, query):
    """The page's links to itself, made from the request's parameters encoded once, equal
    those made with url_for and urlencode at each call, whatever the changes."""
    from searchapp.web.pages import page_url

    changes = [
        {},
        {"page": None},
        {"page": 1},
        {"page": 2},
        {"kind": "caption", "page": None},
        {"q": "新 & ü"},
        {"date_from": None, "date_to": None, "page": None},
        {"sort": "oldest", "page": None, "new": 5},
        {"fragment": "1"},
    ]
    with app.test_request_context(f"/search?{query}", base_url=base_url):
        for change in changes:
            assert page_url(**change) == _page_url_by_url_for(**change)


def test_page_environment_reads_what_jinja_reads(index_dir):
    """The pages' Jinja environment reads a dict's keys without raising first, and gives
    what Jinja's own gives for every kind of name: a key, a key named like a dict method
    (the method, as Jinja prefers attributes), a missing one, a dict subclass, an object."""
    from collections import OrderedDict

    from jinja2 import Environment

    from searchapp.web import PageEnvironment

    app = create_app({"INDEX_DIR": str(index_dir)})
    assert isinstance(app.jinja_env, PageEnvironment)
    source = (
        "{{ d.title }}|{{ d.items is callable }}|{{ d.get is callable }}|{{ d.nope is defined }}"
        "|{{ d.nested.x }}|{{ o.title }}|{{ od.title }}|{{ d['items'] }}|{{ d.keys }}"
        "|{% for k, v in d.nested.items() %}{{ k }}={{ v }}{% endfor %}"
    )
    values = {
        "d": {"title": "T<", "items": 5, "get": 6, "keys": 7, "nested": {"x": 1, "items": 2}},
        "o": type("O", (), {"title": "attr"})(),
        "od": OrderedDict(title="ordered"),
    }
    ours = app.jinja_env.from_string(source).render(**values)
    theirs = Environment(autoescape=True).from_string(source).render(**values)
    assert ours == theirs
    assert ours.startswith("T&lt;|True|True|False|1|attr|ordered|5|")
