"""The JSON API contract: response shape, error shape, parameters, query language, CORS."""

from __future__ import annotations

import re

import pytest

from searchapp.params import FILTER_NAMES
from tests.conftest import assert_error_shape


def documented(client) -> dict[str, set[str]]:
    """The keys the served OpenAPI description gives a search response, a hit (group=none), an
    article (group=article) and its passages: the product's one list of each. Responses must
    carry exactly these keys, so a key added or dropped on one side only fails here."""
    spec = client.get("/api/openapi.json").get_json()
    ok = spec["paths"]["/api/search"]["get"]["responses"]["200"]
    response = ok["content"]["application/json"]["schema"]
    hit, article = response["properties"]["hits"]["items"]["oneOf"]
    assert set(hit["required"]) == set(hit["properties"])
    assert set(article["required"]) == set(article["properties"])
    return {
        "response": set(response["properties"]),
        "hit": set(hit["required"]),
        "article": set(article["required"]),
        "passage": set(article["properties"]["passages"]["items"]["required"]),
    }


def get(client, **params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def texts(body):
    return [h["text"] for h in body["hits"]]


def test_response_shape_is_pinned(client):
    body = get(client, q="Gwadar")
    keys = documented(client)
    assert set(body) == keys["response"]
    assert body["query"] == "Gwadar" and body["page"] == 1 and body["per_page"] == 10
    assert body["suggestion"] is None and isinstance(body["took_ms"], float)
    assert body["total"] == len(body["hits"]) == 2
    assert {"kind", "section", "lang", "year"} <= set(body["facets"])
    assert set(body["facets"]) <= {"kind", "section", "lang", "year", "authors", "tags"}
    assert body["group"] == "none" and body["sort"] == "relevance"
    assert body["facets_count"] == "passages" and body["total_passages"] == body["total"]
    for hit in body["hits"]:
        assert set(hit) == keys["hit"]
    first = body["hits"][0]
    assert first["kind"] == "caption"
    assert first["photographer"] == "Ahmed Kamal" and first["photo_date"] == "2018-01-29"
    assert first["section"] == "Guiding the direction for the future and destiny of mankind"
    assert first["date"] == "2022-09-26" and first["lang"] == "en"
    assert first["url"] == f"/articles/{first['article_id']}#chunk-{first['position']}"
    assert first["id"] == f"{first['article_id']}:{first['position']}"
    assert "<mark>Gwadar</mark>" in first["snippet"]
    assert first["score"] > body["hits"][1]["score"]


def test_facets_count_all_matches(client):
    body = get(client, q="railway", per_page=1)
    assert sum(body["facets"]["kind"].values()) == body["total"] > 1
    assert sum(body["facets"]["lang"].values()) == body["total"]


def test_snippet_escapes_everything_but_mark(client):
    body = get(client, q="Bird's Nest")
    snippet = body["hits"][0]["snippet"]
    assert "<mark>Bird’s</mark> <mark>Nest</mark>" in snippet
    assert not re.search(r"<(?!/?mark>)", snippet)


def test_chinese_snippet_marks_chinese(client):
    body = get(client, q="中老铁路")
    assert body["total"] > 0
    assert "<mark>" in body["hits"][0]["snippet"]
    assert any("中老铁路" in t for t in texts(body))


def test_words_are_anded(client):
    both = get(client, q="Gwadar port")
    assert both["total"] == 2 and both["match"] == "all"
    assert all("gwadar" in t.lower() and "port" in t.lower() for t in texts(both))


def test_phrase(client):
    body = get(client, q='"shared future"')
    assert body["total"] > 5
    assert all("shared future" in t.lower() for t in texts(body))


def test_chinese_phrase(client):
    body = get(client, q='"国际货物列车"')
    assert body["total"] > 0 and all("国际货物列车" in t for t in texts(body))


def test_or(client):
    a, b = get(client, q="Gwadar")["total"], get(client, q="Maldives")["total"]
    assert get(client, q="Gwadar OR Maldives")["total"] >= max(a, b)


def test_exclusion(client):
    body = get(client, q="Gwadar -Pakistan")
    assert body["total"] == 1 and "Pakistan" not in body["hits"][0]["text"]
    assert sum(body["facets"]["kind"].values()) == 1


def test_hyphenated_word_is_not_an_exclusion(client):
    body = get(client, q="sea-crossing bridge")
    assert body["total"] >= 1 and "sea-crossing" in body["hits"][0]["text"]


def test_prefix(client):
    body = get(client, q="Gwad*")
    assert body["total"] == 2


def test_field_queries(client):
    body = get(client, q="kind:caption railway")
    assert body["total"] > 0 and {h["kind"] for h in body["hits"]} == {"caption"}
    body = get(client, q="lang:zh 铁路")
    assert body["total"] > 0 and {h["lang"] for h in body["hits"]} == {"zh"}
    body = get(client, q="section:governance Paris")
    assert body["total"] >= 1 and "Governance" in body["hits"][0]["section"]


@pytest.mark.parametrize(
    "q, words",
    [
        ('"unbalanced Gwadar', "unbalanced Gwadar"),
        ('"Gwadar port', "Gwadar port"),
        ("(Gwadar", "Gwadar"),
        ("Gwadar)", "Gwadar"),
        ("Gwadar OR", "Gwadar"),
        ("AND Gwadar", "Gwadar"),
        ("((((((((((Gwadar))))))))))", "Gwadar"),
        ("-", None),
        ("*", None),
        ("AND", None),
        (":", None),
        ("~", None),
    ],
)
def test_broken_syntax_is_searched_as_words(client, q, words):
    body = get(client, q=q)
    assert body["query"] == q
    if words is None:  # nothing but syntax: nothing to search, and no error
        assert body["total"] == 0 and body["hits"] == []
    else:
        plain = get(client, q=words)
        assert plain["total"] >= 1
        assert [h["id"] for h in body["hits"]] == [h["id"] for h in plain["hits"]]


def test_misspelling_gets_suggestion(client):
    body = get(client, q="Kazakstan")
    assert body["suggestion"] == "kazakhstan"
    assert body["showing_results_for"] == "kazakhstan" and body["total"] > 0


def test_correct_words_get_no_suggestion(client):
    assert get(client, q="Kazakhstan")["suggestion"] is None


def test_plain_query_with_no_full_match_relaxes_to_any(client):
    body = get(client, q="Belarus car factory")
    assert body["match"] == "any" and body["total"] > 0
    assert "Belarus" in body["hits"][0]["text"]


def test_synonyms(client):
    body = get(client, q="BRI")
    assert body["total"] > 0 and "Belt and Road" in body["hits"][0]["text"]


def test_traditional_characters(client):
    simplified = get(client, q="铁路")["total"]
    assert simplified > 0 and get(client, q="鐵路")["total"] == simplified


def test_pagination(client):
    first = get(client, q="China", per_page=5)
    second = get(client, q="China", per_page=5, page=2)
    assert first["total"] == second["total"] > 10
    assert len(first["hits"]) == len(second["hits"]) == 5
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
    beyond = get(client, q="China", per_page=100, page=50)
    assert beyond["hits"] == [] and beyond["total"] == first["total"]


def test_filters(client):
    body = get(client, q="railway", kind="caption")
    assert body["hits"] and {h["kind"] for h in body["hits"]} == {"caption"}
    body = get(client, q="铁路", lang="zh")
    assert body["hits"] and {h["lang"] for h in body["hits"]} == {"zh"}
    section = "Compose an era of open cooperation"
    body = get(client, q="China", section=section)
    assert body["hits"] and {h["section"] for h in body["hits"]} == {section}
    body = get(client, q="铁路", article="2023-12-03-xinhua-zh-china-laos-railway")
    assert body["hits"] and {h["article_id"] for h in body["hits"]} == {
        "2023-12-03-xinhua-zh-china-laos-railway"
    }
    body = get(client, q="铁路 OR railway", date_from="2023-01-01", date_to="2023-12-31")
    assert body["hits"] and {h["date"] for h in body["hits"]} == {"2023-12-03"}
    body = get(client, q="railway", date_from="2024-01-01")
    assert body["hits"] and min(h["date"] for h in body["hits"]) >= "2024-01-01"
    assert get(client, q="railway", date_to="2020-01-01")["total"] == 0


def test_empty_query_with_filter_browses(client):
    body = get(client, q="", kind="caption", per_page=100)
    assert body["total"] == len(body["hits"]) >= 13


@pytest.mark.parametrize(
    "params, code",
    [
        ({"page": "0"}, "invalid_page"),
        ({"page": "abc"}, "invalid_page"),
        ({"per_page": "101"}, "invalid_per_page"),
        ({"per_page": "0"}, "invalid_per_page"),
        ({"kind": "photo"}, "invalid_kind"),
        ({"lang": "fr"}, "invalid_lang"),
        ({"date_from": "2022-13-01"}, "invalid_date"),
        ({"date_to": "yesterday"}, "invalid_date"),
        ({"date_from": "2023-01-01", "date_to": "2022-01-01"}, "invalid_date"),
        ({"group": "section"}, "invalid_group"),
        ({"sort": "date"}, "invalid_sort"),
        ({"author": "x" * 501}, "invalid_author"),
    ],
)
def test_bad_parameters_answer_400(client, params, code):
    response = client.get("/api/search", query_string={"q": "China", **params})
    assert_error_shape(response, 400, code)


def test_unknown_path_and_method_use_error_shape(client):
    assert_error_shape(client.get("/api/nothing"), 404)
    response = client.post("/api/search")
    assert_error_shape(response, 405)


def test_suggest_opensearch_format(client):
    response = client.get("/api/suggest?q=gwa")
    assert response.get_json() == ["gwa", ["gwadar"]]
    body = client.get("/api/suggest?q=belt and ro").get_json()
    assert body[0] == "belt and ro" and "belt and road" in body[1]
    assert client.get("/api/suggest?q=").get_json() == ["", []]


def test_openapi_documents_every_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json":
            assert re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) in documented
    params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params == {"q", "page", "per_page", "group", "sort", *FILTER_NAMES}


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["articles"] == 4 and body["chunks"] > 100


