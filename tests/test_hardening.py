"""Bad queries and bad parameters: never a 500, a traceback or a slow answer (issue 6, item 1).

Hypothesis throws arbitrary strings and parameters at every page and API endpoint through the
Flask test client; explicit cases pin what the issue lists (10,000-character queries, 1,000
terms, wildcards, fuzzy terms, deep nesting, control characters, invalid percent-encoding,
wrong types, repeated parameters, ``../`` in ids, other methods); schemathesis checks the API
against its own OpenAPI description. Every answer is 200, 400, 404 or 405 (JSON with the one
error shape under ``/api/``, an HTML page elsewhere) and takes less than a second of CPU.
"""

from __future__ import annotations

import random
import string
import time
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
import schemathesis
import schemathesis.checks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.articles import KINDS
from searchapp.indexing import build_index
from searchapp.web import create_app
from tests.conftest import assert_error_shape

#: A generous guard per request (CPU seconds): the test corpus is tiny, so anything near it is
#: a runaway query.
LIMIT_SECONDS = 1.0
ALLOWED_STATUSES = {200, 400, 404, 405}
SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"
ZH_ID = "2023-12-03-xinhua-zh-china-laos-railway"
SEARCH_PATHS = ("/api/search", "/", "/search")
ARTICLE_PATHS = ("/articles/", "/api/articles/")
ALL_PATHS = (
    *SEARCH_PATHS,
    "/api/suggest",
    f"/articles/{SEED_ID}",
    f"/api/articles/{SEED_ID}",
    "/api/openapi.json",
    "/healthz",
)
TRACEBACK = "Traceback (most recent call last)"

