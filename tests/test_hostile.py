"""Hostile text and bad source files (issue 6, items 2 and 3).

Hostile text: ``tests/fixtures/hostile/2024-02-02-hostile.txt`` carries ``<script>``,
``onerror``, ``javascript:`` links, entities and a 200,000-character line in its title, byline,
paragraphs, heading, captions and credit. Indexed beside the test corpus, it must show
literally (escaped once, never as live markup) on the search page, the article page, in the
API's ``snippet``/``html``/``text``, in the suggestions and in the terminal; pages carry a
Content-Security-Policy and never run in debug mode or show a traceback.

Bad source files: ``searchapp index`` skips a file it cannot index (empty, binary, GBK, too
large, deleted while indexing) with ``skipped <file>: <reason>`` and exit code 0, fails with
exit code 1 and a clear message when the source or index folder is unusable, and keeps
everything indexed before.
"""

from __future__ import annotations

import gc
import html
import re
import shutil
import socket
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import requests
from click.testing import CliRunner

from searchapp import indexing, serving
from searchapp.article_pages import get_article
from searchapp.articles import MAX_CHUNK_CHARS, MAX_FILE_BYTES, parse_article
from searchapp.cli import format_results, main
from searchapp.config import BUNDLED_CORPUS
from searchapp.indexing import build_index
from searchapp.searching import search
from searchapp.store import current_build, read_manifest
from searchapp.web import create_app
from tests.conftest import FIXTURE_ARTICLES, HOSTILE, assert_error_shape, copy_sources

HOSTILE_FILE = HOSTILE / "2024-02-02-hostile.txt"
HOSTILE_ID = "2024-02-02-hostile"
SEED_ID = "2022-09-26-xinhua-major-country-diplomacy"
MIXED_ID = "2024-01-15-mixed-bilingual"
TRACEBACK = "Traceback (most recent call last)"

#: Queries that find the hostile article's chunks (tags, attributes, entities, Chinese, words).
HOSTILE_QUERIES = [
    "script alert",
    "onerror",
    "javascript",
    "iframe",
    "style body display",
    "quokka",
    "zebracorn",
    "Injected heading",
    "editor",
    "bold caption",
    "double-escaped",
    "hex entities",
    "脚本",
    "张三",
    "x3C",
    "Eve",
]


def plain(markup: str) -> str:
    """The text a browser shows for our highlighter's output: marks dropped, entities decoded."""
    return html.unescape(re.sub(r"</?mark>", "", markup))


def squash(text: str) -> str:
    return " ".join(text.split())


