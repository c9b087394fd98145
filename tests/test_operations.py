"""The operational parts of the app: query log and report, clicks, /admin, /metrics, /readyz,
server errors, proxies and fingerprinted static files (Flask's test client; the live server
is in test_serving.py, nginx in test_nginx.py)."""

from __future__ import annotations

import json
import logging
import re
import shutil

import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from searchapp.cli import main
from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index
from searchapp.ops.querylog import QueryLog, log_dir, read_records
from searchapp.ops.report import parse_since, summarize
from searchapp.web import create_app
from tests.conftest import assert_error_shape

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An index of the bundled article; each test copies it (the query log lives inside)."""
    index = tmp_path_factory.mktemp("ops") / "index"
    build_index([BUNDLED_CORPUS], index)
    return index


@pytest.fixture()
def index(tmp_path, built):
    target = tmp_path / "index"
    shutil.copytree(built, target, symlinks=True)
    return target


def make_app(index, **config):
    return create_app({"INDEX_DIR": str(index), "TESTING": True, **config})


def click(client, q, article, rank=1, page=1):
    body = json.dumps({"q": q, "article": article, "rank": rank, "page": page})
    # sendBeacon sends a text/plain Blob: no CORS preflight, no cookies
    return client.post("/api/click", data=body, content_type="text/plain;charset=UTF-8")


SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"


def test_scripted_searches_and_clicks_give_the_expected_report(index):
    client = make_app(index).test_client()
    for _ in range(3):
        assert client.get("/api/search?q=Gwadar").status_code == 200
    assert click(client, "Gwadar", SEED_ID, rank=1).status_code == 204
    assert click(client, "gwadar", SEED_ID, rank=2).status_code == 204  # same query, folded
    for _ in range(2):
        assert client.get("/search?q=wind+power", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    client.get("/api/search?q=qqxyzzy")  # nothing found
    client.get("/api/search?q=qqxyzzy&kind=caption")
    client.get("/api/search?q=Gwadar&page=2")  # paging is not another search
    client.get("/api/search?q=中老铁路", headers={"User-Agent": "AgentSmith/1.0"})

    result = CliRunner().invoke(main, ["report", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {
        "top_queries",
        "zero_result_queries",
        "no_click_queries",
        "slow_queries",
        "zero_result_rate",
    }
    top = {row["query"]: row for row in report["top_queries"]}
    assert report["top_queries"][0]["query"] == "Gwadar"
    assert top["Gwadar"]["searches"] == 3 and top["Gwadar"]["clicks"] == 2
    assert top["Gwadar"]["click_through"] == pytest.approx(2 / 3, abs=0.001)
    assert top["wind power"]["searches"] == 2 and top["wind power"]["clicks"] == 0
    assert report["zero_result_queries"] == [{"query": "qqxyzzy", "searches": 2}]
    no_click = {row["query"] for row in report["no_click_queries"]}
    assert no_click == {"wind power", "中老铁路"}
    assert report["zero_result_rate"] == pytest.approx(2 / 8)
    assert isinstance(report["slow_queries"], list)

    text = CliRunner().invoke(main, ["report", "--index", str(index)])
    assert text.exit_code == 0 and "Queries with no results:" in text.output
    assert "qqxyzzy" in text.output

    log_text = "".join(p.read_text("utf-8") for p in log_dir(index).iterdir() if p.is_file())
    for private in ("127.0.0.1", "192.0.2.44", "agentsmith"):
        assert private not in log_text.lower()
    records = list(read_records(index))
    assert all(
        set(r)
        <= {"time", "event", "query", "filters", "sort", "page", "total", "took_ms", "clicked"}
        for r in records
    )
    assert {r["event"] for r in records} == {"search", "click"}
    search = next(r for r in records if r.get("filters"))
    assert search["filters"] == {"kind": "caption"} and search["total"] == 0
    assert set(search) == {"time", "event", "query", "filters", "sort", "page", "total", "took_ms"}


def test_report_since_leaves_out_older_searches(index):
    log = QueryLog(index)
    log.write({"event": "search", "query": "old", "page": 1, "total": 1, "time": "2020-01-01"})
    records = list(read_records(index))
    assert records[0]["query"] == "old"
    # the record's own time wins over the writer's: it is written after the defaults
    assert records[0]["time"] == "2020-01-01"
    log.search("new", {}, None, 1, {"total": 3, "took_ms": 1.0})
    report = summarize(read_records(index, since=parse_since("7d")))
    assert [row["query"] for row in report["top_queries"]] == ["new"]
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday")
    result = CliRunner().invoke(main, ["report", "--index", str(index), "--since", "soon"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_query_log_makes_its_folder_when_it_is_missing(tmp_path):
    """The folder is made on the first write, and again if it was removed meanwhile."""
    log = QueryLog(tmp_path / "index")
    log.search("first", {}, None, 1, {"total": 1, "took_ms": 1.0})
    shutil.rmtree(log_dir(tmp_path / "index"))
    log.search("second", {}, None, 1, {"total": 2, "took_ms": 1.0})
    assert [r["query"] for r in read_records(tmp_path / "index")] == ["second"]
    assert not log.failed


def test_query_log_rotates_and_can_be_turned_off(index, tmp_path):
    log = QueryLog(index, max_bytes=10_000)
    for n in range(400):
        log.search(f"query {n}", {}, None, 1, {"total": n, "took_ms": 1.0})
    files = sorted(p.name for p in log_dir(index).glob("queries.log*"))
    assert "queries.log.1" in files and len(files) <= 6
    assert all(p.stat().st_size < 12_000 for p in log_dir(index).glob("queries.log*"))
    kept = [r["query"] for r in read_records(index)]
    assert kept[-1] == "query 399" and kept == sorted(kept, key=lambda q: int(q.split()[1]))

    quiet = tmp_path / "quiet"
    shutil.copytree(index, quiet, symlinks=True)
    shutil.rmtree(log_dir(quiet))
    client = make_app(quiet, QUERY_LOG=False).test_client()
    assert client.get("/api/search?q=Gwadar").status_code == 200
    assert not log_dir(quiet).exists()
    assert_error_shape(click(client, "Gwadar", SEED_ID), 404)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[1, 2]",
        '{"q": "", "article": "a", "rank": 1}',
        '{"q": "x", "article": "a", "rank": 0}',
        '{"q": "x", "article": "a", "rank": true}',
        '{"q": "x", "article": "", "rank": 1}',
        '{"q": "x", "article": "a", "rank": 1, "page": 5000}',
        '{"q": "x", "article": "a", "rank": "1"}',
        json.dumps({"q": "x" * 3000, "article": "a", "rank": 1}),
    ],
)
def test_bad_click_reports_are_400(index, body):
    client = make_app(index).test_client()
    response = client.post("/api/click", data=body, content_type="text/plain")
    assert_error_shape(response, 400, "invalid_click")
    assert not list(read_records(index))


def test_click_endpoint_takes_only_post(index):
    client = make_app(index).test_client()
    assert client.get("/api/click").status_code == 405


def test_admin_is_404_without_a_configured_token(index):
    client = make_app(index, ADMIN_TOKEN=None).test_client()
    assert client.get("/admin").status_code == 404
    assert client.get("/admin", headers={"Authorization": "Bearer x"}).status_code == 404


def test_admin_needs_the_token_and_shows_the_report(index):
    client = make_app(index, ADMIN_TOKEN=TOKEN).test_client()
    for q in ("Gwadar", "Gwadar", "qqxyzzy"):
        client.get("/api/search", query_string={"q": q})
    missing = client.get("/admin")
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert "Gwadar" not in missing.get_data(as_text=True)
    wrong = client.get("/admin", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and "Gwadar" not in wrong.get_data(as_text=True)
    assert client.post("/admin", data={"token": "nope"}).status_code == 403

    for response in (
        client.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"}),
        client.post("/admin", data={"token": TOKEN}),
    ):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Top queries" in html and "Gwadar" in html and "qqxyzzy" in html
        assert '<svg class="admin-chart"' in html and "<rect " in html
        assert response.headers["Cache-Control"] == "no-store"
        assert_follows_csp(response)


def assert_follows_csp(response) -> None:
    """The page CSP (script-src/style-src 'self'): no inline scripts, styles or handlers."""
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_readyz_fails_without_an_index_or_with_a_stale_one(index, tmp_path):
    client = make_app(index).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    assert client.get("/healthz").status_code == 200

    stale = make_app(index, MAX_INDEX_AGE=1).test_client()
    manifest_path = index / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["created"] = "2020-01-01T00:00:00+0000"
    manifest_path.write_text(json.dumps(manifest))
    response = stale.get("/readyz")
    assert response.status_code == 503 and "older" in response.get_json()["reason"]
    assert response.headers["Retry-After"]
    assert make_app(index, MAX_INDEX_AGE=0).test_client().get("/readyz").status_code == 200

    empty = make_app(tmp_path / "nothing").test_client()
    response = empty.get("/readyz")
    assert response.status_code == 503
    assert str(tmp_path) not in response.get_data(as_text=True)


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_parse_and_move_with_requests(index):
    client = make_app(index, METRICS=True).test_client()
    before = scrape(client)
    route = {"route": "/api/search", "method": "GET", "status": "200"}
    client.get("/api/search?q=Gwadar")
    client.get("/api/search?q=Gwadar")  # asked again: now the response is cached
    client.get("/api/search?q=Gwadar")  # the response cache answers
    client.get("/api/search?q=qqxyzzy")
    client.get("/api/search?q=中老铁路")
    client.get("/articles/no-such-article")
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("searchapp_http_requests_total", **route) == 5
    assert (
        moved(
            "searchapp_http_requests_total",
            route="/articles/<path:article_id>",
            method="GET",
            status="404",
        )
        == 1
    )
    assert (
        moved("searchapp_http_request_duration_seconds_count", route="/api/search", status="200")
        == 5
    )
    assert moved("searchapp_searches_total", query_class="en") == 4
    assert moved("searchapp_searches_total", query_class="zh") == 1
    assert moved("searchapp_zero_result_searches_total", query_class="en") == 1
    assert moved("searchapp_search_duration_seconds_count", query_class="zh") == 1
    assert moved("searchapp_search_cache_lookups_total", result="hit") >= 1
    assert moved("searchapp_search_cache_lookups_total", result="miss") >= 4
    assert value(after, "searchapp_index_articles") == 1
    assert value(after, "searchapp_index_chunks") > 10
    assert value(after, "searchapp_index_age_seconds") >= 0
    assert any(name == "searchapp_index_build_info" for name, _ in after)
    assert value(after, "searchapp_worker_resident_memory_bytes") > 10_000_000


def test_a_worker_records_its_memory_once_warmed_up_before_any_request(index):
    from types import SimpleNamespace

    from searchapp.ops.metrics import WORKER_MEMORY
    from searchapp.serving import _warm_up

    def recorded() -> float:
        return REGISTRY.get_sample_value("searchapp_worker_resident_memory_bytes") or 0.0

    WORKER_MEMORY.set(0)
    _warm_up(SimpleNamespace(wsgi=make_app(index)))  # metrics off: nothing recorded
    assert recorded() == 0
    _warm_up(SimpleNamespace(wsgi=make_app(index, METRICS=True)))
    assert recorded() > 10_000_000


def test_metrics_are_off_by_default_and_token_protected_when_a_token_is_set(index):
    assert make_app(index).test_client().get("/metrics").status_code == 404
    client = make_app(index, METRICS=True, ADMIN_TOKEN=TOKEN).test_client()
    assert_error_shape(client.get("/metrics"), 401)
    assert_error_shape(client.get("/metrics", headers={"Authorization": "Bearer no"}), 403)
    assert scrape(client, Authorization=f"Bearer {TOKEN}")


def test_promtool_accepts_the_metrics(index, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    import subprocess

    client = make_app(index, METRICS=True).test_client()
    client.get("/api/search?q=Gwadar")
    text = client.get("/metrics").get_data()
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_server_errors_are_logged_with_a_traceback_and_never_sent(index, caplog, monkeypatch):
    app = make_app(index)
    app.config["TESTING"] = False  # as served: exceptions are handled, not propagated

    def broken(*args, **kwargs):
        raise RuntimeError("boom at /secret/server/path.py")

    monkeypatch.setattr("searchapp.web.api.search", broken)
    monkeypatch.setattr("searchapp.web.pages.search", broken)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        api = client.get("/api/search?q=x")
        page = client.get("/search?q=x")
    assert_error_shape(api, 500, "internal_error")
    assert page.status_code == 500
    for response in (api, page):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "/secret/server" not in body and "boom" not in body
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 2
    assert all("boom at /secret/server/path.py" in str(r.exc_info[1]) for r in logged)


def test_error_in_the_error_page_is_still_no_traceback(index, caplog, monkeypatch):
    app = make_app(index)
    app.config["TESTING"] = False
    monkeypatch.setattr("searchapp.web.pages.search", _raise)
    monkeypatch.setattr("searchapp.web.render_template", _raise)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/search?q=x")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert any(r.exc_info for r in caplog.records)


def _raise(*args, **kwargs):
    raise RuntimeError("broken on purpose")


def test_proxy_headers_are_trusted_only_with_proxies_configured(index):
    headers = {
        "X-Forwarded-For": "203.0.113.5",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "news.example.org",
        "X-Forwarded-Prefix": "/search",
    }
    hosts = ["localhost", "news.example.org"]
    direct = make_app(index, PROXIES=0, TRUSTED_HOSTS=hosts).test_client()
    xml = direct.get("/opensearch.xml", headers=headers).get_data(as_text=True)
    assert "http://localhost/search?q=" in xml and "news.example.org" not in xml

    proxied = make_app(index, PROXIES=1, TRUSTED_HOSTS=hosts).test_client()
    xml = proxied.get("/opensearch.xml", headers=headers).get_data(as_text=True)
    assert "https://news.example.org/search/search?q={searchTerms}" in xml
    page = proxied.get("/", headers=headers).get_data(as_text=True)
    assert 'action="/search/search"' in page
    assert re.search(r'href="/search/static/app\.css\?v=[0-9a-f]{12}"', page)


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(index):
    client = make_app(index).test_client()
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'src="(/static/app\.js\?v=[0-9a-f]{12})"', page).group(1)
    with client.get(url) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]
        assert "no-cache" not in response.headers["Cache-Control"]
    with client.get("/static/app.js?v=000000000000") as stale:
        assert "max-age=31536000" not in (stale.headers.get("Cache-Control") or "")


def test_query_log_lines_stay_one_line_and_read_back(tmp_path):
    """A query with line breaks, quotes, Chinese and control characters is one line of the
    log and reads back as it was written."""
    log = QueryLog(tmp_path)
    odd = 'line\nbreak\r "quoted" \\ 中老铁路 \u2028 \x00 tab\t'
    log.search(odd, {"lang": "zh"}, "newest", 2, {"total": 3, "took_ms": 1.25})
    log.click(odd, "article/1", 1, 2)
    lines = (log_dir(tmp_path) / "queries.log").read_text("utf-8").split("\n")
    assert len(lines) == 3 and lines[-1] == ""
    records = list(read_records(tmp_path))
    assert [r["query"] for r in records] == [odd, odd]
    assert records[0]["filters"] == {"lang": "zh"} and records[0]["took_ms"] == 1.25


def test_searches_are_logged_and_counted_once_their_response_is_sent(index, caplog):
    """The query log line and the search metrics come after the response: when the server
    closes it (here: by hand, the client not buffering), not while the client waits. A failure
    there is logged, and the answer stands."""
    from searchapp.ops import metrics

    app = make_app(index, QUERY_LOG=True, METRICS=True)
    client = app.test_client()
    searches = metrics.SEARCHES.labels(metrics.query_class("Gwadar"))
    counted = searches._value.get()
    response = client.get("/api/search?q=Gwadar", buffered=False)
    assert response.status_code == 200 and response.get_json()["total"] > 0
    assert list(read_records(index)) == []
    response.close()
    assert [r["query"] for r in read_records(index)] == ["Gwadar"]
    assert searches._value.get() == counted + 1

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    app.extensions["searchapp.query_log"].search = broken
    with client.get("/search?q=Gwadar", buffered=False) as page:
        assert page.status_code == 200
    assert "after the response" in caplog.text and "disk gone" in caplog.text


def test_outside_a_request_the_work_is_done_at_once(index):
    from searchapp.web.operations import after_response

    done = []
    with make_app(index).app_context():
        after_response(lambda: done.append(1))
    assert done == [1]