FUZZ = settings(
    deadline=None,  # the per-request time is asserted by ``call`` instead
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def web(index_dir):
    """A test client of the app over the session's test index (module-scoped for hypothesis)."""
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def is_json_path(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def call(client, url: str, method: str = "GET", **kwargs):
    """One request, checked: allowed status, the right kind of body, no traceback, fast.

    "Fast" is measured in CPU time of this thread (the test client runs the app in it), so
    other work on the machine cannot fail the guard; wall time gets a looser bound.
    """
    started, started_cpu = time.perf_counter(), time.thread_time()
    response = client.open(url, method=method, **kwargs)
    cpu, elapsed = time.thread_time() - started_cpu, time.perf_counter() - started
    where = f"{method} {url[:300]!r} {kwargs.get('environ_overrides', '')!r}"[:600]
    body = response.get_data(as_text=True)
    if response.status_code == 308:
        # Werkzeug's canonical-URL redirect for doubled slashes (also from %2f): fine if it
        # stays on this site and leads to an answer that passes these checks.
        target = urlsplit(response.headers["Location"])
        assert target.netloc in ("", "localhost") and "//" not in target.path, where
        assert "//" in unquote(url.split("?", 1)[0]), where
        follow = target.path + (f"?{target.query}" if target.query else "")
        return call(client, follow, method, **kwargs)
    assert response.status_code in ALLOWED_STATUSES, (
        f"{where} -> {response.status_code}: {body[:500]}"
    )
    assert cpu < LIMIT_SECONDS, f"{where} took {cpu:.2f} s of CPU ({elapsed:.2f} s)"
    assert elapsed < 3 * LIMIT_SECONDS, f"{where} took {elapsed:.2f} s ({cpu:.2f} s of CPU)"
    assert TRACEBACK not in body, where
    if method in ("HEAD", "OPTIONS"):
        return response
    path = kwargs.get("environ_overrides", {}).get("PATH_INFO") or url.split("?", 1)[0]
    if is_json_path(path):
        assert response.mimetype == "application/json", where
        if response.status_code != 200:
            assert_error_shape(response, response.status_code)
    else:
        assert response.mimetype == "text/html", where
        assert body.lstrip().lower().startswith("<!doctype html"), where
    return response


# ---- strategies ----

#: Pieces of query syntax, hostile characters and real words, to be glued together.
SYNTAX = st.sampled_from(
    [
        "*", "a*", "c*", "*a*", "?", "??", "~", "word~5", "china~2", "railway~", "~2",
        "(", ")", "((", "))", '"', "'", "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO",
        "-", "+", "--", "^", "^2", ":", "::", "kind:", "kind:caption", "kind:*", "lang:zh",
        "section:", "section:*", "text:", "title:*", "id:*", "date:[2020 TO 2024]",
        "position:[0 TO 9999]", "[a TO z]", "{a TO}", "[", "]", "{", "}", "\\", "/", "//",
        "%", "%zz", "%ff", "&", "=", "#", "!", "<script>", "&amp;", "&#0;",
        "\x00", "\x01", "\x07", "\x1b[31m", "\t", "\n", "\r\n", "\x7f", "\x85", "\x9b",
        "\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff",
        "\ufffd", "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0301",
        "中老铁路", "鐵路", "一带一路", "，", "：", "（", "）", "“", "”", "？", "！",
        "Gwadar", "railway", "China", "the", "of", "Kazakstan", "ａｂｃ", "١٢٣", "שלום",
    ]
)  # fmt: skip
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
TERM = st.one_of(SYNTAX, ANY_TEXT)
QUERY = st.one_of(
    st.lists(TERM, max_size=40).map(" ".join),
    st.lists(TERM, max_size=12).map("".join),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=2000),
)
BAD_NUMBERS = [
    "", " ", "abc", "1e3", "1.0", "1.5", "0x10", "+1", " 2 ", "１", "١", "1_0", "-0", "NaN",
    "inf", "\x00", "9" * 40, "%ff", "[]", "1,2",
]  # fmt: skip
NUMBERISH = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-2, 1100).map(str),
    st.sampled_from(BAD_NUMBERS),
    ANY_TEXT,
)
BAD_DATES = [
    "2022-13-01", "2022-02-30", "0000-00-00", "99999-01-01", "2022-9-1", "20220926",
    "２０２２-０９-２６", "yesterday", "2022-09-26T00:00", " 2022-09-26", "",
]  # fmt: skip
DATEISH = st.one_of(st.dates().map(str), st.sampled_from(BAD_DATES), ANY_TEXT)
PARAM_VALUES = {
    "q": QUERY,
    "page": NUMBERISH,
    "per_page": NUMBERISH,
    "limit": NUMBERISH,
    "kind": st.one_of(st.sampled_from(KINDS), ANY_TEXT),
    "lang": st.one_of(st.sampled_from(["en", "zh", "EN", "fr", "zh-CN"]), ANY_TEXT),
    "section": st.one_of(st.just("Compose an era of open cooperation"), ANY_TEXT),
    "article": st.one_of(st.sampled_from([SEED_ID, ZH_ID, "../" + SEED_ID]), ANY_TEXT),
    "date_from": DATEISH,
    "date_to": DATEISH,
}
#: A list of (name, value) pairs: names may repeat (``?page=1&page=0``) or be unknown.
PARAMS = st.lists(
    st.one_of(
        *(st.tuples(st.just(name), values) for name, values in PARAM_VALUES.items()),
        st.tuples(ANY_TEXT, ANY_TEXT),
    ),
    max_size=8,
)
#: Raw query strings: broken percent-encoding, stray separators (valid UTF-8 bytes).
RAW_PIECES = [
    "q=", "page=", "per_page=", "limit=", "kind=", "date_from=", "&", "&&", "=", ";", "%",
    "%z", "%zz", "%ff", "%fe%ff", "%c3%28", "%e2%82", "%ed%a0%80", "%00", "%2", "%%", "%25",
    "%u0041", "+", "#", "?", "Gwadar", "%E4%B8%AD", "中",
]  # fmt: skip
RAW_QUERY = st.lists(
    st.one_of(st.sampled_from(RAW_PIECES), st.text(string.printable, max_size=10)),
    max_size=20,
).map(lambda parts: "".join(parts).encode("utf-8").decode("latin-1"))
#: Article ids: traversal attempts, encodings, real ids, arbitrary text.
ID_PIECES = [
    "..", ".", "/", "../", "%2e%2e/", "%2E%2E%2F", "..%2f", "%2f", "%00", "%ff", "%zz",
    "etc/passwd", "current", "builds", "manifest.json", ".lock", "~", "*", "%", "\\", SEED_ID,
    ZH_ID, SEED_ID + ":17", "%3F", "%23",
]  # fmt: skip
ID_PART = st.one_of(st.sampled_from(ID_PIECES), ANY_TEXT.map(lambda s: quote(s, safe="")))
ARTICLE_ID = st.lists(ID_PART, min_size=1, max_size=6).map("".join)


# ---- property-based ----