class PageScan(HTMLParser):
    """What a browser would run or follow on a page, and the text it would show.

    Our own scripts are same-origin files (``/static/app.js``, ``/embed.js``); any other
    ``<script>``, element that loads or styles content, ``on*`` attribute or ``javascript:``
    URL is a problem.
    """

    LIVE_CONTENT = {"iframe", "img", "object", "embed", "style", "base", "frame", "frameset"}

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.parts: list[str] = []
        self.feed(markup)
        self.close()
        self.text = squash("".join(self.parts))

    def handle_starttag(self, tag, attrs):
        values = {name.lower(): (value or "") for name, value in attrs}
        src = values.get("src", "")
        if tag == "script" and not (src.startswith("/") and not src.startswith("//")):
            self.problems.append(f"script element {attrs}")
        if tag in self.LIVE_CONTENT:
            self.problems.append(f"{tag} element {attrs}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"{name} attribute on {tag}")
            url = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and url.startswith(
                "javascript:"
            ):
                self.problems.append(f"{name}={value!r} on {tag}")

    def handle_data(self, data):
        self.parts.append(data)


def scan(response) -> PageScan:
    assert response.mimetype == "text/html"
    page = PageScan(response.get_data(as_text=True))
    assert not page.problems, page.problems
    return page


@pytest.fixture(scope="module")
def hostile_article():
    return parse_article(HOSTILE_FILE)


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    """The test corpus plus everything in tests/fixtures/hostile/ (bad files are skipped)."""
    root = tmp_path_factory.mktemp("hostile")
    source = copy_sources(root / "src", BUNDLED_CORPUS, FIXTURE_ARTICLES, HOSTILE)
    report = build_index([source], root / "index")
    assert {Path(p).name for p, _ in report.skipped} == {
        "binary.bin.txt",
        "gbk-chinese.txt",
        "empty.txt",
    }
    return root / "index"


@pytest.fixture(scope="module")
def hclient(hostile_index):
    return create_app({"INDEX_DIR": str(hostile_index), "TESTING": True}).test_client()


def api_search(client, **params) -> dict:
    response = client.get("/api/search?" + urlencode(params))
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


# ---- hostile text in the JSON API ----


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_api_snippets_escape_everything_but_mark(hclient, hostile_article, q):
    body = api_search(hclient, q=q, per_page=100)
    hits = [h for h in body["hits"] if h["article_id"] == HOSTILE_ID]
    assert hits, f"{q!r} should find the hostile article"
    chunks = {c.position: c for c in hostile_article.chunks}
    for hit in hits:
        assert not re.search(r"<(?!/?mark>)", hit["snippet"]), hit["snippet"]
        if "<mark>" not in hit["snippet"]:  # found by its section heading (context)
            section = (hit["section"] or "").lower()
            assert all(w.lower() in section for w in q.split()), (q, hit["section"])
        chunk = chunks[hit["position"]]
        assert hit["text"] == chunk.text  # raw text: JSON needs no escaping
        assert hit["article_title"] == hostile_article.title
        assert hit["section"] == chunk.section
        shown = plain(hit["snippet"]).removeprefix("… ").removesuffix(" …")
        assert shown in hit["text"], (shown, hit["text"][:300])


@pytest.mark.parametrize("q", ["", "script alert onerror javascript", "quokka zebracorn"])
def test_api_article_html_escapes_everything_but_mark(hclient, hostile_article, q):
    response = hclient.get(f"/api/articles/{HOSTILE_ID}?" + urlencode({"q": q}))
    assert response.status_code == 200
    article = response.get_json()
    assert article["title"] == hostile_article.title
    assert [c["text"] for c in article["chunks"]] == [c.text for c in hostile_article.chunks]
    marks = 0
    for chunk in article["chunks"]:
        assert not re.search(r"<(?!/?mark>)", chunk["html"]), chunk["html"][:300]
        assert plain(chunk["html"]) == chunk["text"]
        marks += chunk["html"].count("<mark>")
    assert (marks > 0) == bool(q)


def test_hostile_text_is_kept_verbatim_in_the_index(hostile_article):
    """The parser keeps the markup as text (nothing stripped, nothing unescaped)."""
    title = hostile_article.title
    assert "<script>alert(1)</script>" in title and "&amp;lt;b&amp;gt;" in title
    texts = [c.text for c in hostile_article.chunks]
    assert any('<a href="javascript:alert(1)">' in t for t in texts)
    assert any("&#x3C;u&#x3E;" in t and "&#60;s&#62;" in t for t in texts)
    assert "<h1>Injected heading</h1>" in {c.section for c in hostile_article.chunks}
    assert max(len(t) for t in texts) <= MAX_CHUNK_CHARS


# ---- hostile text in the HTML pages ----


@pytest.mark.parametrize("q", ["", "script alert onerror", "quokka", "张三"])
def test_article_page_shows_hostile_text_literally(hclient, hostile_article, q):
    response = hclient.get(f"/articles/{HOSTILE_ID}?" + urlencode({"q": q}))
    assert response.status_code == 200
    page = scan(response)
    assert any(c.kind == "credit" for c in hostile_article.chunks)
    for chunk in hostile_article.chunks:  # every kind, credits included
        assert squash(chunk.text) in page.text, (chunk.kind, chunk.text[:200])
    assert "<script>alert(1)</script>" in page.text


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_search_page_shows_hostile_text_literally(hclient, hostile_article, q):
    params = {"q": q, "per_page": 100}
    page = scan(hclient.get("/search?" + urlencode(params)))
    # the page shows articles (its JSON twin: group=article), each with its best passages
    twin = api_search(hclient, group="article", **params)["hits"]
    articles = [a for a in twin if a["article_id"] == HOSTILE_ID]
    assert articles
    for article in articles:
        assert squash(plain(article["title_snippet"])) in page.text
        for passage in article["passages"]:
            assert squash(plain(passage["snippet"])) in page.text, passage["snippet"][:300]
            if passage["kind"] == "paragraph" and passage["section"]:
                assert squash(passage["section"]) in page.text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "<script>alert(1)</script>"},
        {"q": '"><script>alert(1)</script><img src=x onerror=alert(1)>'},
        {"q": "'><svg onload=alert(1)>", "kind": "caption"},
        {"q": "javascript:alert(1)"},
        {"q": "x", "section": "<script>alert('section')</script>"},
        {"q": "x", "article": '"><img src=x onerror=alert(1)>'},
        {"q": "x", "kind": "<script>alert('kind')</script>"},
        {"q": "x", "date_from": "<script>alert('date')</script>"},
        {"q": "zebracorn", "page": "<script>"},
    ],
)
def test_hostile_queries_and_filters_are_echoed_literally(hclient, params):
    response = hclient.get("/search?" + urlencode(params))
    assert response.status_code in (200, 400)
    page = scan(response)
    assert squash(params["q"]) in page.text