def test_cors_any_origin_by_default(client):
    response = client.get("/api/search?q=China", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/api/search",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origins_configurable(index_dir):
    from searchapp.web import create_app

    app = create_app({"INDEX_DIR": str(index_dir), "CORS_ORIGINS": "https://news.example"})
    client = app.test_client()
    ok = client.get("/api/search?q=x", headers={"Origin": "https://news.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://news.example"
    other = client.get("/api/search?q=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_article_api(client):
    body = client.get("/api/articles/2022-09-26-xinhua-major-country-diplomacy?q=Gwadar")
    article = body.get_json()
    assert len(article["chunks"]) == 61 and article["date"] == "2022-09-26"
    marked = [c for c in article["chunks"] if "<mark>" in c["html"]]
    assert {c["position"] for c in marked} == {17, 38}
    assert_error_shape(client.get("/api/articles/nope"), 404, "not_found")


def test_no_index_answers_503_with_error_shape(tmp_path):
    from searchapp.web import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    assert_error_shape(client.get("/api/search?q=x"), 503, "index_unavailable")
    assert_error_shape(client.get("/healthz"), 503, "index_unavailable")


# --- article-level results, sort, browse ----------------------------------------------------


def all_pages(client, **params):
    """Every hit of a query, page after page, and the number of pages it took."""
    hits, page = [], 1
    while True:
        body = get(client, page=page, **params)
        if not body["hits"]:
            return hits, page - 1
        hits.extend(body["hits"])
        page += 1


def test_grouped_results_are_articles_with_their_best_passages(client):
    passages = get(client, q="railway", per_page=100)
    body = get(client, q="railway", group="article", per_page=100)
    keys = documented(client)
    assert set(body) == keys["response"] and body["group"] == "article"
    # total counts articles, total_passages counts the chunks that matched
    assert body["total_passages"] == passages["total"] == passages["total_passages"] > 2
    assert body["total"] == len({h["article_id"] for h in passages["hits"]}) == len(body["hits"])
    assert body["total"] < body["total_passages"]
    by_article: dict[str, list[dict]] = {}
    for hit in passages["hits"]:
        by_article.setdefault(hit["article_id"], []).append(hit)
    for article in body["hits"]:
        assert set(article) == keys["article"]
        mine = by_article[article["article_id"]]
        assert article["matched_passages"] == len(mine)
        # the passages shown are the article's best, best first; the headline is not repeated
        below = [h for h in mine if h["kind"] != "title"]
        assert len(article["passages"]) == min(3, len(below))
        for passage in article["passages"]:
            assert set(passage) == keys["passage"] and passage["kind"] != "title"
        best = sorted(h["score"] for h in below)[::-1][: len(article["passages"])]
        assert [p["score"] for p in article["passages"]] == best
        assert article["url"] == f"/articles/{article['article_id']}"
        assert article["title"] == mine[0]["article_title"] and article["date"] == mine[0]["date"]
    # best passage plus a small bonus for more of them: never below the best passage
    scores = [a["score"] for a in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    for article in body["hits"]:
        assert article["score"] >= max(h["score"] for h in by_article[article["article_id"]])
    # a headline that matched is marked in title_snippet
    titled = [
        a for a in body["hits"] if any(h["kind"] == "title" for h in by_article[a["article_id"]])
    ]
    assert titled and all("<mark>" in a["title_snippet"] for a in titled)


def test_grouped_caption_shows_its_photographer(client):
    body = get(client, q="Gwadar", group="article")
    assert body["total"] == 1 and body["total_passages"] == 2
    caption = next(p for p in body["hits"][0]["passages"] if p["kind"] == "caption")
    assert caption["photographer"] == "Ahmed Kamal" and "<mark>Gwadar</mark>" in caption["snippet"]
    assert "<mark>" not in body["hits"][0]["title_snippet"]


def test_grouped_facets_count_articles(client):
    body = get(client, q="railway", group="article", per_page=1)
    assert body["facets_count"] == "articles"
    assert sum(body["facets"]["lang"].values()) == body["total"]
    assert sum(body["facets"]["year"].values()) == body["total"]
    # an article counts once under each kind of passage it matched with
    assert all(count <= body["total"] for count in body["facets"]["kind"].values())
    passages = get(client, q="railway", per_page=1)
    assert sum(passages["facets"]["kind"].values()) == passages["total"]


def test_paging_over_articles_is_exact(client):
    """No article on two pages, none missing, whatever the page size."""
    everything = get(client, q="China OR 中国 OR railway", group="article", per_page=100)
    expected = [a["article_id"] for a in everything["hits"]]
    assert everything["total"] == len(expected) >= 3
    for per_page in (1, 2, 3):
        hits, pages = all_pages(
            client, q="China OR 中国 OR railway", group="article", per_page=per_page
        )
        ids = [a["article_id"] for a in hits]
        assert ids == expected and len(set(ids)) == len(ids)
        assert pages == -(-everything["total"] // per_page)


@pytest.mark.parametrize("group", ["none", "article"])
def test_date_sort_keeps_exactly_the_matches(client, group):
    relevance, _ = all_pages(client, q="railway OR 铁路", group=group, per_page=3)
    key = "id" if group == "none" else "article_id"
    for sort, descending in (("newest", True), ("oldest", False)):
        hits, _ = all_pages(client, q="railway OR 铁路", group=group, sort=sort, per_page=3)
        assert sorted(h[key] for h in hits) == sorted(h[key] for h in relevance)
        dates = [h["date"] for h in hits]
        assert dates == sorted(dates, reverse=descending) and len(set(dates)) > 1
    first = get(client, q="railway OR 铁路", group=group, sort="newest")
    assert first["sort"] == "newest" and first["total"] == len({h[key] for h in relevance})


def test_empty_query_browses_newest_articles(client):
    body = get(client, q="", group="article", per_page=2)
    assert body["sort"] == "newest" and body["total"] == 4 and body["total_passages"] > 100
    second = get(client, q="", group="article", per_page=2, page=2)
    dates = [a["date"] for a in body["hits"] + second["hits"]]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == 4
    # each browsed article shows its opening paragraph, unmarked
    for article in body["hits"]:
        assert [p["kind"] for p in article["passages"]] == ["paragraph"]
        assert "<mark>" not in article["passages"][0]["snippet"]
    # oldest first on request; "relevance" means nothing without a query: newest
    oldest = get(client, group="article", sort="oldest", per_page=4)
    assert [a["date"] for a in oldest["hits"]] == sorted(dates)
    assert get(client, group="article", sort="relevance")["sort"] == "newest"
    # with a filter: the newest matching articles
    filtered = get(client, q="", group="article", lang="zh")
    # (the language filter is on passages: a mixed English article shows its Chinese ones)
    assert filtered["total"] == 2
    assert {p["lang"] for a in filtered["hits"] for p in a["passages"]} == {"zh"}
    assert {a["lang"] for a in filtered["hits"]} == {"zh", "en"}


def test_year_facet_and_author_filter(client):
    body = get(client, q="")
    assert list(body["facets"]["year"]) == sorted(body["facets"]["year"], reverse=True)
    assert body["facets"]["year"]["2024"] > 0
    # an author nobody has finds nothing (and never fails, with or without the field)
    assert get(client, q="railway", author="Nobody At All")["total"] == 0


def test_no_suggestion_when_the_query_found_results(client):
    body = get(client, q="railways")
    assert body["total"] > 0 and body["suggestion"] is None
    body = get(client, q="trains")
    assert body["total"] > 0 and body["suggestion"] is None


@pytest.mark.parametrize(
    "typo, expected",
    [("brdge", "bridge"), ("chnia", "china"), ("aenda", "agenda"), ("cargp", None)],
)
def test_corrections_must_be_close(client, typo, expected):
    """Within two edits is not enough: the word must look alike (``aenda`` is not ``and``)."""
    body = get(client, q=typo)
    assert body["suggestion"] == expected
    if expected is None:
        assert body["total"] == 0


def test_no_correction_to_a_word_sharing_only_its_first_letters(tmp_path):
    from searchapp.indexing import build_index
    from searchapp.searching import search

    source = tmp_path / "src"
    source.mkdir()
    (source / "2024-03-01-budget.txt").write_text(
        "date 2024-03-01 Example News, Harbourside: Council passes the budget\n\n"
        "The council passed the budget on Friday after a long debate about roads.\n",
        encoding="utf-8",
    )
    build_index([source], tmp_path / "index")
    body = search(tmp_path / "index", "brdge")
    assert body["suggestion"] is None and body["showing_results_for"] is None
    assert body["total"] == 0
    assert search(tmp_path / "index", "budgte")["showing_results_for"] == "budget"


# `duplicates` pairs this list with the selectors in tests/browser/test_browser_search.py by
# shape alone (a list of strings): deliberate, nothing shared.
ODD_IDS = [
    "2024-01-15-mixed-bilingual",
    "a b/c?d#e%f&g=h+i",
    "中老铁路/第一段 ünïcode",
    "semi;colon:at@dollar$excl!'(paren)*,comma",
    "../dots/./x",
    "tab\there",
]


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/search"])
def test_links_of_many_hits_equal_url_for_each(app, base_url):
    """``with_urls`` builds the prefix once and quotes each id as the route does: the same
    links as ``article_url`` (``url_for``) per hit, mounted or not, on any page of an article."""
    from searchapp.web.urls import article_url, with_urls

    positions = [0, 1, 19, 20, 21, 57, 399, None]
    hits = [{"article_id": a, "position": p} for a in ODD_IDS for p in positions]
    hits.append(
        {
            "article_id": ODD_IDS[1],
            "passages": [{"position": p} for p in positions if p is not None],
        }
    )
    with app.test_request_context("/api/search", base_url=base_url):
        linked = with_urls({"hits": hits})["hits"]
        for hit, got in zip(hits, linked, strict=True):
            want = article_url(hit["article_id"], position=hit.get("position"), keep_hl=False)
            assert got["url"] == want
            for passage, shown in zip(
                hit.get("passages", []), got.get("passages", []), strict=True
            ):
                want = article_url(hit["article_id"], position=passage["position"], keep_hl=False)
                assert shown["url"] == want
    assert linked[-1]["url"].startswith(base_url.removeprefix("http://localhost").rstrip("/"))
    assert any("?page=2#chunk-" in h["url"] for h in linked)


def test_id_quoter_equals_the_path_converter(app):
    """Ids of plain characters skip ``quote``: every ASCII character, alone and inside an
    id, and some others, quote as werkzeug's path converter quotes them."""
    from werkzeug.routing import PathConverter

    from searchapp.web.urls import _id_quoter

    converter = PathConverter(app.url_map)
    ids = [chr(c) for c in range(128)] + [f"a{chr(c)}b-1" for c in range(128)]
    ids += ["", "2024-01-15-mixed", "中老铁路", "ünïcode", "a%20b", *ODD_IDS]
    with app.test_request_context("/api/search"):
        quoted = _id_quoter()
        for article_id in ids:
            assert quoted(article_id) == converter.to_url(article_id), repr(article_id)


def test_api_links_kept_per_mount_path(app):
    """The API's link parts are kept across requests, per mount path: one app answering
    under ``/`` and ``/search`` in turn gives each its own links."""
    from searchapp.web.urls import article_url, with_urls

    hits = [{"article_id": a, "position": p} for a in ODD_IDS for p in (0, 25, None)]
    for base_url in ["http://localhost/", "http://localhost/search"] * 2:
        with app.test_request_context("/api/search", base_url=base_url):
            linked = with_urls({"hits": hits})["hits"]
            for hit, got in zip(hits, linked, strict=True):
                want = article_url(hit["article_id"], position=hit["position"], keep_hl=False)
                assert got["url"] == want
            mount = base_url.removeprefix("http://localhost").rstrip("/")
            assert all(h["url"].startswith(mount + "/articles/") for h in linked)
    assert set(app.extensions["searchapp.api_link_parts"]) == {"", "/search"}


def test_filters_key_is_their_values_in_order():
    """The response cache's key of the filters: each filter's value in the API's order
    (``dataclasses.astuple``), dates normalised, different filters different keys."""
    import dataclasses

    from searchapp.params import Filters

    flt = Filters(kind="caption", section="Belt", date_from="20240102", tag="x")
    flt.validate()
    assert flt.key() == dataclasses.astuple(flt)
    assert dict(zip(FILTER_NAMES, flt.key(), strict=True))["date_from"] == "2024-01-02"
    assert Filters(section="a").key() != Filters(author="a").key()
    assert Filters().key() == (None,) * len(FILTER_NAMES)


def test_query_args_get_as_werkzeug_does(app):
    """``request.args`` of the app answers ``get`` as Werkzeug's MultiDict does (first value,
    defaults, type conversion that fails to the default), without raising for a miss."""
    from werkzeug.datastructures import ImmutableMultiDict

    from searchapp.web.args import QueryArgs

    pairs = [("q", "port"), ("page", "2"), ("page", "3"), ("x", ""), ("n", "abc")]
    mine, theirs = QueryArgs(pairs), ImmutableMultiDict(pairs)
    for key in ("q", "page", "x", "n", "missing"):
        for default in (None, "d", 7):
            for kind in (None, int, str):
                assert mine.get(key, default, kind) == theirs.get(key, default, kind)
        assert mine.get(key) == theirs.get(key)
    assert mine.getlist("page") == ["2", "3"] and mine.to_dict() == theirs.to_dict()
    with app.test_request_context("/api/search?q=a&q=b&hl="):
        from flask import request

        assert isinstance(request.args, QueryArgs)
        assert request.args.get("q") == "a" and request.args.get("hl") == ""
        assert request.args.get("sort", "relevance") == "relevance"