@settings(FUZZ, max_examples=150)
@given(params=PARAMS)
def test_search_endpoints_answer_any_parameters(web, params):
    query = urlencode(params)
    for path in SEARCH_PATHS:
        call(web, f"{path}?{query}")


@settings(FUZZ, max_examples=100)
@given(params=PARAMS)
def test_suggest_answers_any_parameters(web, params):
    response = call(web, f"/api/suggest?{urlencode(params)}")
    if response.status_code == 200:
        typed, completions = response.get_json()
        assert isinstance(typed, str) and all(isinstance(c, str) for c in completions)


@settings(FUZZ, max_examples=100)
@given(raw=RAW_QUERY)
def test_raw_query_strings(web, raw):
    for path in (*SEARCH_PATHS, "/api/suggest"):
        call(web, path, environ_overrides={"QUERY_STRING": raw})


@settings(FUZZ, max_examples=100)
@given(article_id=ARTICLE_ID, q=st.one_of(st.just(""), QUERY))
def test_article_endpoints_answer_any_id(web, article_id, q):
    suffix = f"?{urlencode({'q': q})}" if q else ""
    for path in ARTICLE_PATHS:
        call(web, f"{path}{article_id}{suffix}")


# ---- the cases issue 6 lists, explicitly ----

BAD_QUERIES = {
    "10,000 characters": "Gwadar port " * 833 + "abcd",
    "10,000 characters without spaces": "x" * 10_000,
    "10,000 Chinese characters": "中老铁路开通运营" * 1250,
    "1,000 terms": " ".join(f"w{i}" for i in range(1000)),
    "1,000 real words": " ".join(["China", "railway", "port", "Gwadar", "energy"] * 200),
    "1,000 ORs": " OR ".join(["China", "railway", "port", "energy"] * 250),
    "lone star": "*",
    "prefix a*": "a*",
    "64 prefixes": " ".join(f"{c}*" for c in (string.ascii_lowercase * 3)[:64]),
    "leading wildcards": " OR ".join(f"*{c}*" for c in string.ascii_lowercase),
    "fuzzy word~5": "word~5",
    "fuzzy china~99": "china~99",
    "64 fuzzy terms": " OR ".join(["china~2", "railway~2", "energy~2", "port~2"] * 16),
    "nested 500 deep": "(" * 500 + "Gwadar" + ")" * 500,
    "500 open parentheses": "(" * 500 + "Gwadar",
    "500 close parentheses": "Gwadar" + ")" * 500,
    "alternating parentheses": "()" * 2000,
    "unbalanced quote": '"shared future',
    "many quotes": '"' * 999,
    "quoted 1,000 words": '"' + " ".join(["the", "China", "of"] * 333) + '"',
    "NUL and controls": "Gwadar\x00\x01\x02\x1b[2J\x7f port",
    "only controls": "".join(chr(c) for c in range(32)),
    "emoji": "\U0001f600\U0001f680 \U0001f468\u200d\U0001f469\u200d\U0001f467 Gwadar",
    "right-to-left marks": "\u200fGwadar\u202e port\u202c \u2067railway\u2069",
    "arabic and hebrew": "مرحبا שלום Gwadar",
    "field garbage": "kind: lang: section: id:* title:* text:* :::",
    "ranges": "date:[0000 TO 9999] position:{a TO z]",
    "operators only": "AND OR NOT ANDNOT ANDMAYBE - + ~ ^",
    "boosts": "Gwadar^1000000 port^-1",
    "lone backslash": "\\",
    "lone percent": "%",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
}