@pytest.mark.parametrize("url", ["/articles/<script>alert(1)</script>", "/<img src=x onerror=1>"])
def test_hostile_paths_are_echoed_literally(hclient, url):
    response = hclient.get(quote(url))
    assert response.status_code == 404
    scan(response)


@pytest.mark.parametrize("path", ["/", "/embed-demo", "/opensearch.xml"])
def test_hostile_host_header_is_escaped(hclient, path):
    response = hclient.get(path, headers={"Host": 'evil.example"><script>alert(1)</script>'})
    assert response.status_code in (200, 400)
    if response.mimetype == "text/html":
        scan(response)
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_suggestions_are_plain_words(hclient):
    for typed in ["scr", "oner", "java", "ale", "ifr", "x3", "img", "amp", "脚", "<scr", "&am"]:
        response = hclient.get("/api/suggest?" + urlencode({"q": typed}))
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        echoed, completions = response.get_json()
        assert echoed == typed
        for completion in completions:
            assert not re.search(r"[<>&\"'\x00-\x1f]", completion), completion
    assert hclient.get("/api/suggest?q=scr").get_json() == ["scr", ["script"]]
    head = "<script>alert(1)</script> quo"
    echoed, completions = hclient.get("/api/suggest?" + urlencode({"q": head})).get_json()
    assert echoed == head and completions == ["<script>alert(1)</script> quokka"]


# ---- headers, debug mode, tracebacks ----


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def check_page_headers(response) -> None:
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, response.headers
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "*" not in script_src and "data:" not in script_src
    assert directives.get("object-src") == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Referrer-Policy")


@pytest.mark.parametrize(
    "url, status",
    [
        ("/", 200),
        ("/?q=script+alert", 200),
        ("/search?q=zebracorn", 200),
        (f"/articles/{HOSTILE_ID}", 200),
        (f"/articles/{HOSTILE_ID}?q=onerror", 200),
        ("/articles/nope", 404),
        ("/nope", 404),
        ("/?q=x&page=abc", 400),
        ("/embed-demo", 200),
    ],
)
def test_pages_send_security_headers(hclient, url, status):
    response = hclient.get(url)
    assert response.status_code == status
    check_page_headers(response)
    scan(response)


def test_api_answers_are_not_sniffed(hclient):
    for url in ["/api/search?q=script", f"/api/articles/{HOSTILE_ID}", "/api/suggest?q=scr"]:
        response = hclient.get(url)
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unexpected_errors_show_no_traceback(hostile_index, monkeypatch):
    """An exception inside a view: a generic 500 in the usual shape, no details leak."""
    app = create_app({"INDEX_DIR": str(hostile_index)})  # as served: not TESTING
    assert app.debug is False

    def explode(*args, **kwargs):
        raise RuntimeError("secret detail /etc/shadow")

    monkeypatch.setattr("searchapp.web.api.search", explode)
    monkeypatch.setattr("searchapp.web.pages.search", explode)
    client = app.test_client()
    response = client.get("/api/search?q=x")
    assert_error_shape(response, 500, "internal_error")
    page = client.get("/search?q=x")
    assert page.status_code == 500 and page.mimetype == "text/html"
    check_page_headers(page)
    for body in (response.get_data(as_text=True), page.get_data(as_text=True)):
        assert "secret detail" not in body and "RuntimeError" not in body
        assert TRACEBACK not in body and 'File "' not in body


