"""The JSON API contract: response shape, error shape, parameters, query language, CORS."""

from __future__ import annotations

import re

import pytest

from tests.conftest import assert_error_shape

HIT_KEYS = {
    "id",
    "article_id",
    "article_title",
    "date",
    "lang",
    "kind",
    "section",
    "position",
    "score",
    "text",
    "snippet",
    "url",
    "source_url",
    "photographer",
    "photo_date",
}
RESPONSE_KEYS = {
    "query",
    "suggestion",
    "total",
    "page",
    "per_page",
    "took_ms",
    "hits",
    "facets",
    "showing_results_for",
    "match",
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
    assert set(body) == RESPONSE_KEYS
    assert body["query"] == "Gwadar" and body["page"] == 1 and body["per_page"] == 10
    assert body["suggestion"] is None and isinstance(body["took_ms"], float)
    assert body["total"] == len(body["hits"]) == 2
    assert set(body["facets"]) == {"kind", "section", "lang"}
    for hit in body["hits"]:
        assert set(hit) == HIT_KEYS
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
    assert params == {
        "q",
        "page",
        "per_page",
        "kind",
        "section",
        "article",
        "lang",
        "date_from",
        "date_to",
    }


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