@pytest.mark.parametrize("q", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_queries(web, q):
    for path in SEARCH_PATHS:
        response = call(web, f"{path}?{urlencode({'q': q})}")
        assert response.status_code == 200
    call(web, f"/api/suggest?{urlencode({'q': q})}")
    for path in ARTICLE_PATHS:
        assert call(web, f"{path}{SEED_ID}?{urlencode({'q': q})}").status_code == 200


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("q=China&page=abc", 400, "invalid_page"),
        ("q=China&per_page=1e3", 400, "invalid_per_page"),
        ("q=China&page=-1", 400, "invalid_page"),
        ("q=China&page=0", 400, "invalid_page"),
        ("q=China&page=99999999999999999999", 400, "invalid_page"),
        ("q=China&per_page=99999999999999999999", 400, "invalid_per_page"),
        ("q=China&page=1.5", 400, "invalid_page"),
        ("q=China&page=%ff", 400, "invalid_page"),
        ("q=China&page=1000&per_page=100", 400, None),
        ("q=China&kind=%00", 400, "invalid_kind"),
        ("q=China&date_from=%zz", 400, "invalid_date"),
        ("q=China&page=1&page=0", None, None),
        ("q=China&page=0&page=1", None, None),
        ("q=China&q=Gwadar&q=", 200, None),
        ("q=%zz", 200, None),
        ("q=%ff", 200, None),
        ("q=%ff%fe%fd", 200, None),
        ("q=%", 200, None),
        ("q=%e4%b8", 200, None),
        ("q=%ed%a0%80", 200, None),
        ("q=%00", 200, None),
        ("q=Gwadar%00%1b", 200, None),
        ("=&&==&q&page&per_page", 200, None),
        ("q=China;page=2", 200, None),
    ],
)
def test_bad_parameters(web, query, status, code):
    """Each bad parameter gives 400 with its code on the API and a 400 page on the HTML side."""
    for path in SEARCH_PATHS:
        response = call(web, path, environ_overrides={"QUERY_STRING": query})
        if status is not None:
            assert response.status_code == status, (path, query)
        if code is not None and is_json_path(path):
            assert_error_shape(response, status, code)


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "21", "1e3", "99999999999999999999"])
def test_bad_suggest_limit(web, limit):
    response = call(web, f"/api/suggest?q=gwa&limit={quote(limit)}")
    assert_error_shape(response, 400, "invalid_limit")


@pytest.mark.parametrize(
    "article_id",
    [
        "../etc/passwd",
        "../../../../../../etc/passwd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "..%2f..%2fetc%2fpasswd",
        f"../{SEED_ID}",
        f"{SEED_ID}/../{SEED_ID}",
        f"./{SEED_ID}",
        f"{SEED_ID}%00",
        f"{SEED_ID}/",
        f"{SEED_ID}:17",
        "current/manifest.json",
        "%00",
        "%ff",
        "%zz",
        "x" * 5000,
        quote("\u202e\U0001f600中文"),
        "*",
        "article_id:*",
    ],
)
def test_article_ids_that_are_not_articles(web, article_id):
    for path in ARTICLE_PATHS:
        response = call(web, path + article_id)
        assert response.status_code == 404, (path, article_id)
        if is_json_path(path):
            assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/articles/\xff\xfe", "/api/articles/\xff", "/api/\xff", "/\xff"])
def test_paths_that_are_not_utf8(web, path):
    response = call(web, "/", environ_overrides={"PATH_INFO": path})
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE", "PROPFIND"])
@pytest.mark.parametrize("path", ALL_PATHS)
def test_other_methods_are_405(web, path, method):
    response = call(web, path, method=method, data=b"q=Gwadar")
    assert response.status_code == 405
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    if is_json_path(path):
        assert_error_shape(response, 405)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
@pytest.mark.parametrize("path", ALL_PATHS)
def test_head_and_options_are_fine(web, path, method):
    response = call(web, path + "?q=Gwadar", method=method)
    assert response.status_code == 200
    if method == "HEAD":
        assert response.get_data() == b""


def test_post_with_a_large_body_is_405_not_413_or_500(web):
    response = call(web, "/api/search", method="POST", data=b"q=" + b"x" * 1_000_000)
    assert_error_shape(response, 405)


@pytest.mark.parametrize("path", [*SEARCH_PATHS, "/api/suggest", f"/articles/{SEED_ID}"])
def test_query_string_that_is_not_utf8_is_a_400(web, path):
    """Raw bytes that are not UTF-8 (not percent-encoded): gunicorn refuses such a request
    line itself, but other WSGI servers pass it on, and werkzeug's ``request.args`` raises."""
    response = call(web, path, environ_overrides={"QUERY_STRING": "q=\xff\xfe&page=1"})
    assert response.status_code == 400


# ---- wildcards and fuzzy terms against a large vocabulary ----


def _words(template: str, count: int) -> str:
    letters = string.ascii_lowercase
    return " OR ".join(
        template.format(a=letters[i % 26], b=letters[(i * 7 + 3) % 26], c=letters[(i * 5 + 1) % 26])
        for i in range(count)
    )