@pytest.fixture()
def served_app(hostile_index, monkeypatch):
    """The app ``searchapp serve`` would hand to gunicorn (gunicorn itself is not started);
    the collector's thresholds that ``load`` sets for the workers are put back after."""
    thresholds = gc.get_threshold()

    def build(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        started = []
        monkeypatch.setattr(serving.SearchApplication, "run", lambda self: started.append(self))
        result = CliRunner().invoke(main, ["serve", "--index", str(hostile_index), "--port", "0"])
        assert result.exit_code == 0, result.output
        (application,) = started
        assert not application.cfg.reload
        return application.load()

    yield build
    gc.set_threshold(*thresholds)


def test_serve_never_runs_in_debug_mode(served_app):
    app = served_app()
    assert app.debug is False and app.testing is False


def test_serve_sets_the_collector_thresholds_of_its_workers(served_app):
    """The workers (forked after ``load``) collect young objects every
    ``WORKER_GC_THRESHOLDS[0]`` allocations, not Python's default 700."""
    before = gc.get_threshold()
    served_app()
    assert gc.get_threshold() == serving.WORKER_GC_THRESHOLDS != before
    assert serving.WORKER_GC_THRESHOLDS[0] > 700


def test_serve_compiles_the_templates_before_forking(served_app):
    """Every page template is compiled when ``load`` returns (the workers share them), so a
    worker's first page compiles nothing."""
    app = served_app()
    names = app.jinja_env.list_templates(extensions=("html", "xml"))
    assert "search.html" in names and "opensearch.xml" in names
    cached = {key[1] for key in app.jinja_env.cache.keys()}
    assert set(names) <= cached


def test_serve_ignores_flask_debug_in_the_environment(served_app):
    """Flask reads FLASK_DEBUG when the app is made; serve must not let it switch debug on."""
    assert served_app(FLASK_DEBUG="1").debug is False


def raw_request(port: int, target: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_live_server_is_safe(live_server):
    """The real gunicorn server: headers, error pages without tracebacks, odd request lines."""
    for url, status in [
        ("/?q=" + quote("<script>alert(1)</script>"), 200),
        ("/articles/nope", 404),
        ("/api/articles/nope", 404),
        ("/api/search?q=x&page=abc", 400),
        ("/search?q=x&page=abc", 400),
    ]:
        response = requests.get(live_server.url + url, timeout=10)
        assert response.status_code == status, url
        assert TRACEBACK not in response.text and "Werkzeug Debugger" not in response.text
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if response.headers["Content-Type"].startswith("text/html"):
            check_page_headers(response)
            assert not PageScan(response.text).problems
        else:
            assert set(response.json()) == {"error"} or status == 200
    response = requests.post(live_server.url + "/api/search", data={"q": "x"}, timeout=10)
    assert response.status_code == 405 and set(response.json()) == {"error"}
    for target in [b"/api/search?q=%zz%ff%", b"/?q=%ff%fe", b"/api/search?q=\xff\xfe"]:
        head = raw_request(live_server.port, target).split(b"\r\n", 1)[0]
        assert head.split()[1] in (b"200", b"400"), (target, head)


# ---- the terminal ----


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert TRACEBACK not in result.output
    return result


def check_terminal_snippets(output: str, texts: set[str]) -> None:
    """Each snippet line, brackets and ellipses removed, is a piece of some chunk's text."""
    lines = output.splitlines()
    snippet_lines = [lines[i - 1] for i, line in enumerate(lines) if re.match(r"   \S+:\d+$", line)]
    assert snippet_lines
    flat = [t.replace("[", "").replace("]", "") for t in texts]
    for line in snippet_lines:
        shown = line.strip().removeprefix("… ").removesuffix(" …").replace("[", "")
        shown = shown.replace("]", "")
        assert any(shown in text for text in flat), line


@pytest.mark.parametrize("q", ["script alert", "quokka", "onerror javascript", "张三", "x3C"])
def test_terminal_output_shows_tags_literally(hostile_index, hostile_article, q):
    result = run_cli("search", q, "--index", str(hostile_index), "--per-page", "20")
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    assert hostile_article.title[:40] in result.output  # tags and entities as written
    check_terminal_snippets(result.output, {c.text for c in hostile_article.chunks})


def test_terminal_colours_are_only_ours(hostile_index):
    text = format_results(search(hostile_index, "script alert onerror", per_page=20), color=True)
    escapes = set(re.findall(r"\x1b\[[0-9;]*m", text))
    assert escapes and escapes <= {"\x1b[1m", "\x1b[1;33m", "\x1b[0m"}
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "<script>alert(1)</script>" in text


@pytest.fixture(scope="module")
def control_index(tmp_path_factory) -> Path:
    """An article with terminal control sequences (C0 ESC/BEL and C1 CSI/OSC/ST) in its text."""
    root = tmp_path_factory.mktemp("controls")
    (root / "src").mkdir()
    (root / "src" / "2024-04-04-controls.txt").write_text(
        "date 2024-04-04 Test Agency, Nowhere, April 4th:Title \x1b[31mRED\x1b[0m and \x9b2J\n\n"
        "A paragraph with \x1b]0;pwned\x07 an OSC, a \x9b31m C1 CSI, a bell \x07 and zorblax.\n\n"
        "An \x1b[2J erase heading\n\n"
        "More zorblax here \x9d8;;http://example.invalid\x9c link \x1bPdcs\x1b\\.\n",
        encoding="utf-8",
    )
    build_index([root / "src"], root / "index")
    return root / "index"


def test_terminal_output_has_no_escape_characters_from_the_index(control_index):
    result = run_cli("search", "zorblax", "--index", str(control_index))
    assert result.exit_code == 0 and "zorblax" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    text = format_results(search(control_index, "zorblax"), color=True)
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_terminal_output_has_no_c1_controls_from_the_index(control_index):
    """U+009B (CSI) and U+009D (OSC) act like ESC [ and ESC ] on terminals that honour C1."""
    result = run_cli("search", "zorblax", "--index", str(control_index))
    assert not re.search(r"[\x80-\x9f]", result.output), ascii(result.output)


# ---- bad source files through `searchapp index` ----


@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    """The good corpus indexed once by the CLI: (source folder, index folder)."""
    root = tmp_path_factory.mktemp("good")
    source = copy_sources(root / "src", BUNDLED_CORPUS, FIXTURE_ARTICLES)
    result = run_cli("index", "--source", str(source), "--index", str(root / "index"), "-q")
    assert result.exit_code == 0, result.output
    return source, root / "index"


@pytest.fixture()
def indexed(tmp_path, good_build):
    """A private copy of the good source folder and its index: (source, index, snapshot)."""
    source = tmp_path / "src"
    index = tmp_path / "index"
    shutil.copytree(good_build[0], source)
    shutil.copytree(good_build[1], index, symlinks=True)
    return source, index, snapshot(index)


def snapshot(index: Path) -> dict:
    """Every article as the index answers it (chunk ids and texts) and its manifest entry."""
    manifest = read_manifest(current_build(index))
    articles = {}
    for article_id, entry in manifest["articles"].items():
        found = get_article(index, article_id)
        chunks = [(c["id"], c["text"]) for c in found["chunks"]] if found else []
        articles[article_id] = {"entry": entry, "chunks": chunks}
    return articles


def assert_kept(before: dict, after: dict, *article_ids: str) -> None:
    for article_id in article_ids or before:
        assert article_id in after, f"{article_id} was dropped from the index"
        assert after[article_id]["chunks"] == before[article_id]["chunks"], article_id
        assert after[article_id]["entry"] == before[article_id]["entry"], article_id


def index_cli(source: Path, index: Path):
    return run_cli("index", "--source", str(source), "--index", str(index), "-q")


def reindex_keeps_all(indexed, source: Path | None = None, exit_code: int = 0) -> str:
    """Index ``source`` (by default the copy's own folder) into the copy's index: the run ends
    with ``exit_code`` and every article indexed before is kept as it was. Returns stderr."""
    own, index, before = indexed
    result = index_cli(source or own, index)
    assert result.exit_code == exit_code, result.output
    assert_kept(before, snapshot(index))
    return result.stderr


def test_bad_files_are_skipped_and_everything_else_kept(indexed):
    source, index, before = indexed
    copy_sources(source, HOSTILE)
    with open(source / "huge.txt", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    (source / "latin1.txt").write_bytes("date 2024-01-01 X, Y:Café crème".encode("latin-1"))
    (source / "2024-07-07-gigantic.txt").write_text(
        "date 2024-07-07 Test Agency, Nowhere, July 7th:Gigantic lines\n\n"
        + "y" * 300_000
        + "\n\n"
        + "filler words without end " * 20_000
        + "wombatcorn\n",
        encoding="utf-8",
    )
    result = index_cli(source, index)
    assert result.exit_code == 0, result.output
    err = result.stderr
    expected = {
        "binary.bin.txt": "binary",
        "gbk-chinese.txt": "GBK",
        "huge.txt": "byte limit",
        "latin1.txt": "not valid UTF-8",
    }
    for name, reason in expected.items():
        (line,) = [x for x in err.splitlines() if x.startswith(f"skipped {source / name}: ")]
        assert reason in line, line
    (empty,) = [x for x in err.splitlines() if f"{source / 'empty.txt'}: " in x]
    assert "empty" in empty
    assert "5 skipped" in result.stdout  # the four above and the empty file
    after = snapshot(index)
    assert_kept(before, after)
    assert {HOSTILE_ID, "no-header", "2024-07-07-gigantic"} <= set(after)
    gigantic = after["2024-07-07-gigantic"]["chunks"]
    assert len(gigantic) > 3 and max(len(text) for _, text in gigantic) <= MAX_CHUNK_CHARS
    assert search(index, "wombatcorn")["total"] == 1
    assert search(index, "quokka")["total"] == 1


def test_a_good_file_that_turns_bad_keeps_its_previous_documents(indexed):
    source = indexed[0]
    (source / f"{MIXED_ID}.txt").write_bytes(
        (HOSTILE / "gbk-chinese.txt").read_bytes() + b"\x00" * 10
    )
    assert f"skipped {source / MIXED_ID}.txt: binary file" in reindex_keeps_all(indexed)


def call_first(monkeypatch, name: str, hook) -> None:
    """Make ``indexing.<name>`` call ``hook`` with its first argument before it runs."""
    real = getattr(indexing, name)

    def hooked(first, *args, **kwargs):
        hook(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(indexing, name, hooked)


def test_file_deleted_while_it_is_parsed(indexed, monkeypatch):
    victim = indexed[0] / f"{MIXED_ID}.txt"
    victim.write_text(victim.read_text(encoding="utf-8") + "\nA new closing line.\n", "utf-8")

    def delete_victim(source) -> None:
        if Path(source.path) == victim:
            victim.unlink()

    call_first(monkeypatch, "read_source", delete_victim)
    assert f"skipped {victim}: file disappeared" in reindex_keeps_all(indexed)


def test_file_that_vanishes_between_listing_and_reading(indexed, monkeypatch):
    """Deleted after the folder was listed: skipped now, its documents kept until a later run."""
    victim = indexed[0] / f"{MIXED_ID}.txt"
    real_listing = indexing.source_files

    def list_then_delete(dirs):
        listed = real_listing(dirs)
        victim.unlink()
        return listed

    monkeypatch.setattr(indexing, "source_files", list_then_delete)
    assert f"skipped {victim}: " in reindex_keeps_all(indexed)


def test_unreadable_file_keeps_its_previous_documents(indexed, monkeypatch):
    """A file that exists but cannot be read is skipped, not treated as deleted."""
    victim = indexed[0] / f"{MIXED_ID}.txt"

    def deny_victim(path) -> None:
        if Path(path) == victim:  # what chmod 000 does for a user other than root
            raise PermissionError(13, "Permission denied", str(path))

    call_first(monkeypatch, "_file_hash", deny_victim)
    err = reindex_keeps_all(indexed)
    assert f"skipped {victim}: cannot read file: Permission denied" in err


def test_missing_source_folder(indexed, tmp_path):
    missing = tmp_path / "no-such-folder"
    err = reindex_keeps_all(indexed, missing, exit_code=1)
    assert f"source folder {missing} does not exist" in err


def test_source_that_is_a_file(indexed):
    file = indexed[0] / f"{SEED_ID}.txt"
    assert f"{file} is not a folder" in reindex_keeps_all(indexed, file, exit_code=1)


@pytest.mark.parametrize("where", ["under /proc", "under a regular file", "builds is a file"])
def test_index_folder_that_cannot_be_written(indexed, tmp_path, where):
    source, index, _ = indexed
    if where == "under /proc":
        target = Path("/proc/searchapp-test-index")
    elif where == "under a regular file":
        target = source / f"{SEED_ID}.txt" / "index"
    else:
        target = tmp_path / "odd-index"
        target.mkdir()
        (target / "builds").write_text("not a folder")
    result = index_cli(source, target)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and str(target) in result.stderr
    assert "cannot" in result.stderr