@pytest.fixture(scope="module")
def vocabulary_web(tmp_path_factory):
    """An index of one article whose 80,000 distinct words make a realistic lexicon."""
    rnd = random.Random(20240606)
    words = sorted(
        {
            "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 10)))
            for _ in range(80_000)
        }
    )
    blocks = [" ".join(words[i : i + 1500]) + "." for i in range(0, len(words), 1500)]
    source = tmp_path_factory.mktemp("vocabulary-src")
    (source / "2024-06-06-vocabulary.txt").write_text(
        "date 2024-06-06 Test Agency, Nowhere, June 6th:A vocabulary article\n\n"
        + "\n\n".join(blocks)
        + "\n",
        encoding="utf-8",
    )
    index = tmp_path_factory.mktemp("vocabulary-index")
    build_index([source], index)
    return create_app({"INDEX_DIR": str(index), "TESTING": True}).test_client()


@pytest.mark.parametrize(
    "q",
    [
        "*qj*",
        "[ab]*q*",
        "abcdefgh~2",
        _words("{a}{b}*", 64),
        _words("{a}*{b}*{c}*q", 64),
        "qj*",
    ],
    ids=["leading", "class", "fuzzy", "64 prefixes", "64 inner wildcards", "prefix"],
)
def test_expansions_against_a_large_vocabulary(vocabulary_web, q):
    call(vocabulary_web, "/api/search?" + urlencode({"q": q}))


@pytest.mark.parametrize(
    "q",
    [
        pytest.param(_words("*{a}{b}q*", 64), id="64 leading wildcards"),
        pytest.param(_words("[{a}{b}]*{c}*{a}*{b}*q", 40), id="40 class wildcards"),
        pytest.param(
            " OR ".join(f"{a}{b}qwertyzx~2" for a in "abcdefgh" for b in "abcdefgh"),
            id="64 fuzzy terms",
        ),
    ],
)
def test_many_expansions_against_a_large_vocabulary(vocabulary_web, q):
    call(vocabulary_web, "/api/search?" + urlencode({"q": q}))


# ---- schemathesis: the API against its own OpenAPI description ----


def _without_prefix_items(node):
    """The spec with each ``prefixItems`` tuple loosened to ``items: {anyOf: [...]}``.

    schemathesis (4.32) rewrites a 3.1 response schema's ``prefixItems`` into a draft-4 style
    ``items: [...]`` list and then rejects that list as an invalid 3.1 schema, so the suggest
    response could not be checked at all. The exact tuple is checked by
    ``test_suggest_response_matches_its_exact_schema`` below.
    """
    if isinstance(node, dict):
        node = {k: _without_prefix_items(v) for k, v in node.items()}
        if "prefixItems" in node:
            node["items"] = {"anyOf": node.pop("prefixItems")}
        return node
    if isinstance(node, list):
        return [_without_prefix_items(v) for v in node]
    return node


@pytest.fixture(scope="module")
def api_schema(index_dir):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    spec = app.test_client().get("/api/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(_without_prefix_items(spec))
    schema.app = app  # what schemathesis.openapi.from_wsgi does: call the WSGI app in-process
    return schema


api_schema_from_fixture = schemathesis.pytest.from_fixture("api_schema")


@api_schema_from_fixture.parametrize()
@settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_description(case):
    started = time.thread_time()
    case.call_and_validate(
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.status_code_conformance,
            schemathesis.checks.content_type_conformance,
            schemathesis.checks.response_schema_conformance,
        ]
    )
    assert time.thread_time() - started < LIMIT_SECONDS


def test_suggest_response_matches_its_exact_schema(web):
    import jsonschema_rs  # installed with schemathesis

    spec = web.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/suggest"]["get"]
    body_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator(body_schema)
    for q in ["gwa", "belt and ro", "", "中", "<script>", "zzzzzz", "a" * 300]:
        body = call(web, f"/api/suggest?{urlencode({'q': q})}").get_json()
        validator.validate(body)
    assert not validator.is_valid(["gwa", "gwadar"])


def test_spec_documents_the_bounds(web):
    spec = web.get("/api/openapi.json").get_json()
    (q,) = [p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q"]
    from searchapp.querying import MAX_EXPANSIONS, MAX_QUERY_CHARS, MAX_QUERY_TERMS

    for bound in (MAX_QUERY_CHARS, MAX_QUERY_TERMS, MAX_EXPANSIONS):
        assert str(bound) in q["description"]
